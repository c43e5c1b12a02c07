//! The task log of a provider service: what a task asked of it and what the provider answered.
//!
//! With `X-Task-Id` on a request, the service (and only it) appends to that task's
//! `05-microservices-flow.jsonl` (the task directory is created when missing). Every line carries `scope`:
//! `call` (between the caller and this service) or `upstream` (between this service and the provider).
//!
//! | `type` | `scope` | fields |
//! |---|---|---|
//! | `service_call` | call | `method`, `path`, `route` (the matched route template), `trace_id` |
//! | `service_request` | upstream | `method`, `host`, `path` (no query string, no headers, no body), `attempt` |
//! | `service_response` | upstream | `status`, `duration_ms`, `attempt` |
//! | `service_error` | upstream | `error` (no answer: connection failure or timeout), `duration_ms`, `attempt` |
//! | `service_response` | call | `status`, `duration_ms` (the call succeeded) |
//! | `service_error` | call | `status`, `code`, `message`, `duration_ms` (the call was answered with an error) |
//!
//! [`record_calls`] is the middleware writing the `call` lines and putting a [`CallContext`] in the request's
//! extensions; handlers extract the [`CallContext`] and pass it to
//! [`UpstreamClient::send`](crate::http_client::UpstreamClient::send), which writes the `upstream` lines and
//! keeps to the call's deadline. Writing a log line never fails a call: a failure is logged and skipped.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use contracts::task_log::{LogFile, TaskLogWriter};
use contracts::{ErrorBody, TaskId, headers};
use serde_json::{Value, json};

use crate::trace_context::{RequestContext, TraceContext};

/// How long a call may spend on its upstream requests (retries and rate-limit waits included) when the
/// service does not say otherwise.
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_secs(30);

/// The state of [`record_calls`]: where task logs live, this service's name, and the deadline of a call.
#[derive(Debug, Clone)]
pub struct CallLog {
    writer: TaskLogWriter,
    deadline: Duration,
}

impl CallLog {
    /// `task_logs_dir` is `TASK_LOGS_DIR`; `service` stamps every line; `deadline` bounds each call's
    /// upstream work (`UPSTREAM_DEADLINE`).
    pub fn new(
        task_logs_dir: impl Into<std::path::PathBuf>,
        service: &str,
        deadline: Duration,
    ) -> Self {
        Self {
            writer: TaskLogWriter::new(task_logs_dir, service),
            deadline,
        }
    }

    pub fn writer(&self) -> &TaskLogWriter {
        &self.writer
    }

    /// A context for one call: its task (when known), its trace and its deadline, counted from now.
    pub fn context(&self, task_id: Option<TaskId>, trace: TraceContext) -> CallContext {
        CallContext {
            task: task_id.map(|id| (self.writer.clone(), id)),
            trace,
            deadline: Instant::now() + self.deadline,
        }
    }
}

/// One call to the service: its task log (when the call has `X-Task-Id`), trace, and deadline.
/// Extract it in handlers; without [`record_calls`] it is a context with no task and the default deadline.
#[derive(Debug, Clone)]
pub struct CallContext {
    task: Option<(TaskLogWriter, TaskId)>,
    trace: TraceContext,
    deadline: Instant,
}

impl CallContext {
    /// A context outside any request (start-up work, benchmarks): no task log, a new trace.
    pub fn detached(deadline: Duration) -> Self {
        Self {
            task: None,
            trace: TraceContext::new_root(),
            deadline: Instant::now() + deadline,
        }
    }

    pub fn task_id(&self) -> Option<&TaskId> {
        self.task.as_ref().map(|(_, id)| id)
    }

    pub fn trace(&self) -> &TraceContext {
        &self.trace
    }

    /// When the call's upstream work must be done by.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Appends a line of type `kind` to the task's `05-microservices-flow.jsonl`; does nothing (and does
    /// not build `fields`) without a task.
    pub fn record(&self, kind: &str, fields: impl FnOnce() -> Value) {
        let Some((writer, task_id)) = &self.task else {
            return;
        };
        let written = writer
            .create_task_dir(task_id)
            .and_then(|_| writer.append(task_id, LogFile::MicroservicesFlow, kind, fields()));
        if let Err(error) = written {
            tracing::warn!(%error, %task_id, kind, "could not append to the task log");
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CallContext>()
            .cloned()
            .unwrap_or_else(|| CallContext::detached(DEFAULT_CALL_DEADLINE)))
    }
}

/// Milliseconds with microsecond precision, as every `duration_ms` in the log.
pub fn millis(duration: Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

/// Middleware: puts a [`CallContext`] in the request's extensions and, with `X-Task-Id`, logs the call
/// and its answer. Place it inside `trace_context::trace_requests` (whose trace it continues) and outside
/// authentication (so refused calls are logged too).
/// `axum::middleware::from_fn_with_state(call_log, record_calls)`.
pub async fn record_calls(
    State(log): State<CallLog>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (task_id, trace) = match request.extensions().get::<RequestContext>() {
        Some(context) => (context.task_id, context.trace),
        None => (
            request
                .headers()
                .get(headers::TASK_ID)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
            request
                .headers()
                .get(headers::TRACEPARENT)
                .and_then(|v| v.to_str().ok())
                .and_then(TraceContext::parse)
                .map(|parent| parent.child())
                .unwrap_or_else(TraceContext::new_root),
        ),
    };
    let context = log.context(task_id, trace);
    if context.task.is_some() {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_owned());
        context.record("service_call", || {
            json!({
                "scope": "call",
                "method": request.method().as_str(),
                "path": request.uri().path(),
                "route": route,
                "trace_id": trace.trace_id_hex(),
            })
        });
    }
    request.extensions_mut().insert(context.clone());
    let response = next.run(request).await;
    if context.task.is_none() {
        return response;
    }
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        context.record(
            "service_response",
            || json!({ "scope": "call", "status": status.as_u16(), "duration_ms": millis(started.elapsed()) }),
        );
        return response;
    }
    let (parts, body) = response.into_parts();
    // Error answers are the small JSON `ErrorBody` of `ErrorResponse`, so buffering them is cheap.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            context.record(
                "service_error",
                || json!({ "scope": "call", "status": status.as_u16(), "error": error.to_string() }),
            );
            return Response::from_parts(parts, Body::empty());
        }
    };
    let error: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
    context.record("service_error", || {
        json!({
            "scope": "call",
            "status": status.as_u16(),
            "code": error.as_ref().map(|e| e.code.as_str()),
            "message": error.as_ref().map(|e| e.message.as_str()),
            "duration_ms": millis(started.elapsed()),
        })
    });
    Response::from_parts(parts, Body::from(bytes))
}
