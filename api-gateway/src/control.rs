//! `@agent cancel` and `@agent retry`: commands about the conversation's existing tasks, not new ones.
//!
//! - cancel: the first of the conversation's `active` task, its `latest` and its `recent` tasks (newest
//!   first) that has not ended (read from its `metadata.json`) gets `cancel:{task_id}`
//!   ([`TaskQueue::request_cancel`]); `cancel_requested` (by whom) goes to that task's
//!   `03-queue-flow.jsonl`; the worker skips or kills it and says so in the tracking message. Answer 200 `cancel_requested`.
//! - retry: the newest of the conversation's recent tasks that failed or was dead-lettered is re-queued
//!   with [`TaskQueue::requeue`] (same task id, run raised). Answer 202 `requeued`.
//!
//! Only the task's requester (same provider and actor id) or a trusted actor may do either. A delivery is
//! deduplicated like any other: its ids are claimed for the task it acted on, so a redelivered `retry`
//! does not re-queue twice.

use std::sync::LazyLock;

use contracts::task_log::TaskMetadata;
use contracts::webhook::WebhookAnswer;
use contracts::{Command, LogFile, TaskId, TaskStatus, keys};
use deadpool_redis::redis::{self, Script};
use serde_json::json;
use service_kit::queue::QueueError;
use service_kit::trace_context::TraceContext;

use crate::delivery::{TaskRequest, reason};
use crate::error::WebhookError;
use crate::state::AppState;
use crate::{acknowledge, conversation, telemetry};

// KEYS: dedup keys; ARGV: task id, ttl. Returns the task an earlier delivery claimed, or nil after claiming.
static CLAIM_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 1, #KEYS do
  local existing = redis.call('GET', KEYS[i])
  if existing then return existing end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2])
end
return false
",
    )
});

/// Handles a `cancel` or `retry` request; `trusted` is whether the actor may act on anyone's task.
pub async fn handle(
    state: &AppState,
    request: TaskRequest,
    trusted: bool,
    trace: &TraceContext,
) -> Result<WebhookAnswer, WebhookError> {
    let command = request.command;
    let dedup_keys: Vec<String> = request
        .delivery_ids
        .iter()
        .map(|id| state.queue.keys().dedup(request.provider, id))
        .collect();
    if let Some(original) = earlier_claim(state, &dedup_keys).await? {
        return duplicate(&original);
    }
    let tasks = conversation::read(&state.queue, &request.conversation_key)
        .await
        .map_err(unavailable)?;
    let target = match command {
        Command::Cancel => first_task(
            state,
            [tasks.active, tasks.latest]
                .into_iter()
                .flatten()
                .chain(tasks.recent),
            |s| !s.is_terminal(),
        ),
        _ => {
            let candidates = if tasks.recent.is_empty() {
                tasks.latest.into_iter().collect()
            } else {
                tasks.recent
            };
            first_task(state, candidates.into_iter(), |s| {
                matches!(s, TaskStatus::Failed | TaskStatus::DeadLettered)
            })
        }
    };
    let Some(target) = target else {
        let why = if command == Command::Cancel {
            reason::NOTHING_TO_CANCEL
        } else {
            reason::NOTHING_TO_RETRY
        };
        return Ok(ignored(&request, why));
    };
    let requester = &target.envelope;
    let is_requester =
        requester.provider == request.provider && requester.actor.id == request.actor.id;
    if !(trusted || is_requester) {
        tracing::info!(task_id = %target.task_id, actor = %request.actor.id, "only the requester or a trusted actor may cancel or retry");
        return Ok(ignored(&request, reason::NOT_ALLOWED));
    }
    if let Some(original) = claim(state, &dedup_keys, &target.task_id).await? {
        return duplicate(&original);
    }
    let requested_by = describe_actor(&request);
    let acted = match command {
        Command::Cancel => cancel(state, &request, &target, &requested_by).await,
        _ => retry(state, &request, &target, &requested_by, trace).await,
    };
    if !matches!(
        acted,
        Ok(WebhookAnswer::CancelRequested { .. } | WebhookAnswer::Requeued { .. })
    ) {
        release(state, &dedup_keys).await;
    }
    acted
}

async fn cancel(
    state: &AppState,
    request: &TaskRequest,
    target: &TaskMetadata,
    requested_by: &str,
) -> Result<WebhookAnswer, WebhookError> {
    let task_id = target.task_id;
    state
        .queue
        .request_cancel(&task_id, requested_by)
        .await
        .map_err(unavailable)?;
    let line = json!({
        "requested_by": requested_by,
        "actor": request.actor,
        "via": format!("{}:{}", request.provider, request.event),
        "status": target.status,
        "run": target.run,
    });
    if let Err(error) = state
        .logs
        .append(&task_id, LogFile::QueueFlow, "cancel_requested", line)
    {
        telemetry::record_log_write_failure(LogFile::QueueFlow.file_name());
        tracing::error!(%task_id, %error, "could not write cancel_requested");
    }
    telemetry::record_control(request.provider, "cancel", "cancel_requested");
    tracing::info!(%task_id, requested_by, "cancel requested");
    Ok(WebhookAnswer::CancelRequested { task_id })
}

async fn retry(
    state: &AppState,
    request: &TaskRequest,
    target: &TaskMetadata,
    requested_by: &str,
    trace: &TraceContext,
) -> Result<WebhookAnswer, WebhookError> {
    let task_id = target.task_id;
    let envelope = match state
        .queue
        .requeue(&state.logs, &task_id, requested_by)
        .await
    {
        Ok(envelope) => envelope,
        // Re-queued or removed since it was read: nothing failed is left to retry.
        Err(QueueError::NotRequeueable { .. } | QueueError::UnknownTask(..)) => {
            return Ok(ignored(request, reason::NOTHING_TO_RETRY));
        }
        Err(QueueError::Log(error)) => return Err(WebhookError::TaskLog(error.to_string())),
        Err(error) => return Err(unavailable(error)),
    };
    if let Err(error) = state
        .queue
        .record_in_conversation(&envelope.conversation_key, &task_id)
        .await
    {
        tracing::warn!(%task_id, %error, "could not record the re-queued task in its conversation");
    }
    telemetry::record_control(request.provider, "retry", "requeued");
    tracing::info!(%task_id, run = envelope.run, requested_by, "task re-queued");
    acknowledge::spawn(state, envelope, *trace);
    Ok(WebhookAnswer::Requeued { task_id })
}

/// The first of `candidates` whose `metadata.json` reads and whose status `wanted` accepts.
fn first_task(
    state: &AppState,
    candidates: impl Iterator<Item = TaskId>,
    wanted: impl Fn(TaskStatus) -> bool,
) -> Option<TaskMetadata> {
    candidates
        .filter_map(|task_id| state.logs.read_metadata(&task_id).ok())
        .find(|metadata| wanted(metadata.status))
}

fn ignored(request: &TaskRequest, why: &'static str) -> WebhookAnswer {
    telemetry::record_ignored(request.provider, why);
    telemetry::record_control(request.provider, request.command.as_str(), why);
    tracing::info!(command = %request.command, conversation_key = %request.conversation_key, reason = why, "control command ignored");
    WebhookAnswer::Ignored {
        reason: why.to_owned(),
    }
}

/// `github:ada`, `slack:U123`: who asked, as the cancel key and the queue log record it.
fn describe_actor(request: &TaskRequest) -> String {
    let name = request.actor.login.as_deref().unwrap_or(&request.actor.id);
    format!("{}:{name}", request.provider)
}

async fn earlier_claim(
    state: &AppState,
    dedup_keys: &[String],
) -> Result<Option<String>, WebhookError> {
    if dedup_keys.is_empty() {
        return Ok(None);
    }
    let mut connection = state
        .queue
        .pool()
        .get()
        .await
        .map_err(|e| unavailable(e.into()))?;
    let existing: Vec<Option<String>> = redis::cmd("MGET")
        .arg(dedup_keys)
        .query_async(&mut connection)
        .await
        .map_err(|e| unavailable(e.into()))?;
    Ok(existing.into_iter().flatten().next())
}

async fn claim(
    state: &AppState,
    dedup_keys: &[String],
    task_id: &TaskId,
) -> Result<Option<String>, WebhookError> {
    if dedup_keys.is_empty() {
        return Ok(None);
    }
    let mut connection = state
        .queue
        .pool()
        .get()
        .await
        .map_err(|e| unavailable(e.into()))?;
    let mut invocation = CLAIM_SCRIPT.prepare_invoke();
    for key in dedup_keys {
        invocation.key(key);
    }
    invocation
        .arg(task_id.to_string())
        .arg(keys::DEDUP_TTL_SECONDS);
    invocation
        .invoke_async(&mut connection)
        .await
        .map_err(|e| unavailable(e.into()))
}

/// Gives the delivery ids back when the command did not act, so a redelivery can try again.
async fn release(state: &AppState, dedup_keys: &[String]) {
    if dedup_keys.is_empty() {
        return;
    }
    let released = async {
        let mut connection = state.queue.pool().get().await?;
        let _: u64 = redis::cmd("DEL")
            .arg(dedup_keys)
            .query_async(&mut connection)
            .await?;
        Ok::<_, QueueError>(())
    };
    if let Err(error) = released.await {
        tracing::warn!(%error, "could not release the delivery ids of a control command");
    }
}

fn duplicate(original: &str) -> Result<WebhookAnswer, WebhookError> {
    let task_id = original.parse().map_err(|_| {
        WebhookError::QueueUnavailable(format!("a dedup key holds `{original}`, not a task id"))
    })?;
    Ok(WebhookAnswer::Duplicate { task_id })
}

fn unavailable(error: QueueError) -> WebhookError {
    WebhookError::QueueUnavailable(error.to_string())
}
