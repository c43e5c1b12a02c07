//! Issue and pull request comments: post (`…/issues/{number}/comments`), update and delete
//! (`…/issues/comments/{comment_id}`). A pull request's conversation comments are issue comments.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::ErrorBody;
use contracts::github::{CommentRequest, IssueComment};
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
        .routes(routes!(post_comment))
        .routes(routes!(update_comment, delete_comment))
}

/// Post a comment on an issue or a pull request. Not retried where GitHub might already have created it;
/// send `Idempotency-Key` to make a repeat safe.
#[utoipa::path(
    post,
    path = "/api/v1/github/repos/{owner}/{repo}/issues/{number}/comments",
    tag = "comments",
    request_body = CommentRequest,
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("number" = u64, Path, description = "Issue or pull request number"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; GitHub is called once."),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 201, description = "The comment", body = IssueComment),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such issue", body = ErrorBody),
        (status = 422, description = "A value out of range, or GitHub rejected the comment", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn post_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CommentRequest>>,
) -> Result<(StatusCode, Json<IssueComment>), Error> {
    caller.require(operation::POST_COMMENT)?;
    check_repository(&owner, &repo)?;
    let comment = state
        .github()
        .post_comment(&owner, &repo, number, &request.body, &context)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// Replace a comment's text.
#[utoipa::path(
    patch,
    path = "/api/v1/github/repos/{owner}/{repo}/issues/comments/{comment_id}",
    tag = "comments",
    request_body = CommentRequest,
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("comment_id" = u64, Path, description = "The comment's id"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 200, description = "The updated comment", body = IssueComment),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such comment", body = ErrorBody),
        (status = 422, description = "A value out of range, or GitHub rejected the text", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn update_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, comment_id)): Path<(String, String, u64)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CommentRequest>>,
) -> Result<Json<IssueComment>, Error> {
    caller.require(operation::UPDATE_COMMENT)?;
    check_repository(&owner, &repo)?;
    let comment = state
        .github()
        .update_comment(&owner, &repo, comment_id, &request.body, &context)
        .await?;
    Ok(Json(comment))
}

/// Delete a comment.
#[utoipa::path(
    delete,
    path = "/api/v1/github/repos/{owner}/{repo}/issues/comments/{comment_id}",
    tag = "comments",
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("comment_id" = u64, Path, description = "The comment's id"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such comment", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn delete_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, comment_id)): Path<(String, String, u64)>,
) -> Result<StatusCode, Error> {
    caller.require(operation::DELETE_COMMENT)?;
    check_repository(&owner, &repo)?;
    state
        .github()
        .delete_comment(&owner, &repo, comment_id, &context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
