//! `/api/v1/github/repos/{owner}/{repo}/issues/{number}`: an issue (or a pull request's conversation) with its comments.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::github::IssueWithComments;
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::Path;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_repository, operation};
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_issue))
}

/// Get an issue and its comments (oldest first, at most 1,000).
#[utoipa::path(
    get,
    path = "/api/v1/github/repos/{owner}/{repo}/issues/{number}",
    tag = "issues",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("number" = u64, Path, description = "Issue or pull request number"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to: logged to its 05-microservices-flow.jsonl"),
    ),
    responses(
        (status = 200, description = "The issue and its comments", body = IssueWithComments),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such issue (or the credentials cannot see it)", body = ErrorBody),
        (status = 422, description = "owner or repo is not a GitHub name", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn get_issue(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Result<Json<IssueWithComments>, Error> {
    caller.require(operation::GET_ISSUE)?;
    check_repository(&owner, &repo)?;
    let (issue, comments, comments_truncated) = state
        .github()
        .issue_with_comments(&owner, &repo, number, &context)
        .await?;
    Ok(Json(IssueWithComments {
        issue,
        comments,
        comments_truncated,
    }))
}
