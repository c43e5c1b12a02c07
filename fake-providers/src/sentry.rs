//! The fake Sentry web API (https://docs.sentry.io/api/) under `/sentry`: an issue (get, and update its
//! status or assignee), its latest event (exception with stack trace, tags, breadcrumbs) and its notes
//! (`comments/`, also reachable as `notes/`), both organization-scoped (`/api/0/organizations/{org}/issues/…`,
//! org `demo-org`) and unscoped (`/api/0/issues/…`). Any numeric issue id exists on first use.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, put};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::state::AppState;

/// The organization whose issues exist (the launcher's `SENTRY_ORG`).
pub const ORGANIZATION: &str = "demo-org";

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    let routes: [(&str, MethodRouter<AppState>); 6] = [
        ("issues/{issue_id}", get(get_issue).put(update_issue)),
        ("issues/{issue_id}/events/latest", get(latest_event)),
        ("issues/{issue_id}/comments", get(list_notes).post(add_note)),
        ("issues/{issue_id}/notes", get(list_notes).post(add_note)),
        (
            "issues/{issue_id}/comments/{note_id}",
            put(update_note).delete(delete_note),
        ),
        (
            "issues/{issue_id}/notes/{note_id}",
            put(update_note).delete(delete_note),
        ),
    ];
    for (path, method_router) in routes {
        for prefix in ["/api/0/organizations/{org}", "/api/0"] {
            router = router
                .route(&format!("{prefix}/{path}/"), method_router.clone())
                .route(&format!("{prefix}/{path}"), method_router.clone());
        }
    }
    router
}

// ---------------------------------------------------------------------------------------------------------
// Data

#[derive(Default)]
pub struct SentryData {
    issues: BTreeMap<u64, Issue>,
    next_note_id: u64,
}

#[derive(Clone)]
struct Issue {
    id: u64,
    status: String,
    substatus: Option<&'static str>,
    assigned_to: Option<Value>,
    notes: Vec<Note>,
    last_seen: DateTime<Utc>,
}

#[derive(Clone)]
struct Note {
    id: u64,
    text: String,
    created: DateTime<Utc>,
}

impl SentryData {
    fn issue(&mut self, id: u64) -> &mut Issue {
        self.issues.entry(id).or_insert_with(|| Issue {
            id,
            status: "unresolved".to_owned(),
            substatus: Some("ongoing"),
            assigned_to: None,
            notes: Vec::new(),
            last_seen: Utc::now() - Duration::minutes(5),
        })
    }
}

// ---------------------------------------------------------------------------------------------------------
// Errors and helpers

#[derive(Debug)]
pub struct SentryError {
    status: StatusCode,
    body: Value,
}

impl SentryError {
    fn detail(status: StatusCode, detail: &str) -> Self {
        Self {
            status,
            body: json!({ "detail": detail }),
        }
    }

    fn not_found() -> Self {
        Self::detail(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist",
        )
    }

    /// Django REST framework's field errors: `{"field": ["message"]}`.
    fn field(field: &str, message: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: json!({ field: [message] }),
        }
    }
}

impl IntoResponse for SentryError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// An unknown Sentry path.
pub fn not_found() -> Response {
    SentryError::not_found().into_response()
}

type Answer = Result<Response, SentryError>;

fn require_auth(headers: &HeaderMap) -> Result<(), SentryError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
        return Err(SentryError::detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ));
    }
    Ok(())
}

/// The organization (when the path names one) must be `demo-org`; the issue id must be a number.
fn issue_id(params: &BTreeMap<String, String>) -> Result<u64, SentryError> {
    if params.get("org").is_some_and(|org| org != ORGANIZATION) {
        return Err(SentryError::not_found());
    }
    params
        .get("issue_id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(SentryError::not_found)
}

fn timestamp(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn short_id(id: u64) -> String {
    let mut digits = Vec::new();
    let mut rest = id;
    loop {
        let digit = u32::try_from(rest % 36).unwrap_or(0);
        digits.push(
            char::from_digit(digit, 36)
                .unwrap_or('0')
                .to_ascii_uppercase(),
        );
        rest /= 36;
        if rest == 0 {
            break;
        }
    }
    format!("DEMO-{}", digits.iter().rev().collect::<String>())
}

const PANIC_VALUE: &str = "assertion `left == right` failed\n  left: -1\n right: 5";

fn user_json(id: &str) -> Value {
    match id {
        "1" => {
            json!({ "type": "user", "id": "1", "name": "Agent Gateway", "email": "agent@example.com" })
        }
        "2" => {
            json!({ "type": "user", "id": "2", "name": "Local Person", "email": "person@example.com" })
        }
        other => {
            json!({ "type": "user", "id": other, "name": format!("User {other}"), "email": format!("user{other}@example.com") })
        }
    }
}

/// `user:ID`, `team:ID`, a known username or e-mail; empty clears the assignee.
fn assignee(actor: &str) -> Result<Option<Value>, SentryError> {
    let numeric = |id: &str| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit());
    match actor.split_once(':') {
        _ if actor.is_empty() => Ok(None),
        Some(("user", id)) if numeric(id) => Ok(Some(user_json(id))),
        Some(("team", id)) if numeric(id) => Ok(Some(
            json!({ "type": "team", "id": id, "name": "demo-team" }),
        )),
        None => match actor {
            "agent" | "agent@example.com" => Ok(Some(user_json("1"))),
            "person" | "person@example.com" => Ok(Some(user_json("2"))),
            _ => Err(SentryError::field("assignedTo", "Unknown actor input")),
        },
        Some(_) => Err(SentryError::field(
            "assignedTo",
            "Could not parse actor. Format should be `type:id` where type is `team` or `user`.",
        )),
    }
}

fn issue_json(headers: &HeaderMap, issue: &Issue) -> Value {
    let origin = crate::github::origin(headers);
    json!({
        "id": issue.id.to_string(),
        "shortId": short_id(issue.id),
        "title": "panicked at src/main.rs:16:9: assertion `left == right` failed",
        "culprit": "sample_repo::tests::adds_two_numbers",
        "permalink": format!("{origin}/sentry/organizations/{ORGANIZATION}/issues/{}/", issue.id),
        "logger": Value::Null,
        "level": "error",
        "status": issue.status,
        "statusDetails": {},
        "substatus": issue.substatus,
        "isPublic": false,
        "platform": "rust",
        "project": { "id": "1", "name": "demo", "slug": "demo", "platform": "rust" },
        "type": "error",
        "metadata": { "type": "panic", "value": PANIC_VALUE, "filename": "src/main.rs", "function": "sample_repo::add" },
        "numComments": issue.notes.len(),
        "assignedTo": issue.assigned_to,
        "isBookmarked": false,
        "isSubscribed": true,
        "subscriptionDetails": Value::Null,
        "shareId": Value::Null,
        "hasSeen": false,
        "annotations": [],
        "issueType": "error",
        "issueCategory": "error",
        "count": "12",
        "userCount": 3,
        "firstSeen": timestamp(&(issue.last_seen - Duration::days(2))),
        "lastSeen": timestamp(&issue.last_seen),
    })
}

/// A frame of the sample repository's `src/main.rs`, with the source lines around it.
fn sample_frame(function: &str, line: u64, in_app: bool) -> Value {
    const SOURCE: &[&str] = &[
        "/// Adds two numbers.",
        "fn add(a: i32, b: i32) -> i32 {",
        "    a - b",
        "}",
        "",
        "fn main() {",
        "    println!(\"2 + 3 = {}\", add(2, 3));",
        "}",
        "",
        "#[cfg(test)]",
        "mod tests {",
        "    use super::*;",
        "",
        "    #[test]",
        "    fn adds_two_numbers() {",
        "        assert_eq!(add(2, 3), 5);",
        "    }",
        "}",
    ];
    let context: Vec<Value> = (line.saturating_sub(2).max(1)..=line + 2)
        .filter_map(|n| {
            let index = usize::try_from(n).ok()?.checked_sub(1)?;
            SOURCE.get(index).map(|source| json!([n, source]))
        })
        .collect();
    json!({
        "filename": "src/main.rs",
        "absPath": "/build/sample-repo/src/main.rs",
        "function": function,
        "module": "sample_repo",
        "lineNo": line,
        "colNo": 9,
        "inApp": in_app,
        "context": context,
        "vars": {},
    })
}

fn event_json(issue: &Issue) -> Value {
    let event_id = format!(
        "{:032x}",
        u128::from(issue.id).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    );
    let at = issue.last_seen;
    let crumb = |seconds_before: i64, category: &str, level: &str, message: &str, data: Value| {
        json!({
            "timestamp": timestamp(&(at - Duration::seconds(seconds_before))),
            "type": "default",
            "category": category,
            "level": level,
            "message": message,
            "data": data,
            "event_id": Value::Null,
        })
    };
    json!({
        "id": event_id,
        "eventID": event_id,
        "groupID": issue.id.to_string(),
        "projectID": "1",
        "title": "panicked at src/main.rs:16:9: assertion `left == right` failed",
        "message": "",
        "platform": "rust",
        "type": "error",
        "culprit": "sample_repo::tests::adds_two_numbers",
        "dateCreated": timestamp(&at),
        "dateReceived": timestamp(&at),
        "location": "src/main.rs",
        "tags": [
            { "key": "environment", "value": "production" },
            { "key": "level", "value": "error" },
            { "key": "release", "value": "sample-repo@0.1.0" },
            { "key": "os.name", "value": "Linux" },
            { "key": "handled", "value": "no" },
        ],
        "entries": [
            {
                "type": "exception",
                "data": {
                    "values": [{
                        "type": "panic",
                        "value": PANIC_VALUE,
                        "module": Value::Null,
                        "mechanism": { "type": "panic", "handled": false },
                        "stacktrace": {
                            "frames": [
                                {
                                    "filename": "library/std/src/rt.rs", "function": "std::rt::lang_start",
                                    "module": "std::rt", "lineNo": 206, "colNo": 5, "inApp": false, "context": [],
                                },
                                sample_frame("sample_repo::tests::adds_two_numbers", 16, true),
                                sample_frame("sample_repo::add", 3, true),
                            ],
                            "framesOmitted": Value::Null,
                            "hasSystemFrames": true,
                        },
                    }],
                    "hasSystemFrames": true,
                },
            },
            {
                "type": "breadcrumbs",
                "data": {
                    "values": [
                        crumb(30, "log", "info", "sample-repo starting", Value::Null),
                        crumb(12, "http", "info", "GET /health", json!({ "method": "GET", "status_code": 200 })),
                        crumb(1, "log", "warning", "add(2, 3) returned -1", json!({ "expected": 5 })),
                    ],
                },
            },
        ],
        "contexts": {
            "os": { "name": "Linux", "type": "os" },
            "runtime": { "name": "rustc", "version": "1.88.0", "type": "runtime" },
        },
        "sdk": { "name": "sentry.rust", "version": "0.34.0" },
        "user": { "id": "42", "email": "person@example.com" },
    })
}

fn note_json(note: &Note) -> Value {
    json!({
        "id": note.id.to_string(),
        "user": { "id": "1", "name": "Agent Gateway", "username": "agent", "email": "agent@example.com" },
        "type": "note",
        "data": { "text": note.text },
        "dateCreated": timestamp(&note.created),
    })
}

fn parse_object(body: &Bytes) -> Result<serde_json::Map<String, Value>, SentryError> {
    if body.is_empty() {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) | Err(_) => Err(SentryError::detail(
            StatusCode::BAD_REQUEST,
            "JSON parse error",
        )),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Handlers

async fn get_issue(
    State(state): State<AppState>,
    Path(params): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let id = issue_id(&params)?;
    let mut data = state.sentry.lock().expect("sentry lock");
    Ok(Json(issue_json(&headers, data.issue(id))).into_response())
}

/// `{"status": …}` and/or `{"assignedTo": …}`; answers the updated issue.
async fn update_issue(
    State(state): State<AppState>,
    Path(params): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_auth(&headers)?;
    let id = issue_id(&params)?;
    let fields = parse_object(&body)?;
    let status = match fields.get("status") {
        None => None,
        Some(Value::String(status)) => {
            let substatus = match status.as_str() {
                "resolved" | "resolvedInNextRelease" => None,
                "unresolved" => Some("ongoing"),
                "ignored" => Some("archived_until_escalating"),
                other => {
                    return Err(SentryError::field(
                        "status",
                        &format!("\"{other}\" is not a valid choice."),
                    ));
                }
            };
            let stored = if status == "resolvedInNextRelease" {
                "resolved"
            } else {
                status.as_str()
            };
            Some((stored.to_owned(), substatus))
        }
        Some(_) => return Err(SentryError::field("status", "Not a valid string.")),
    };
    let assigned = match fields.get("assignedTo") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(actor)) => Some(assignee(actor)?),
        Some(_) => return Err(SentryError::field("assignedTo", "Not a valid string.")),
    };
    let mut data = state.sentry.lock().expect("sentry lock");
    let issue = data.issue(id);
    if let Some((status, substatus)) = status {
        issue.status = status;
        issue.substatus = substatus;
    }
    if let Some(assigned) = assigned {
        issue.assigned_to = assigned;
    }
    Ok(Json(issue_json(&headers, issue)).into_response())
}

async fn latest_event(
    State(state): State<AppState>,
    Path(params): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let id = issue_id(&params)?;
    let mut data = state.sentry.lock().expect("sentry lock");
    Ok(Json(event_json(data.issue(id))).into_response())
}

/// Newest first, as Sentry lists an issue's activity.
async fn list_notes(
    State(state): State<AppState>,
    Path(params): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let id = issue_id(&params)?;
    let mut data = state.sentry.lock().expect("sentry lock");
    let notes: Vec<Value> = data.issue(id).notes.iter().rev().map(note_json).collect();
    Ok(Json(notes).into_response())
}

async fn add_note(
    State(state): State<AppState>,
    Path(params): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_auth(&headers)?;
    let id = issue_id(&params)?;
    let text = note_text(&body)?;
    let mut data = state.sentry.lock().expect("sentry lock");
    data.next_note_id += 1;
    let note = Note {
        id: 9_000 + data.next_note_id,
        text,
        created: Utc::now(),
    };
    data.issue(id).notes.push(note.clone());
    Ok((StatusCode::CREATED, Json(note_json(&note))).into_response())
}

/// The `text` of a note write: required, not blank.
fn note_text(body: &Bytes) -> Result<String, SentryError> {
    let fields = parse_object(body)?;
    match fields.get("text") {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err(SentryError::field("text", "This field may not be blank.")),
        _ => Err(SentryError::field("text", "This field is required.")),
    }
}

fn note_id(params: &BTreeMap<String, String>) -> Result<u64, SentryError> {
    params
        .get("note_id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(SentryError::not_found)
}

/// `{"text": …}` replaces a note's text; answers the note.
async fn update_note(
    State(state): State<AppState>,
    Path(params): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_auth(&headers)?;
    let id = issue_id(&params)?;
    let note_id = note_id(&params)?;
    let text = note_text(&body)?;
    let mut data = state.sentry.lock().expect("sentry lock");
    let note = data
        .issue(id)
        .notes
        .iter_mut()
        .find(|note| note.id == note_id)
        .ok_or_else(SentryError::not_found)?;
    note.text = text;
    Ok(Json(note_json(note)).into_response())
}

async fn delete_note(
    State(state): State<AppState>,
    Path(params): Path<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let id = issue_id(&params)?;
    let note_id = note_id(&params)?;
    let mut data = state.sentry.lock().expect("sentry lock");
    let notes = &mut data.issue(id).notes;
    let before = notes.len();
    notes.retain(|note| note.id != note_id);
    if notes.len() == before {
        return Err(SentryError::not_found());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
