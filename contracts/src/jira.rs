//! jira-service's API (`/api/v1/jira/…`): the same shapes for Jira Cloud and Jira Server/Data Center.
//!
//! Comment bodies travel as plain text with light markdown (paragraphs, `- ` lists, `**bold**`, `` `code` ``,
//! fenced code blocks, `[text](url)`); the service converts them to Atlassian Document Format (Cloud) or wiki
//! markup (Server) on the way out, and rich bodies back to plain text on the way in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An issue with the fields an agent works from, and its comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JiraIssue {
    #[schema(example = "10002")]
    pub id: String,
    #[schema(example = "PROJ-42")]
    pub key: String,
    /// The issue's page in the browser.
    #[schema(example = "https://example.atlassian.net/browse/PROJ-42")]
    pub url: String,
    pub summary: String,
    /// The description as plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: JiraStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<JiraUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<JiraUser>,
    /// As Jira writes it, e.g. `2024-03-01T10:15:30.000+0000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// The issue's comments, oldest first (as many as Jira embeds in the issue).
    pub comments: Vec<JiraComment>,
}

/// A workflow status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JiraStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[schema(example = "In Progress")]
    pub name: String,
    /// `new`, `indeterminate` or `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// A person: Cloud identifies them by `account_id`, Server by `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JiraUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JiraComment {
    #[schema(example = "10000")]
    pub id: String,
    /// The comment as plain text.
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<JiraUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

/// Add a comment, or replace a comment's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// 1 to 32,000 characters of plain text with light markdown.
    #[schema(example = "Fixed in PR #12.\n\n- added a test\n- `cargo test` passes")]
    pub body: String,
}

/// A transition the issue can take now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JiraTransition {
    #[schema(example = "31")]
    pub id: String,
    #[schema(example = "Done")]
    pub name: String,
    /// The status the issue moves to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_status: Option<JiraStatus>,
}

/// The transitions available to the service's account on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransitionList {
    pub issue_key: String,
    pub transitions: Vec<JiraTransition>,
}

/// Move an issue through its workflow: name the transition by id or by name (case-insensitive), not both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyTransitionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "31")]
    pub transition_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Done")]
    pub transition_name: Option<String>,
}

/// The transition that was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransitionApplied {
    pub issue_key: String,
    pub transition: JiraTransition,
}
