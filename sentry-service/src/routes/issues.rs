//! `/api/v1/sentry/issues/{issue_id}`: read an issue, set its status or assignee.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::sentry::{SentryIssue, UpdateAssigneeRequest, UpdateStatusRequest};
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
        .routes(routes!(get_issue))
        .routes(routes!(update_status))
        .routes(routes!(update_assignee))
}

fn checked_issue_id(issue_id: &str) -> Result<(), Error> {
    let mut errors = ValidationErrors::new();
    validation::numeric_id(&mut errors, "issue_id", issue_id);
    Ok(errors.finish()?)
}

/// An issue: title, culprit, level, status, counts, assignee.
#[utoipa::path(
    get,
    path = "/api/v1/sentry/issues/{issue_id}",
    tag = "issues",
    params(("issue_id" = String, Path, description = "Numeric issue id")),
    responses(
        (status = 200, description = "The issue", body = SentryIssue),
        (status = 422, description = "Not an issue id", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue in the organization", body = ErrorBody),
        (status = 502, description = "Sentry failed or refused the service's token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Sentry did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn get_issue(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_id): Path<String>,
) -> Result<Json<SentryIssue>, Error> {
    caller.require(operation::GET_ISSUE)?;
    checked_issue_id(&issue_id)?;
    let token = state.auth_token().await?;
    Ok(Json(
        state.sentry().issue(&issue_id, &token, &context).await?,
    ))
}

/// Set the issue's status (resolve, resolve in the next release, unresolve, ignore).
#[utoipa::path(
    put,
    path = "/api/v1/sentry/issues/{issue_id}/status",
    tag = "issues",
    request_body = UpdateStatusRequest,
    params(
        ("issue_id" = String, Path, description = "Numeric issue id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Sentry is called once."),
    ),
    responses(
        (status = 200, description = "The updated issue", body = SentryIssue),
        (status = 400, description = "Malformed JSON, an unknown field or status", body = ErrorBody),
        (status = 422, description = "Not an issue id, or Sentry refused the change", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue in the organization", body = ErrorBody),
        (status = 502, description = "Sentry failed or refused the service's token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Sentry did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn update_status(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_id): Path<String>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<UpdateStatusRequest>>,
) -> Result<Json<SentryIssue>, Error> {
    caller.require(operation::UPDATE_STATUS)?;
    checked_issue_id(&issue_id)?;
    let token = state.auth_token().await?;
    let issue = state
        .sentry()
        .update_status(&issue_id, request.status, &token, &context)
        .await?;
    Ok(Json(issue))
}

/// Assign the issue to a user or team, or clear its assignee with `null`.
#[utoipa::path(
    put,
    path = "/api/v1/sentry/issues/{issue_id}/assignee",
    tag = "issues",
    request_body = UpdateAssigneeRequest,
    params(
        ("issue_id" = String, Path, description = "Numeric issue id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Sentry is called once."),
    ),
    responses(
        (status = 200, description = "The updated issue", body = SentryIssue),
        (status = 400, description = "Malformed JSON, an unknown or a missing field", body = ErrorBody),
        (status = 422, description = "A value out of range, or Sentry refused the assignee", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue in the organization", body = ErrorBody),
        (status = 502, description = "Sentry failed or refused the service's token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Sentry did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn update_assignee(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_id): Path<String>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<UpdateAssigneeRequest>>,
) -> Result<Json<SentryIssue>, Error> {
    caller.require(operation::UPDATE_ASSIGNEE)?;
    checked_issue_id(&issue_id)?;
    let token = state.auth_token().await?;
    let issue = state
        .sentry()
        .update_assignee(&issue_id, request.assignee.as_deref(), &token, &context)
        .await?;
    Ok(Json(issue))
}
