//! The fake Jira REST API under `/jira`: Cloud's v3 (rich text in Atlassian Document Format) and
//! Server/Data Center's v2 (wiki-markup strings) over the same issues: get an issue with its fields and
//! comments, list, add and update comments, list and apply transitions.
//! Issues of project `DEMO` exist on first use (`DEMO-1` and `DEMO-2` are seeded); other keys are 404.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::inspect::escape;
use crate::state::AppState;

pub const PROJECT_KEY: &str = "DEMO";
const PROJECT_ID: &str = "10000";
/// Jira's comment limit.
const MAX_COMMENT_CHARS: usize = 32_767;

const PERSON_ACCOUNT_ID: &str = "5b10a2844c20165700ede21g";
const AGENT_ACCOUNT_ID: &str = "5b10ac8d82e05b22cc7d4ef5";

/// (status id, name, category id, category key, category colour, category name)
const STATUSES: &[(&str, &str, u64, &str, &str, &str)] = &[
    ("10000", "To Do", 2, "new", "blue-gray", "To Do"),
    (
        "3",
        "In Progress",
        4,
        "indeterminate",
        "yellow",
        "In Progress",
    ),
    ("10001", "Done", 3, "done", "green", "Done"),
];
/// (transition id, name, index of the status it leads to)
const TRANSITIONS: &[(&str, &str, usize)] = &[
    ("11", "To Do", 0),
    ("21", "In Progress", 1),
    ("31", "Done", 2),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/api/{version}/myself", get(myself))
        .route("/rest/api/{version}/issue/{key}", get(get_issue))
        .route(
            "/rest/api/{version}/issue/{key}/comment",
            get(list_comments).post(add_comment),
        )
        .route(
            "/rest/api/{version}/issue/{key}/comment/{comment_id}",
            get(get_comment).put(update_comment),
        )
        .route(
            "/rest/api/{version}/issue/{key}/transitions",
            get(list_transitions).post(apply_transition),
        )
        .route("/browse/{key}", get(browse_page))
}

// ---------------------------------------------------------------------------------------------------------
// Data

pub struct JiraData {
    issues: BTreeMap<String, Issue>,
    next_comment_id: u64,
}

#[derive(Clone)]
struct Issue {
    id: u64,
    key: String,
    summary: String,
    description: String,
    status: usize,
    comments: Vec<Comment>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

#[derive(Clone)]
struct Comment {
    id: u64,
    body: RichText,
    by_agent: bool,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

/// A comment as it was written: ADF through v3, wiki markup through v2; each API reads it in its own form.
#[derive(Clone)]
enum RichText {
    Document(Value),
    Wiki(String),
}

impl RichText {
    fn for_version(&self, version: Version) -> Value {
        match (self, version) {
            (RichText::Document(document), Version::V3) => document.clone(),
            (RichText::Wiki(text), Version::V2) => json!(text),
            (RichText::Document(document), Version::V2) => json!(document_text(document)),
            (RichText::Wiki(text), Version::V3) => text_document(text),
        }
    }

    fn plain(&self) -> String {
        match self {
            RichText::Document(document) => document_text(document),
            RichText::Wiki(text) => text.clone(),
        }
    }
}

/// One paragraph per line.
fn text_document(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .lines()
        .map(|line| {
            if line.is_empty() {
                json!({ "type": "paragraph", "content": [] })
            } else {
                json!({ "type": "paragraph", "content": [{ "type": "text", "text": line }] })
            }
        })
        .collect();
    json!({ "type": "doc", "version": 1, "content": paragraphs })
}

/// The text of an ADF document, a line per block.
fn document_text(node: &Value) -> String {
    let mut out = String::new();
    collect_text(node, &mut out);
    out.trim_end().to_owned()
}

fn collect_text(node: &Value, out: &mut String) {
    match node.get("type").and_then(Value::as_str) {
        Some("text") => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or_default()),
        Some("hardBreak") => out.push('\n'),
        Some("listItem") => out.push_str("- "),
        Some("mention") => out.push_str(
            node.pointer("/attrs/text")
                .and_then(Value::as_str)
                .unwrap_or("@someone"),
        ),
        _ => {}
    }
    if let Some(children) = node.get("content").and_then(Value::as_array) {
        for child in children {
            collect_text(child, out);
        }
    }
    if matches!(
        node.get("type").and_then(Value::as_str),
        Some("paragraph" | "heading" | "codeBlock" | "blockquote" | "rule")
    ) {
        out.push('\n');
    }
}

fn seeded_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
}

impl Default for JiraData {
    fn default() -> Self {
        let mut data = Self {
            issues: BTreeMap::new(),
            next_comment_id: 10_100,
        };
        for (number, summary, description) in [
            (
                1,
                "Explain the sample service",
                "What does the sample repository do, and why does its test fail?",
            ),
            (
                2,
                "Fix add() in sample-repo",
                "`cargo test` fails in demo/sample-repo: add(2, 3) returns -1.",
            ),
        ] {
            let issue = data
                .issue(&format!("{PROJECT_KEY}-{number}"))
                .expect("a DEMO key");
            issue.summary = summary.to_owned();
            issue.description = description.to_owned();
        }
        data
    }
}

impl JiraData {
    /// Adds a comment by the person (a webhook's triggering comment); answers its id.
    pub fn seed_comment(&mut self, key: &str, body: String) -> Option<u64> {
        let id = self.next_comment_id;
        let issue = self.issue(key).ok()?;
        let now = Utc::now();
        issue.comments.push(Comment {
            id,
            body: RichText::Wiki(body),
            by_agent: false,
            created: now,
            updated: now,
        });
        self.next_comment_id += 1;
        Some(id)
    }

    /// A `DEMO-n` issue, created on first use.
    fn issue(&mut self, key: &str) -> Result<&mut Issue, JiraError> {
        let number: u64 = key
            .strip_prefix(PROJECT_KEY)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(JiraError::issue_not_found)?;
        let key = format!("{PROJECT_KEY}-{number}");
        Ok(self.issues.entry(key.clone()).or_insert_with(|| Issue {
            id: 10_000 + number,
            summary: format!("{key}: a sample issue"),
            key,
            description: String::new(),
            status: 0,
            comments: Vec::new(),
            created: seeded_time(),
            updated: seeded_time(),
        }))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Errors and helpers

/// Jira's error shape: `{"errorMessages": [...], "errors": {"field": "message"}}`.
#[derive(Debug)]
pub struct JiraError {
    status: StatusCode,
    messages: Vec<String>,
    errors: BTreeMap<String, String>,
}

impl JiraError {
    fn message(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
        }
    }

    fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            messages: Vec::new(),
            errors: BTreeMap::from([(field.to_owned(), message.into())]),
        }
    }

    fn issue_not_found() -> Self {
        Self::message(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        )
    }
}

impl IntoResponse for JiraError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "errorMessages": self.messages, "errors": self.errors })),
        )
            .into_response()
    }
}

/// An unknown Jira path.
pub fn not_found() -> Response {
    JiraError::message(
        StatusCode::NOT_FOUND,
        "null for uri: the fake has no such resource",
    )
    .into_response()
}

type Answer = Result<Response, JiraError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V2,
    V3,
}

fn version(text: &str) -> Result<Version, JiraError> {
    match text {
        "2" | "latest" => Ok(Version::V2),
        "3" => Ok(Version::V3),
        _ => Err(JiraError::message(
            StatusCode::NOT_FOUND,
            format!("REST API version {text} does not exist"),
        )),
    }
}

impl Version {
    fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Basic (Cloud: email + API token) or Bearer (Data Center: personal access token); the caller's e-mail,
/// when it sent one.
fn require_auth(headers: &HeaderMap) -> Result<Option<String>, JiraError> {
    let unauthenticated = || {
        JiraError::message(
            StatusCode::UNAUTHORIZED,
            "You are not authenticated. Authentication required to perform this operation.",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthenticated)?;
    let (scheme, credential) = value.split_once(' ').ok_or_else(unauthenticated)?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credential.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(unauthenticated)?;
        let (email, token) = decoded.split_once(':').ok_or_else(unauthenticated)?;
        if email.is_empty() || token.is_empty() {
            return Err(unauthenticated());
        }
        Ok(Some(email.to_owned()))
    } else if scheme.eq_ignore_ascii_case("bearer") && !credential.trim().is_empty() {
        Ok(None)
    } else {
        Err(unauthenticated())
    }
}

fn site(headers: &HeaderMap) -> String {
    format!("{}/jira", crate::github::origin(headers))
}

fn timestamp(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

fn user_json(headers: &HeaderMap, version: Version, agent: bool) -> Value {
    let (account_id, name, display_name, email) = if agent {
        (
            AGENT_ACCOUNT_ID,
            "agent",
            "Agent Gateway",
            "agent@example.com",
        )
    } else {
        (
            PERSON_ACCOUNT_ID,
            "person",
            "Local Person",
            "person@example.com",
        )
    };
    let api = format!("{}/rest/api/{}", site(headers), version.number());
    let mut user = json!({
        "accountId": account_id,
        "displayName": display_name,
        "emailAddress": email,
        "active": true,
        "timeZone": "Etc/UTC",
        "avatarUrls": { "48x48": format!("https://avatar.example.com/{account_id}.png") },
    });
    match version {
        Version::V3 => {
            user["self"] = json!(format!("{api}/user?accountId={account_id}"));
            user["accountType"] = json!("atlassian");
        }
        Version::V2 => {
            user["self"] = json!(format!("{api}/user?username={name}"));
            user["name"] = json!(name);
            user["key"] = json!(name);
        }
    }
    user
}

fn status_json(headers: &HeaderMap, version: Version, index: usize) -> Value {
    let (id, name, category_id, category_key, colour, category_name) = STATUSES[index];
    let api = format!("{}/rest/api/{}", site(headers), version.number());
    json!({
        "self": format!("{api}/status/{id}"),
        "description": "",
        "iconUrl": format!("{}/images/icons/statuses/generic.png", site(headers)),
        "name": name,
        "id": id,
        "statusCategory": {
            "self": format!("{api}/statuscategory/{category_id}"),
            "id": category_id,
            "key": category_key,
            "colorName": colour,
            "name": category_name,
        },
    })
}

fn comment_json(headers: &HeaderMap, version: Version, issue: &Issue, comment: &Comment) -> Value {
    let author = user_json(headers, version, comment.by_agent);
    json!({
        "self": format!("{}/rest/api/{}/issue/{}/comment/{}", site(headers), version.number(), issue.id, comment.id),
        "id": comment.id.to_string(),
        "author": author,
        "body": comment.body.for_version(version),
        "updateAuthor": author,
        "created": timestamp(&comment.created),
        "updated": timestamp(&comment.updated),
        "jsdPublic": true,
    })
}

fn comment_page(headers: &HeaderMap, version: Version, issue: &Issue) -> Value {
    let comments: Vec<Value> = issue
        .comments
        .iter()
        .map(|c| comment_json(headers, version, issue, c))
        .collect();
    json!({ "comments": comments, "maxResults": issue.comments.len(), "total": issue.comments.len(), "startAt": 0 })
}

fn issue_json(
    headers: &HeaderMap,
    version: Version,
    issue: &Issue,
    wanted: Option<&[String]>,
) -> Value {
    let api = format!("{}/rest/api/{}", site(headers), version.number());
    let description = if issue.description.is_empty() {
        Value::Null
    } else {
        RichText::Wiki(issue.description.clone()).for_version(version)
    };
    let done = STATUSES[issue.status].3 == "done";
    let (resolution, resolution_date) = if done {
        (
            json!({ "self": format!("{api}/resolution/10000"), "id": "10000", "name": "Done", "description": "Work has been completed on this issue." }),
            json!(timestamp(&issue.updated)),
        )
    } else {
        (Value::Null, Value::Null)
    };
    let all_fields = json!({
        "summary": issue.summary,
        "description": description,
        "status": status_json(headers, version, issue.status),
        "issuetype": { "self": format!("{api}/issuetype/10002"), "id": "10002", "name": "Task", "subtask": false },
        "project": {
            "self": format!("{api}/project/{PROJECT_ID}"),
            "id": PROJECT_ID,
            "key": PROJECT_KEY,
            "name": "Demo",
            "projectTypeKey": "software",
        },
        "priority": { "self": format!("{api}/priority/3"), "id": "3", "name": "Medium" },
        "labels": ["sample"],
        "assignee": Value::Null,
        "reporter": user_json(headers, version, false),
        "creator": user_json(headers, version, false),
        "created": timestamp(&issue.created),
        "updated": timestamp(&issue.updated),
        "comment": comment_page(headers, version, issue),
        "resolution": resolution,
        "resolutiondate": resolution_date,
        "components": [],
        "fixVersions": [],
        "versions": [],
        "subtasks": [],
        "issuelinks": [],
        "attachment": [],
        "duedate": Value::Null,
        "environment": Value::Null,
        "security": Value::Null,
        "lastViewed": Value::Null,
        "progress": { "progress": 0, "total": 0 },
        "aggregateprogress": { "progress": 0, "total": 0 },
        "timetracking": {},
        "timeestimate": Value::Null,
        "timeoriginalestimate": Value::Null,
        "timespent": Value::Null,
        "aggregatetimeestimate": Value::Null,
        "aggregatetimeoriginalestimate": Value::Null,
        "aggregatetimespent": Value::Null,
        "workratio": -1,
        "worklog": { "startAt": 0, "maxResults": 20, "total": 0, "worklogs": [] },
        "votes": { "self": format!("{api}/issue/{}/votes", issue.key), "votes": 0, "hasVoted": false },
        "watches": { "self": format!("{api}/issue/{}/watchers", issue.key), "watchCount": 1, "isWatching": true },
    });
    let fields = match wanted {
        None => all_fields,
        Some(names) => {
            let all = all_fields.as_object().cloned().unwrap_or_default();
            Value::Object(
                all.into_iter()
                    .filter(|(name, _)| names.contains(name))
                    .collect(),
            )
        }
    };
    json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": issue.id.to_string(),
        "self": format!("{api}/issue/{}", issue.id),
        "key": issue.key,
        "fields": fields,
    })
}

fn parse_body(body: &Bytes) -> Result<Value, JiraError> {
    serde_json::from_slice(body).map_err(|error| {
        JiraError::message(
            StatusCode::BAD_REQUEST,
            format!("Unexpected character in the request body: {error}"),
        )
    })
}

/// The comment body: an ADF document through v3, a non-empty string through v2.
fn comment_body(version: Version, body: &Bytes) -> Result<RichText, JiraError> {
    let value = parse_body(body)?;
    let body = value.get("body").cloned().unwrap_or(Value::Null);
    let text = match (version, body) {
        (_, Value::Null) => {
            return Err(JiraError::field(
                "comment",
                "Comment body can not be empty!",
            ));
        }
        (Version::V3, Value::Object(document)) => {
            let document = Value::Object(document);
            let is_document = document.get("type").and_then(Value::as_str) == Some("doc")
                && document.get("content").is_some_and(Value::is_array);
            if !is_document {
                return Err(JiraError::field(
                    "comment",
                    "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
                ));
            }
            RichText::Document(document)
        }
        (Version::V3, _) => {
            return Err(JiraError::field(
                "comment",
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
            ));
        }
        (Version::V2, Value::String(text)) => RichText::Wiki(text),
        (Version::V2, _) => {
            return Err(JiraError::field(
                "comment",
                "Operation value must be a string",
            ));
        }
    };
    let plain = text.plain();
    if plain.trim().is_empty() {
        return Err(JiraError::field(
            "comment",
            "Comment body can not be empty!",
        ));
    }
    if plain.chars().count() > MAX_COMMENT_CHARS {
        return Err(JiraError::field(
            "comment",
            "The entered text is too long. It exceeds the allowed limit of 32,767 characters.",
        ));
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------------------------
// Handlers

async fn myself(Path(version_text): Path<String>, headers: HeaderMap) -> Answer {
    let version = version(&version_text)?;
    require_auth(&headers)?;
    Ok(Json(user_json(&headers, version, true)).into_response())
}

#[derive(Debug, Deserialize)]
struct IssueQuery {
    fields: Option<String>,
}

async fn get_issue(
    State(state): State<AppState>,
    Path((version_text, key)): Path<(String, String)>,
    Query(query): Query<IssueQuery>,
    headers: HeaderMap,
) -> Answer {
    let version = version(&version_text)?;
    require_auth(&headers)?;
    let wanted: Option<Vec<String>> = query
        .fields
        .filter(|f| {
            !f.is_empty()
                && !f
                    .split(',')
                    .any(|name| name == "*all" || name == "*navigable")
        })
        .map(|f| f.split(',').map(|name| name.trim().to_owned()).collect());
    let mut data = state.jira.lock().expect("jira lock");
    let issue = data.issue(&key)?;
    Ok(Json(issue_json(&headers, version, issue, wanted.as_deref())).into_response())
}

async fn list_comments(
    State(state): State<AppState>,
    Path((version_text, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let version = version(&version_text)?;
    require_auth(&headers)?;
    let mut data = state.jira.lock().expect("jira lock");
    let issue = data.issue(&key)?;
    Ok(Json(comment_page(&headers, version, issue)).into_response())
}

async fn add_comment(
    State(state): State<AppState>,
    Path((version_text, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let version = version(&version_text)?;
    require_auth(&headers)?;
    let mut data = state.jira.lock().expect("jira lock");
    data.issue(&key)?;
    let text = comment_body(version, &body)?;
    let id = data.next_comment_id;
    data.next_comment_id += 1;
    let issue = data.issue(&key)?;
    let now = Utc::now();
    let comment = Comment {
        id,
        body: text,
        by_agent: true,
        created: now,
        updated: now,
    };
    issue.comments.push(comment.clone());
    issue.updated = now;
    Ok((
        StatusCode::CREATED,
        Json(comment_json(&headers, version, issue, &comment)),
    )
        .into_response())
}

async fn get_comment(
    State(state): State<AppState>,
    Path((version_text, key, comment_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    let version = version(&version_text)?;
    require_auth(&headers)?;
    let mut data = state.jira.lock().expect("jira lock");
    let issue = data.issue(&key)?;
    let comment = issue
        .comments
        .iter()
        .find(|c| c.id.to_string() == comment_id)
        .ok_or_else(|| {
            JiraError::message(
                StatusCode::NOT_FOUND,
                "Can not find a comment for the id: ".to_owned() + &comment_id,
            )
        })?;
    Ok(Json(comment_json(&headers, version, issue, comment)).into_response())
}

async fn update_comment(
    State(state): State<AppState>,
    Path((version_text, key, comment_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let version = version(&version_text)?;
    require_auth(&headers)?;
    let text = comment_body(version, &body)?;
    let mut data = state.jira.lock().expect("jira lock");
    let issue = data.issue(&key)?;
    let now = Utc::now();
    let comment = issue
        .comments
        .iter_mut()
        .find(|c| c.id.to_string() == comment_id)
        .ok_or_else(|| {
            JiraError::message(
                StatusCode::NOT_FOUND,
                "Can not find a comment for the id: ".to_owned() + &comment_id,
            )
        })?;
    comment.body = text;
    comment.updated = now;
    let comment = comment.clone();
    issue.updated = now;
    Ok(Json(comment_json(&headers, version, issue, &comment)).into_response())
}

async fn list_transitions(
    State(state): State<AppState>,
    Path((version_text, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let version = version(&version_text)?;
    require_auth(&headers)?;
    let mut data = state.jira.lock().expect("jira lock");
    let issue = data.issue(&key)?;
    let transitions: Vec<Value> = TRANSITIONS
        .iter()
        .filter(|(_, _, to)| *to != issue.status)
        .map(|(id, name, to)| {
            json!({
                "id": id,
                "name": name,
                "to": status_json(&headers, version, *to),
                "hasScreen": false,
                "isGlobal": true,
                "isInitial": false,
                "isAvailable": true,
                "isConditional": false,
            })
        })
        .collect();
    Ok(Json(json!({
        "expand": "transitions",
        "transitions": transitions,
    }))
    .into_response())
}

/// `{"transition": {"id": "21"}}` → 204.
async fn apply_transition(
    State(state): State<AppState>,
    Path((version_text, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    version(&version_text)?;
    require_auth(&headers)?;
    let value = parse_body(&body)?;
    let id = match value.pointer("/transition/id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) => id.to_string(),
        _ => {
            return Err(JiraError::message(
                StatusCode::BAD_REQUEST,
                "Missing 'transition' identifier",
            ));
        }
    };
    let mut data = state.jira.lock().expect("jira lock");
    let issue = data.issue(&key)?;
    let (_, _, to) = TRANSITIONS
        .iter()
        .find(|(transition, _, to)| *transition == id && *to != issue.status)
        .ok_or_else(|| {
            JiraError::message(
                StatusCode::BAD_REQUEST,
                format!("Transition id '{id}' is not valid for this issue."),
            )
        })?;
    issue.status = *to;
    issue.updated = Utc::now();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The browser link the services hand out: the issue, its status and its comments.
async fn browse_page(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Html<String>, JiraError> {
    let mut data = state.jira.lock().expect("jira lock");
    let issue = data.issue(&key)?;
    let mut page = format!(
        "<!doctype html><meta charset=utf-8><title>{key}</title><style>body{{font-family:sans-serif;\
         max-width:60rem;margin:2rem auto}}article{{border:1px solid #ccc;border-radius:6px;margin:1rem 0;\
         padding:.5rem 1rem}}pre{{white-space:pre-wrap}}</style><p>fake-providers · \
         <a href=\"/_fake/\">recorded requests</a></p><h1>{key}: {summary}</h1><p>{status}</p><pre>{description}</pre>",
        key = escape(&issue.key),
        summary = escape(&issue.summary),
        status = STATUSES[issue.status].1,
        description = escape(&issue.description),
    );
    for comment in &issue.comments {
        page.push_str(&format!(
            "<article><header>{author} · {updated}</header><pre>{body}</pre></article>",
            author = if comment.by_agent {
                "Agent Gateway"
            } else {
                "Local Person"
            },
            updated = timestamp(&comment.updated),
            body = escape(&comment.body.plain()),
        ));
    }
    Ok(Html(page))
}
