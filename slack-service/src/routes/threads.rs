//! `/api/v1/slack/threads/{channel}/{thread_ts}/replies`: read a thread.

use axum::Json;
use axum::extract::State;
use contracts::ErrorBody;
use contracts::slack::{ThreadReplies, ThreadRepliesQuery};
use service_kit::call_log::CallContext;
use service_kit::caller_auth::Caller;
use service_kit::extract::{Path, Query, ValidationErrors};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::operation;
use crate::error::Error;
use crate::slack_api::DEFAULT_REPLIES_LIMIT;
use crate::state::AppState;
use crate::validation;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(thread_replies))
}

/// One page of a thread, parent first (`conversations.replies`).
#[utoipa::path(
    get,
    path = "/api/v1/slack/threads/{channel}/{thread_ts}/replies",
    tag = "threads",
    params(
        ("channel" = String, Path, description = "Channel id"),
        ("thread_ts" = String, Path, description = "`ts` of the thread's parent message"),
        ThreadRepliesQuery,
    ),
    responses(
        (status = 200, description = "The thread's messages", body = ThreadReplies),
        (status = 400, description = "An unknown query parameter", body = ErrorBody),
        (status = 401, description = "No or wrong caller token", body = ErrorBody),
        (status = 403, description = "Not allowed for the caller's role", body = ErrorBody),
        (status = 404, description = "Slack: channel_not_found, thread_not_found", body = ErrorBody),
        (status = 422, description = "A value out of range", body = ErrorBody),
        (status = 502, description = "Slack failed or refused the bot token", body = ErrorBody),
        (status = 503, description = "Rate-limited past the call's deadline", body = ErrorBody),
        (status = 504, description = "Slack did not answer in time", body = ErrorBody),
    ),
    security(("caller_token" = []))
)]
pub async fn thread_replies(
    caller: Caller,
    context: CallContext,
    State(state): State<AppState>,
    Path((channel, thread_ts)): Path<(String, String)>,
    Query(query): Query<ThreadRepliesQuery>,
) -> Result<Json<ThreadReplies>, Error> {
    caller.require(operation::READ_THREAD)?;
    let limit = query.limit.unwrap_or(DEFAULT_REPLIES_LIMIT);
    let mut errors = ValidationErrors::new();
    validation::slack_id(&mut errors, "channel", &channel);
    validation::timestamp(&mut errors, "thread_ts", &thread_ts);
    validation::replies_limit(&mut errors, "limit", limit);
    errors.finish()?;
    let token = state.bot_token().await?;
    let replies = state
        .slack()
        .thread_replies(
            &channel,
            &thread_ts,
            limit,
            query.cursor.as_deref(),
            &token,
            &context,
        )
        .await?;
    Ok(Json(replies))
}
