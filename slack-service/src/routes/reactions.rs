//! `/api/v1/slack/reactions`: add an emoji reaction to a message.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::slack::{AddReactionRequest, ReactionAdded};
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::ValidatedJson;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::operation;
use crate::error::Error;
use crate::state::AppState;
use crate::validation::Checked;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_reaction))
}

/// Add a reaction (`reactions.add`); a reaction already there is success with `already_reacted: true`.
#[utoipa::path(
    post,
    path = "/api/v1/slack/reactions",
    tag = "reactions",
    request_body = AddReactionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Slack is called once.")),
    responses(
        (status = 200, description = "The reaction is on the message", body = ReactionAdded),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "Slack: channel_not_found, message_not_found", body = ErrorBody),
        (status = 422, description = "A value out of range, or Slack refused (invalid_name, too_many_reactions, …)", body = ErrorBody),
        (status = 502, description = "Slack failed or refused the bot token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Slack did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn add_reaction(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<AddReactionRequest>>,
) -> Result<Json<ReactionAdded>, Error> {
    caller.require(operation::ADD_REACTION)?;
    let token = state.bot_token().await?;
    let added = state
        .slack()
        .add_reaction(&request, &token, &context)
        .await?;
    Ok(Json(added))
}
