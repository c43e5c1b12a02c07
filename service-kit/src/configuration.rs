//! Reading settings from environment variables, with documented defaults and errors that name the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is required but not set")]
    Missing { name: String },
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
    #[error("{name}_FILE={path:?} could not be read: {source}")]
    UnreadableFile {
        name: String,
        path: String,
        source: std::io::Error,
    },
}

/// A variable's value, with empty values treated as unset.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A parsed variable, or `default` when unset.
pub fn parse_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(value) => parse_value(name, &value),
    }
}

/// A parsed variable, or `None` when unset.
pub fn parse_opt<T>(name: &str) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    var(name).map(|value| parse_value(name, &value)).transpose()
}

fn parse_value<T>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: e.to_string(),
        })
}

/// A comma-separated list (empty items dropped); empty when unset.
pub fn list(name: &str) -> Vec<String> {
    var(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A secret from `NAME`, or from the file named by `NAME_FILE` (trailing newline removed).
pub fn secret(name: &str) -> Result<Option<String>, ConfigError> {
    if let Some(value) = var(name) {
        return Ok(Some(value));
    }
    let file_var = format!("{name}_FILE");
    match var(&file_var) {
        None => Ok(None),
        Some(path) => std::fs::read_to_string(&path)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_owned()))
            .map_err(|source| ConfigError::UnreadableFile {
                name: name.to_owned(),
                path,
                source,
            }),
    }
}

/// The settings every service reads the same way.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    /// `BIND_ADDR`, default `127.0.0.1:<the service's port>`.
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`, default `agw:`.
    pub redis_key_prefix: String,
    /// `TASK_LOGS_DIR`, default `./data/logs/tasks`.
    pub task_logs_dir: PathBuf,
}

pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const DEFAULT_TASK_LOGS_DIR: &str = "./data/logs/tasks";

impl CommonSettings {
    pub fn from_env(default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            bind_addr: parse_or(
                "BIND_ADDR",
                SocketAddr::from(([127, 0, 0, 1], default_port)),
            )?,
            redis_url: var("REDIS_URL").unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned()),
            redis_key_prefix: std::env::var("REDIS_KEY_PREFIX")
                .unwrap_or_else(|_| contracts::keys::DEFAULT_PREFIX.to_owned()),
            task_logs_dir: var("TASK_LOGS_DIR")
                .unwrap_or_else(|| DEFAULT_TASK_LOGS_DIR.to_owned())
                .into(),
        })
    }
}

/// A duration written as `30s`, `500ms`, `5m`, `2h` or plain seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub std::time::Duration);

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{s}` is not a duration like 30s, 500ms, 5m or 2h"))?;
        let millis = match unit {
            "ms" => number,
            "" | "s" => number * 1000,
            "m" => number * 60_000,
            "h" => number * 3_600_000,
            _ => return Err(format!("`{s}` has an unknown unit (use ms, s, m or h)")),
        };
        Ok(Self(std::time::Duration::from_millis(millis)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_human_durations() {
        assert_eq!(
            "500ms".parse::<HumanDuration>().unwrap().0,
            Duration::from_millis(500)
        );
        assert_eq!(
            "30".parse::<HumanDuration>().unwrap().0,
            Duration::from_secs(30)
        );
        assert_eq!(
            "2h".parse::<HumanDuration>().unwrap().0,
            Duration::from_secs(7200)
        );
        assert!("2 weeks".parse::<HumanDuration>().is_err());
        assert!("".parse::<HumanDuration>().is_err());
    }
}
