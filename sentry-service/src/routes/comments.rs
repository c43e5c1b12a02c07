//! `/api/v1/sentry/issues/{issue_id}/comments`: add a comment (an issue note), replace a comment's text.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::ErrorBody;
use contracts::sentry::{CommentRequest, SentryComment};
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

/// Add a comment to the issue's activity.
#[utoipa::path(
    post,
    path = "/api/v1/sentry/issues/{issue_id}/comments",
    tag = "comments",
    request_body = CommentRequest,
    params(
        ("issue_id" = String, Path, description = "Numeric issue id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Sentry is called once."),
    ),
    responses(
        (status = 201, description = "Added", body = SentryComment),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 422, description = "A value out of range, or Sentry refused the comment", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue in the organization", body = ErrorBody),
        (status = 502, description = "Sentry failed or refused the service's token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Sentry did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn add_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_id): Path<String>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CommentRequest>>,
) -> Result<(StatusCode, Json<SentryComment>), Error> {
    caller.require(operation::ADD_COMMENT)?;
    let mut errors = ValidationErrors::new();
    validation::numeric_id(&mut errors, "issue_id", &issue_id);
    errors.finish()?;
    let token = state.auth_token().await?;
    let comment = state
        .sentry()
        .add_comment(&issue_id, &request.text, &token, &context)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// Replace a comment's text (Sentry lets the integration edit the notes it wrote).
#[utoipa::path(
    put,
    path = "/api/v1/sentry/issues/{issue_id}/comments/{comment_id}",
    tag = "comments",
    request_body = CommentRequest,
    params(
        ("issue_id" = String, Path, description = "Numeric issue id"),
        ("comment_id" = String, Path, description = "Numeric comment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Sentry is called once."),
    ),
    responses(
        (status = 200, description = "Updated", body = SentryComment),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 422, description = "A value out of range, or Sentry refused the comment", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue or comment in the organization", body = ErrorBody),
        (status = 502, description = "Sentry failed or refused the service's token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Sentry did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn update_comment(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((issue_id, comment_id)): Path<(String, String)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<CommentRequest>>,
) -> Result<Json<SentryComment>, Error> {
    caller.require(operation::UPDATE_COMMENT)?;
    let mut errors = ValidationErrors::new();
    validation::numeric_id(&mut errors, "issue_id", &issue_id);
    validation::numeric_id(&mut errors, "comment_id", &comment_id);
    errors.finish()?;
    let token = state.auth_token().await?;
    let comment = state
        .sentry()
        .update_comment(&issue_id, &comment_id, &request.text, &token, &context)
        .await?;
    Ok(Json(comment))
}
