//! The tracking message: the single message per task that the user sees acknowledged, followed and answered
//! in place. Stored as JSON in `tracking:{task_id}` once posted; whoever posts first (gateway or worker) claims
//! the key, everyone else updates the message it names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a task's tracking message is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum TrackingMessage {
    /// An issue or pull-request comment.
    Github { repo: String, comment_id: u64 },
    /// A message in a thread.
    Slack { channel: String, ts: String },
    /// A comment on an issue.
    Jira {
        issue_key: String,
        comment_id: String,
    },
    /// A comment (note) on an issue.
    Sentry {
        issue_id: String,
        comment_id: String,
    },
}

/// The longest message each provider takes, in characters.
pub fn message_limit(provider: crate::Provider) -> usize {
    match provider {
        crate::Provider::Github => 65_536,
        crate::Provider::Slack => 40_000,
        crate::Provider::Jira => 32_000,
        crate::Provider::Sentry => 10_000,
    }
}

/// Cuts `text` to fit `limit` characters, ending with a pointer to `full_text_url` when it had to cut.
pub fn fit_to_limit(text: &str, limit: usize, full_text_url: &str) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let tail = format!("\n\n… (cut here: the full text is at {full_text_url})");
    let keep = limit.saturating_sub(tail.chars().count());
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(&tail);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_a_link() {
        let text = "é".repeat(100);
        let fitted = fit_to_limit(&text, 80, "http://x/tasks/1");
        assert!(fitted.chars().count() <= 80);
        assert!(fitted.ends_with("http://x/tasks/1)"));
        assert_eq!(fit_to_limit("short", 80, "u"), "short");
    }

    #[test]
    fn serializes_with_its_provider() {
        let message = TrackingMessage::Slack {
            channel: "C1".into(),
            ts: "1.2".into(),
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["provider"], "slack");
        assert_eq!(
            serde_json::from_value::<TrackingMessage>(json).unwrap(),
            message
        );
    }
}
