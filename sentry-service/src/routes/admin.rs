//! `/api/v1/sentry/admin/credentials`: see and rotate the stored auth token (`ADMIN_TOKEN` only).
//! Only metadata ever leaves: fingerprint, when it was set, key id, source.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::credentials::{CredentialMetadata, CredentialSource, RotateCredentialRequest};
use service_kit::error::ErrorResponse;
use service_kit::extract::{Path, ValidatedJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::state::{AppState, CREDENTIAL_NAMES};
use crate::validation::Checked;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_credentials))
        .routes(routes!(rotate_credential))
}

/// Metadata of the stored credentials.
#[utoipa::path(
    get,
    path = "/api/v1/sentry/admin/credentials",
    tag = "admin",
    responses(
        (status = 200, description = "Stored credentials (metadata only)", body = [CredentialMetadata]),
        (status = 401, description = "Not the admin token", body = ErrorBody),
        (status = 403, description = "ADMIN_TOKEN is not set", body = ErrorBody),
        (status = 503, description = "The credential database is down", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub async fn list_credentials(
    State(state): State<AppState>,
) -> Result<Json<Vec<CredentialMetadata>>, Error> {
    Ok(Json(state.vault().list().await?))
}

/// Replace a credential; the next call to Sentry uses it. Answers its metadata, never the value.
#[utoipa::path(
    put,
    path = "/api/v1/sentry/admin/credentials/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "`sentry_auth_token`")),
    request_body = RotateCredentialRequest,
    responses(
        (status = 200, description = "Stored", body = CredentialMetadata),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "Not the admin token", body = ErrorBody),
        (status = 403, description = "ADMIN_TOKEN is not set", body = ErrorBody),
        (status = 404, description = "No credential of that name", body = ErrorBody),
        (status = 422, description = "Empty, too long, or with whitespace or control characters", body = ErrorBody),
        (status = 503, description = "The credential database is down", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub async fn rotate_credential(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<RotateCredentialRequest>>,
) -> Result<Json<CredentialMetadata>, ErrorResponse> {
    if !CREDENTIAL_NAMES.contains(&name.as_str()) {
        return Err(ErrorResponse::not_found(format!(
            "no credential `{}`; this service holds {}",
            name.chars().take(60).collect::<String>(),
            CREDENTIAL_NAMES.join(", ")
        )));
    }
    let stored = state
        .vault()
        .store(&name, request.value.trim(), CredentialSource::Rotation)
        .await
        .map_err(Error::from)?;
    tracing::info!(credential = %name, fingerprint = %stored.fingerprint, "credential rotated");
    Ok(Json(stored))
}
