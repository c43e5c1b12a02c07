//! `/api/v1/jira/issues/{issue_key}/comments`: add a comment, replace a comment's text.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::ErrorBody;
use contracts::jira::{CommentRequest, JiraComment};
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::{Path, ValidatedJson, ValidationErrors};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::operation;
use crate::error::Error;
use crate::state::AppState;
use crate::validation::{self, Checked};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_comment))
        .routes(routes!(update_comment))
}

/// Add a comment; its light markdown becomes ADF (Cloud) or wiki markup (Server).
#[utoipa::path(
    post,
    path = "/api/v1/jira/issues/{issue_key}/comments",
    tag = "comments",
    request_body = CommentRequest,
    params(
        ("issue_key" = String, Path, description = "Issue key (`PROJ-42`) or id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Jira is called once."),
    ),
    responses(
        (status = 201, description = "Added", body = JiraComment),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue", body = ErrorBody),
        (status = 422, description = "A value out of range, or Jira refused the comment", body = ErrorBody),
        (status = 502, description = "Jira failed or refused the service's credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Jira did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn add_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_key): Path<String>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CommentRequest>>,
) -> Result<(StatusCode, Json<JiraComment>), Error> {
    caller.require(operation::ADD_COMMENT)?;
    let mut errors = ValidationErrors::new();
    validation::issue_key(&mut errors, "issue_key", &issue_key);
    errors.finish()?;
    let secret = state.secret().await?;
    let comment = state
        .jira()
        .add_comment(&issue_key, &request.body, &secret, &context)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// Replace a comment's text.
#[utoipa::path(
    put,
    path = "/api/v1/jira/issues/{issue_key}/comments/{comment_id}",
    tag = "comments",
    request_body = CommentRequest,
    params(
        ("issue_key" = String, Path, description = "Issue key (`PROJ-42`) or id"),
        ("comment_id" = String, Path, description = "Comment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Jira is called once."),
    ),
    responses(
        (status = 200, description = "Updated", body = JiraComment),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue or comment", body = ErrorBody),
        (status = 422, description = "A value out of range, or Jira refused the comment", body = ErrorBody),
        (status = 502, description = "Jira failed or refused the service's credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Jira did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn update_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((issue_key, comment_id)): Path<(String, String)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CommentRequest>>,
) -> Result<Json<JiraComment>, Error> {
    caller.require(operation::UPDATE_COMMENT)?;
    let mut errors = ValidationErrors::new();
    validation::issue_key(&mut errors, "issue_key", &issue_key);
    validation::numeric_id(&mut errors, "comment_id", &comment_id);
    errors.finish()?;
    let secret = state.secret().await?;
    let comment = state
        .jira()
        .update_comment(&issue_key, &comment_id, &request.body, &secret, &context)
        .await?;
    Ok(Json(comment))
}
