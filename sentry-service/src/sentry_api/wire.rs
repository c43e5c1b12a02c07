//! The shapes of Sentry's web API (https://docs.sentry.io/api/), as answered, and their conversion into
//! the service's own types. Sentry writes camelCase and sends some numbers as strings (`count`).

use contracts::sentry::{
    SentryAssignee, SentryBreadcrumb, SentryComment, SentryEvent, SentryException, SentryFrame,
    SentryIssue, SentryIssueStatus, SentryProject, SentryTag,
};
use serde::Deserialize;
use serde_json::Value;

/// An issue (`GET|PUT /api/0/organizations/{org}/issues/{issue_id}/`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub id: String,
    #[serde(default)]
    pub short_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub culprit: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub substatus: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(default)]
    pub project: Option<Project>,
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    #[serde(default)]
    pub count: Option<Value>,
    #[serde(default)]
    pub user_count: Option<Value>,
    #[serde(default)]
    pub assigned_to: Option<Assignee>,
}

#[derive(Debug, Deserialize)]
pub struct Project {
    pub id: Value,
    pub slug: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Assignee {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Value,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// Sentry writes ids and counts sometimes as numbers, sometimes as strings.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn number_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

impl From<Issue> for SentryIssue {
    fn from(issue: Issue) -> Self {
        Self {
            id: issue.id,
            short_id: issue.short_id,
            title: issue.title,
            culprit: issue.culprit,
            level: issue.level,
            status: issue.status,
            substatus: issue.substatus,
            platform: issue.platform,
            permalink: issue.permalink,
            project: issue.project.map(|p| SentryProject {
                id: text_of(&p.id),
                slug: p.slug,
                name: p.name,
            }),
            first_seen: issue.first_seen,
            last_seen: issue.last_seen,
            count: issue.count.as_ref().and_then(number_of),
            user_count: issue.user_count.as_ref().and_then(number_of),
            assigned_to: issue.assigned_to.map(|a| SentryAssignee {
                kind: a.kind,
                id: text_of(&a.id),
                name: a.name,
                email: a.email,
            }),
        }
    }
}

/// The status change Sentry's issue update takes.
pub fn status_update(status: SentryIssueStatus) -> Value {
    let status = match status {
        SentryIssueStatus::Resolved => "resolved",
        SentryIssueStatus::ResolvedInNextRelease => "resolvedInNextRelease",
        SentryIssueStatus::Unresolved => "unresolved",
        SentryIssueStatus::Ignored => "ignored",
    };
    serde_json::json!({ "status": status })
}

/// The assignee change Sentry's issue update takes: an empty `assignedTo` clears it.
pub fn assignee_update(assignee: Option<&str>) -> Value {
    serde_json::json!({ "assignedTo": assignee.unwrap_or_default() })
}

/// An event (`GET /api/0/organizations/{org}/issues/{issue_id}/events/latest/`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, rename = "eventID")]
    pub event_id: Option<String>,
    #[serde(default, rename = "groupID")]
    pub group_id: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

/// One of an event's interfaces: `exception`, `breadcrumbs`, `request`, `message`, …
#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: Value,
}

#[derive(Debug, Deserialize)]
struct Values<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct Exception {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    stacktrace: Option<Stacktrace>,
}

#[derive(Debug, Deserialize)]
struct Stacktrace {
    #[serde(default)]
    frames: Vec<Frame>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame {
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    abs_path: Option<String>,
    #[serde(default)]
    function: Option<String>,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    line_no: Option<u64>,
    #[serde(default)]
    col_no: Option<u64>,
    #[serde(default)]
    in_app: Option<bool>,
    /// `[[line_number, "source"], …]` around the frame's line.
    #[serde(default)]
    context: Vec<(u64, Option<String>)>,
}

#[derive(Debug, Deserialize)]
struct Breadcrumb {
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

fn entry_values<T: serde::de::DeserializeOwned>(entries: &[Entry], kind: &str) -> Vec<T> {
    entries
        .iter()
        .filter(|entry| entry.kind == kind)
        .filter_map(|entry| serde_json::from_value::<Values<T>>(entry.data.clone()).ok())
        .flat_map(|values| values.values)
        .collect()
}

impl Event {
    pub fn into_contract(self, issue_id: &str) -> SentryEvent {
        let exceptions = entry_values::<Exception>(&self.entries, "exception")
            .into_iter()
            .map(|exception| SentryException {
                kind: exception.kind,
                value: exception.value,
                module: exception.module,
                frames: exception
                    .stacktrace
                    .map(|s| s.frames)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|frame| SentryFrame {
                        context_line: frame
                            .context
                            .iter()
                            .find(|(line, _)| Some(*line) == frame.line_no)
                            .and_then(|(_, source)| source.clone()),
                        filename: frame.filename,
                        abs_path: frame.abs_path,
                        function: frame.function,
                        module: frame.module,
                        line_number: frame.line_no,
                        column_number: frame.col_no,
                        in_app: frame.in_app,
                    })
                    .collect(),
            })
            .collect();
        let breadcrumbs = entry_values::<Breadcrumb>(&self.entries, "breadcrumbs")
            .into_iter()
            .map(|crumb| SentryBreadcrumb {
                timestamp: crumb.timestamp.as_ref().map(text_of),
                kind: crumb.kind,
                category: crumb.category,
                level: crumb.level,
                message: crumb.message,
                data: crumb.data.filter(|d| !d.is_null()),
            })
            .collect();
        SentryEvent {
            event_id: self.event_id.or(self.id).unwrap_or_default(),
            issue_id: self.group_id.or_else(|| Some(issue_id.to_owned())),
            title: self.title,
            message: self.message.filter(|m| !m.is_empty()),
            platform: self.platform,
            date_created: self.date_created,
            tags: self
                .tags
                .into_iter()
                .map(|tag| SentryTag {
                    key: tag.key,
                    value: text_of(&tag.value),
                })
                .collect(),
            exceptions,
            breadcrumbs,
        }
    }
}

/// An issue note (`POST /api/0/organizations/{org}/issues/{issue_id}/comments/`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: Value,
    #[serde(default)]
    pub data: NoteData,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub user: Option<NoteAuthor>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoteData {
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct NoteAuthor {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

impl From<Note> for SentryComment {
    fn from(note: Note) -> Self {
        Self {
            id: text_of(&note.id),
            text: note.data.text,
            date_created: note.date_created,
            author: note.user.and_then(|u| u.name.or(u.email)),
        }
    }
}
