//! The shapes of Slack's Web API (https://api.slack.com/methods), as sent and as answered.
//!
//! Slack answers almost every failure with HTTP 200 and `{"ok": false, "error": "<code>"}`; [`SlackAnswer`]
//! reads that envelope first, so no method's result is trusted before `ok` says it succeeded.

use serde::{Deserialize, Serialize};

/// `chat.postMessage` (https://api.slack.com/methods/chat.postMessage).
#[derive(Debug, Serialize)]
pub struct PostMessage<'a> {
    pub channel: &'a str,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_broadcast: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<&'a [serde_json::Value]>,
}

/// `chat.update` (https://api.slack.com/methods/chat.update).
#[derive(Debug, Serialize)]
pub struct UpdateMessage<'a> {
    pub channel: &'a str,
    pub ts: &'a str,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<&'a [serde_json::Value]>,
}

/// `reactions.add` (https://api.slack.com/methods/reactions.add).
#[derive(Debug, Serialize)]
pub struct AddReaction<'a> {
    pub channel: &'a str,
    pub timestamp: &'a str,
    pub name: &'a str,
}

/// `conversations.open` (https://api.slack.com/methods/conversations.open): `users` is comma-separated.
#[derive(Debug, Serialize)]
pub struct OpenConversation {
    pub users: String,
}

/// The answer of `chat.postMessage` and `chat.update`.
#[derive(Debug, Deserialize)]
pub struct MessagePosted {
    pub channel: String,
    pub ts: String,
    #[serde(default)]
    pub message: Option<Message>,
}

/// The answer of `conversations.replies` (https://api.slack.com/methods/conversations.replies).
#[derive(Debug, Deserialize)]
pub struct Replies {
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub response_metadata: Option<ResponseMetadata>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseMetadata {
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// The answer of `conversations.open`.
#[derive(Debug, Deserialize)]
pub struct ConversationOpened {
    pub channel: ChannelId,
    #[serde(default)]
    pub already_open: bool,
}

#[derive(Debug, Deserialize)]
pub struct ChannelId {
    pub id: String,
}

/// A message object (https://api.slack.com/events/message).
#[derive(Debug, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub ts: String,
    #[serde(default)]
    pub thread_ts: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub bot_id: Option<String>,
    #[serde(default)]
    pub subtype: Option<String>,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub reply_count: Option<u64>,
    #[serde(default)]
    pub edited: Option<Edited>,
}

#[derive(Debug, Deserialize)]
pub struct Edited {
    pub ts: String,
}

impl From<Message> for contracts::slack::SlackMessage {
    fn from(message: Message) -> Self {
        Self {
            ts: message.ts,
            thread_ts: message.thread_ts,
            user: message.user,
            bot_id: message.bot_id,
            subtype: message.subtype,
            text: message.text,
            reply_count: message.reply_count,
            edited_ts: message.edited.map(|e| e.ts),
        }
    }
}

/// The envelope of every Web API answer.
#[derive(Debug, Deserialize)]
pub struct SlackAnswer {
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    /// On `invalid_arguments` and similar: what exactly was wrong.
    #[serde(default)]
    pub response_metadata: Option<ErrorMetadata>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorMetadata {
    #[serde(default)]
    pub messages: Vec<String>,
}

/// What an `ok: false` error code means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The channel, message, thread or user does not exist (or the bot cannot see it).
    NotFound,
    /// The bot token is invalid, revoked, or lacks a scope: the service's credential is at fault.
    Unauthorized,
    /// Slack throttled the call.
    RateLimited,
    /// Slack failed on its side.
    Unavailable,
    /// Slack refused the request as asked (too long, archived channel, not allowed, …).
    Rejected,
}

/// Classifies the `error` code of an `ok: false` answer. Codes from the methods' documentation.
pub fn classify(code: &str) -> FailureKind {
    match code {
        "channel_not_found" | "message_not_found" | "thread_not_found" | "user_not_found"
        | "users_not_found" | "no_item_specified" => FailureKind::NotFound,
        "not_authed"
        | "invalid_auth"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "no_permission"
        | "missing_scope"
        | "not_allowed_token_type"
        | "ekm_access_denied"
        | "team_access_not_granted" => FailureKind::Unauthorized,
        "ratelimited" | "rate_limited" | "message_limit_exceeded" => FailureKind::RateLimited,
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            FailureKind::Unavailable
        }
        _ => FailureKind::Rejected,
    }
}
