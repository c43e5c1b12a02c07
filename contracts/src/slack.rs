//! slack-service's API (`/api/v1/slack/…`): what callers send and what they get back.
//!
//! Identifiers are Slack's own: a channel id (`C…`, `G…`, `D…`), a message timestamp `ts` (`1712345678.123456`,
//! which is also a thread's id), a user id (`U…`, `W…`), an emoji name without colons (`eyes`, `white_check_mark`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Post a message to a channel, or as a reply in a thread when `thread_ts` is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessageRequest {
    /// Channel id (`C0123ABCD`) or a DM channel id returned by `POST /api/v1/slack/conversations/dm`.
    #[schema(example = "C0123ABCD")]
    pub channel: String,
    /// Message text in Slack mrkdwn, 1 to 40,000 characters.
    #[schema(example = "On it: I'll post the fix here.")]
    pub text: String,
    /// `ts` of the thread's parent message: the message becomes a reply in that thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "1712345678.123456")]
    pub thread_ts: Option<String>,
    /// Also show a thread reply in the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_broadcast: Option<bool>,
    /// Block Kit blocks (at most 50); `text` is then the notification fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub blocks: Option<Vec<serde_json::Value>>,
}

/// Replace the text (and blocks) of a message the bot posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMessageRequest {
    /// New message text, 1 to 40,000 characters.
    pub text: String,
    /// New Block Kit blocks (at most 50); omitted keeps none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub blocks: Option<Vec<serde_json::Value>>,
}

/// A message that was posted or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageRef {
    /// Channel id the message is in.
    #[schema(example = "C0123ABCD")]
    pub channel: String,
    /// The message's timestamp: its id within the channel.
    #[schema(example = "1712345680.000200")]
    pub ts: String,
    /// The thread the message is in, when it is a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<String>,
}

/// Add an emoji reaction to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReactionRequest {
    #[schema(example = "C0123ABCD")]
    pub channel: String,
    /// `ts` of the message to react to.
    #[schema(example = "1712345678.123456")]
    pub timestamp: String,
    /// Emoji name without colons.
    #[schema(example = "eyes")]
    pub name: String,
}

/// The reaction is on the message (also when it already was).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReactionAdded {
    pub channel: String,
    pub timestamp: String,
    pub name: String,
    /// The bot had already reacted with this emoji; nothing changed.
    pub already_reacted: bool,
}

/// Query of `GET /api/v1/slack/threads/{channel}/{thread_ts}/replies`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ThreadRepliesQuery {
    /// Messages per page, 1 to 1000 (default 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of a thread: the parent message first, then its replies, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ThreadReplies {
    pub channel: String,
    pub thread_ts: String,
    pub messages: Vec<SlackMessage>,
    /// Pass as `cursor` to read the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A message as Slack reports it, reduced to what an agent reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlackMessage {
    pub ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<String>,
    /// Author's user id; absent for some bot messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Set when a bot (an app) posted the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<String>,
    /// `bot_message`, `thread_broadcast`, … ; absent for an ordinary message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    pub text: String,
    /// Replies in the thread (on the parent message only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_count: Option<u64>,
    /// When the message was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ts: Option<String>,
}

/// Open (or find) the direct-message conversation with one or more users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDirectMessageRequest {
    /// 1 to 8 user ids; more than one opens a group DM.
    #[schema(example = json!(["U0123ABCD"]))]
    pub users: Vec<String>,
}

/// The DM conversation, ready for `POST /api/v1/slack/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DirectMessageChannel {
    #[schema(example = "D0123ABCD")]
    pub channel: String,
    /// The conversation existed before this call.
    pub already_open: bool,
}
