//! `/api/v1/slack/conversations/dm`: open a direct-message conversation.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::slack::{DirectMessageChannel, OpenDirectMessageRequest};
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
    OpenApiRouter::new().routes(routes!(open_direct_message))
}

/// Open (or find) the DM with one or more users (`conversations.open`).
#[utoipa::path(
    post,
    path = "/api/v1/slack/conversations/dm",
    tag = "conversations",
    request_body = OpenDirectMessageRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Slack is called once.")),
    responses(
        (status = 200, description = "The DM channel", body = DirectMessageChannel),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "Slack: user_not_found, users_not_found", body = ErrorBody),
        (status = 422, description = "A value out of range, or Slack refused", body = ErrorBody),
        (status = 502, description = "Slack failed or refused the bot token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Slack did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn open_direct_message(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<OpenDirectMessageRequest>>,
) -> Result<Json<DirectMessageChannel>, Error> {
    caller.require(operation::OPEN_DIRECT_MESSAGE)?;
    let token = state.bot_token().await?;
    let opened = state
        .slack()
        .open_direct_message(&request, &token, &context)
        .await?;
    Ok(Json(opened))
}
