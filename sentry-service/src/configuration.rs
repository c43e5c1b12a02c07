//! sentry-service's settings, all from the environment (see `docs/sentry-service.md` for the table).

use secrecy::SecretString;
use service_kit::configuration::{self, ConfigError};
use service_kit::provider_service::ProviderSettings;

pub const SERVICE_NAME: &str = "sentry-service";
pub const DEFAULT_PORT: u16 = 8084;
pub const DEFAULT_SENTRY_API_URL: &str = "https://sentry.io";

#[derive(Debug, Clone)]
pub struct Settings {
    /// What every provider service reads: `BIND_ADDR`, `REDIS_URL`, `REDIS_KEY_PREFIX`, `TASK_LOGS_DIR`,
    /// `CALLER_TOKENS`, `ADMIN_TOKEN`, `CREDENTIALS_KEY`, `DATABASE_URL`, `UPSTREAM_*`, `IDEMPOTENCY_TTL`.
    pub provider: ProviderSettings,
    /// `SENTRY_API_URL`, default `https://sentry.io` (a self-hosted Sentry's URL, or a region such as
    /// `https://de.sentry.io`); the API is under `/api/0/`.
    pub sentry_api_url: String,
    /// `SENTRY_ORG` (required): the organization's slug; every issue is read within it.
    pub sentry_org: String,
    /// `SENTRY_AUTH_TOKEN` (or `SENTRY_AUTH_TOKEN_FILE`): stored in the vault at start. Optional once a token
    /// is stored (a rotated one survives restarts); without either, calls answer 503 `credential_missing`.
    pub sentry_auth_token: Option<SecretString>,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let sentry_org = configuration::var("SENTRY_ORG").ok_or_else(|| ConfigError::Missing {
            name: "SENTRY_ORG (the organization slug)".to_owned(),
        })?;
        let slug_like = sentry_org
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !slug_like {
            return Err(ConfigError::Invalid {
                name: "SENTRY_ORG".to_owned(),
                value: sentry_org,
                reason: "an organization slug has only letters, digits, `-` and `_`".to_owned(),
            });
        }
        Ok(Self {
            provider: ProviderSettings::from_env(SERVICE_NAME, DEFAULT_PORT)?,
            sentry_api_url: configuration::var("SENTRY_API_URL")
                .unwrap_or_else(|| DEFAULT_SENTRY_API_URL.to_owned()),
            sentry_org,
            sentry_auth_token: configuration::secret("SENTRY_AUTH_TOKEN")?.map(SecretString::from),
        })
    }
}
