//! The task queue client shared by the gateway (enqueue), workers and the dashboard (re-queue, cancel).
//!
//! The contract, for every consumer:
//! - Tasks are entries on `tasks:{high,normal,low}` (field `envelope`), read with `XREADGROUP` in group
//!   `workers`. A worker reads the higher streams first and, every few reads, the lower ones first, so
//!   nothing starves.
//! - A delivered entry stays in the group's pending list until the worker `XACK`s it. The pending entry's
//!   idle time is the lease: a running worker renews it (`XCLAIM … JUSTID` to itself) well within
//!   `lease`; entries idle longer than the lease belong to a dead worker and are taken over with
//!   `XAUTOCLAIM` (a reclaim: same `run`, the delivery count rises).
//! - The envelope's `attempt` is the attempt its first delivery makes; a delivery's attempt is
//!   `envelope.attempt + delivery_count - 1`. A failed attempt is acked and its envelope (attempt + 1)
//!   parked in `tasks:delayed` until its backoff ends; past `MAX_ATTEMPTS` it goes to `tasks:dead-letter`.
//! - Deduplication and the enqueue are one Lua script: a delivery id is claimed and the task added
//!   together, or neither happens.

use std::time::Duration;

use crate::redis::Pool;
use chrono::Utc;
use contracts::envelope::TaskEnvelope;
use contracts::events::{TaskEvent, TaskStatus};
use contracts::keys::{self, CONSUMER_GROUP, RedisKeys};
use contracts::task_log::{LogFile, TaskLogWriter, TaskMetadata};
use contracts::{Priority, TaskId};
use deadpool_redis::redis::{self, AsyncCommands, Script};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis is unavailable: {0}")]
    Unavailable(String),
    #[error("task {0} has no readable metadata.json: {1}")]
    UnknownTask(TaskId, String),
    #[error("task {task_id} is {status} and cannot be re-queued")]
    NotRequeueable { task_id: TaskId, status: TaskStatus },
    #[error("could not write the task log: {0}")]
    Log(#[from] std::io::Error),
}

impl From<redis::RedisError> for QueueError {
    fn from(e: redis::RedisError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<crate::redis::PoolError> for QueueError {
    fn from(e: crate::redis::PoolError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// What became of an enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// Added; the stream entry id.
    Queued { entry_id: String },
    /// The delivery id was seen before: the task it created.
    Duplicate { task_id: String },
}

/// Queue depths, per priority stream, plus delayed and dead-lettered counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueDepths {
    /// Entries not yet delivered, per priority.
    pub waiting: Vec<(Priority, u64)>,
    /// Entries delivered and not yet acknowledged (running, or held by a dead worker).
    pub in_flight: u64,
    pub delayed: u64,
    pub dead_lettered: u64,
}

/// Lua function shared by the two scripts below: makes `task` the newest task of the conversation hash:
/// `latest`, the head of `recent` (at most `max` ids), and the hash's TTL refreshed.
const RECORD_IN_CONVERSATION_FN: &str = r"
local function record_in_conversation(conversation, task, latest_field, recent_field, max, ttl)
  local ids = {task}
  local recent = redis.call('HGET', conversation, recent_field)
  if recent then
    for id in string.gmatch(recent, '%S+') do
      if id ~= task and #ids < tonumber(max) then table.insert(ids, id) end
    end
  end
  redis.call('HSET', conversation, latest_field, task, recent_field, table.concat(ids, ' '))
  redis.call('EXPIRE', conversation, ttl)
end
";

// KEYS: stream, task-events, dedup keys… (ARGV[6] of them), then the conversation hashes the task is
// recorded in (ARGV[7] of them); ARGV: envelope, event, events max len, task id, dedup ttl, dedup count,
// conversation count, then the conversation arguments (latest field, recent field, recent max, ttl).
// Every dedup key is checked before any is claimed, so a delivery known under several ids (a Jira Server
// comment arriving as two webhooks) starts one task.
const ENQUEUE_SCRIPT: &str = r"
local dedup_end = 2 + tonumber(ARGV[6])
for i = 3, dedup_end do
  local existing = redis.call('GET', KEYS[i])
  if existing then return {0, existing} end
end
for i = 3, dedup_end do
  redis.call('SET', KEYS[i], ARGV[4], 'EX', ARGV[5])
end
local id = redis.call('XADD', KEYS[1], '*', 'envelope', ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[2])
for i = dedup_end + 1, dedup_end + tonumber(ARGV[7]) do
  record_in_conversation(KEYS[i], ARGV[4], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
end
return {1, id}
";

// KEYS: the conversation hash; ARGV: task id, latest field, recent field, recent max, ttl.
const RECORD_IN_CONVERSATION_SCRIPT: &str = r"
record_in_conversation(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return 1
";

#[derive(Clone)]
pub struct TaskQueue {
    pool: Pool,
    keys: RedisKeys,
    enqueue_script: Script,
    record_in_conversation_script: Script,
}

impl TaskQueue {
    pub fn new(pool: Pool, keys: RedisKeys) -> Self {
        Self {
            pool,
            keys,
            enqueue_script: Script::new(&format!("{RECORD_IN_CONVERSATION_FN}{ENQUEUE_SCRIPT}")),
            record_in_conversation_script: Script::new(&format!(
                "{RECORD_IN_CONVERSATION_FN}{RECORD_IN_CONVERSATION_SCRIPT}"
            )),
        }
    }

    pub fn keys(&self) -> &RedisKeys {
        &self.keys
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Creates the consumer group on every task stream (and the streams), if missing.
    pub async fn ensure_groups(&self) -> Result<(), QueueError> {
        let mut connection = self.pool.get().await?;
        for stream in self.keys.task_streams() {
            let created: redis::RedisResult<()> = connection
                .xgroup_create_mkstream(&stream, CONSUMER_GROUP, "0")
                .await;
            match created {
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// The task a delivery id already created, if any (a cheap pre-check; [`Self::enqueue`] decides).
    pub async fn find_duplicate(&self, dedup_key: &str) -> Result<Option<String>, QueueError> {
        let mut connection = self.pool.get().await?;
        Ok(connection.get(dedup_key).await?)
    }

    /// Adds the task to its priority stream and publishes `queued`, atomically with claiming
    /// `dedup_key` when one is given: a concurrent duplicate gets the first task's id.
    pub async fn enqueue(
        &self,
        envelope: &TaskEnvelope,
        dedup_key: Option<&str>,
    ) -> Result<EnqueueOutcome, QueueError> {
        self.enqueue_deduplicated(envelope, dedup_key.as_slice())
            .await
    }

    /// [`Self::enqueue`] for a delivery known under several ids: when any of `dedup_keys` was claimed
    /// before, nothing is added and the task that claimed it is returned; otherwise all are claimed.
    pub async fn enqueue_deduplicated(
        &self,
        envelope: &TaskEnvelope,
        dedup_keys: &[&str],
    ) -> Result<EnqueueOutcome, QueueError> {
        self.run_enqueue(envelope, dedup_keys, &[]).await
    }

    /// The gateway's enqueue of a new task: [`Self::enqueue_deduplicated`], and in the same step the task
    /// becomes its conversation's `latest` (see `contracts::keys`), so `@agent cancel` finds it at once;
    /// likewise in `also_in_conversation` (a Slack channel's slash commands) when given.
    pub async fn enqueue_new_task(
        &self,
        envelope: &TaskEnvelope,
        dedup_keys: &[&str],
        also_in_conversation: Option<&str>,
    ) -> Result<EnqueueOutcome, QueueError> {
        let conversations: Vec<&str> = std::iter::once(envelope.conversation_key.as_str())
            .chain(also_in_conversation)
            .collect();
        self.run_enqueue(envelope, dedup_keys, &conversations).await
    }

    async fn run_enqueue(
        &self,
        envelope: &TaskEnvelope,
        dedup_keys: &[&str],
        conversations: &[&str],
    ) -> Result<EnqueueOutcome, QueueError> {
        let event = TaskEvent::for_envelope(envelope, TaskStatus::Queued);
        let mut invocation = self.enqueue_script.prepare_invoke();
        invocation
            .key(self.keys.task_stream(envelope.priority))
            .key(self.keys.task_events())
            .arg(envelope.encode())
            .arg(event.encode())
            .arg(keys::TASK_EVENTS_MAX_LEN)
            .arg(envelope.task_id.to_string())
            .arg(keys::DEDUP_TTL_SECONDS)
            .arg(dedup_keys.len())
            .arg(conversations.len());
        for dedup_key in dedup_keys {
            invocation.key(*dedup_key);
        }
        for conversation in conversations {
            invocation.key(self.keys.conversation(conversation));
        }
        if !conversations.is_empty() {
            invocation
                .arg(keys::CONV_LATEST)
                .arg(keys::CONV_RECENT)
                .arg(keys::CONV_RECENT_MAX)
                .arg(keys::CONV_TTL_SECONDS);
        }
        let mut connection = self.pool.get().await?;
        let (added, value): (i64, String) = invocation.invoke_async(&mut connection).await?;
        Ok(if added == 1 {
            EnqueueOutcome::Queued { entry_id: value }
        } else {
            EnqueueOutcome::Duplicate { task_id: value }
        })
    }

    /// Makes `task_id` its conversation's `latest` task (a re-queued task; new tasks are recorded by
    /// [`Self::enqueue_new_task`]).
    pub async fn record_in_conversation(
        &self,
        conversation_key: &str,
        task_id: &TaskId,
    ) -> Result<(), QueueError> {
        let mut connection = self.pool.get().await?;
        let _: i64 = self
            .record_in_conversation_script
            .key(self.keys.conversation(conversation_key))
            .arg(task_id.to_string())
            .arg(keys::CONV_LATEST)
            .arg(keys::CONV_RECENT)
            .arg(keys::CONV_RECENT_MAX)
            .arg(keys::CONV_TTL_SECONDS)
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }

    /// Publishes a status change on `task-events`.
    pub async fn publish_event(&self, event: &TaskEvent) -> Result<(), QueueError> {
        let mut connection = self.pool.get().await?;
        let _: String = redis::cmd("XADD")
            .arg(self.keys.task_events())
            .arg("MAXLEN")
            .arg("~")
            .arg(keys::TASK_EVENTS_MAX_LEN)
            .arg("*")
            .arg(keys::EVENT_FIELD)
            .arg(event.encode())
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    /// Asks for a task to be cancelled: a queued task is skipped, a running one killed.
    pub async fn request_cancel(
        &self,
        task_id: &TaskId,
        requested_by: &str,
    ) -> Result<(), QueueError> {
        let mut connection = self.pool.get().await?;
        let _: () = connection
            .set_ex(
                self.keys.cancel(task_id),
                requested_by,
                keys::CANCEL_TTL_SECONDS,
            )
            .await?;
        Ok(())
    }

    pub async fn is_cancel_requested(&self, task_id: &TaskId) -> Result<bool, QueueError> {
        let mut connection = self.pool.get().await?;
        Ok(connection.exists(self.keys.cancel(task_id)).await?)
    }

    /// Re-queues a finished task (failed, dead-lettered or cancelled) as `@agent retry` and the dashboard's
    /// dead-letter re-queue both do: same task id, `run` raised, attempts restart at 1, `requeued` (with who
    /// asked) in `03-queue-flow.jsonl`, `metadata.json` back to queued, `queued` on `task-events`, and the
    /// task's dead-letter entries removed.
    pub async fn requeue(
        &self,
        logs: &TaskLogWriter,
        task_id: &TaskId,
        requested_by: &str,
    ) -> Result<TaskEnvelope, QueueError> {
        let metadata = logs
            .read_metadata(task_id)
            .map_err(|e| QueueError::UnknownTask(*task_id, e.to_string()))?;
        if !matches!(
            metadata.status,
            TaskStatus::Failed | TaskStatus::DeadLettered | TaskStatus::Cancelled
        ) {
            return Err(QueueError::NotRequeueable {
                task_id: *task_id,
                status: metadata.status,
            });
        }
        let mut envelope = metadata.envelope;
        envelope.run = metadata.run.max(envelope.run) + 1;
        envelope.attempt = 1;

        let mut connection = self.pool.get().await?;
        let _: () = connection.del(self.keys.cancel(task_id)).await?;
        self.remove_dead_letters(&mut connection, task_id).await?;

        let mut queued = TaskMetadata::queued(&envelope);
        queued.created_at = metadata.created_at;
        logs.write_json(task_id, LogFile::Metadata, &queued)?;
        logs.append(
            task_id,
            LogFile::QueueFlow,
            "requeued",
            json!({ "requested_by": requested_by, "run": envelope.run, "previous_status": metadata.status }),
        )?;
        // Before the XADD, so a fast worker's `dequeued` always follows it.
        logs.append(
            task_id,
            LogFile::QueueFlow,
            "queued",
            json!({ "stream": self.keys.task_stream(envelope.priority), "run": envelope.run, "priority": envelope.priority }),
        )?;
        self.enqueue(&envelope, None).await?;
        Ok(envelope)
    }

    async fn remove_dead_letters(
        &self,
        connection: &mut crate::redis::Connection,
        task_id: &TaskId,
    ) -> Result<(), QueueError> {
        let wanted = task_id.to_string();
        let stream = self.keys.dead_letter_stream();
        let mut start = "-".to_owned();
        loop {
            let page: redis::streams::StreamRangeReply =
                connection.xrange_count(&stream, &start, "+", 500).await?;
            let Some(last) = page.ids.last() else { break };
            start = format!("({}", last.id);
            let doomed: Vec<String> = page
                .ids
                .iter()
                .filter(|entry| entry.get::<String>("task_id").as_deref() == Some(wanted.as_str()))
                .map(|entry| entry.id.clone())
                .collect();
            if !doomed.is_empty() {
                let _: u64 = connection.xdel(&stream, &doomed).await?;
            }
            if page.ids.len() < 500 {
                break;
            }
        }
        Ok(())
    }

    /// How much work is waiting, running, delayed and dead.
    pub async fn depths(&self) -> Result<QueueDepths, QueueError> {
        let mut connection = self.pool.get().await?;
        let mut depths = QueueDepths::default();
        for priority in Priority::ALL {
            let stream = self.keys.task_stream(priority);
            let groups: redis::RedisResult<Vec<redis::Value>> = redis::cmd("XINFO")
                .arg("GROUPS")
                .arg(&stream)
                .query_async(&mut connection)
                .await;
            let (lag, pending) = match groups {
                Ok(groups) => group_lag_and_pending(&groups),
                Err(e) if matches!(e.kind(), redis::ErrorKind::Server(_)) => (Some(0), 0),
                Err(e) => return Err(e.into()),
            };
            let waiting = match lag {
                Some(lag) => lag,
                None => connection.xlen(&stream).await?,
            };
            depths.waiting.push((priority, waiting));
            depths.in_flight += pending;
        }
        depths.delayed = connection.zcard(self.keys.delayed_tasks()).await?;
        depths.dead_lettered = connection.xlen(self.keys.dead_letter_stream()).await?;
        Ok(depths)
    }
}

/// From `XINFO GROUPS`, the `workers` group's lag (entries never delivered) and pending count.
fn group_lag_and_pending(groups: &[redis::Value]) -> (Option<u64>, u64) {
    for group in groups {
        let fields: Vec<(String, redis::Value)> = match group {
            redis::Value::Map(pairs) => pairs
                .iter()
                .filter_map(|(k, v)| {
                    redis::from_redis_value_ref::<String>(k)
                        .ok()
                        .map(|k| (k, v.clone()))
                })
                .collect(),
            redis::Value::Array(items) => items
                .chunks(2)
                .filter_map(|pair| match pair {
                    [k, v] => redis::from_redis_value_ref::<String>(k)
                        .ok()
                        .map(|k| (k, v.clone())),
                    _ => None,
                })
                .collect(),
            _ => continue,
        };
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let is_workers = field("name")
            .and_then(|v| redis::from_redis_value::<String>(v).ok())
            .is_some_and(|n| n == CONSUMER_GROUP);
        if is_workers {
            let pending = field("pending")
                .and_then(|v| redis::from_redis_value::<u64>(v).ok())
                .unwrap_or(0);
            let lag = field("lag").and_then(|v| redis::from_redis_value::<u64>(v).ok());
            return (lag, pending);
        }
    }
    (None, 0)
}

/// Backoff before attempt `next_attempt` (2, 3, …): `base * 2^(next_attempt - 2)`, capped.
pub fn retry_backoff(base: Duration, next_attempt: u32, cap: Duration) -> Duration {
    let exponent = next_attempt.saturating_sub(2).min(20);
    base.saturating_mul(1 << exponent).min(cap)
}

/// Now, in Unix milliseconds: the score unit of `tasks:delayed`.
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}
