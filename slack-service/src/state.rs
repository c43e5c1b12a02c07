//! What every handler shares.

use std::sync::Arc;

use secrecy::SecretString;
use service_kit::vault::Vault;

use crate::error::Error;
use crate::slack_api::SlackApi;

/// The vault name of the bot token.
pub const BOT_TOKEN: &str = "slack_bot_token";

/// The credentials this service holds, as the admin endpoints name them.
pub const CREDENTIAL_NAMES: &[&str] = &[BOT_TOKEN];

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    slack: SlackApi,
    vault: Vault,
}

impl AppState {
    pub fn new(slack: SlackApi, vault: Vault) -> Self {
        Self {
            inner: Arc::new(Inner { slack, vault }),
        }
    }

    pub fn slack(&self) -> &SlackApi {
        &self.inner.slack
    }

    /// The bot token as stored now (a rotation takes effect on the next call).
    pub async fn bot_token(&self) -> Result<SecretString, Error> {
        self.inner
            .vault
            .get(BOT_TOKEN)
            .await?
            .ok_or(Error::CredentialMissing)
    }
}
