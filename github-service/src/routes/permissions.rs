//! `/api/v1/github/repos/{owner}/{repo}/collaborators/{username}/permission`: what a user may do in a repository.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::github::RepositoryPermission;
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::{Path, ValidationErrors};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_repository, operation};
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check_permission))
}

/// A user's permission on a repository (`none` for someone without access).
#[utoipa::path(
    get,
    path = "/api/v1/github/repos/{owner}/{repo}/collaborators/{username}/permission",
    tag = "permissions",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("username" = String, Path, description = "The user's login"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 200, description = "The permission", body = RepositoryPermission),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such repository or user", body = ErrorBody),
        (status = 422, description = "owner, repo or username is not a GitHub name", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn check_permission(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, username)): Path<(String, String, String)>,
) -> Result<Json<RepositoryPermission>, Error> {
    caller.require(operation::CHECK_PERMISSION)?;
    check_repository(&owner, &repo)?;
    let mut errors = ValidationErrors::new();
    crate::validation::username(&mut errors, &username);
    errors.finish()?;
    Ok(Json(
        state
            .github()
            .permission(&owner, &repo, &username, &context)
            .await?,
    ))
}
