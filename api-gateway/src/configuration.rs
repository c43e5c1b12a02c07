//! The gateway's settings, read once from the environment. Every variable and its default is listed in
//! `docs/api-gateway.md`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use contracts::{Command, Priority, Provider};
use secrecy::SecretString;
use service_kit::configuration::{self, CommonSettings, ConfigError, HumanDuration};
use service_kit::service_client::ServiceUrls;

/// The gateway's port when `BIND_ADDR` is unset.
pub const DEFAULT_PORT: u16 = 8080;
/// GitHub sends deliveries of up to 25 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
pub const DEFAULT_TRIGGER: &str = "@agent";
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 30;
pub const DEFAULT_TRUSTED_ASSOCIATIONS: &str = "OWNER,MEMBER,COLLABORATOR";
pub const DEFAULT_COMMAND_PRIORITIES: &str =
    "fix:high,investigate:high,review:normal,ask:normal,explain:low";
pub const DEFAULT_SENTRY_RULES: &str =
    "issue.created:investigate,event_alert.triggered:investigate";
pub const DEFAULT_SLACK_SLASH_COMMAND: &str = "/agent";
pub const DEFAULT_REDIS_POOL_SIZE: usize = 32;
pub const DEFAULT_QUEUE_METRICS_INTERVAL_SECONDS: u64 = 10;
pub const DEFAULT_DASHBOARD_PUBLIC_URL: &str = "http://127.0.0.1:8090";
pub const DEFAULT_PERMISSION_CACHE_TTL: Duration = Duration::from_secs(60);
pub const DEFAULT_SERVICE_CALL_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_SERVICE_CALL_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    /// `MAX_BODY_BYTES`: larger deliveries get 413.
    pub max_body_bytes: usize,
    /// `AGENT_TRIGGER`: the text mention that addresses the agent.
    pub agent_trigger: String,
    /// `ACTOR_RATE_LIMIT_PER_MINUTE`: tasks one actor may start per minute; 0 turns the limit off.
    pub actor_rate_limit_per_minute: u32,
    /// `COMMAND_PRIORITIES`: the queue each command goes to; unlisted commands go to `normal`.
    pub command_priorities: HashMap<Command, Priority>,
    /// `REDIS_POOL_SIZE`.
    pub redis_pool_size: usize,
    /// `QUEUE_METRICS_INTERVAL_SECONDS`: how often the queue-length gauge is refreshed.
    pub queue_metrics_interval_seconds: u64,
    /// `ACKNOWLEDGE_TASKS`: react and post the tracking message right after the enqueue (default true).
    pub acknowledge_tasks: bool,
    /// `DASHBOARD_PUBLIC_URL`: the tracking message links to `{url}/tasks/{task_id}`.
    pub dashboard_public_url: String,
    /// `<PROVIDER>_SERVICE_URL`: the provider services the gateway calls.
    pub service_urls: ServiceUrls,
    /// `SERVICE_TOKEN`: the gateway's bearer token at the provider services (role `gateway`).
    pub service_token: Option<SecretString>,
    /// `SERVICE_CALL_TIMEOUT`: one attempt of an acknowledgement call.
    pub service_call_timeout: Duration,
    /// `SERVICE_CALL_ATTEMPTS`: attempts of an acknowledgement call, the first included.
    pub service_call_attempts: u32,
    /// `PERMISSION_CACHE_TTL`: how long github-service's answer about a user's repository permission is kept.
    pub permission_cache_ttl: Duration,
    pub github: GithubSettings,
    pub slack: SlackSettings,
    pub jira: JiraSettings,
    pub sentry: SentrySettings,
}

/// Who may start tasks from one provider, and from where. Names are compared case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct ActorRules {
    /// `<PROVIDER>_ALLOWED_ACTORS`: when set, only these actors (id or login) start tasks.
    pub allowed_actors: HashSet<String>,
    /// `<PROVIDER>_DENIED_ACTORS`: these actors never start tasks.
    pub denied_actors: HashSet<String>,
    /// `GITHUB_ALLOWED_REPOS`, `SLACK_ALLOWED_CHANNELS`, `JIRA_ALLOWED_PROJECTS`, `SENTRY_ALLOWED_PROJECTS`:
    /// when set, deliveries from elsewhere are ignored.
    pub allowed_scopes: HashSet<String>,
    /// The agent's own accounts on the provider (`GITHUB_AGENT_LOGINS`, `SLACK_BOT_USER_IDS`,
    /// `JIRA_AGENT_ACCOUNTS`): their messages never start tasks.
    pub agent_accounts: HashSet<String>,
}

#[derive(Debug, Clone, Default)]
pub struct GithubSettings {
    /// `GITHUB_WEBHOOK_SECRET`, comma-separated for rotation.
    pub secrets: Vec<SecretString>,
    /// `GITHUB_TRUSTED_ASSOCIATIONS`.
    pub trusted_associations: HashSet<String>,
    pub rules: ActorRules,
}

#[derive(Debug, Clone, Default)]
pub struct SlackSettings {
    /// `SLACK_SIGNING_SECRET`, comma-separated for rotation.
    pub secrets: Vec<SecretString>,
    /// `SLACK_SLASH_COMMAND`.
    pub slash_command: String,
    pub rules: ActorRules,
}

#[derive(Debug, Clone, Default)]
pub struct JiraSettings {
    /// `JIRA_WEBHOOK_SECRET` (Jira Cloud, `X-Hub-Signature`), comma-separated for rotation.
    pub secrets: Vec<SecretString>,
    /// `JIRA_WEBHOOK_TOKEN` (Jira Server/Data Center, `?token=` in the webhook URL), comma-separated.
    pub query_tokens: Vec<SecretString>,
    pub rules: ActorRules,
}

#[derive(Debug, Clone, Default)]
pub struct SentrySettings {
    /// `SENTRY_CLIENT_SECRET`, comma-separated for rotation.
    pub secrets: Vec<SecretString>,
    /// `SENTRY_TRIGGER_RULES`: `resource.action:command` pairs that start a task without a mention.
    pub trigger_rules: HashMap<String, Command>,
    /// `SENTRY_ORG`: the organization slug when a payload does not name it.
    pub default_org: Option<String>,
    pub rules: ActorRules,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let rules = |provider: &str, scope_var: &str, agent_var: &str| ActorRules {
            allowed_actors: lowercase_set(&format!("{provider}_ALLOWED_ACTORS")),
            denied_actors: lowercase_set(&format!("{provider}_DENIED_ACTORS")),
            allowed_scopes: lowercase_set(scope_var),
            agent_accounts: lowercase_set(agent_var),
        };
        Ok(Self {
            common: CommonSettings::from_env(DEFAULT_PORT)?,
            max_body_bytes: configuration::parse_or("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?,
            agent_trigger: configuration::var("AGENT_TRIGGER")
                .unwrap_or_else(|| DEFAULT_TRIGGER.to_owned()),
            actor_rate_limit_per_minute: configuration::parse_or(
                "ACTOR_RATE_LIMIT_PER_MINUTE",
                DEFAULT_RATE_LIMIT_PER_MINUTE,
            )?,
            command_priorities: parse_command_priorities(
                &configuration::var("COMMAND_PRIORITIES")
                    .unwrap_or_else(|| DEFAULT_COMMAND_PRIORITIES.to_owned()),
            )
            .map_err(|reason| invalid("COMMAND_PRIORITIES", reason))?,
            redis_pool_size: configuration::parse_or("REDIS_POOL_SIZE", DEFAULT_REDIS_POOL_SIZE)?,
            queue_metrics_interval_seconds: configuration::parse_or(
                "QUEUE_METRICS_INTERVAL_SECONDS",
                DEFAULT_QUEUE_METRICS_INTERVAL_SECONDS,
            )?,
            acknowledge_tasks: configuration::parse_or("ACKNOWLEDGE_TASKS", true)?,
            dashboard_public_url: configuration::var("DASHBOARD_PUBLIC_URL")
                .unwrap_or_else(|| DEFAULT_DASHBOARD_PUBLIC_URL.to_owned()),
            service_urls: ServiceUrls::from_env(),
            service_token: configuration::secret("SERVICE_TOKEN")?.map(SecretString::from),
            service_call_timeout: configuration::parse_or(
                "SERVICE_CALL_TIMEOUT",
                HumanDuration(DEFAULT_SERVICE_CALL_TIMEOUT),
            )?
            .0,
            service_call_attempts: configuration::parse_or::<u32>(
                "SERVICE_CALL_ATTEMPTS",
                DEFAULT_SERVICE_CALL_ATTEMPTS,
            )?
            .max(1),
            permission_cache_ttl: configuration::parse_or(
                "PERMISSION_CACHE_TTL",
                HumanDuration(DEFAULT_PERMISSION_CACHE_TTL),
            )?
            .0,
            github: GithubSettings {
                secrets: secret_list("GITHUB_WEBHOOK_SECRET")?,
                trusted_associations: configuration::var("GITHUB_TRUSTED_ASSOCIATIONS")
                    .unwrap_or_else(|| DEFAULT_TRUSTED_ASSOCIATIONS.to_owned())
                    .split(',')
                    .map(|s| s.trim().to_ascii_uppercase())
                    .filter(|s| !s.is_empty())
                    .collect(),
                rules: rules("GITHUB", "GITHUB_ALLOWED_REPOS", "GITHUB_AGENT_LOGINS"),
            },
            slack: SlackSettings {
                secrets: secret_list("SLACK_SIGNING_SECRET")?,
                slash_command: configuration::var("SLACK_SLASH_COMMAND")
                    .unwrap_or_else(|| DEFAULT_SLACK_SLASH_COMMAND.to_owned()),
                rules: rules("SLACK", "SLACK_ALLOWED_CHANNELS", "SLACK_BOT_USER_IDS"),
            },
            jira: JiraSettings {
                secrets: secret_list("JIRA_WEBHOOK_SECRET")?,
                query_tokens: secret_list("JIRA_WEBHOOK_TOKEN")?,
                rules: rules("JIRA", "JIRA_ALLOWED_PROJECTS", "JIRA_AGENT_ACCOUNTS"),
            },
            sentry: SentrySettings {
                secrets: secret_list("SENTRY_CLIENT_SECRET")?,
                trigger_rules: parse_sentry_rules(
                    &configuration::var("SENTRY_TRIGGER_RULES")
                        .unwrap_or_else(|| DEFAULT_SENTRY_RULES.to_owned()),
                )
                .map_err(|reason| invalid("SENTRY_TRIGGER_RULES", reason))?,
                default_org: configuration::var("SENTRY_ORG"),
                rules: rules("SENTRY", "SENTRY_ALLOWED_PROJECTS", "SENTRY_AGENT_ACCOUNTS"),
            },
        })
    }

    /// The queue a command goes to.
    pub fn priority_of(&self, command: Command) -> Priority {
        self.command_priorities
            .get(&command)
            .copied()
            .unwrap_or(Priority::Normal)
    }

    /// Whether a provider has at least one way to authenticate its deliveries.
    pub fn is_configured(&self, provider: Provider) -> bool {
        match provider {
            Provider::Github => !self.github.secrets.is_empty(),
            Provider::Slack => !self.slack.secrets.is_empty(),
            Provider::Jira => !self.jira.secrets.is_empty() || !self.jira.query_tokens.is_empty(),
            Provider::Sentry => !self.sentry.secrets.is_empty(),
        }
    }
}

fn invalid(name: &str, reason: String) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_owned(),
        value: configuration::var(name).unwrap_or_default(),
        reason,
    }
}

fn lowercase_set(name: &str) -> HashSet<String> {
    configuration::list(name)
        .into_iter()
        .map(|s| s.to_lowercase())
        .collect()
}

/// A comma-separated list of secrets (`NAME` or the file `NAME_FILE`), so a secret rotates without downtime.
fn secret_list(name: &str) -> Result<Vec<SecretString>, ConfigError> {
    Ok(configuration::secret(name)?
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_owned()))
                .collect()
        })
        .unwrap_or_default())
}

/// `fix:high,review:normal` → command → priority.
pub fn parse_command_priorities(text: &str) -> Result<HashMap<Command, Priority>, String> {
    pairs(text)
        .map(|(command, priority)| {
            let command = command.parse::<Command>().map_err(|e| e.to_string())?;
            let priority = priority.parse::<Priority>().map_err(|e| e.to_string())?;
            Ok((command, priority))
        })
        .collect()
}

/// `issue.created:investigate,event_alert.triggered:investigate` → Sentry event → command.
pub fn parse_sentry_rules(text: &str) -> Result<HashMap<String, Command>, String> {
    pairs(text)
        .map(|(event, command)| {
            let command = command.parse::<Command>().map_err(|e| e.to_string())?;
            Ok((event.to_owned(), command))
        })
        .collect()
}

fn pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (left, right) = pair.split_once(':').unwrap_or((pair, ""));
            (left.trim(), right.trim())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_priorities_and_rejects_unknown_names() {
        let map = parse_command_priorities(DEFAULT_COMMAND_PRIORITIES).unwrap();
        assert_eq!(map[&Command::Fix], Priority::High);
        assert_eq!(map[&Command::Explain], Priority::Low);
        assert!(parse_command_priorities("fix:urgent").is_err());
        assert!(parse_command_priorities("deploy:high").is_err());
        assert!(parse_command_priorities("fix").is_err());
    }

    #[test]
    fn parses_sentry_rules() {
        let rules = parse_sentry_rules(DEFAULT_SENTRY_RULES).unwrap();
        assert_eq!(rules["issue.created"], Command::Investigate);
        assert_eq!(rules["event_alert.triggered"], Command::Investigate);
        assert!(parse_sentry_rules("issue.created:deploy").is_err());
    }
}
