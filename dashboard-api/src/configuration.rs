//! Settings from the environment. Every variable, with its default, is in `docs/dashboard-api.md`.

use std::time::Duration;

use secrecy::SecretString;
use service_kit::configuration::{self, CommonSettings, ConfigError, HumanDuration};

pub const DEFAULT_PORT: u16 = 8090;
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/dashboard.db?mode=rwc";
pub const DEFAULT_CONSUMER_GROUP: &str = "dashboard";

#[derive(Debug, Clone)]
pub struct Settings {
    /// `BIND_ADDR`, `REDIS_URL`, `REDIS_KEY_PREFIX`, `TASK_LOGS_DIR`.
    pub common: CommonSettings,
    /// `DATABASE_URL`, default `sqlite://./data/dashboard.db?mode=rwc`; `postgres://…` works too.
    pub database_url: String,
    /// `DASHBOARD_TOKEN` (or `DASHBOARD_TOKEN_FILE`): bearer token of the API and password of the page.
    /// Without it the service only listens on loopback.
    pub token: Option<SecretString>,
    /// `TASK_LOGS_RETENTION_DAYS`, default 30: logs and index rows older than this are removed.
    pub retention_days: u32,
    /// `RETENTION_INTERVAL`, default `1h`: how often the retention job runs (also once at start).
    pub retention_interval: Duration,
    /// `DASHBOARD_CONSUMER_GROUP`, default `dashboard`: the consumer group reading `task-events`.
    pub consumer_group: String,
    /// `DASHBOARD_CONSUMER_NAME`, default `dashboard-<pid>`.
    pub consumer_name: String,
    /// `SSE_POLL_INTERVAL`, default `25ms`: how often a live stream looks for new lines.
    pub sse_poll_interval: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonSettings::from_env(DEFAULT_PORT)?,
            database_url: configuration::var("DATABASE_URL")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            token: configuration::secret("DASHBOARD_TOKEN")?.map(SecretString::from),
            retention_days: configuration::parse_or("TASK_LOGS_RETENTION_DAYS", 30)?,
            retention_interval: configuration::parse_or(
                "RETENTION_INTERVAL",
                HumanDuration(Duration::from_secs(3600)),
            )?
            .0,
            consumer_group: configuration::var("DASHBOARD_CONSUMER_GROUP")
                .unwrap_or_else(|| DEFAULT_CONSUMER_GROUP.to_owned()),
            consumer_name: configuration::var("DASHBOARD_CONSUMER_NAME")
                .unwrap_or_else(|| format!("dashboard-{}", std::process::id())),
            sse_poll_interval: configuration::parse_or(
                "SSE_POLL_INTERVAL",
                HumanDuration(Duration::from_millis(25)),
            )?
            .0,
        })
    }

    /// Without a token the dashboard must not be reachable from other machines.
    pub fn check_access(&self) -> Result<(), ConfigError> {
        if self.token.is_none() && !self.common.bind_addr.ip().is_loopback() {
            return Err(ConfigError::Invalid {
                name: "BIND_ADDR".to_owned(),
                value: self.common.bind_addr.to_string(),
                reason:
                    "is not a loopback address and DASHBOARD_TOKEN is not set: set DASHBOARD_TOKEN \
                         to serve the dashboard beyond this machine, or bind to 127.0.0.1"
                        .to_owned(),
            });
        }
        Ok(())
    }
}
