use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use service_kit::extract::Query;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{TaskPath, json_bytes};
use crate::error::Error;
use crate::logs::{parse_stream_name, stream_name};
use crate::state::AppState;

pub const DEFAULT_LINES: usize = 1000;
pub const MAX_LINES: usize = 10_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(combined_log))
        .routes(routes!(stream_page))
}

/// The four streams of a task; each line is the JSON object a writer appended, or
/// `{"corrupt": true, "partial": bool, "raw": "…"}` for a line that is not one.
#[derive(Serialize, ToSchema)]
pub struct Streams {
    webhook_flow: Vec<serde_json::Value>,
    queue_flow: Vec<serde_json::Value>,
    agent_output: Vec<serde_json::Value>,
    microservices_flow: Vec<serde_json::Value>,
}

/// Everything in a task's log directory, as in the log layout. Absent files are `null`.
#[derive(Serialize, ToSchema)]
pub struct CombinedLog {
    task_id: String,
    metadata: Option<serde_json::Value>,
    input: Option<serde_json::Value>,
    streams: Streams,
    final_result: Option<serde_json::Value>,
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task_id}/logs",
    params(("task_id" = String, Path, description = "`task-<uuidv7>`")),
    responses(
        (status = 200, description = "The combined log", body = CombinedLog),
        (status = 400, description = "Not a task id", body = contracts::ErrorBody),
        (status = 404, description = "No such task", body = contracts::ErrorBody),
    ),
    tag = "logs"
)]
pub async fn combined_log(
    State(state): State<AppState>,
    path: TaskPath,
) -> Result<Response, Error> {
    let task_id = path.task_id;
    let logs = state.logs.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, Error> {
        if !logs.exists(&task_id) {
            return Ok(None);
        }
        Ok(Some(logs.combined(&task_id)?))
    })
    .await
    .map_err(std::io::Error::other)??;
    body.map(json_bytes).ok_or(Error::TaskNotFound(task_id))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Skip the first `after` lines (the `next_after` of the previous answer).
    after: Option<u64>,
    /// At most this many lines, 1 to 10 000 (default 1 000).
    limit: Option<usize>,
}

/// A window of one stream.
#[derive(Serialize, ToSchema)]
pub struct StreamPage {
    task_id: String,
    /// webhook_flow, queue_flow, agent_output or microservices_flow.
    stream: String,
    after: u64,
    /// Lines `after + 1 …`, as in [`Streams`].
    lines: Vec<serde_json::Value>,
    /// Pass as `after` to continue (or to poll for new lines).
    next_after: u64,
    /// More lines exist beyond this page right now.
    more: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task_id}/logs/{stream}",
    params(
        ("task_id" = String, Path, description = "`task-<uuidv7>`"),
        ("stream" = String, Path, description = "webhook_flow, queue_flow, agent_output or microservices_flow"),
        StreamQuery,
    ),
    responses(
        (status = 200, description = "Lines of the stream", body = StreamPage),
        (status = 400, description = "Not a task id, unknown stream or bad window", body = contracts::ErrorBody),
        (status = 404, description = "No such task", body = contracts::ErrorBody),
    ),
    tag = "logs"
)]
pub async fn stream_page(
    State(state): State<AppState>,
    path: TaskPath,
    Query(query): Query<StreamQuery>,
) -> Result<Response, Error> {
    let task_id = path.task_id;
    let stream = path
        .stream
        .as_deref()
        .and_then(parse_stream_name)
        .ok_or_else(|| {
            Error::bad_request(
                "unknown_stream",
                "stream must be webhook_flow, queue_flow, agent_output or microservices_flow",
            )
        })?;
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(DEFAULT_LINES);
    if !(1..=MAX_LINES).contains(&limit) {
        return Err(Error::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {MAX_LINES}"),
        ));
    }
    let logs = state.logs.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, Error> {
        if !logs.exists(&task_id) {
            return Ok(None);
        }
        let mut out = format!(
            "{{\"task_id\":\"{task_id}\",\"stream\":\"{}\",\"after\":{after},\"lines\":",
            stream_name(stream)
        )
        .into_bytes();
        let (written, more) = logs.stream_lines(&task_id, stream, after, limit, &mut out)?;
        out.extend_from_slice(
            format!(
                ",\"next_after\":{},\"more\":{more}}}",
                after + written as u64
            )
            .as_bytes(),
        );
        Ok(Some(out))
    })
    .await
    .map_err(std::io::Error::other)??;
    body.map(json_bytes).ok_or(Error::TaskNotFound(task_id))
}
