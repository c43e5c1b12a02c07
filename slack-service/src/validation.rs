//! Range checks on what callers send: 422 `validation_failed` listing each field. Shape errors (malformed
//! JSON, unknown or missing fields) are answered 400 before these run, by `ValidatedJson`.

use contracts::slack::{
    AddReactionRequest, OpenDirectMessageRequest, PostMessageRequest, UpdateMessageRequest,
};
use serde::Deserialize;
use service_kit::extract::{Validate, ValidationErrors, shown};

/// Slack cuts messages at 40,000 characters.
pub const MAX_TEXT_CHARS: usize = 40_000;
/// Block Kit allows 50 blocks in a message.
pub const MAX_BLOCKS: usize = 50;
/// `conversations.open` takes up to 8 users.
pub const MAX_DM_USERS: usize = 8;
/// `conversations.replies` pages hold at most 1,000 messages.
pub const MAX_REPLIES_LIMIT: u32 = 1000;

/// A request body of contracts' type, with this service's range checks (`ValidatedJson<Checked<T>>`).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Checked<T>(pub T);

/// A channel, user or team id: `C0123ABCD`, `U0123ABCD`, … (letters and digits only).
pub fn slack_id(errors: &mut ValidationErrors, field: &str, value: &str) {
    let well_formed =
        (2..=40).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric());
    errors.check(
        well_formed,
        field,
        format!(
            "`{}` is not a Slack id (letters and digits, e.g. C0123ABCD)",
            shown(value)
        ),
    );
}

/// A message timestamp: `1712345678.123456`.
pub fn timestamp(errors: &mut ValidationErrors, field: &str, value: &str) {
    let well_formed = value.split_once('.').is_some_and(|(seconds, fraction)| {
        (1..=12).contains(&seconds.len())
            && (1..=8).contains(&fraction.len())
            && seconds
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
    });
    errors.check(
        well_formed,
        field,
        format!(
            "`{}` is not a message timestamp like 1712345678.123456",
            shown(value)
        ),
    );
}

fn blocks(errors: &mut ValidationErrors, field: &str, value: Option<&[serde_json::Value]>) {
    let Some(blocks) = value else { return };
    errors.check(
        blocks.len() <= MAX_BLOCKS,
        field,
        format!("{} blocks; at most {MAX_BLOCKS}", blocks.len()),
    );
    errors.check(
        blocks
            .iter()
            .all(|block| block.get("type").and_then(|t| t.as_str()).is_some()),
        field,
        "every block is an object with a `type`",
    );
}

/// An emoji name without colons: `eyes`, `+1`, `thumbsup::skin-tone-2`.
fn emoji_name(errors: &mut ValidationErrors, field: &str, value: &str) {
    let well_formed = (1..=100).contains(&value.len())
        && !value.starts_with(':')
        && !value.ends_with(':')
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-':".contains(&b));
    errors.check(
        well_formed,
        field,
        format!(
            "`{}` is not an emoji name (lowercase, without surrounding colons)",
            shown(value)
        ),
    );
}

pub fn replies_limit(errors: &mut ValidationErrors, field: &str, value: u32) {
    errors.check(
        (1..=MAX_REPLIES_LIMIT).contains(&value),
        field,
        format!("{value}; 1 to {MAX_REPLIES_LIMIT}"),
    );
}

impl Validate for Checked<PostMessageRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let request = &self.0;
        let mut errors = ValidationErrors::new();
        slack_id(&mut errors, "channel", &request.channel);
        errors.check_text("text", &request.text, MAX_TEXT_CHARS);
        if let Some(thread_ts) = &request.thread_ts {
            timestamp(&mut errors, "thread_ts", thread_ts);
        }
        blocks(&mut errors, "blocks", request.blocks.as_deref());
        errors.finish()
    }
}

impl Validate for Checked<UpdateMessageRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check_text("text", &self.0.text, MAX_TEXT_CHARS);
        blocks(&mut errors, "blocks", self.0.blocks.as_deref());
        errors.finish()
    }
}

impl Validate for Checked<AddReactionRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        slack_id(&mut errors, "channel", &self.0.channel);
        timestamp(&mut errors, "timestamp", &self.0.timestamp);
        emoji_name(&mut errors, "name", &self.0.name);
        errors.finish()
    }
}

impl Validate for Checked<OpenDirectMessageRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let users = &self.0.users;
        let mut errors = ValidationErrors::new();
        errors.check(
            (1..=MAX_DM_USERS).contains(&users.len()),
            "users",
            format!("{} users; 1 to {MAX_DM_USERS}", users.len()),
        );
        for user in users {
            slack_id(&mut errors, "users", user);
        }
        errors.finish()
    }
}
