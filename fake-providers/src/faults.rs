//! Injected faults: the next N requests whose path contains a string answer a chosen status instead of
//! reaching the fake, so tests can watch a service retry.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    /// Requests whose full path contains this (e.g. `/slack/api/chat.postMessage`).
    pub path_contains: String,
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// The status to answer, e.g. 502 or 429.
    pub status: u16,
    /// How many requests it answers before it is used up (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// Seconds for a `Retry-After` header.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// The JSON body to answer (default `{"message": "injected fault"}`).
    #[serde(default)]
    pub body: Option<Value>,
    /// Extra headers to answer, e.g. `{"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1767225600"}`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn validate(&self) -> Result<(), String> {
        if self.path_contains.is_empty() {
            return Err("path_contains must not be empty".to_owned());
        }
        if !(100..=599).contains(&self.status) {
            return Err(format!("status {} is not an HTTP status", self.status));
        }
        if self.count == 0 {
            return Err("count must be at least 1".to_owned());
        }
        for (name, value) in &self.headers {
            if HeaderName::try_from(name.as_str()).is_err()
                || HeaderValue::try_from(value.as_str()).is_err()
            {
                return Err(format!("`{name}: {value}` is not a valid header"));
            }
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        path.contains(self.path_contains.as_str())
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let body = self
            .body
            .unwrap_or_else(|| json!({ "message": "injected fault" }));
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    pending: Mutex<Vec<Fault>>,
}

impl Faults {
    pub fn add(&self, fault: Fault) {
        self.pending.lock().expect("faults lock").push(fault);
    }

    pub fn list(&self) -> Vec<Fault> {
        self.pending.lock().expect("faults lock").clone()
    }

    pub fn clear(&self) {
        self.pending.lock().expect("faults lock").clear();
    }

    /// The first pending fault for this request, used once.
    pub fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut pending = self.pending.lock().expect("faults lock");
        let index = pending.iter().position(|f| f.matches(method, path))?;
        let fault = pending[index].clone();
        pending[index].count -= 1;
        if pending[index].count == 0 {
            pending.remove(index);
        }
        Some(fault)
    }
}
