//! `/api/v1/github/repos/{owner}/{repo}/branches`: create a branch.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::ErrorBody;
use contracts::github::{Branch, CreateBranchRequest};
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::{Path, ValidatedJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_repository, operation};
use crate::error::Error;
use crate::state::AppState;
use crate::validation::Checked;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_branch))
}

/// Create a branch at a commit, at another branch's head, or at the default branch's head.
#[utoipa::path(
    post,
    path = "/api/v1/github/repos/{owner}/{repo}/branches",
    tag = "branches",
    request_body = CreateBranchRequest,
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; GitHub is called once."),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 201, description = "The branch", body = Branch),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such repository or starting branch", body = ErrorBody),
        (status = 422, description = "A value out of range, or GitHub rejected it (e.g. the branch exists)", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn create_branch(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CreateBranchRequest>>,
) -> Result<(StatusCode, Json<Branch>), Error> {
    caller.require(operation::CREATE_BRANCH)?;
    check_repository(&owner, &repo)?;
    let branch = state
        .github()
        .create_branch(
            &owner,
            &repo,
            &request.name,
            request.from_branch.as_deref(),
            request.sha.as_deref(),
            &context,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(branch)))
}
