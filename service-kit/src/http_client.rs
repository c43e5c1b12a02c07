//! The one way provider services call their provider: timeouts, retries, rate limits, and one error
//! taxonomy that every service maps to the same HTTP answers.
//!
//! - Every attempt has a connect timeout (`UPSTREAM_CONNECT_TIMEOUT`) and a request timeout
//!   (`UPSTREAM_TIMEOUT`), both cut short by the call's deadline ([`CallContext::deadline`]).
//! - Transient failures are retried, up to `UPSTREAM_MAX_ATTEMPTS` attempts in all, with exponential backoff
//!   (`UPSTREAM_BACKOFF` doubled per attempt, at most [`MAX_BACKOFF`]) and jitter (a random half of it):
//!   connection failures, timeouts, 5xx, 429. An [`Idempotence::Creates`] request is retried only when the
//!   provider certainly did not act on it: the connection was never made, or it was refused by a rate limit.
//! - Rate limits: 429, and GitHub's 403 with `X-RateLimit-Remaining: 0` (primary) or `Retry-After` or a
//!   "secondary rate limit" message. The wait is `Retry-After` (seconds or HTTP date), else
//!   `X-RateLimit-Reset` (Unix seconds or an RFC 3339 time), else one minute for a secondary limit, else the
//!   backoff. A wait that would end past the call's deadline is not waited: the call fails at once with
//!   [`UpstreamErrorKind::RateLimited`] (503 with `Retry-After`).
//!
//! Answers map through [`ErrorResponse::from`] (the one place): see [`UpstreamErrorKind`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::call_log::{CallContext, millis};
use crate::configuration::{ConfigError, HumanDuration, parse_or};
use crate::error::ErrorResponse;

/// The longest backoff between two attempts (a provider's `Retry-After` may ask for longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long a secondary rate limit is waited out when the provider does not say (GitHub: "at least one minute").
pub const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Provider messages longer than this are cut.
const MAX_MESSAGE_CHARS: usize = 1000;

/// Timeouts and retry limits of outbound calls.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// `UPSTREAM_CONNECT_TIMEOUT`, default `5s`.
    pub connect_timeout: Duration,
    /// `UPSTREAM_TIMEOUT`, default `15s`: one attempt, body included.
    pub request_timeout: Duration,
    /// `UPSTREAM_MAX_ATTEMPTS`, default `4`: attempts in all, the first included.
    pub max_attempts: u32,
    /// `UPSTREAM_BACKOFF`, default `200ms`: the wait before the first retry, doubled for each next one.
    pub backoff: Duration,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            max_attempts: 4,
            backoff: Duration::from_millis(200),
        }
    }
}

impl UpstreamSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let max_attempts: u32 = parse_or("UPSTREAM_MAX_ATTEMPTS", defaults.max_attempts)?;
        if max_attempts == 0 {
            return Err(ConfigError::Invalid {
                name: "UPSTREAM_MAX_ATTEMPTS".into(),
                value: "0".into(),
                reason: "at least one attempt is needed".into(),
            });
        }
        Ok(Self {
            connect_timeout: parse_or(
                "UPSTREAM_CONNECT_TIMEOUT",
                HumanDuration(defaults.connect_timeout),
            )?
            .0,
            request_timeout: parse_or("UPSTREAM_TIMEOUT", HumanDuration(defaults.request_timeout))?
                .0,
            max_attempts,
            backoff: parse_or("UPSTREAM_BACKOFF", HumanDuration(defaults.backoff))?.0,
        })
    }
}

/// Whether repeating a request could do something twice; decides which failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// Repeating it cannot do anything twice (reads, PUT, PATCH, DELETE, a POST that is an upsert):
    /// retried on every transient failure.
    Idempotent,
    /// It creates something (a comment, a pull request): retried only when the provider surely did not act
    /// on it (no connection was made, or a rate limit refused it).
    Creates,
}

/// A provider's successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    provider: &'static str,
}

impl UpstreamResponse {
    /// The body as JSON; a body that does not parse is an [`UpstreamErrorKind::InvalidResponse`].
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, UpstreamError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            UpstreamError::new(
                self.provider,
                UpstreamErrorKind::InvalidResponse {
                    reason: format!("unexpected body: {e}"),
                },
            )
        })
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A failed call to a provider: which provider, and what went wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider}: {kind}")]
pub struct UpstreamError {
    pub provider: &'static str,
    pub kind: UpstreamErrorKind,
}

impl UpstreamError {
    pub fn new(provider: &'static str, kind: UpstreamErrorKind) -> Self {
        Self { provider, kind }
    }
}

/// What went wrong with a provider call, and (in brackets) the answer the service gives for it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamErrorKind {
    /// The provider answered 404 or 410 (404 `not_found`).
    #[error("not found: {message}")]
    NotFound { message: String },
    /// The provider refused our credentials: 401, or 403 that is not a rate limit (502 `upstream_unauthorized`).
    #[error("credentials refused ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// The provider refused the request itself: 422 and any other 4xx (422 `upstream_rejected`, with the
    /// provider's message, and its status and error body in `details`).
    #[error("request rejected ({status}): {message}")]
    Rejected {
        status: u16,
        message: String,
        body: Option<Value>,
    },
    /// Rate-limited past the call's deadline or its attempts (503 `upstream_rate_limited` + `Retry-After`).
    #[error("rate limited; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// 5xx on the last attempt (502 `upstream_failed`).
    #[error("server error ({status}): {message}")]
    ServerError { status: u16, message: String },
    /// No answer in time on the last attempt (504 `upstream_timeout`).
    #[error("no answer in time")]
    Timeout,
    /// No connection on the last attempt (502 `upstream_unreachable`).
    #[error("unreachable: {reason}")]
    Unreachable { reason: String },
    /// An answer we cannot use: unexpected status or body (502 `upstream_invalid_response`).
    #[error("unusable answer: {reason}")]
    InvalidResponse { reason: String },
    /// The request could not be built (a bug of ours; 500 `internal_error`, the cause only in the log).
    #[error("could not build the request: {reason}")]
    InvalidRequest { reason: String },
}

impl From<UpstreamError> for ErrorResponse {
    fn from(error: UpstreamError) -> Self {
        let provider = error.provider;
        match error.kind {
            UpstreamErrorKind::NotFound { message } => {
                ErrorResponse::not_found(format!("{provider} answered 404: {message}"))
            }
            UpstreamErrorKind::Unauthorized { status, message } => ErrorResponse::new(
                StatusCode::BAD_GATEWAY,
                "upstream_unauthorized",
                format!("{provider} refused this service's credentials ({status}): {message}"),
            )
            .with_details(json!({ "upstream_status": status })),
            UpstreamErrorKind::Rejected {
                status,
                message,
                body,
            } => ErrorResponse::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "upstream_rejected",
                message,
            )
            .with_details(
                json!({ "provider": provider, "upstream_status": status, "upstream_body": body }),
            ),
            UpstreamErrorKind::RateLimited {
                retry_after_seconds,
            } => ErrorResponse::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_rate_limited",
                format!("{provider} rate-limits this service; retry in {retry_after_seconds} s"),
            )
            .retry_after(retry_after_seconds),
            UpstreamErrorKind::ServerError { status, message } => ErrorResponse::new(
                StatusCode::BAD_GATEWAY,
                "upstream_failed",
                format!("{provider} failed ({status}): {message}"),
            )
            .with_details(json!({ "upstream_status": status })),
            UpstreamErrorKind::Timeout => ErrorResponse::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                format!("{provider} did not answer in time"),
            ),
            UpstreamErrorKind::Unreachable { reason } => ErrorResponse::new(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                format!("{provider} could not be reached: {reason}"),
            ),
            UpstreamErrorKind::InvalidResponse { reason } => ErrorResponse::new(
                StatusCode::BAD_GATEWAY,
                "upstream_invalid_response",
                format!("{provider} gave an answer this service cannot use: {reason}"),
            ),
            UpstreamErrorKind::InvalidRequest { reason } => {
                ErrorResponse::internal(&format!("request to {provider}: {reason}"))
            }
        }
    }
}

impl axum::response::IntoResponse for UpstreamError {
    fn into_response(self) -> axum::response::Response {
        ErrorResponse::from(self).into_response()
    }
}

/// A provider's HTTP client: a pooled reqwest client with the retry rules above. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    settings: Arc<UpstreamSettings>,
    provider: &'static str,
}

/// What one attempt came to.
enum Attempt {
    Answered(UpstreamResponse),
    Failed(UpstreamErrorKind),
}

impl UpstreamClient {
    /// `provider` names the provider in errors and metrics (`"GitHub"`); `user_agent` is sent on every request.
    pub fn new(
        provider: &'static str,
        user_agent: &str,
        settings: UpstreamSettings,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(user_agent)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            settings: Arc::new(settings),
            provider,
        })
    }

    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// Starts a request (add headers, auth and body, then hand it to [`send`](Self::send)).
    pub fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends `request` with retries, within the call's deadline, logging each attempt to the task log.
    /// `Ok` only for a 2xx answer; every other outcome is an [`UpstreamError`].
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        idempotence: Idempotence,
        context: &CallContext,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let request = request.build().map_err(|e| {
            self.error(UpstreamErrorKind::InvalidRequest {
                reason: e.to_string(),
            })
        })?;
        let mut attempt = 1;
        loop {
            let remaining = context.deadline().saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(self.error(UpstreamErrorKind::Timeout));
            }
            let mut this_attempt = request.try_clone().ok_or_else(|| {
                self.error(UpstreamErrorKind::InvalidRequest {
                    reason: "a streamed body cannot be retried".into(),
                })
            })?;
            *this_attempt.timeout_mut() = Some(remaining.min(self.settings.request_timeout));
            let (outcome, retry) = self
                .attempt(this_attempt, attempt, idempotence, context)
                .await;
            let error = match outcome {
                Attempt::Answered(response) => return Ok(response),
                Attempt::Failed(kind) => kind,
            };
            let Some(wait) = retry else {
                return Err(self.error(error));
            };
            let rate_limited = matches!(error, UpstreamErrorKind::RateLimited { .. });
            let wait_ends = Instant::now() + wait;
            if attempt >= self.settings.max_attempts || wait_ends >= context.deadline() {
                let error = if rate_limited {
                    UpstreamErrorKind::RateLimited {
                        retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
                    }
                } else {
                    error
                };
                return Err(self.error(error));
            }
            tracing::info!(provider = self.provider, attempt, wait_ms = wait.as_millis() as u64, %error, "retrying upstream request");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt: its outcome, and how long to wait before retrying it (`None`: do not retry).
    async fn attempt(
        &self,
        request: reqwest::Request,
        attempt: u32,
        idempotence: Idempotence,
        context: &CallContext,
    ) -> (Attempt, Option<Duration>) {
        context.record(
            "service_request",
            || json!({ "scope": "upstream", "method": request.method().as_str(), "host": request.url().host_str().unwrap_or_default(), "path": request.url().path(), "attempt": attempt }),
        );
        let started = Instant::now();
        let result = self.exchange(request).await;
        let elapsed = started.elapsed();
        metrics::histogram!("upstream_request_duration_seconds", "provider" => self.provider)
            .record(elapsed.as_secs_f64());
        let backoff = self.backoff(attempt);
        let (status, headers, body) = match result {
            Ok(answer) => answer,
            Err(error) => {
                metrics::counter!("upstream_requests_total", "provider" => self.provider, "status" => "error").increment(1);
                let never_sent = error.is_connect();
                let kind = if error.is_timeout() {
                    UpstreamErrorKind::Timeout
                } else {
                    UpstreamErrorKind::Unreachable {
                        reason: error_chain(&error),
                    }
                };
                context.record(
                    "service_error",
                    || json!({ "scope": "upstream", "error": kind.to_string(), "duration_ms": millis(elapsed), "attempt": attempt }),
                );
                let retry =
                    (never_sent || idempotence == Idempotence::Idempotent).then_some(backoff);
                return (Attempt::Failed(kind), retry);
            }
        };
        metrics::counter!("upstream_requests_total", "provider" => self.provider, "status" => status.as_u16().to_string())
            .increment(1);
        context.record(
            "service_response",
            || json!({ "scope": "upstream", "status": status.as_u16(), "duration_ms": millis(elapsed), "attempt": attempt }),
        );
        if status.is_success() {
            return (
                Attempt::Answered(UpstreamResponse {
                    status,
                    headers,
                    body,
                    provider: self.provider,
                }),
                None,
            );
        }
        if let Some(wait) = rate_limit_wait(status, &headers, &body, backoff) {
            return (
                Attempt::Failed(UpstreamErrorKind::RateLimited {
                    retry_after_seconds: wait.as_secs_f64().ceil() as u64,
                }),
                Some(wait),
            );
        }
        let message = provider_message(&body);
        match status.as_u16() {
            404 | 410 => (
                Attempt::Failed(UpstreamErrorKind::NotFound { message }),
                None,
            ),
            401 | 403 => (
                Attempt::Failed(UpstreamErrorKind::Unauthorized {
                    status: status.as_u16(),
                    message,
                }),
                None,
            ),
            400..=499 => (
                Attempt::Failed(UpstreamErrorKind::Rejected {
                    status: status.as_u16(),
                    message,
                    body: serde_json::from_slice(&body).ok(),
                }),
                None,
            ),
            500..=599 => {
                let retry = (idempotence == Idempotence::Idempotent)
                    .then(|| retry_after(&headers).unwrap_or(backoff));
                (
                    Attempt::Failed(UpstreamErrorKind::ServerError {
                        status: status.as_u16(),
                        message,
                    }),
                    retry,
                )
            }
            other => (
                Attempt::Failed(UpstreamErrorKind::InvalidResponse {
                    reason: format!("unexpected status {other}"),
                }),
                None,
            ),
        }
    }

    async fn exchange(
        &self,
        request: reqwest::Request,
    ) -> Result<(StatusCode, HeaderMap, Bytes), reqwest::Error> {
        let response = self.http.execute(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok((status, headers, body))
    }

    /// Exponential backoff with jitter: a random duration between half and all of `backoff · 2^(attempt-1)`.
    fn backoff(&self, attempt: u32) -> Duration {
        let full = self
            .settings
            .backoff
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(MAX_BACKOFF);
        let half = full / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    fn error(&self, kind: UpstreamErrorKind) -> UpstreamError {
        UpstreamError::new(self.provider, kind)
    }
}

fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_str(headers, "retry-after")?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - Utc::now()).to_std().unwrap_or_default())
}

/// `X-RateLimit-Reset` as Unix seconds (GitHub) or an RFC 3339 time (Jira).
fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    let value = header_str(headers, "x-ratelimit-reset")?;
    let at = match value.parse::<i64>() {
        Ok(epoch) => DateTime::from_timestamp(epoch, 0)?,
        Err(_) => DateTime::parse_from_rfc3339(value)
            .ok()?
            .with_timezone(&Utc),
    };
    Some((at - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1))
}

/// How long a rate limit asks us to wait, or `None` when the answer is not a rate limit.
fn rate_limit_wait(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    backoff: Duration,
) -> Option<Duration> {
    let exhausted = header_str(headers, "x-ratelimit-remaining") == Some("0");
    let secondary = status == StatusCode::FORBIDDEN
        && String::from_utf8_lossy(body)
            .to_ascii_lowercase()
            .contains("secondary rate limit");
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (exhausted || secondary || headers.contains_key("retry-after")));
    if !limited {
        return None;
    }
    let wait = retry_after(headers)
        .or_else(|| {
            if exhausted || !secondary {
                rate_limit_reset(headers)
            } else {
                None
            }
        })
        .unwrap_or(if secondary {
            SECONDARY_LIMIT_WAIT
        } else {
            backoff
        });
    Some(wait)
}

/// The provider's own words from an error body: GitHub/Sentry `message` (with GitHub's `errors[].message`),
/// Sentry `detail`, Jira `errorMessages` and `errors`, Slack `error`; else the body's text.
pub fn provider_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(json) => message_from_json(&json).unwrap_or_else(|| json.to_string()),
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    let text = if text.is_empty() {
        "(no message)".to_owned()
    } else {
        text
    };
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

fn message_from_json(json: &Value) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for key in ["message", "detail", "error"] {
        if let Some(text) = json.get(key).and_then(Value::as_str) {
            parts.push(text.to_owned());
        }
    }
    if let Some(list) = json.get("errorMessages").and_then(Value::as_array) {
        parts.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    match json.get("errors") {
        Some(Value::Array(items)) => parts.extend(items.iter().filter_map(|item| {
            match item {
                Value::String(text) => Some(text.clone()),
                other => other
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| {
                        let field = other.get("field").and_then(Value::as_str)?;
                        let code = other.get("code").and_then(Value::as_str)?;
                        Some(format!("{field}: {code}"))
                    }),
            }
        })),
        Some(Value::Object(fields)) => parts.extend(
            fields
                .iter()
                .filter_map(|(field, message)| message.as_str().map(|m| format!("{field}: {m}"))),
        ),
        _ => {}
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_providers_words() {
        let github = br#"{"message":"Validation Failed","errors":[{"resource":"Issue","code":"custom","field":"body","message":"body is too long"}]}"#;
        assert_eq!(
            provider_message(github),
            "Validation Failed; body is too long"
        );
        let jira = br#"{"errorMessages":["Issue does not exist"],"errors":{"summary":"required"}}"#;
        assert_eq!(
            provider_message(jira),
            "Issue does not exist; summary: required"
        );
        assert_eq!(provider_message(br#"{"detail":"Not found"}"#), "Not found");
        assert_eq!(provider_message(b"bad gateway\n"), "bad gateway");
    }

    #[test]
    fn recognises_rate_limits() {
        let backoff = Duration::from_millis(100);
        let mut headers = HeaderMap::new();
        assert_eq!(
            rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &headers, b"", backoff),
            Some(backoff)
        );
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &headers, b"{}", backoff),
            None
        );
        let secondary = br#"{"message":"You have exceeded a secondary rate limit."}"#;
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &headers, secondary, backoff),
            Some(SECONDARY_LIMIT_WAIT)
        );
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &headers, b"", backoff),
            Some(Duration::from_secs(7))
        );
        let mut primary = HeaderMap::new();
        primary.insert("x-ratelimit-remaining", "0".parse().unwrap());
        let reset = Utc::now().timestamp() + 100;
        primary.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
        let wait = rate_limit_wait(StatusCode::FORBIDDEN, &primary, b"", backoff).unwrap();
        assert!(
            wait > Duration::from_secs(95) && wait <= Duration::from_secs(101),
            "{wait:?}"
        );
    }
}
