//! Every request a fake provider answers, kept in memory in arrival order, and the middleware that records
//! them (and applies injected faults first).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::state::AppState;

/// The largest request body recorded and handed to a fake (GitHub's webhook-sized bodies fit).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The most requests kept; the oldest are forgotten first, so a long local run stays bounded.
pub const MAX_RECORDED: usize = 50_000;

/// Which fake answered a path.
pub fn provider_of(path: &str) -> Option<&'static str> {
    if path.starts_with("/github/git/") {
        Some("git")
    } else if path.starts_with("/github/api/") {
        Some("github")
    } else if path.starts_with("/slack/api/") {
        Some("slack")
    } else if path.starts_with("/jira/") {
        Some("jira")
    } else if path.starts_with("/sentry/") {
        Some("sentry")
    } else {
        None
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Increases by one per request, from 1.
    pub id: u64,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
    /// `github`, `git`, `slack`, `jira` or `sentry`.
    pub provider: String,
    pub method: String,
    /// The full path as received, e.g. `/github/api/repos/demo/sample-repo/issues/1/comments`.
    pub path: String,
    pub query: Option<String>,
    /// Every header; repeated headers joined with `, `. Credentials are kept: this is a test double.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON as JSON, a form as a JSON object, other text as a string, `null` when empty, binary
    /// or streamed (git).
    pub body: Value,
    pub body_bytes: usize,
    /// The status the fake answered.
    pub status: u16,
}

/// Which recorded requests to list.
#[derive(Debug, Default, Deserialize)]
pub struct RequestFilter {
    pub provider: Option<String>,
    pub method: Option<String>,
    pub path_contains: Option<String>,
    /// Only requests with an id above this.
    pub after: Option<u64>,
}

impl RequestFilter {
    fn matches(&self, request: &RecordedRequest) -> bool {
        self.provider
            .as_ref()
            .is_none_or(|p| p.eq_ignore_ascii_case(&request.provider))
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&request.method))
            && self
                .path_contains
                .as_ref()
                .is_none_or(|p| request.path.contains(p.as_str()))
            && self.after.is_none_or(|after| request.id > after)
    }
}

#[derive(Debug, Default)]
pub struct Recorder {
    inner: Mutex<RecorderInner>,
}

#[derive(Debug, Default)]
struct RecorderInner {
    last_id: u64,
    requests: VecDeque<RecordedRequest>,
}

impl Recorder {
    pub fn record(&self, mut request: RecordedRequest) {
        let mut inner = self.inner.lock().expect("recorder lock");
        inner.last_id += 1;
        request.id = inner.last_id;
        if inner.requests.len() == MAX_RECORDED {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
    }

    pub fn list(&self, filter: &RequestFilter) -> Vec<RecordedRequest> {
        let inner = self.inner.lock().expect("recorder lock");
        inner
            .requests
            .iter()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect()
    }

    /// Forgets every request; ids keep increasing.
    pub fn clear(&self) {
        self.inner.lock().expect("recorder lock").requests.clear();
    }
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

/// The body as the recording shows it.
pub fn body_value(headers: &HeaderMap, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        return json;
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form && let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        return Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
    }
    match std::str::from_utf8(body) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => Value::Null,
    }
}

/// Records every request to a provider path, after answering it; an injected fault answers first.
/// Git requests are streamed to `git http-backend`, so their bodies are not kept.
pub async fn record_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let Some(provider) = provider_of(&path) else {
        return next.run(request).await;
    };
    let received_at = Utc::now();
    let method = request.method().to_string();
    let query = request.uri().query().map(str::to_owned);
    let headers = request.headers().clone();

    let (request, body) = if provider == "git" {
        (request, Bytes::new())
    } else {
        let (parts, body) = request.into_parts();
        match to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => (Request::from_parts(parts, Body::from(bytes.clone())), bytes),
            Err(error) => {
                return (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body unreadable: {error}"),
                )
                    .into_response();
            }
        }
    };

    let response = match state.faults.take(&method, &path) {
        Some(fault) => fault.into_response(),
        None => next.run(request).await,
    };

    state.recorder.record(RecordedRequest {
        id: 0,
        received_at,
        provider: provider.to_owned(),
        method,
        path,
        query,
        body: body_value(&headers, &body),
        headers: header_map(&headers),
        body_bytes: body.len(),
        status: response.status().as_u16(),
    });
    response
}
