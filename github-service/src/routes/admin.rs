//! `/api/v1/github/admin/credentials`: see and rotate the stored GitHub credential (`ADMIN_TOKEN` only).
//! Only metadata ever leaves: fingerprint, when it was set, key id, source.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::credentials::{CredentialMetadata, CredentialSource, RotateCredentialRequest};
use service_kit::extract::{Path, ValidatedJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::state::AppState;
use crate::validation::Checked;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_credentials))
        .routes(routes!(rotate_credential))
}

/// Metadata of the stored credentials.
#[utoipa::path(
    get,
    path = "/api/v1/github/admin/credentials",
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
    state.github().auth().seed().await?;
    Ok(Json(state.vault().list().await?))
}

/// Replace the credential of the service's mode (`github_token`, or `github_app_private_key` in App mode);
/// the next call to GitHub uses it (App mode: fresh installation tokens). Answers its metadata.
#[utoipa::path(
    put,
    path = "/api/v1/github/admin/credentials/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "`github_token` or `github_app_private_key`")),
    request_body = RotateCredentialRequest,
    responses(
        (status = 200, description = "Stored", body = CredentialMetadata),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "Not the admin token", body = ErrorBody),
        (status = 403, description = "ADMIN_TOKEN is not set", body = ErrorBody),
        (status = 404, description = "Not the credential of the service's mode", body = ErrorBody),
        (status = 422, description = "Empty or too long, or not a usable token or PEM RSA key", body = ErrorBody),
        (status = 503, description = "The credential database is down", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
pub async fn rotate_credential(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<RotateCredentialRequest>>,
) -> Result<Json<CredentialMetadata>, Error> {
    let auth = state.github().auth();
    let value = request.value.trim();
    auth.check_rotation(&name, value)?;
    // Seed first, so a pending seed of the start-up value cannot overwrite this rotation later.
    auth.seed().await?;
    let stored = state
        .vault()
        .store(&name, value, CredentialSource::Rotation)
        .await?;
    auth.forget_installation_tokens().await;
    tracing::info!(credential = %name, fingerprint = %stored.fingerprint, "credential rotated");
    Ok(Json(stored))
}
