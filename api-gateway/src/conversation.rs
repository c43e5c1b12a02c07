//! The gateway's side of `conv:{conversation_key}` (fields documented in `contracts::keys`): every new
//! task becomes the conversation's `latest` and heads its `recent` list; workers own `active`.

use std::sync::LazyLock;

use contracts::TaskId;
use contracts::keys::{CONV_ACTIVE, CONV_LATEST, CONV_RECENT, CONV_RECENT_MAX, CONV_TTL_SECONDS};
use deadpool_redis::redis::{self, Script};
use service_kit::queue::{QueueError, TaskQueue};

// KEYS: conv hash; ARGV: task id, latest field, recent field, recent max, ttl.
static RECORD_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ids = {ARGV[1]}
local recent = redis.call('HGET', KEYS[1], ARGV[3])
if recent then
  for id in string.gmatch(recent, '%S+') do
    if id ~= ARGV[1] and #ids < tonumber(ARGV[4]) then table.insert(ids, id) end
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1], ARGV[3], table.concat(ids, ' '))
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
",
    )
});

/// Makes `task_id` the conversation's latest task.
pub async fn record_task(
    queue: &TaskQueue,
    conversation_key: &str,
    task_id: &TaskId,
) -> Result<(), QueueError> {
    let mut connection = queue.pool().get().await?;
    let _: i64 = RECORD_SCRIPT
        .key(queue.keys().conversation(conversation_key))
        .arg(task_id.to_string())
        .arg(CONV_LATEST)
        .arg(CONV_RECENT)
        .arg(CONV_RECENT_MAX)
        .arg(CONV_TTL_SECONDS)
        .invoke_async(&mut connection)
        .await?;
    Ok(())
}

/// What the conversation's hash says.
#[derive(Debug, Default)]
pub struct ConversationTasks {
    pub active: Option<TaskId>,
    pub latest: Option<TaskId>,
    /// Newest first.
    pub recent: Vec<TaskId>,
}

pub async fn read(
    queue: &TaskQueue,
    conversation_key: &str,
) -> Result<ConversationTasks, QueueError> {
    let mut connection = queue.pool().get().await?;
    let (active, latest, recent): (Option<String>, Option<String>, Option<String>) =
        redis::cmd("HMGET")
            .arg(queue.keys().conversation(conversation_key))
            .arg(CONV_ACTIVE)
            .arg(CONV_LATEST)
            .arg(CONV_RECENT)
            .query_async(&mut connection)
            .await?;
    let parse = |id: Option<String>| id.and_then(|id| id.parse::<TaskId>().ok());
    Ok(ConversationTasks {
        active: parse(active),
        latest: parse(latest),
        recent: recent
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|id| id.parse().ok())
            .collect(),
    })
}
