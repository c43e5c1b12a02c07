//! What every handler shares.

use std::sync::Arc;

use secrecy::SecretString;
use service_kit::vault::Vault;

use crate::error::Error;
use crate::sentry_api::SentryApi;

/// The vault name of the auth token.
pub const AUTH_TOKEN: &str = "sentry_auth_token";

/// The credentials this service holds, as the admin endpoints name them.
pub const CREDENTIAL_NAMES: &[&str] = &[AUTH_TOKEN];

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    sentry: SentryApi,
    vault: Vault,
}

impl AppState {
    pub fn new(sentry: SentryApi, vault: Vault) -> Self {
        Self {
            inner: Arc::new(Inner { sentry, vault }),
        }
    }

    pub fn sentry(&self) -> &SentryApi {
        &self.inner.sentry
    }

    /// The auth token as stored now (a rotation takes effect on the next call).
    pub async fn auth_token(&self) -> Result<SecretString, Error> {
        self.inner
            .vault
            .get(AUTH_TOKEN)
            .await?
            .ok_or(Error::CredentialMissing)
    }
}
