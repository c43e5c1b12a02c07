//! What every handler shares.

use std::sync::Arc;

use secrecy::SecretString;
use service_kit::vault::Vault;

use crate::configuration::Deployment;
use crate::error::Error;
use crate::jira_api::JiraApi;

/// The vault name of Jira Cloud's API token.
pub const API_TOKEN: &str = "jira_api_token";
/// The vault name of Jira Server's personal access token.
pub const PERSONAL_ACCESS_TOKEN: &str = "jira_pat";

/// The credential this deployment uses, as the vault and the admin endpoints name it.
pub fn credential_name(deployment: &Deployment) -> &'static str {
    match deployment {
        Deployment::Cloud { .. } => API_TOKEN,
        Deployment::Server => PERSONAL_ACCESS_TOKEN,
    }
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    jira: JiraApi,
    vault: Vault,
    credential: &'static str,
}

impl AppState {
    pub fn new(jira: JiraApi, vault: Vault, credential: &'static str) -> Self {
        Self {
            inner: Arc::new(Inner {
                jira,
                vault,
                credential,
            }),
        }
    }

    pub fn jira(&self) -> &JiraApi {
        &self.inner.jira
    }

    /// The token as stored now (a rotation takes effect on the next call).
    pub async fn secret(&self) -> Result<SecretString, Error> {
        self.inner
            .vault
            .get(self.inner.credential)
            .await?
            .ok_or(Error::CredentialMissing)
    }
}
