//! `GET /api/v1/tasks/{task_id}/stream`: Server-Sent Events following every stream of a task until it ends.
//!
//! Events: `status` (`{"status", "updated_at"}`, first and on every change), `line`
//! (`{"stream", "line", "event"}`, one per complete new line) and `end` (`{"status"}`, then the stream
//! closes). Every event's id is the position reached in all four streams, `<webhook>.<queue>.<agent>.<services>`
//! (lines delivered per stream), so a reconnect with `Last-Event-ID` resumes exactly where it stopped.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use contracts::task_log::LogFile;
use contracts::{TaskId, TaskMetadata, TaskStatus};
use futures::Stream;
use serde::Deserialize;
use service_kit::extract::Query;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TaskPath;
use crate::error::Error;
use crate::logs::{StreamTail, TaskLogs, stream_name};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(follow_task))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowQuery {
    /// Resume after this event id (the same as the `Last-Event-ID` header, which wins when both are given).
    after: Option<String>,
}

/// Positions in the four streams, in the order of [`LogFile::STREAMS`].
fn parse_cursor(raw: &str) -> Result<[u64; 4], Error> {
    let invalid = || {
        Error::bad_request(
            "invalid_event_id",
            format!("`{raw}` is not an event id of this stream"),
        )
    };
    let parts: Vec<u64> = raw
        .split('.')
        .map(|p| p.parse().map_err(|_| invalid()))
        .collect::<Result<_, _>>()?;
    parts.try_into().map_err(|_| invalid())
}

fn cursor(tails: &[StreamTail]) -> String {
    tails
        .iter()
        .map(|t| t.lines().to_string())
        .collect::<Vec<_>>()
        .join(".")
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task_id}/stream",
    params(
        ("task_id" = String, Path, description = "`task-<uuidv7>`"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id"),
        FollowQuery,
    ),
    responses(
        (status = 200, description = "`text/event-stream` of `status`, `line` and `end` events", content_type = "text/event-stream", body = String),
        (status = 400, description = "Not a task id, or not an event id", body = contracts::ErrorBody),
        (status = 404, description = "No such task", body = contracts::ErrorBody),
    ),
    tag = "logs"
)]
pub async fn follow_task(
    State(state): State<AppState>,
    path: TaskPath,
    headers: HeaderMap,
    Query(query): Query<FollowQuery>,
) -> Result<Response, Error> {
    let task_id = path.task_id;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(query.after)
        .filter(|v| !v.is_empty());
    let positions = match resume {
        Some(raw) => parse_cursor(&raw)?,
        None => [0; 4],
    };
    let logs = state.logs.clone();
    let tails = tokio::task::spawn_blocking(move || -> Result<Option<Vec<StreamTail>>, Error> {
        if !logs.exists(&task_id) {
            return Ok(None);
        }
        let tails = LogFile::STREAMS
            .into_iter()
            .zip(positions)
            .map(|(file, lines)| StreamTail::after_lines(logs.path(&task_id, file), lines))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Some(tails))
    })
    .await
    .map_err(std::io::Error::other)??
    .ok_or(Error::TaskNotFound(task_id))?;
    let events = follow(state, task_id, tails);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn current_status(logs: &TaskLogs, task_id: &TaskId) -> Option<(TaskStatus, String)> {
    let raw = std::fs::read(logs.path(task_id, LogFile::Metadata)).ok()?;
    let metadata: TaskMetadata = serde_json::from_slice(&raw).ok()?;
    Some((
        metadata.status,
        contracts::task_log::format_ts(metadata.updated_at),
    ))
}

fn line_events(tails: &mut [StreamTail]) -> Vec<Event> {
    let mut events = Vec::new();
    for index in 0..tails.len() {
        let name = stream_name(LogFile::STREAMS[index]);
        let new_lines = tails[index].read_new().unwrap_or_else(|e| {
            tracing::warn!(error = %e, stream = name, "could not read a task stream");
            Vec::new()
        });
        for (number, rendered) in new_lines {
            let data = format!(
                "{{\"stream\":\"{name}\",\"line\":{number},\"event\":{}}}",
                String::from_utf8_lossy(&rendered)
            );
            // Earlier streams are already complete up to their `lines()`; later ones were not read yet
            // in this round, so their position in the id is the one they had before it.
            let id = tails
                .iter()
                .enumerate()
                .map(|(i, t)| if i == index { number } else { t.lines() }.to_string())
                .collect::<Vec<_>>()
                .join(".");
            events.push(Event::default().event("line").id(id).data(data));
        }
    }
    events
}

fn follow(
    state: AppState,
    task_id: TaskId,
    mut tails: Vec<StreamTail>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    async_stream::stream! {
        let mut last_status: Option<TaskStatus> = None;
        loop {
            for event in line_events(&mut tails) {
                yield Ok(event);
            }
            if let Some((status, updated_at)) = current_status(&state.logs, &task_id) {
                if last_status != Some(status) {
                    last_status = Some(status);
                    let data = serde_json::json!({ "status": status, "updated_at": updated_at }).to_string();
                    yield Ok(Event::default().event("status").id(cursor(&tails)).data(data));
                }
                if status.is_terminal() {
                    // Lines written just before the final status.
                    for event in line_events(&mut tails) {
                        yield Ok(event);
                    }
                    let data = serde_json::json!({ "status": status }).to_string();
                    yield Ok(Event::default().event("end").id(cursor(&tails)).data(data));
                    break;
                }
            }
            tokio::select! {
                () = state.shutdown.cancelled() => break,
                () = tokio::time::sleep(state.sse_poll_interval) => {}
            }
        }
    }
}
