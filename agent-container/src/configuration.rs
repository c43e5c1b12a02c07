//! Settings from the environment; every variable and its default is in `docs/agent-container.md`.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use service_kit::configuration::{self as config, CommonSettings, ConfigError, HumanDuration};

use crate::agents::AgentDefinitions;

pub const DEFAULT_PORT: u16 = 8085;

/// Which coding-agent CLI the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerKind {
    Claude,
    Codex,
    Command,
    /// Runs nothing and succeeds at once: for measuring the worker itself (benchmarks), never for real tasks.
    Noop,
}

impl RunnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Command => "command",
            Self::Noop => "noop",
        }
    }
}

impl FromStr for RunnerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "claude" => Ok(Self::Claude),
            "codex" => Ok(Self::Codex),
            "command" => Ok(Self::Command),
            "noop" => Ok(Self::Noop),
            other => Err(format!(
                "unknown runner `{other}` (use claude, codex, command or noop)"
            )),
        }
    }
}

/// Daily spending limits in USD; `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DailyBudgets {
    pub per_repository: Option<f64>,
    pub per_slack_channel: Option<f64>,
    pub per_jira_project: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    /// `AGENT_WORKER_ID`, default `{hostname}-{pid}`.
    pub worker_id: String,
    /// `AGENT_CONCURRENCY`, default 2.
    pub concurrency: usize,
    /// `AGENT_RUNNER`, default `claude`.
    pub runner: RunnerKind,
    /// `AGENT_CLAUDE_BIN`, default `claude`.
    pub claude_bin: String,
    /// `AGENT_CODEX_BIN`, default `codex`.
    pub codex_bin: String,
    /// `AGENT_COMMAND`: the executable of the `command` runner (required with it).
    pub command_bin: Option<String>,
    /// `AGENT_COMMAND_ARGS`, comma-separated.
    pub command_args: Vec<String>,
    /// The API key handed to the agent, under the variable name the runner's CLI reads.
    pub agent_api_key: Option<(String, SecretString)>,
    /// `AGENT_PATH`, default the worker's own `PATH`.
    pub agent_path: String,
    /// `AGENT_LEASE`, default 60s.
    pub lease: Duration,
    /// `MAX_ATTEMPTS`, default 3.
    pub max_attempts: u32,
    /// `AGENT_RETRY_BACKOFF`, default 10s (doubles each attempt).
    pub retry_backoff: Duration,
    /// `AGENT_RETRY_BACKOFF_MAX`, default 10m.
    pub retry_backoff_max: Duration,
    /// `AGENT_SHUTDOWN_GRACE`, default 30s.
    pub shutdown_grace: Duration,
    /// `AGENT_WORKDIR`, default `./data/workspaces`.
    pub workdir: PathBuf,
    /// `AGENT_KEEP_FAILED_WORKSPACES`, default false.
    pub keep_failed_workspaces: bool,
    /// `AGENT_REPO_URL_TEMPLATE`, e.g. `http://git-proxy:9000/{repo}.git`; unset: repository tasks run without a clone.
    pub repo_url_template: Option<String>,
    /// `AGENT_DEFINITIONS_FILE` merged over the embedded defaults.
    pub definitions: AgentDefinitions,
    /// `AGENT_MAX_OUTPUT_BYTES`, default 50 MiB.
    pub max_output_bytes: u64,
    pub daily_budgets: DailyBudgets,
    /// Values of the worker's own secrets, redacted from the agent's output.
    pub secret_values: Vec<SecretString>,
    /// `AGENT_FOLLOW_UP`, default true (false with the `noop` runner): talk to the provider services (tracking
    /// message, context, git access, pull requests) and let tasks of one conversation run one after another.
    pub follow_up: bool,
    /// `DASHBOARD_PUBLIC_URL`, default `http://127.0.0.1:8090`: links to `{url}/tasks/{task_id}`.
    pub dashboard_url: String,
    /// `AGENT_PROGRESS_INTERVAL`, default 20s: at most one live update of the tracking message per interval.
    pub progress_interval: Duration,
    /// `AGENT_ANSWER_RETRY_FOR`, default 10m: how long the final answer is retried while its service is down.
    pub answer_retry_for: Duration,
    /// `AGENT_CONVERSATION_RECHECK`, default 5s: how soon a task waiting behind its conversation's active task
    /// is looked at again.
    pub conversation_recheck: Duration,
    /// `AGENT_GIT_AUTHOR_NAME`, default `agent-gateway`.
    pub git_author_name: String,
    /// `AGENT_GIT_AUTHOR_EMAIL`, default `agent@agent-gateway.local`.
    pub git_author_email: String,
}

/// Environment variable names whose values count as the worker's secrets.
const SECRET_NAME_PARTS: [&str; 8] = [
    "TOKEN",
    "SECRET",
    "KEY",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "REDIS_URL",
    "DATABASE_URL",
];

/// Secret values shorter than this are not redacted (they would blank out ordinary words).
const SHORTEST_REDACTED_SECRET: usize = 6;

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let runner: RunnerKind = config::parse_or("AGENT_RUNNER", RunnerKind::Claude)?;
        let command_bin = config::var("AGENT_COMMAND");
        if runner == RunnerKind::Command && command_bin.is_none() {
            return Err(ConfigError::Missing {
                name: "AGENT_COMMAND (required with AGENT_RUNNER=command)".into(),
            });
        }
        let concurrency: usize = config::parse_or("AGENT_CONCURRENCY", 2)?;
        if concurrency == 0 {
            return Err(invalid(
                "AGENT_CONCURRENCY",
                "0",
                "at least one slot is needed",
            ));
        }
        let max_attempts: u32 = config::parse_or("MAX_ATTEMPTS", 3)?;
        if max_attempts == 0 {
            return Err(invalid(
                "MAX_ATTEMPTS",
                "0",
                "at least one attempt is needed",
            ));
        }
        let lease = duration("AGENT_LEASE", Duration::from_secs(60))?;
        if lease < Duration::from_millis(300) {
            return Err(invalid(
                "AGENT_LEASE",
                &format!("{lease:?}"),
                "use at least 300ms",
            ));
        }
        let definitions = match config::var("AGENT_DEFINITIONS_FILE") {
            None => AgentDefinitions::default(),
            Some(path) => AgentDefinitions::from_file(&path)
                .map_err(|reason| invalid("AGENT_DEFINITIONS_FILE", &path, &reason))?,
        };
        Ok(Self {
            common: CommonSettings::from_env(DEFAULT_PORT)?,
            worker_id: config::var("AGENT_WORKER_ID").unwrap_or_else(default_worker_id),
            concurrency,
            runner,
            claude_bin: config::var("AGENT_CLAUDE_BIN").unwrap_or_else(|| "claude".into()),
            codex_bin: config::var("AGENT_CODEX_BIN").unwrap_or_else(|| "codex".into()),
            command_bin,
            command_args: config::list("AGENT_COMMAND_ARGS"),
            agent_api_key: agent_api_key(runner)?,
            agent_path: config::var("AGENT_PATH")
                .or_else(|| config::var("PATH"))
                .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
            lease,
            max_attempts,
            retry_backoff: duration("AGENT_RETRY_BACKOFF", Duration::from_secs(10))?,
            retry_backoff_max: duration("AGENT_RETRY_BACKOFF_MAX", Duration::from_secs(600))?,
            shutdown_grace: duration("AGENT_SHUTDOWN_GRACE", Duration::from_secs(30))?,
            workdir: config::var("AGENT_WORKDIR")
                .unwrap_or_else(|| "./data/workspaces".into())
                .into(),
            keep_failed_workspaces: config::parse_or("AGENT_KEEP_FAILED_WORKSPACES", false)?,
            repo_url_template: config::var("AGENT_REPO_URL_TEMPLATE"),
            definitions,
            max_output_bytes: config::parse_or("AGENT_MAX_OUTPUT_BYTES", 50 * 1024 * 1024)?,
            daily_budgets: DailyBudgets {
                per_repository: config::parse_opt("AGENT_DAILY_BUDGET_REPO_USD")?,
                per_slack_channel: config::parse_opt("AGENT_DAILY_BUDGET_SLACK_CHANNEL_USD")?,
                per_jira_project: config::parse_opt("AGENT_DAILY_BUDGET_JIRA_PROJECT_USD")?,
            },
            secret_values: worker_secret_values(),
            follow_up: config::parse_or("AGENT_FOLLOW_UP", runner != RunnerKind::Noop)?,
            dashboard_url: config::var("DASHBOARD_PUBLIC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8090".into())
                .trim_end_matches('/')
                .to_owned(),
            progress_interval: duration("AGENT_PROGRESS_INTERVAL", Duration::from_secs(20))?,
            answer_retry_for: duration("AGENT_ANSWER_RETRY_FOR", Duration::from_secs(600))?,
            conversation_recheck: duration("AGENT_CONVERSATION_RECHECK", Duration::from_secs(5))?,
            git_author_name: config::var("AGENT_GIT_AUTHOR_NAME")
                .unwrap_or_else(|| "agent-gateway".into()),
            git_author_email: config::var("AGENT_GIT_AUTHOR_EMAIL")
                .unwrap_or_else(|| "agent@agent-gateway.local".into()),
        })
    }
}

fn invalid(name: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn duration(name: &str, default: Duration) -> Result<Duration, ConfigError> {
    Ok(config::parse_or(name, HumanDuration(default))?.0)
}

/// The key the runner's CLI reads: `ANTHROPIC_API_KEY` (claude), `OPENAI_API_KEY` (codex), or for `command`
/// the variable named by `AGENT_COMMAND_API_KEY_VAR`, passed through from the worker's environment.
fn agent_api_key(runner: RunnerKind) -> Result<Option<(String, SecretString)>, ConfigError> {
    let name = match runner {
        RunnerKind::Claude => Some("ANTHROPIC_API_KEY".to_owned()),
        RunnerKind::Codex => Some("OPENAI_API_KEY".to_owned()),
        RunnerKind::Command => config::var("AGENT_COMMAND_API_KEY_VAR"),
        RunnerKind::Noop => None,
    };
    let Some(name) = name else { return Ok(None) };
    Ok(config::secret(&name)?.map(|value| (name, SecretString::from(value))))
}

fn worker_secret_values() -> Vec<SecretString> {
    let mut values: Vec<SecretString> = std::env::vars()
        .filter(|(name, value)| {
            let upper = name.to_ascii_uppercase();
            SECRET_NAME_PARTS.iter().any(|part| upper.contains(part))
                && value.len() >= SHORTEST_REDACTED_SECRET
        })
        .map(|(_, value)| SecretString::from(value))
        .collect();
    values.sort_by(|a, b| a.expose_secret().cmp(b.expose_secret()));
    values.dedup_by(|a, b| a.expose_secret() == b.expose_secret());
    values
}

fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| config::var("HOSTNAME"))
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}
