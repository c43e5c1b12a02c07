//! slack-service's settings, all from the environment (see `docs/slack-service.md` for the table).

use secrecy::SecretString;
use service_kit::configuration::{self, ConfigError};
use service_kit::provider_service::ProviderSettings;

pub const SERVICE_NAME: &str = "slack-service";
pub const DEFAULT_PORT: u16 = 8083;
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api";

#[derive(Debug, Clone)]
pub struct Settings {
    /// What every provider service reads: `BIND_ADDR`, `REDIS_URL`, `REDIS_KEY_PREFIX`, `TASK_LOGS_DIR`,
    /// `CALLER_TOKENS`, `ADMIN_TOKEN`, `CREDENTIALS_KEY`, `DATABASE_URL`, `UPSTREAM_*`, `IDEMPOTENCY_TTL`.
    pub provider: ProviderSettings,
    /// `SLACK_API_URL`, default `https://slack.com/api`: the Web API's base, each method a path under it.
    pub slack_api_url: String,
    /// `SLACK_BOT_TOKEN` (or `SLACK_BOT_TOKEN_FILE`): stored in the vault at start. Optional once a token is
    /// stored (a rotated one survives restarts); without either, calls answer 503 `credential_missing`.
    pub slack_bot_token: Option<SecretString>,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            provider: ProviderSettings::from_env(SERVICE_NAME, DEFAULT_PORT)?,
            slack_api_url: configuration::var("SLACK_API_URL")
                .unwrap_or_else(|| DEFAULT_SLACK_API_URL.to_owned()),
            slack_bot_token: configuration::secret("SLACK_BOT_TOKEN")?.map(SecretString::from),
        })
    }
}
