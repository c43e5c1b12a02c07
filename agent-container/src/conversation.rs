//! One task at a time per conversation: `conv:{conversation_key}` (hash) field `active` names the task that
//! runs; a task of the same conversation that finds another one there waits behind it.
//!
//! Fields the workers write (see `contracts::keys`): `active` (task id) and `active_since` (Unix ms); the gateway
//! owns the others and the hash's TTL, which a claim also sets in case the gateway has not yet.

use contracts::events::TaskStatus;
use contracts::keys;
use contracts::{RedisKeys, TaskEnvelope, TaskId};
use deadpool_redis::redis::{self, Script};
use service_kit::redis::Pool;

// KEYS: conv hash; ARGV: task id, now ms, the holder the caller saw end ('' for none), ttl, active field.
// Returns '' when the task holds `active` now, else the task that holds it.
const CLAIM_SCRIPT: &str = r"
local active = redis.call('HGET', KEYS[1], ARGV[5])
if (not active) or active == ARGV[1] or active == ARGV[3] then
  redis.call('HSET', KEYS[1], ARGV[5], ARGV[1], ARGV[5] .. '_since', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return ''
end
return active
";

// KEYS: conv hash; ARGV: task id, active field. Clears `active` only when it is still this task's.
const RELEASE_SCRIPT: &str = r"
if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[1] then
  redis.call('HDEL', KEYS[1], ARGV[2], ARGV[2] .. '_since')
  return 1
end
return 0
";

#[derive(Clone)]
pub struct Conversations {
    pool: Pool,
    keys: RedisKeys,
    claim_script: Script,
    release_script: Script,
}

/// Whether a task may run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    Ours,
    /// Another task of the conversation is still running (or queued for its next attempt).
    Behind(String),
}

impl Conversations {
    pub fn new(pool: Pool, keys: RedisKeys) -> Self {
        Self {
            pool,
            keys,
            claim_script: Script::new(CLAIM_SCRIPT),
            release_script: Script::new(RELEASE_SCRIPT),
        }
    }

    /// Claims `active` for the task. `holder_ended` tells whether a holding task has ended (its status is
    /// terminal) though it never cleared the field, e.g. because its worker died at the wrong moment.
    pub async fn claim(
        &self,
        envelope: &TaskEnvelope,
        holder_ended: impl Fn(&str) -> bool,
    ) -> redis::RedisResult<Turn> {
        let key = self.keys.conversation(&envelope.conversation_key);
        let mut connection = self.connection().await?;
        let task_id = envelope.task_id.to_string();
        let mut ended = String::new();
        loop {
            let holder: String = self
                .claim_script
                .key(&key)
                .arg(&task_id)
                .arg(service_kit::queue::now_millis())
                .arg(&ended)
                .arg(keys::CONV_TTL_SECONDS)
                .arg(keys::CONV_ACTIVE)
                .invoke_async(&mut connection)
                .await?;
            if holder.is_empty() {
                return Ok(Turn::Ours);
            }
            if holder != ended && holder_ended(&holder) {
                ended = holder;
                continue;
            }
            return Ok(Turn::Behind(holder));
        }
    }

    /// Frees the conversation if the task still holds it.
    pub async fn release(&self, envelope: &TaskEnvelope) -> redis::RedisResult<()> {
        let key = self.keys.conversation(&envelope.conversation_key);
        let mut connection = self.connection().await?;
        let _: i64 = self
            .release_script
            .key(key)
            .arg(envelope.task_id.to_string())
            .arg(keys::CONV_ACTIVE)
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn connection(&self) -> redis::RedisResult<service_kit::redis::Connection> {
        self.pool.get().await.map_err(|e| {
            redis::RedisError::from((
                redis::ErrorKind::Io,
                "no redis connection from the pool",
                e.to_string(),
            ))
        })
    }
}

/// Whether a task id names a task whose status is final, per its `metadata.json`.
pub fn has_ended(logs: &contracts::task_log::TaskLogWriter, task_id: &str) -> bool {
    let Ok(task_id) = task_id.parse::<TaskId>() else {
        return true;
    };
    logs.read_metadata(&task_id).is_ok_and(|m| {
        matches!(
            m.status,
            TaskStatus::Succeeded
                | TaskStatus::Failed
                | TaskStatus::DeadLettered
                | TaskStatus::Cancelled
        )
    })
}
