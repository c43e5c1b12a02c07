use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use contracts::{Command, Provider, TaskId, TaskStatus};
use serde::Deserialize;
use service_kit::extract::Query;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{TaskPath, json_bytes};
use crate::error::Error;
use crate::index::{TaskFilter, TaskPage, TaskSummary};
use crate::state::AppState;
use contracts::task_log::LogFile;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks))
        .routes(routes!(get_task))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// github, slack, jira or sentry.
    provider: Option<String>,
    /// queued, running, succeeded, failed, dead_lettered or cancelled.
    status: Option<String>,
    /// fix, review, explain, ask, investigate, cancel or retry.
    command: Option<String>,
    /// Repository (`owner/name`), Slack channel, Jira project key or Sentry organization.
    scope: Option<String>,
    /// Same as `scope`.
    repository: Option<String>,
    /// Same as `scope`.
    channel: Option<String>,
    /// Same as `scope`.
    project: Option<String>,
    /// Login, name or provider id of who asked.
    actor: Option<String>,
    /// Created at or after (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// Case-insensitive text in the instruction.
    q: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
}

fn checked<T: std::str::FromStr>(
    field: &'static str,
    value: Option<String>,
) -> Result<Option<String>, Error> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) if v.parse::<T>().is_err() => Err(Error::bad_request(
            "invalid_query",
            format!("unknown {field} `{v}`"),
        )),
        other => Ok(other),
    }
}

impl TaskListQuery {
    fn into_filter(self) -> Result<(TaskFilter, u32), Error> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(Error::bad_request(
                "invalid_query",
                format!("limit must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let before = match self.cursor.filter(|c| !c.is_empty()) {
            Some(cursor) => Some(cursor.parse::<TaskId>().map_err(|_| {
                Error::bad_request(
                    "invalid_query",
                    "cursor must be a `next_cursor` from a previous page",
                )
            })?),
            None => None,
        };
        let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
        Ok((
            TaskFilter {
                provider: checked::<Provider>("provider", self.provider)?,
                status: checked::<TaskStatus>("status", self.status)?,
                command: checked::<Command>("command", self.command)?,
                scope: non_empty(self.scope)
                    .or(non_empty(self.repository))
                    .or(non_empty(self.channel))
                    .or(non_empty(self.project)),
                actor: non_empty(self.actor),
                created_since: self.since,
                created_until: self.until,
                text: non_empty(self.q),
                before,
            },
            limit,
        ))
    }
}

/// Lists tasks, newest first, with filters and keyset pagination.
#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    params(TaskListQuery),
    responses(
        (status = 200, description = "A page of tasks", body = TaskPage),
        (status = 400, description = "A filter is not valid", body = contracts::ErrorBody),
        (status = 401, description = "No or wrong token", body = contracts::ErrorBody),
    ),
    tag = "tasks"
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    Query(query): Query<TaskListQuery>,
) -> Result<axum::Json<TaskPage>, Error> {
    let (filter, limit) = query.into_filter()?;
    Ok(axum::Json(state.index.list(&filter, limit).await?))
}

/// One task: its index row (or what its log directory says when the index has none), metadata, input and final result.
#[derive(serde::Serialize, ToSchema)]
pub struct TaskDetail {
    /// Absent when the index has no row and `metadata.json` cannot be read.
    task: Option<TaskSummary>,
    /// `metadata.json` as written; `{"corrupt": true, "raw": …}` when unreadable.
    metadata: Option<serde_json::Value>,
    /// `01-input.json`.
    input: Option<serde_json::Value>,
    /// `06-final-result.json`, once written.
    final_result: Option<serde_json::Value>,
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task_id}",
    params(("task_id" = String, Path, description = "`task-<uuidv7>`")),
    responses(
        (status = 200, description = "The task", body = TaskDetail),
        (status = 400, description = "Not a task id", body = contracts::ErrorBody),
        (status = 404, description = "No such task", body = contracts::ErrorBody),
    ),
    tag = "tasks"
)]
pub async fn get_task(State(state): State<AppState>, path: TaskPath) -> Result<Response, Error> {
    let task_id = path.task_id;
    let indexed = match state.index.get(&task_id).await {
        Ok(row) => row,
        Err(e) => {
            tracing::warn!(error = %e, "task index unavailable; answering from the log directory");
            None
        }
    };
    let logs = state.logs.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, Error> {
        let task = indexed.or_else(|| TaskSummary::from_log_dir(&logs.task_dir(&task_id)));
        if task.is_none() && !logs.exists(&task_id) {
            return Ok(None);
        }
        let mut out = b"{\"task\":".to_vec();
        out.extend(serde_json::to_vec(&task).map_err(std::io::Error::other)?);
        for (name, file) in [
            ("metadata", LogFile::Metadata),
            ("input", LogFile::Input),
            ("final_result", LogFile::FinalResult),
        ] {
            out.extend_from_slice(format!(",\"{name}\":").as_bytes());
            out.extend(logs.json_file(&task_id, file)?);
        }
        out.push(b'}');
        Ok(Some(out))
    })
    .await
    .map_err(std::io::Error::other)??;
    body.map(json_bytes).ok_or(Error::TaskNotFound(task_id))
}
