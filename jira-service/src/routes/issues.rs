//! `/api/v1/jira/issues/{issue_key}`: read an issue with its comments.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::jira::JiraIssue;
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::{Path, ValidationErrors};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::operation;
use crate::error::Error;
use crate::state::AppState;
use crate::validation;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_issue))
}

/// An issue: summary, description and comments as plain text, status, people, labels.
#[utoipa::path(
    get,
    path = "/api/v1/jira/issues/{issue_key}",
    tag = "issues",
    params(("issue_key" = String, Path, description = "Issue key (`PROJ-42`) or id")),
    responses(
        (status = 200, description = "The issue", body = JiraIssue),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue (or not visible to the service's account)", body = ErrorBody),
        (status = 422, description = "Not an issue key", body = ErrorBody),
        (status = 502, description = "Jira failed or refused the service's credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Jira did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn get_issue(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_key): Path<String>,
) -> Result<Json<JiraIssue>, Error> {
    caller.require(operation::GET_ISSUE)?;
    let mut errors = ValidationErrors::new();
    validation::issue_key(&mut errors, "issue_key", &issue_key);
    errors.finish()?;
    let secret = state.secret().await?;
    Ok(Json(
        state
            .jira()
            .get_issue(&issue_key, &secret, &context)
            .await?,
    ))
}
