//! Pull requests: read one, its diff and its files; open one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::ErrorBody;
use contracts::github::{CreatePullRequestRequest, PullRequest, PullRequestDiff, PullRequestFiles};
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
    OpenApiRouter::new()
        .routes(routes!(get_pull_request))
        .routes(routes!(get_pull_request_diff))
        .routes(routes!(get_pull_request_files))
        .routes(routes!(create_pull_request))
}

/// Get a pull request.
#[utoipa::path(
    get,
    path = "/api/v1/github/repos/{owner}/{repo}/pulls/{number}",
    tag = "pulls",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("number" = u64, Path, description = "Pull request number"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 200, description = "The pull request", body = PullRequest),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such pull request", body = ErrorBody),
        (status = 422, description = "owner or repo is not a GitHub name", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn get_pull_request(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Result<Json<PullRequest>, Error> {
    caller.require(operation::GET_PULL_REQUEST)?;
    check_repository(&owner, &repo)?;
    Ok(Json(
        state
            .github()
            .pull_request(&owner, &repo, number, &context)
            .await?,
    ))
}

/// Get a pull request's unified diff.
#[utoipa::path(
    get,
    path = "/api/v1/github/repos/{owner}/{repo}/pulls/{number}/diff",
    tag = "pulls",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("number" = u64, Path, description = "Pull request number"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 200, description = "The diff", body = PullRequestDiff),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such pull request", body = ErrorBody),
        (status = 422, description = "owner or repo is not a GitHub name, or the diff is too large for GitHub", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn get_pull_request_diff(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Result<Json<PullRequestDiff>, Error> {
    caller.require(operation::GET_PULL_REQUEST_DIFF)?;
    check_repository(&owner, &repo)?;
    let diff = state
        .github()
        .pull_request_diff(&owner, &repo, number, &context)
        .await?;
    Ok(Json(PullRequestDiff { diff }))
}

/// List the files a pull request changes (at most 3,000, GitHub's limit).
#[utoipa::path(
    get,
    path = "/api/v1/github/repos/{owner}/{repo}/pulls/{number}/files",
    tag = "pulls",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("number" = u64, Path, description = "Pull request number"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 200, description = "The files", body = PullRequestFiles),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such pull request", body = ErrorBody),
        (status = 422, description = "owner or repo is not a GitHub name", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn get_pull_request_files(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Result<Json<PullRequestFiles>, Error> {
    caller.require(operation::GET_PULL_REQUEST_FILES)?;
    check_repository(&owner, &repo)?;
    let (files, truncated) = state
        .github()
        .pull_request_files(&owner, &repo, number, &context)
        .await?;
    Ok(Json(PullRequestFiles { files, truncated }))
}

/// Open a pull request. Not retried where GitHub might already have opened it; send `Idempotency-Key`
/// to make a repeat safe.
#[utoipa::path(
    post,
    path = "/api/v1/github/repos/{owner}/{repo}/pulls",
    tag = "pulls",
    request_body = CreatePullRequestRequest,
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; GitHub is called once."),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 201, description = "The pull request", body = PullRequest),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such repository", body = ErrorBody),
        (status = 422, description = "A value out of range, or GitHub rejected it (e.g. one already exists, no commits between the branches)", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn create_pull_request(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CreatePullRequestRequest>>,
) -> Result<(StatusCode, Json<PullRequest>), Error> {
    caller.require(operation::CREATE_PULL_REQUEST)?;
    check_repository(&owner, &repo)?;
    let pull = state
        .github()
        .create_pull_request(&owner, &repo, &request, &context)
        .await?;
    Ok((StatusCode::CREATED, Json(pull)))
}
