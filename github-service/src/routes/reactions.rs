//! Reactions on an issue or pull request, on an issue comment, and on a pull request review comment.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::ErrorBody;
use contracts::github::{AddReactionRequest, Reaction};
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::{Path, ValidatedJson};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_repository, operation};
use crate::error::Error;
use crate::github_api::ReactionTarget;
use crate::state::AppState;
use crate::validation::Checked;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(react_to_issue))
        .routes(routes!(react_to_issue_comment))
        .routes(routes!(react_to_review_comment))
}

async fn add(
    caller: Caller,
    context: CallContext,
    state: AppState,
    owner: String,
    repo: String,
    target: ReactionTarget,
    content: String,
) -> Result<(StatusCode, Json<Reaction>), Error> {
    caller.require(operation::ADD_REACTION)?;
    check_repository(&owner, &repo)?;
    let reaction = state
        .github()
        .add_reaction(&owner, &repo, target, &content, &context)
        .await?;
    let status = if reaction.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(reaction)))
}

/// React to an issue or a pull request.
#[utoipa::path(
    post,
    path = "/api/v1/github/repos/{owner}/{repo}/issues/{number}/reactions",
    tag = "reactions",
    request_body = AddReactionRequest,
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("number" = u64, Path, description = "Issue or pull request number"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 201, description = "Added", body = Reaction),
        (status = 200, description = "The same reaction was already there", body = Reaction),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such issue", body = ErrorBody),
        (status = 422, description = "Not a GitHub reaction, or GitHub rejected it", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "GitHub did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn react_to_issue(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<AddReactionRequest>>,
) -> Result<(StatusCode, Json<Reaction>), Error> {
    add(
        caller,
        context,
        state,
        owner,
        repo,
        ReactionTarget::Issue(number),
        request.content,
    )
    .await
}

/// React to a comment on an issue or a pull request's conversation.
#[utoipa::path(
    post,
    path = "/api/v1/github/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    tag = "reactions",
    request_body = AddReactionRequest,
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("comment_id" = u64, Path, description = "The issue comment's id"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 201, description = "Added", body = Reaction),
        (status = 200, description = "The same reaction was already there", body = Reaction),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such comment", body = ErrorBody),
        (status = 422, description = "Not a GitHub reaction, or GitHub rejected it", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn react_to_issue_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, comment_id)): Path<(String, String, u64)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<AddReactionRequest>>,
) -> Result<(StatusCode, Json<Reaction>), Error> {
    add(
        caller,
        context,
        state,
        owner,
        repo,
        ReactionTarget::IssueComment(comment_id),
        request.content,
    )
    .await
}

/// React to a pull request review comment (a comment on a line of the diff).
#[utoipa::path(
    post,
    path = "/api/v1/github/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
    tag = "reactions",
    request_body = AddReactionRequest,
    params(
        ("owner" = String, Path, description = "Account owning the repository"),
        ("repo" = String, Path, description = "Repository name"),
        ("comment_id" = u64, Path, description = "The review comment's id"),
        ("X-Task-Id" = Option<String>, Header, description = "The task this call belongs to"),
    ),
    responses(
        (status = 201, description = "Added", body = Reaction),
        (status = 200, description = "The same reaction was already there", body = Reaction),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "GitHub has no such review comment", body = ErrorBody),
        (status = 422, description = "Not a GitHub reaction, or GitHub rejected it", body = ErrorBody),
        (status = 502, description = "GitHub failed or refused the credentials", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn react_to_review_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((owner, repo, comment_id)): Path<(String, String, u64)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<AddReactionRequest>>,
) -> Result<(StatusCode, Json<Reaction>), Error> {
    add(
        caller,
        context,
        state,
        owner,
        repo,
        ReactionTarget::ReviewComment(comment_id),
        request.content,
    )
    .await
}
