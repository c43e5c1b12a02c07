//! `/api/v1/sentry/issues/{issue_id}/events/latest`: the issue's latest event.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::sentry::SentryEvent;
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
    OpenApiRouter::new().routes(routes!(latest_event))
}

/// The latest event: exceptions with their stack traces, tags, breadcrumbs.
#[utoipa::path(
    get,
    path = "/api/v1/sentry/issues/{issue_id}/events/latest",
    tag = "events",
    params(("issue_id" = String, Path, description = "Numeric issue id")),
    responses(
        (status = 200, description = "The latest event", body = SentryEvent),
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
pub async fn latest_event(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path(issue_id): Path<String>,
) -> Result<Json<SentryEvent>, Error> {
    caller.require(operation::GET_LATEST_EVENT)?;
    let mut errors = ValidationErrors::new();
    validation::numeric_id(&mut errors, "issue_id", &issue_id);
    errors.finish()?;
    let token = state.auth_token().await?;
    Ok(Json(
        state
            .sentry()
            .latest_event(&issue_id, &token, &context)
            .await?,
    ))
}
