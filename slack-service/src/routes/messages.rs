//! `/api/v1/slack/messages`: post a message (in a thread) and update it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::ErrorBody;
use contracts::slack::{MessageRef, PostMessageRequest, UpdateMessageRequest};
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
        .routes(routes!(post_message))
        .routes(routes!(update_message))
}

/// Post a message to a channel, or a reply in a thread (`chat.postMessage`).
#[utoipa::path(
    post,
    path = "/api/v1/slack/messages",
    tag = "messages",
    request_body = PostMessageRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Slack is called once.")),
    responses(
        (status = 201, description = "Posted", body = MessageRef),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "Slack: channel_not_found", body = ErrorBody),
        (status = 422, description = "A value out of range, or Slack refused the message", body = ErrorBody),
        (status = 502, description = "Slack failed or refused the bot token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Slack did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn post_message(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<PostMessageRequest>>,
) -> Result<(StatusCode, Json<MessageRef>), Error> {
    caller.require(operation::POST_MESSAGE)?;
    let token = state.bot_token().await?;
    let posted = state
        .slack()
        .post_message(&request, &token, &context)
        .await?;
    Ok((StatusCode::CREATED, Json(posted)))
}

/// Replace the text (and blocks) of a message the bot posted (`chat.update`).
#[utoipa::path(
    put,
    path = "/api/v1/slack/messages/{channel}/{ts}",
    tag = "messages",
    request_body = UpdateMessageRequest,
    params(
        ("channel" = String, Path, description = "Channel id"),
        ("ts" = String, Path, description = "The message's timestamp"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key gets the first answer; Slack is called once."),
    ),
    responses(
        (status = 200, description = "Updated", body = MessageRef),
        (status = 400, description = "Malformed JSON or an unknown field", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "Slack: channel_not_found, message_not_found", body = ErrorBody),
        (status = 422, description = "A value out of range, or Slack refused the update (cant_update_message, …)", body = ErrorBody),
        (status = 502, description = "Slack failed or refused the bot token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Slack did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn update_message(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((channel, ts)): Path<(String, String)>,
    ValidatedJson(Checked(request)): ValidatedJson<Checked<UpdateMessageRequest>>,
) -> Result<Json<MessageRef>, Error> {
    caller.require(operation::UPDATE_MESSAGE)?;
    let mut errors = ValidationErrors::new();
    validation::slack_id(&mut errors, "channel", &channel);
    validation::timestamp(&mut errors, "ts", &ts);
    errors.finish()?;
    let token = state.bot_token().await?;
    let updated = state
        .slack()
        .update_message(&channel, &ts, &request, &token, &context)
        .await?;
    Ok(Json(updated))
}
