//! The service's one error type and its answers. Shared failures (callers, GitHub, the vault, input)
//! delegate to service-kit's mappings, so every provider service answers them alike.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::caller_auth::AuthError;
use service_kit::error::ErrorResponse;
use service_kit::extract::ValidationErrors;
use service_kit::http_client::UpstreamError;
use service_kit::vault::VaultError;

use crate::git_access::GitAccessError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// GitHub failed or refused; the kind decides the answer (see `service_kit::http_client`).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A git access request or a proxied git request refused (see `git_access`).
    #[error(transparent)]
    GitAccess(#[from] GitAccessError),
    #[error("the request is out of range")]
    Validation(ValidationErrors),
    /// The vault holds no value for the credential this mode needs.
    #[error("credential `{0}` is not set")]
    CredentialMissing(&'static str),
    #[error("no credential named `{0}` in this service")]
    UnknownCredential(String),
    /// An offered credential (a rotation) cannot be used.
    #[error("unusable credential: {0}")]
    InvalidCredential(String),
    /// The stored App key could not sign a JWT.
    #[error("the GitHub App private key cannot sign: {0}")]
    Signing(String),
}

impl From<ValidationErrors> for Error {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<Error> for ErrorResponse {
    fn from(error: Error) -> Self {
        match error {
            Error::Auth(e) => e.into(),
            Error::Upstream(e) => e.into(),
            Error::Vault(e) => e.into(),
            Error::GitAccess(e) => e.into(),
            Error::Validation(e) => e.into(),
            Error::CredentialMissing(name) => ErrorResponse::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "credentials_missing",
                format!(
                    "the GitHub credential `{name}` is not set; rotate one in through the admin endpoint"
                ),
            ),
            Error::UnknownCredential(name) => ErrorResponse::not_found(format!(
                "github-service holds no credential named `{name}` in its mode"
            )),
            Error::InvalidCredential(reason) => ErrorResponse::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_credential",
                reason,
            ),
            error @ Error::Signing(_) => ErrorResponse::internal(&error),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        ErrorResponse::from(self).into_response()
    }
}
