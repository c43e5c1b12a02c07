use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use deadpool_redis::redis::AsyncCommands;
use deadpool_redis::redis::streams::StreamRangeReply;
use serde::{Deserialize, Serialize};
use service_kit::extract::Query;
use service_kit::queue::QueueError;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TaskPath;
use crate::error::Error;
use crate::index::TaskSummary;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dead_letters))
        .routes(routes!(requeue_dead_letter))
}

/// One entry of `tasks:dead-letter`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadLetter {
    /// The stream entry id.
    pub entry_id: String,
    pub task_id: Option<String>,
    pub error: Option<String>,
    pub failed_at: Option<String>,
    pub attempts: Option<u64>,
    /// The envelope as JSON, or as the text it was when it does not parse.
    pub envelope: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadLetterPage {
    pub dead_letters: Vec<DeadLetter>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Entries after this entry id (`next_after` of the previous page).
    after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    limit: Option<usize>,
}

/// Lists dead-lettered tasks, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/dead-letters",
    params(DeadLetterQuery),
    responses(
        (status = 200, description = "A page of dead letters", body = DeadLetterPage),
        (status = 503, description = "Redis is unavailable", body = contracts::ErrorBody),
    ),
    tag = "dead-letters"
)]
pub async fn list_dead_letters(
    State(state): State<AppState>,
    Query(query): Query<DeadLetterQuery>,
) -> Result<Json<DeadLetterPage>, Error> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(Error::bad_request(
            "invalid_query",
            "limit must be between 1 and 500",
        ));
    }
    let start = match query.after.filter(|a| !a.is_empty()) {
        Some(after) if is_entry_id(&after) => format!("({after}"),
        Some(_) => {
            return Err(Error::bad_request(
                "invalid_query",
                "after must be a stream entry id like 1700000000000-0",
            ));
        }
        None => "-".to_owned(),
    };
    let mut connection = state.queue.pool().get().await.map_err(QueueError::from)?;
    let page: StreamRangeReply = connection
        .xrange_count(state.queue.keys().dead_letter_stream(), &start, "+", limit)
        .await
        .map_err(QueueError::from)?;
    let dead_letters: Vec<DeadLetter> = page
        .ids
        .iter()
        .map(|entry| DeadLetter {
            entry_id: entry.id.clone(),
            task_id: entry.get("task_id"),
            error: entry.get("error"),
            failed_at: entry.get("failed_at"),
            attempts: entry.get("attempts"),
            envelope: entry
                .get::<String>("envelope")
                .map(|raw| serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw))),
        })
        .collect();
    let next_after = (dead_letters.len() == limit)
        .then(|| dead_letters.last().map(|d| d.entry_id.clone()))
        .flatten();
    Ok(Json(DeadLetterPage {
        dead_letters,
        next_after,
    }))
}

fn is_entry_id(id: &str) -> bool {
    let mut parts = id.splitn(2, '-');
    let all_digits =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    all_digits(parts.next()) && all_digits(parts.next())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RequeueRequest {
    /// Who asks, recorded as `dashboard:<requested_by>` in the task's queue flow (default `dashboard`).
    pub requested_by: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequeueResponse {
    pub task_id: String,
    /// The new run number.
    pub run: u32,
    pub status: String,
    pub requested_by: String,
}

/// Re-queues a dead-lettered (or failed, or cancelled) task exactly as `@agent retry` does: same task id,
/// run raised, attempts restart, `requeued` in `03-queue-flow.jsonl`, `queued` on `task-events`.
#[utoipa::path(
    post,
    path = "/api/v1/dead-letters/{task_id}/requeue",
    params(("task_id" = String, Path, description = "`task-<uuidv7>`")),
    request_body(content = Option<RequeueRequest>, description = "Optional: who asks"),
    responses(
        (status = 200, description = "Queued again", body = RequeueResponse),
        (status = 400, description = "Not a task id or a bad body", body = contracts::ErrorBody),
        (status = 404, description = "No such task", body = contracts::ErrorBody),
        (status = 409, description = "The task is queued, running or succeeded", body = contracts::ErrorBody),
        (status = 503, description = "Redis is unavailable", body = contracts::ErrorBody),
    ),
    tag = "dead-letters"
)]
pub async fn requeue_dead_letter(
    State(state): State<AppState>,
    path: TaskPath,
    body: Bytes,
) -> Result<Json<RequeueResponse>, Error> {
    let task_id = path.task_id;
    let request: RequeueRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RequeueRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::bad_request("malformed_body", e.to_string()))?
    };
    let requested_by = match request
        .requested_by
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(name) if name.len() <= 100 && !name.chars().any(char::is_control) => {
            format!("dashboard:{name}")
        }
        Some(_) => {
            return Err(Error::bad_request(
                "malformed_body",
                "requested_by must be at most 100 printable characters",
            ));
        }
        None => "dashboard".to_owned(),
    };
    if !state.logs.exists(&task_id) {
        return Err(Error::TaskNotFound(task_id));
    }
    let envelope = state
        .queue
        .requeue(&state.log_writer, &task_id, &requested_by)
        .await?;
    // The `queued` event will say the same; the list should not wait for it.
    let dir = state.logs.task_dir(&task_id);
    if let Ok(Some(task)) =
        tokio::task::spawn_blocking(move || TaskSummary::from_log_dir(&dir)).await
        && let Err(e) = state.index.upsert(&task).await
    {
        tracing::warn!(error = %e, "could not update the index after a re-queue");
    }
    Ok(Json(RequeueResponse {
        task_id: task_id.to_string(),
        run: envelope.run,
        status: "queued".to_owned(),
        requested_by,
    }))
}
