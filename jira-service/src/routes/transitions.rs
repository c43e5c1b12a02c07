//! `/api/v1/jira/issues/{issue_key}/transitions`: list the transitions an issue can take, apply one.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::jira::{ApplyTransitionRequest, TransitionApplied, TransitionList};
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
    OpenApiRouter::new().routes(routes!(list_transitions, apply_transition))
}

/// The transitions the service's account may apply to the issue now.
#[utoipa::path(
    get,
    path = "/api/v1/jira/issues/{issue_key}/transitions",
    tag = "transitions",
    params(("issue_key" = String, Path, description = "Issue key (`PROJ-42`) or id")),
    responses(
        (status = 200, description = "Available transitions", body = TransitionList),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue", body = ErrorBody),
        (status = 422, description = "Not an issue key", body = ErrorBody),
        (status = 502, description = "Jira failed or refused the service's credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Jira did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn list_transitions(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_key): Path<String>,
) -> Result<Json<TransitionList>, Error> {
    caller.require(operation::LIST_TRANSITIONS)?;
    let mut errors = ValidationErrors::new();
    validation::issue_key(&mut errors, "issue_key", &issue_key);
    errors.finish()?;
    let secret = state.secret().await?;
    let transitions = state
        .jira()
        .transitions(&issue_key, &secret, &context)
        .await?;
    Ok(Json(TransitionList {
        issue_key,
        transitions,
    }))
}

/// Apply a transition, named by id or by name (a name is looked up among the available transitions).
#[utoipa::path(
    post,
    path = "/api/v1/jira/issues/{issue_key}/transitions",
    tag = "transitions",
    request_body = ApplyTransitionRequest,
    params(
        ("issue_key" = String, Path, description = "Issue key (`PROJ-42`) or id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Jira is called once."),
    ),
    responses(
        (status = 200, description = "Applied", body = TransitionApplied),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "No such issue", body = ErrorBody),
        (status = 422, description = "A value out of range, no such transition now, or Jira refused it", body = ErrorBody),
        (status = 502, description = "Jira failed or refused the service's credentials", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Jira did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn apply_transition(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_key): Path<String>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<ApplyTransitionRequest>>,
) -> Result<Json<TransitionApplied>, Error> {
    caller.require(operation::APPLY_TRANSITION)?;
    let mut errors = ValidationErrors::new();
    validation::issue_key(&mut errors, "issue_key", &issue_key);
    errors.finish()?;
    let secret = state.secret().await?;
    let available = state
        .jira()
        .transitions(&issue_key, &secret, &context)
        .await?;
    let chosen =
        available.iter().find(
            |t| match (&request.transition_id, &request.transition_name) {
                (Some(id), _) => t.id == *id,
                (None, Some(name)) => t.name.eq_ignore_ascii_case(name.trim()),
                (None, None) => false,
            },
        );
    let Some(transition) = chosen.cloned() else {
        return Err(Error::TransitionUnavailable {
            name: request
                .transition_id
                .or(request.transition_name)
                .unwrap_or_default(),
            available: available
                .into_iter()
                .map(|t| format!("{} ({})", t.name, t.id))
                .collect(),
        });
    };
    state
        .jira()
        .apply_transition(&issue_key, &transition.id, &secret, &context)
        .await?;
    Ok(Json(TransitionApplied {
        issue_key,
        transition,
    }))
}
