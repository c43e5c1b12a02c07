//! The one error type of dashboard-api's handlers, mapped to the common error body in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contracts::TaskId;
use contracts::task_id::InvalidTaskId;
use service_kit::error::ErrorResponse;
use service_kit::queue::QueueError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    InvalidTaskId(#[from] InvalidTaskId),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("task {0} not found")]
    TaskNotFound(TaskId),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("the task index is unavailable: {0}")]
    Index(#[from] sqlx::Error),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("reading the task log failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }
}

impl From<Error> for ErrorResponse {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidTaskId(e) => ErrorResponse::bad_request("invalid_task_id", e.to_string()),
            Error::BadRequest { code, message } => ErrorResponse::bad_request(code, message),
            Error::TaskNotFound(id) => ErrorResponse::not_found(format!("task {id} not found")),
            Error::Unauthorized => ErrorResponse::unauthorized(
                "unauthorized",
                "this endpoint needs `Authorization: Bearer <DASHBOARD_TOKEN>` or a login session",
            ),
            Error::Index(e) if is_unavailable(&e) => {
                tracing::warn!(error = %e, "task index unavailable");
                ErrorResponse::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "index_unavailable",
                    "the task index database is unavailable",
                )
                .retry_after(5)
            }
            Error::Index(e) => ErrorResponse::internal(&e),
            Error::Queue(QueueError::Unavailable(e)) => {
                tracing::warn!(error = %e, "redis unavailable");
                ErrorResponse::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "queue_unavailable",
                    "redis is unavailable",
                )
                .retry_after(5)
            }
            Error::Queue(QueueError::UnknownTask(id, _)) => {
                ErrorResponse::not_found(format!("task {id} not found"))
            }
            Error::Queue(e @ QueueError::NotRequeueable { .. }) => {
                ErrorResponse::new(StatusCode::CONFLICT, "not_requeueable", e.to_string())
            }
            Error::Queue(e @ QueueError::Log(_)) => ErrorResponse::internal(&e),
            Error::Io(e) => ErrorResponse::internal(&e),
        }
    }
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::Io(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
    ) || error.to_string().contains("no such table")
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let unauthorized = matches!(self, Error::Unauthorized);
        let mut response = ErrorResponse::from(self).into_response();
        if unauthorized {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
