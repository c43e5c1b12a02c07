//! Every way a webhook request fails, mapped to its status and the contracts' error body in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::Provider;
use serde_json::json;
use service_kit::error::ErrorResponse;

use crate::signature::SignatureError;

/// Seconds a provider should wait before redelivering when Redis is unreachable.
pub const RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0} deliveries are not accepted: no secret is configured")]
    NotConfigured(Provider),
    #[error("signature check failed: {0}")]
    Signature(#[from] SignatureError),
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the body could not be read: {0}")]
    UnreadableBody(String),
    #[error("content type `{0}` is not accepted here")]
    UnsupportedMediaType(String),
    #[error("the request has no `{0}` header")]
    MissingHeader(&'static str),
    #[error("the body is not a valid delivery: {0}")]
    MalformedBody(String),
    #[error("the task queue is unavailable: {0}")]
    QueueUnavailable(String),
    #[error("the task log could not be written: {0}")]
    TaskLog(String),
}

impl WebhookError {
    /// The metric label of this failure.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::NotConfigured(_) | Self::Signature(_) => "unauthorized",
            Self::QueueUnavailable(_) => "unavailable",
            Self::TaskLog(_) => "failed",
            _ => "invalid",
        }
    }

    fn to_error_response(&self) -> ErrorResponse {
        match self {
            Self::NotConfigured(provider) => ErrorResponse::unauthorized(
                "provider_not_configured",
                format!("{provider} webhooks are not configured on this gateway"),
            ),
            Self::Signature(SignatureError::NotConfigured) => ErrorResponse::unauthorized(
                "provider_not_configured",
                "this provider is not configured",
            ),
            Self::Signature(error) => ErrorResponse::unauthorized(error.code(), error.to_string()),
            Self::PayloadTooLarge { limit } => ErrorResponse::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                self.to_string(),
            )
            .with_details(json!({ "limit_bytes": limit })),
            Self::UnreadableBody(_) => {
                ErrorResponse::bad_request("malformed_body", self.to_string())
            }
            Self::UnsupportedMediaType(_) => ErrorResponse::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                self.to_string(),
            ),
            Self::MissingHeader(name) => {
                ErrorResponse::bad_request("missing_header", self.to_string())
                    .with_details(json!({ "header": name }))
            }
            Self::MalformedBody(_) => {
                ErrorResponse::bad_request("malformed_body", self.to_string())
            }
            Self::QueueUnavailable(cause) => {
                tracing::error!(error = %cause, "task queue unavailable");
                ErrorResponse::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "queue_unavailable",
                    "the task queue is unavailable; redeliver later",
                )
                .retry_after(RETRY_AFTER_SECONDS)
            }
            Self::TaskLog(cause) => {
                tracing::error!(error = %cause, "task log write failed");
                ErrorResponse::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "task_log_unwritable",
                    "the task log could not be written; redeliver later",
                )
            }
        }
    }
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        self.to_error_response().into_response()
    }
}
