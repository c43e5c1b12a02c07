//! sentry-service's API (`/api/v1/sentry/…`): issues of the configured organization, their latest event,
//! status, assignee and comments (issue notes).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An issue (a group of events), as an agent reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SentryIssue {
    #[schema(example = "1234567890")]
    pub id: String,
    #[schema(example = "BACKEND-1A")]
    pub short_id: String,
    pub title: String,
    /// Where the error happened (function or transaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit: Option<String>,
    /// `error`, `warning`, `info`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// `resolved`, `unresolved` or `ignored`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substatus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The issue's page in Sentry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permalink: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<SentryProject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Number of events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Number of users affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<SentryAssignee>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SentryProject {
    pub id: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The user or team an issue is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SentryAssignee {
    /// `user` or `team`.
    #[schema(example = "user")]
    pub kind: String,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The latest event of an issue: what happened, where (stack traces), and what led to it (breadcrumbs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SentryEvent {
    /// The event id (32 hex digits).
    pub event_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    pub tags: Vec<SentryTag>,
    /// The exception chain, innermost last, each with its stack trace.
    pub exceptions: Vec<SentryException>,
    /// What happened before the event, oldest first.
    pub breadcrumbs: Vec<SentryBreadcrumb>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SentryTag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SentryException {
    /// Exception type, e.g. `ValueError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Stack frames, outermost first (the crashing frame is last), as Sentry orders them.
    pub frames: Vec<SentryFrame>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SentryFrame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_number: Option<u64>,
    /// The frame is in the application's own code (not a library).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
    /// The source line of the frame, when Sentry has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_line: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SentryBreadcrumb {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `default`, `http`, `navigation`, `error`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

/// The status to set on an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SentryIssueStatus {
    Resolved,
    /// Resolved by the next release of the project.
    ResolvedInNextRelease,
    Unresolved,
    /// Ignored (archived) until it is unignored.
    Ignored,
}

/// Set an issue's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStatusRequest {
    pub status: SentryIssueStatus,
}

/// Assign an issue, or clear its assignee with `"assignee": null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssigneeRequest {
    /// `user:<id>`, `team:<id>`, a username or an email address; `null` unassigns.
    #[serde(deserialize_with = "required_nullable")]
    #[schema(example = "user:12345")]
    pub assignee: Option<String>,
}

/// `null` is a value here, but the field itself must be present: `{}` says nothing and is refused.
fn required_nullable<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::deserialize(deserializer)
}

/// Add a comment (an issue note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// 1 to 10,000 characters (markdown).
    #[schema(example = "Root cause found: fix in PR #12.")]
    pub text: String,
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SentryComment {
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    /// Who wrote it (the integration's user, for comments posted through this service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}
