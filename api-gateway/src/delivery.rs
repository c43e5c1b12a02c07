//! What a verified delivery turns out to be, once its provider's module has read it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use contracts::{Actor, Command, Provider, SourceRef};
use http::HeaderMap;
use serde::Serialize;

use crate::configuration::ActorRules;
use crate::error::WebhookError;

/// Why a valid delivery starts no task (the `reason` of a 200 `ignored` answer, and a metric label).
pub mod reason {
    pub const PING: &str = "ping";
    pub const UNSUPPORTED_EVENT: &str = "unsupported_event";
    pub const NOT_A_COMMAND: &str = "not_a_command";
    pub const EDIT_WITHOUT_NEW_MENTION: &str = "edit_without_new_mention";
    pub const BOT_ACTOR: &str = "bot_actor";
    pub const DENIED_ACTOR: &str = "denied_actor";
    pub const UNTRUSTED_ACTOR: &str = "untrusted_actor";
    pub const SCOPE_NOT_ALLOWED: &str = "scope_not_allowed";
    pub const NOTHING_TO_CANCEL: &str = "nothing_to_cancel";
    pub const NOTHING_TO_RETRY: &str = "nothing_to_retry";
    pub const NOT_ALLOWED: &str = "not_allowed";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const UNSUPPORTED_INTERACTION: &str = "unsupported_interaction";
    pub const SSL_CHECK: &str = "ssl_check";
    pub const EMPTY_BODY: &str = "empty_body";
    pub const MISSING_CONTEXT: &str = "missing_context";
}

/// The outcome of reading one delivery.
#[derive(Debug)]
pub enum Triage {
    /// Slack's `url_verification`: answer the challenge.
    Challenge(String),
    /// Valid, but no task; the reason.
    Ignored(&'static str),
    /// A request for the agent.
    Task(Box<TaskRequest>),
}

/// A request for the agent, normalized across providers: what `01-input.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRequest {
    pub provider: Provider,
    /// e.g. `issue_comment.created`, `app_mention`, `comment_created`, `issue.created`.
    pub event: String,
    pub command: Command,
    pub instruction: String,
    /// The message that carried the command (empty for rule-started Sentry tasks).
    pub text: String,
    pub actor: Actor,
    pub source: SourceRef,
    pub conversation_key: String,
    /// A second conversation the enqueue records the task in (a Slack channel's slash commands), so that
    /// a cancel or retry addressed to it finds the task.
    pub also_in_conversation: Option<String>,
    /// The ids this delivery is deduplicated by (each becomes `dedup:{provider}:{id}`).
    pub delivery_ids: Vec<String>,
    /// How far the actor is trusted, as far as the delivery itself tells.
    pub trust: Trust,
}

/// How far the gateway trusts the actor of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Allow-listed, or on GitHub a trusted `author_association` or write permission: may start tasks and
    /// cancel or retry anyone's.
    Trusted,
    /// May start tasks (a Slack, Jira or Sentry actor no list names); may cancel or retry only their own.
    Member,
    /// A GitHub actor whose `author_association` is not trusted: trusted when github-service says they may
    /// write to the repository, otherwise they may only cancel or retry their own tasks.
    AskRepositoryPermission,
    /// May start nothing; may cancel or retry only their own tasks.
    Untrusted,
}

impl Trust {
    pub fn may_start_tasks(self) -> bool {
        matches!(self, Self::Trusted | Self::Member)
    }

    /// The trust a provider's default rule gives an actor who passed [`judge_actor`].
    pub fn of_standing(standing: Standing) -> Self {
        match standing {
            Standing::AllowListed => Self::Trusted,
            Standing::Unlisted => Self::Member,
        }
    }
}

/// When the stages before task creation happened, for `02-webhook-flow.jsonl`.
#[derive(Debug, Clone, Copy)]
pub struct StageTimes {
    pub received: DateTime<Utc>,
    pub validated: DateTime<Utc>,
    pub parsed: DateTime<Utc>,
    pub matched: DateTime<Utc>,
}

/// The request as a provider module sees it, after its signature was checked.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedDelivery<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl VerifiedDelivery<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    }

    pub fn required_header(&self, name: &'static str) -> Result<&str, WebhookError> {
        self.header(name)
            .filter(|v| !v.is_empty())
            .ok_or(WebhookError::MissingHeader(name))
    }

    /// The media type without parameters, lowercased (`application/json`).
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    }
}

pub const JSON: &str = "application/json";
pub const FORM: &str = "application/x-www-form-urlencoded";

/// A delivery's JSON payload, which every provider sends as an object: anything else is named as such
/// (serde alone would read an array as a struct's fields in order and complain about its first element).
pub fn parse_payload<'de, T: serde::Deserialize<'de>>(json: &'de [u8]) -> Result<T, WebhookError> {
    if json.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(WebhookError::MalformedBody(
            "the payload is not a JSON object".into(),
        ));
    }
    serde_json::from_slice(json).map_err(|e| WebhookError::MalformedBody(e.to_string()))
}

/// How an actor stands with a provider's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// On the allow list.
    AllowListed,
    /// No allow list applies; the provider's default rule decides.
    Unlisted,
}

/// Applies a provider's actor and scope rules. `names` are the actor's id, login and the like.
pub fn judge_actor(
    rules: &ActorRules,
    names: &[&str],
    scope: Option<&str>,
) -> Result<Standing, &'static str> {
    let listed = |set: &HashSet<String>| {
        names
            .iter()
            .any(|n| !n.is_empty() && set.contains(&n.to_lowercase()))
    };
    if listed(&rules.agent_accounts) {
        return Err(reason::BOT_ACTOR);
    }
    if listed(&rules.denied_actors) {
        return Err(reason::DENIED_ACTOR);
    }
    if !rules.allowed_scopes.is_empty()
        && !scope.is_some_and(|s| rules.allowed_scopes.contains(&s.to_lowercase()))
    {
        return Err(reason::SCOPE_NOT_ALLOWED);
    }
    if rules.allowed_actors.is_empty() {
        Ok(Standing::Unlisted)
    } else if listed(&rules.allowed_actors) {
        Ok(Standing::AllowListed)
    } else {
        Err(reason::UNTRUSTED_ACTOR)
    }
}
