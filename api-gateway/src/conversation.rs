//! Reading `conv:{conversation_key}` (fields documented in `contracts::keys`) for `cancel` and `retry`.
//! Every new task becomes the conversation's `latest` and heads its `recent` list in the enqueue itself
//! (`TaskQueue::enqueue_new_task`); workers own `active`.

use contracts::TaskId;
use contracts::keys::{CONV_ACTIVE, CONV_LATEST, CONV_RECENT};
use deadpool_redis::redis;
use service_kit::queue::{QueueError, TaskQueue};

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
