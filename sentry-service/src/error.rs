//! Every way a request can fail, mapped to its HTTP answer in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::caller_auth::AuthError;
use service_kit::error::ErrorResponse;
use service_kit::extract::ValidationErrors;
use service_kit::http_client::UpstreamError;
use service_kit::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No or wrong caller token (401), or an operation outside the caller's role (403).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A value out of range (422 `validation_failed`).
    #[error("invalid request: {0:?}")]
    Validation(ValidationErrors),
    /// Sentry failed or refused; the kind decides the answer (see `service_kit::http_client`).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The credential store failed (503 when its database is down).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// No auth token is stored yet (503 `credential_missing`).
    #[error("no Sentry auth token is configured: set SENTRY_AUTH_TOKEN or rotate one in")]
    CredentialMissing,
    /// Our own failure (500; the cause only in the log).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ValidationErrors> for Error {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<Error> for ErrorResponse {
    fn from(error: Error) -> Self {
        match error {
            Error::Auth(error) => error.into(),
            Error::Validation(errors) => errors.into(),
            Error::Upstream(error) => error.into(),
            Error::Vault(error) => error.into(),
            Error::CredentialMissing => ErrorResponse::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "credential_missing",
                Error::CredentialMissing.to_string(),
            ),
            Error::Internal(cause) => ErrorResponse::internal(&format!("{cause:#}")),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        ErrorResponse::from(self).into_response()
    }
}
