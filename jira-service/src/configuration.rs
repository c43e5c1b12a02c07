//! jira-service's settings, all from the environment (see `docs/jira-service.md` for the table).

use std::str::FromStr;

use secrecy::SecretString;
use service_kit::configuration::{self, ConfigError};
use service_kit::provider_service::ProviderSettings;

pub const SERVICE_NAME: &str = "jira-service";
pub const DEFAULT_PORT: u16 = 8082;

/// Which Jira the service talks to, and so which API version, auth scheme and comment format it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// Jira Cloud: REST v3, Basic auth with the account's email and an API token, comments in ADF.
    Cloud { email: String },
    /// Jira Server / Data Center: REST v2, a personal access token as Bearer, comments in wiki markup.
    Server,
}

/// `JIRA_DEPLOYMENT`: `cloud` or `server` (Data Center included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentKind {
    Cloud,
    Server,
}

impl FromStr for DeploymentKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cloud" => Ok(Self::Cloud),
            "server" | "datacenter" | "data-center" => Ok(Self::Server),
            _ => Err("expected `cloud` or `server`".to_owned()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// What every provider service reads: `BIND_ADDR`, `REDIS_URL`, `REDIS_KEY_PREFIX`, `TASK_LOGS_DIR`,
    /// `CALLER_TOKENS`, `ADMIN_TOKEN`, `CREDENTIALS_KEY`, `DATABASE_URL`, `UPSTREAM_*`, `IDEMPOTENCY_TTL`.
    pub provider: ProviderSettings,
    /// `JIRA_BASE_URL` (required): the site, e.g. `https://example.atlassian.net` or `https://jira.example.com`.
    pub jira_base_url: String,
    pub deployment: Deployment,
    /// `JIRA_API_TOKEN` (Cloud) or `JIRA_PAT` (Server), or their `_FILE`: stored in the vault at start.
    /// Optional once a value is stored (a rotated one survives restarts).
    pub jira_secret: Option<SecretString>,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let jira_base_url =
            configuration::var("JIRA_BASE_URL").ok_or_else(|| ConfigError::Missing {
                name: "JIRA_BASE_URL".to_owned(),
            })?;
        if !(jira_base_url.starts_with("https://") || jira_base_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                name: "JIRA_BASE_URL".to_owned(),
                value: jira_base_url,
                reason: "expected an http(s) URL such as https://example.atlassian.net".to_owned(),
            });
        }
        let email = configuration::var("JIRA_EMAIL");
        let api_token = configuration::secret("JIRA_API_TOKEN")?;
        let pat = configuration::secret("JIRA_PAT")?;
        let kind = match configuration::parse_opt::<DeploymentKind>("JIRA_DEPLOYMENT")? {
            Some(kind) => kind,
            None if pat.is_some() => DeploymentKind::Server,
            None if email.is_some() || api_token.is_some() => DeploymentKind::Cloud,
            None => {
                return Err(ConfigError::Missing {
                    name: "JIRA_EMAIL + JIRA_API_TOKEN (Jira Cloud) or JIRA_PAT (Jira Server/Data Center)".to_owned(),
                });
            }
        };
        let (deployment, secret) = match kind {
            DeploymentKind::Cloud => {
                let email = email.ok_or_else(|| ConfigError::Missing {
                    name: "JIRA_EMAIL (the Atlassian account the API token belongs to)".to_owned(),
                })?;
                (Deployment::Cloud { email }, api_token)
            }
            DeploymentKind::Server => (Deployment::Server, pat),
        };
        Ok(Self {
            provider: ProviderSettings::from_env(SERVICE_NAME, DEFAULT_PORT)?,
            jira_base_url: jira_base_url.trim_end_matches('/').to_owned(),
            deployment,
            jira_secret: secret.map(SecretString::from),
        })
    }
}
