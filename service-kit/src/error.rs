//! The one way every service turns an error into an HTTP answer: the contracts' [`ErrorBody`] as JSON.
//!
//! Each service keeps its own `thiserror` enum and maps each variant to an [`ErrorResponse`] in one place
//! (its `error.rs`); this module only knows how to send it.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use contracts::ErrorBody;

/// An error answer: status, the common body, and an optional `Retry-After` in seconds.
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub retry_after_seconds: Option<u64>,
}

impl ErrorResponse {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::new(code, message),
            retry_after_seconds: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.body.details = Some(details);
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 415 for a body sent without the `expected` content type.
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("expected `Content-Type: {expected}`"),
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than this endpoint accepts",
        )
    }

    /// For failures whose detail must not leak: the caller gets a generic message, the log gets the cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the service failed to handle this request; see its logs",
        )
    }
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<JsonRejection> for ErrorResponse {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                Self::unsupported_media_type("application/json")
            }
            JsonRejection::BytesRejection(rejection) => rejection.into(),
            other => Self::bad_request("malformed_body", other.body_text()),
        }
    }
}

/// A body that could not be read: over the route's limit (413), or cut off or unreadable (400).
impl From<BytesRejection> for ErrorResponse {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::payload_too_large()
        } else {
            Self::bad_request("malformed_body", rejection.body_text())
        }
    }
}

/// Answer for paths no route matches.
pub async fn not_found_fallback() -> ErrorResponse {
    ErrorResponse::not_found("no such endpoint")
}

/// Answer for a path that exists but does not take the request's method; axum adds the `Allow` header.
pub async fn method_not_allowed_fallback(method: Method) -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "this endpoint does not take {method}; its `Allow` header lists the methods it does"
        ),
    )
}

/// JSON errors for the requests no route takes: 404 for an unknown path, 405 (with `Allow`) for a known
/// path asked with another method. Call it once every route is on the router: the 405 answer reaches only
/// the routes already there.
pub fn with_error_fallbacks<S>(router: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(method_not_allowed_fallback)
}
