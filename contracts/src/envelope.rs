//! The queued task: what the gateway puts on a task stream and a worker takes off it.
//!
//! Wire format: an entry on `tasks:{priority}` with one field, `envelope`, holding this JSON. A consumer
//! reads it with [`TaskEnvelope::decode`]; an envelope whose `schema_version` it does not know, or that does
//! not parse, is moved to the dead-letter stream with the error (never dropped, never retried forever).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::task_id::TaskId;

/// The envelope version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Slack,
    Jira,
    Sentry,
}

impl Provider {
    pub const ALL: [Provider; 4] = [Self::Github, Self::Slack, Self::Jira, Self::Sentry];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Slack => "slack",
            Self::Jira => "jira",
            Self::Sentry => "sentry",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name `{0}`")]
pub struct UnknownName(pub String);

/// What the user asked the agent to do (`@agent <command> <free text>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Fix,
    Review,
    Explain,
    Ask,
    Investigate,
    Cancel,
    Retry,
}

impl Command {
    pub const ALL: [Command; 7] = [
        Self::Fix,
        Self::Review,
        Self::Explain,
        Self::Ask,
        Self::Investigate,
        Self::Cancel,
        Self::Retry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fix => "fix",
            Self::Review => "review",
            Self::Explain => "explain",
            Self::Ask => "ask",
            Self::Investigate => "investigate",
            Self::Cancel => "cancel",
            Self::Retry => "retry",
        }
    }

    /// `cancel` and `retry` act on existing tasks rather than starting an agent run.
    pub fn is_control(self) -> bool {
        matches!(self, Self::Cancel | Self::Retry)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Command {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// Each priority has its own stream; workers read higher ones first without starving lower ones.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    High,
    Normal,
    Low,
}

impl Priority {
    /// Highest first.
    pub const ALL: [Priority; 3] = [Self::High, Self::Normal, Self::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }
}

impl FromStr for Priority {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// Who asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    /// The provider's stable id (GitHub user id, Slack user id, Jira accountId or name, Sentry actor id).
    pub id: String,
    /// Login or username, where the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `user`, `bot` or `application` (Sentry's own alerts).
    #[serde(default = "default_actor_kind")]
    pub kind: String,
}

fn default_actor_kind() -> String {
    "user".to_owned()
}

/// Where the request came from: everything a worker needs to fetch context and answer in place.
/// Only the fields of the task's provider are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SourceRef {
    /// GitHub `owner/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// GitHub issue or pull request number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Whether `number` is a pull request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pull_request: Option<bool>,
    /// The comment that carried the command (GitHub comment / review comment / review id, Jira comment id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<String>,
    /// `issue_comment`, `pull_request_review_comment`, `pull_request_review`, `issue`, `pull_request`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_channel: Option<String>,
    /// The thread to answer in (the message's own ts when it is not in a thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_thread_ts: Option<String>,
    /// The message that carried the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_message_ts: Option<String>,
    /// Jira base URL, e.g. `https://example.atlassian.net`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira_site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira_issue_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentry_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentry_issue_id: Option<String>,
    /// A link a person can open (issue, comment, message or alert).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A queued task. Workers never change `task_id`, `created_at` or the request fields; `attempt` and `run`
/// change as described on the fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskEnvelope {
    pub schema_version: u32,
    pub task_id: TaskId,
    pub provider: Provider,
    /// The provider's event name, e.g. `issue_comment.created`, `app_mention`, `comment_created`, `issue.created`.
    pub event: String,
    pub command: Command,
    /// The free text after the command.
    pub instruction: String,
    pub source: SourceRef,
    pub actor: Actor,
    pub priority: Priority,
    /// Raised by every delivery to a worker (1 on the first).
    pub attempt: u32,
    /// Raised by a retry or re-queue, kept by a reclaim (1 on the first run).
    pub run: u32,
    pub created_at: DateTime<Utc>,
    /// The issue/PR, Slack thread or Jira ticket the task belongs to, e.g. `github:octo/repo#12`.
    pub conversation_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope schema_version {found} is not supported (this build reads {SCHEMA_VERSION})")]
    UnsupportedVersion { found: u64 },
    #[error("envelope has no schema_version")]
    MissingVersion,
    #[error("envelope is not valid: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl TaskEnvelope {
    /// Reads an envelope, checking its version before anything else.
    pub fn decode(raw: &[u8]) -> Result<Self, EnvelopeError> {
        let value: serde_json::Value = serde_json::from_slice(raw)?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            None => Err(EnvelopeError::MissingVersion),
            Some(v) if v != u64::from(SCHEMA_VERSION) => {
                Err(EnvelopeError::UnsupportedVersion { found: v })
            }
            Some(_) => Ok(serde_json::from_value(value)?),
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes")
    }

    /// The conversation key of a GitHub issue or pull request.
    pub fn github_conversation(repo: &str, number: u64) -> String {
        format!("github:{repo}#{number}")
    }

    pub fn slack_conversation(team: &str, channel: &str, thread_ts: &str) -> String {
        format!("slack:{team}/{channel}/{thread_ts}")
    }

    /// The conversation every slash command of a Slack channel also belongs to, so that `/agent cancel`
    /// and `/agent retry` there find the tasks earlier slash commands started (each has a conversation of
    /// its own, named by its trigger id, since no message carried it).
    pub fn slack_slash_commands(team: &str, channel: &str) -> String {
        format!("slack:{team}/{channel}/slash-commands")
    }

    pub fn jira_conversation(site: &str, issue_key: &str) -> String {
        format!("jira:{site}/{issue_key}")
    }

    pub fn sentry_conversation(org: &str, issue_id: &str) -> String {
        format!("sentry:{org}/{issue_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TaskEnvelope {
        TaskEnvelope {
            schema_version: SCHEMA_VERSION,
            task_id: TaskId::new(),
            provider: Provider::Github,
            event: "issue_comment.created".into(),
            command: Command::Fix,
            instruction: "the flaky test".into(),
            source: SourceRef {
                repo: Some("octo/repo".into()),
                number: Some(12),
                ..Default::default()
            },
            actor: Actor {
                id: "1".into(),
                login: Some("octocat".into()),
                display_name: None,
                kind: "user".into(),
            },
            priority: Priority::High,
            attempt: 1,
            run: 1,
            created_at: Utc::now(),
            conversation_key: TaskEnvelope::github_conversation("octo/repo", 12),
        }
    }

    #[test]
    fn encodes_and_decodes() {
        let envelope = sample();
        assert_eq!(
            TaskEnvelope::decode(envelope.encode().as_bytes()).unwrap(),
            envelope
        );
    }

    #[test]
    fn refuses_an_unknown_version() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["schema_version"] = 2.into();
        let err = TaskEnvelope::decode(value.to_string().as_bytes()).unwrap_err();
        assert!(matches!(
            err,
            EnvelopeError::UnsupportedVersion { found: 2 }
        ));
        value.as_object_mut().unwrap().remove("schema_version");
        let err = TaskEnvelope::decode(value.to_string().as_bytes()).unwrap_err();
        assert!(matches!(err, EnvelopeError::MissingVersion));
        assert!(TaskEnvelope::decode(b"{not json").is_err());
    }
}
