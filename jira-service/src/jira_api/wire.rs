//! The shapes of Jira's REST API (Cloud v3: https://developer.atlassian.com/cloud/jira/platform/rest/v3/,
//! Server/Data Center v2: https://docs.atlassian.com/software/jira/docs/api/REST/latest/), as answered, and
//! their conversion into the service's own types. Rich text is ADF (an object) on v3 and wiki markup (a
//! string) on v2; both become plain text.

use contracts::jira::{JiraComment, JiraIssue, JiraStatus, JiraTransition, JiraUser};
use serde::Deserialize;
use serde_json::Value;

use crate::markup::adf_to_text;

/// The fields the service asks for when reading an issue.
pub const ISSUE_FIELDS: &str = "summary,description,status,issuetype,project,priority,labels,assignee,reporter,created,updated,comment";

#[derive(Debug, Deserialize)]
pub struct Issue {
    pub id: String,
    pub key: String,
    #[serde(default)]
    pub fields: IssueFields,
}

#[derive(Debug, Default, Deserialize)]
pub struct IssueFields {
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<Value>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub issuetype: Option<Named>,
    #[serde(default)]
    pub project: Option<ProjectRef>,
    #[serde(default)]
    pub priority: Option<Named>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub assignee: Option<User>,
    #[serde(default)]
    pub reporter: Option<User>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub updated: Option<String>,
    #[serde(default)]
    pub comment: Option<CommentPage>,
}

#[derive(Debug, Deserialize)]
pub struct Named {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct ProjectRef {
    pub key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub status_category: Option<StatusCategory>,
}

#[derive(Debug, Deserialize)]
pub struct StatusCategory {
    pub key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CommentPage {
    #[serde(default)]
    pub comments: Vec<Comment>,
}

/// A comment (`/rest/api/{2,3}/issue/{key}/comment[/{id}]`).
#[derive(Debug, Deserialize)]
pub struct Comment {
    pub id: String,
    #[serde(default)]
    pub body: Value,
    #[serde(default)]
    pub author: Option<User>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub updated: Option<String>,
}

/// `GET /rest/api/{2,3}/issue/{key}/transitions`.
#[derive(Debug, Deserialize)]
pub struct Transitions {
    #[serde(default)]
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Deserialize)]
pub struct Transition {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub to: Option<Status>,
}

/// Rich text of either API version as plain text.
pub fn rich_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        document => adf_to_text(document),
    }
}

impl From<User> for JiraUser {
    fn from(user: User) -> Self {
        Self {
            account_id: user.account_id,
            name: user.name,
            display_name: user.display_name,
        }
    }
}

impl From<Status> for JiraStatus {
    fn from(status: Status) -> Self {
        Self {
            id: status.id,
            name: status.name,
            category: status.status_category.map(|c| c.key),
        }
    }
}

impl From<Comment> for JiraComment {
    fn from(comment: Comment) -> Self {
        Self {
            id: comment.id,
            body: rich_text(&comment.body),
            author: comment.author.map(Into::into),
            created: comment.created,
            updated: comment.updated,
        }
    }
}

impl From<Transition> for JiraTransition {
    fn from(transition: Transition) -> Self {
        Self {
            id: transition.id,
            name: transition.name,
            to_status: transition.to.map(Into::into),
        }
    }
}

impl Issue {
    /// `browse_base` is the site's base URL, for the issue's browser link.
    pub fn into_contract(self, browse_base: &str) -> JiraIssue {
        let fields = self.fields;
        JiraIssue {
            url: format!("{}/browse/{}", browse_base.trim_end_matches('/'), self.key),
            id: self.id,
            key: self.key,
            summary: fields.summary.unwrap_or_default(),
            description: fields
                .description
                .as_ref()
                .map(rich_text)
                .filter(|d| !d.is_empty()),
            status: fields.status.map(Into::into).unwrap_or(JiraStatus {
                id: None,
                name: String::new(),
                category: None,
            }),
            issue_type: fields.issuetype.map(|t| t.name),
            project_key: fields.project.map(|p| p.key),
            priority: fields.priority.map(|p| p.name),
            labels: fields.labels,
            assignee: fields.assignee.map(Into::into),
            reporter: fields.reporter.map(Into::into),
            created: fields.created,
            updated: fields.updated,
            comments: fields
                .comment
                .map(|page| page.comments.into_iter().map(Into::into).collect())
                .unwrap_or_default(),
        }
    }
}
