//! Settings from the environment: the provider-service settings every provider service shares
//! (`service_kit::provider_service`), plus GitHub's.

use service_kit::configuration::{self, ConfigError};
use service_kit::provider_service::ProviderSettings;

use crate::git_access::GitAccessSettings;

/// The service's name: task-log lines, Idempotency-Key scope, logs.
pub const SERVICE_NAME: &str = "github-service";
/// Default port.
pub const DEFAULT_PORT: u16 = 8081;
/// `GITHUB_API_URL` default.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// How the service authenticates to GitHub, and the secret it starts with (stored in the vault at start).
#[derive(Clone)]
pub enum GithubCredentials {
    /// `GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY` (or `GITHUB_APP_PRIVATE_KEY_FILE`): a GitHub App, acting
    /// through installation tokens.
    App {
        app_id: String,
        private_key_pem: String,
    },
    /// `GITHUB_TOKEN` (or `GITHUB_TOKEN_FILE`): a personal access token (fine-grained or classic).
    Token { token: String },
}

impl std::fmt::Debug for GithubCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::App { app_id, .. } => f
                .debug_struct("App")
                .field("app_id", app_id)
                .finish_non_exhaustive(),
            Self::Token { .. } => f.debug_struct("Token").finish_non_exhaustive(),
        }
    }
}

impl GithubCredentials {
    /// App mode when `GITHUB_APP_ID` is set (then the private key is required), else `GITHUB_TOKEN`;
    /// neither stops the service, naming the variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        if let Some(app_id) = configuration::var("GITHUB_APP_ID") {
            let private_key_pem = configuration::secret("GITHUB_APP_PRIVATE_KEY")?.ok_or_else(|| ConfigError::Missing {
                name: "GITHUB_APP_PRIVATE_KEY_FILE (or GITHUB_APP_PRIVATE_KEY), needed with GITHUB_APP_ID".to_owned(),
            })?;
            if !app_id.trim().bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ConfigError::Invalid {
                    name: "GITHUB_APP_ID".to_owned(),
                    value: app_id,
                    reason: "an App id (digits) or client id (letters and digits)".to_owned(),
                });
            }
            return Ok(Self::App {
                app_id: app_id.trim().to_owned(),
                private_key_pem,
            });
        }
        match configuration::secret("GITHUB_TOKEN")? {
            Some(token) => Ok(Self::Token { token }),
            None => Err(ConfigError::Missing {
                name: "GITHUB_TOKEN (or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE)".to_owned(),
            }),
        }
    }
}

/// Everything github-service reads at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `BIND_ADDR`, `REDIS_*`, `TASK_LOGS_DIR`, `CALLER_TOKENS`, `ADMIN_TOKEN`, `CREDENTIALS_KEY`,
    /// `DATABASE_URL` (default `sqlite://./data/github-service.db`), `UPSTREAM_*`, `IDEMPOTENCY_TTL`.
    pub provider: ProviderSettings,
    /// `GITHUB_API_URL`, default `https://api.github.com` (GitHub Enterprise Server: `https://HOST/api/v3`).
    pub api_url: String,
    pub credentials: GithubCredentials,
    /// `GITHUB_GIT_URL`, `GITHUB_SERVICE_PUBLIC_URL`, `GIT_ACCESS_TTL`: the agent's git access.
    pub git_access: GitAccessSettings,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            provider: ProviderSettings::from_env(SERVICE_NAME, DEFAULT_PORT)?,
            api_url: configuration::var("GITHUB_API_URL")
                .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            credentials: GithubCredentials::from_env()?,
            git_access: GitAccessSettings::from_env()?,
        })
    }
}
