//! `/api/v1/github/repos/{owner}/{repo}/git-access`: issue (POST) and revoke (DELETE) a task's token for the
//! git smart-HTTP proxy (see `crate::git_access` and `crate::git_proxy`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::{Json, Router};
use contracts::github::{GitAccess, GitAccessRevoked};
use contracts::{ErrorBody, TaskId, headers};
use service_kit::call_log::{CallContext, record_calls};
use service_kit::caller_auth::{Caller, authenticate};
use service_kit::extract::Path;
use service_kit::provider_service::ProviderPlumbing;
use service_kit::trace_context::trace_requests;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_repository, operation};
use crate::error::Error;
use crate::git_access::GitAccessError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_git_access, revoke_git_access))
}

/// The layers of these routes: trace context, call log, caller token, and deliberately no
/// `Idempotency-Key` (its replay store would keep the token in clear; a repeat issues another token).
pub fn layered(router: Router, plumbing: &ProviderPlumbing) -> Router {
    router
        .layer(from_fn_with_state(plumbing.auth.clone(), authenticate))
        .layer(from_fn_with_state(plumbing.call_log.clone(), record_calls))
        .layer(from_fn(trace_requests))
}

/// The `X-Task-Id` the token is bound to: required, and well formed.
fn task_id(headers: &HeaderMap) -> Result<TaskId, GitAccessError> {
    headers
        .get(headers::TASK_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or(GitAccessError::TaskIdRequired)
}

/// The base of clone URLs: `GITHUB_SERVICE_PUBLIC_URL`, else the address the caller reached the service at.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.git().settings().public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// A token for the git proxy, for this task and repository: clone and fetch, and push any branch but the
/// default one. It expires after `GIT_ACCESS_TTL` (default 2 h). `Idempotency-Key` is not honoured here: a
/// repeat issues another token (tokens are kept only as digests), and DELETE revokes them all.
#[utoipa::path(
    post,
    path = "/api/v1/github/repos/{owner}/{repo}/git-access",
    tag = "git",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("X-Task-Id" = String, Header, description = "The task the token belongs to (required)"),
    ),
    responses(
        (status = 201, description = "The token, the clone URL, when it expires and the protected default branch", body = GitAccess),
        (status = 400, description = "No or malformed X-Task-Id", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not the agent role", body = ErrorBody),
        (status = 404, description = "GitHub has no such repository (or the credential cannot see it)", body = ErrorBody),
        (status = 422, description = "Not a GitHub owner or repository name", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Redis (the token store) is down, or GitHub rate-limits", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn issue_git_access(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<GitAccess>), Error> {
    caller.require(operation::GIT_ACCESS)?;
    check_repository(&owner, &repo)?;
    let task_id = task_id(&headers)?;
    let default_branch = state
        .git()
        .default_branch(state.github(), &owner, &repo, &context)
        .await?;
    let issued = state.git().issue(&task_id, &owner, &repo).await?;
    tracing::info!(%task_id, %owner, %repo, expires_at = %issued.grant.expires_at, "git access issued");
    Ok((
        StatusCode::CREATED,
        Json(GitAccess {
            token: issued.token,
            clone_url: format!("{}/git/{owner}/{repo}.git", public_base(&state, &headers)),
            expires_at: issued.grant.expires_at,
            default_branch,
        }),
    ))
}

/// Revoke every token this task holds for the repository (when the task ends).
#[utoipa::path(
    delete,
    path = "/api/v1/github/repos/{owner}/{repo}/git-access",
    tag = "git",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("X-Task-Id" = String, Header, description = "The task whose tokens are revoked (required)"),
    ),
    responses(
        (status = 200, description = "How many live tokens were revoked", body = GitAccessRevoked),
        (status = 400, description = "No or malformed X-Task-Id", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not the agent role", body = ErrorBody),
        (status = 422, description = "Not a GitHub owner or repository name", body = ErrorBody),
        (status = 503, description = "Redis (the token store) is down", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn revoke_git_access(
    caller: Caller,
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<GitAccessRevoked>, Error> {
    caller.require(operation::GIT_ACCESS)?;
    check_repository(&owner, &repo)?;
    let task_id = task_id(&headers)?;
    let revoked = state.git().revoke(&task_id, &owner, &repo).await?;
    tracing::info!(%task_id, %owner, %repo, revoked, "git access revoked");
    Ok(Json(GitAccessRevoked { revoked }))
}
