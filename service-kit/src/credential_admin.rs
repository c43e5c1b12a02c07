//! The credentials a provider service holds: stored at start from its environment, and seen and rotated at
//! `/api/v1/<provider>/admin/credentials` (`ADMIN_TOKEN` only, through
//! [`ProviderPlumbing::admin_layers`](crate::provider_service::ProviderPlumbing::admin_layers)).
//! Only metadata ever leaves: fingerprint, when it was set, key id, source.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::credentials::{CredentialMetadata, CredentialSource, RotateCredentialRequest};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::Operation;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorResponse;
use crate::extract::{Path, Validate, ValidatedJson, ValidationErrors};
use crate::vault::{Vault, VaultError};

/// The longest credential value accepted by a rotation.
pub const MAX_CREDENTIAL_CHARS: usize = 8192;

/// How often storing the credential read at start is retried while the database is down.
const SEED_RETRY: Duration = Duration::from_secs(5);

/// What differs between the services' credential endpoints.
#[derive(Debug, Clone)]
pub struct CredentialAdmin {
    /// The path segment after `/api/v1/`: `slack`, `jira`, …
    pub provider_path: &'static str,
    /// The provider as people name it, in the documentation: `Slack`, `Jira`, …
    pub provider_title: &'static str,
    /// The credentials a rotation may replace in this deployment.
    pub credential_names: Vec<&'static str>,
    /// The credential names the documentation lists (every deployment's).
    pub documented_names: &'static [&'static str],
    pub vault: Vault,
}

impl CredentialAdmin {
    /// The unlayered admin routes, with their OpenAPI document.
    pub fn routes(self) -> OpenApiRouter {
        let prefix = format!("/api/v1/{}", self.provider_path);
        let summary = format!(
            "Replace a credential; the next call to {} uses it. Answers its metadata, never the value.",
            self.provider_title
        );
        let names = self
            .documented_names
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut router = OpenApiRouter::new()
            .nest(
                &prefix,
                OpenApiRouter::new()
                    .routes(routes!(list_credentials))
                    .routes(routes!(rotate_credential)),
            )
            .with_state(self);
        if let Some(rotate) = router
            .get_openapi_mut()
            .paths
            .paths
            .get_mut(&format!("{prefix}/admin/credentials/{{name}}"))
            .and_then(|item| item.put.as_mut())
        {
            describe_rotation(rotate, summary, names);
        }
        router
    }
}

/// The rotation's summary and `name` parameter name this service's provider and credentials.
fn describe_rotation(rotate: &mut Operation, summary: String, names: String) {
    rotate.summary = Some(summary);
    for parameter in rotate.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && parameter.name == "name"
        {
            parameter.description = Some(names.clone());
        }
    }
}

/// Metadata of the stored credentials.
#[utoipa::path(
    get,
    path = "/admin/credentials",
    tag = "admin",
    responses(
        (status = 200, description = "Stored credentials (metadata only)", body = [CredentialMetadata]),
        (status = 401, description = "Not the admin token", body = ErrorBody),
        (status = 403, description = "ADMIN_TOKEN is not set", body = ErrorBody),
        (status = 503, description = "The credential database is down", body = ErrorBody),
    ),
    security(("admin_token" = []))
)]
async fn list_credentials(
    State(admin): State<CredentialAdmin>,
) -> Result<Json<Vec<CredentialMetadata>>, VaultError> {
    Ok(Json(admin.vault.list().await?))
}

/// Replace a credential. The summary naming the provider is set by [`CredentialAdmin::routes`].
#[utoipa::path(
    put,
    path = "/admin/credentials/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "set by CredentialAdmin::routes")),
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
async fn rotate_credential(
    State(admin): State<CredentialAdmin>,
    Path(name): Path<String>,
    ValidatedJson(Rotation(request)): ValidatedJson<Rotation>,
) -> Result<Json<CredentialMetadata>, ErrorResponse> {
    if !admin.credential_names.contains(&name.as_str()) {
        return Err(ErrorResponse::not_found(format!(
            "no credential `{}`; this service holds {}",
            name.chars().take(60).collect::<String>(),
            admin.credential_names.join(", ")
        )));
    }
    let stored = admin
        .vault
        .store(&name, request.value.trim(), CredentialSource::Rotation)
        .await?;
    tracing::info!(credential = %name, fingerprint = %stored.fingerprint, "credential rotated");
    Ok(Json(stored))
}

/// A rotation request with its range checks.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct Rotation(RotateCredentialRequest);

impl Validate for Rotation {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let value = self.0.value.trim();
        let mut errors = ValidationErrors::new();
        errors.check_length("value", value, 1, MAX_CREDENTIAL_CHARS);
        errors.check(
            !value.chars().any(|c| c.is_whitespace() || c.is_control()),
            "value",
            "a token has no whitespace or control characters",
        );
        errors.finish()
    }
}

/// Moves rows to the current key and stores the credential read at start under `name`. When the database is
/// down this is retried in the background, so the service starts (and says so on `/ready`) without it.
pub async fn seed_credentials(vault: Vault, name: &'static str, secret: Option<String>) {
    async fn seed(vault: &Vault, name: &str, secret: Option<&str>) -> Result<(), VaultError> {
        vault.reencrypt_all().await?;
        if let Some(secret) = secret {
            vault.seed_from_environment(name, secret).await?;
        }
        Ok(())
    }
    if let Err(error) = seed(&vault, name, secret.as_deref()).await {
        tracing::warn!(%error, "could not store the credential read at start; retrying in the background");
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SEED_RETRY).await;
                match seed(&vault, name, secret.as_deref()).await {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::warn!(%error, "could not store the credential read at start; retrying")
                    }
                }
            }
        });
    }
}
