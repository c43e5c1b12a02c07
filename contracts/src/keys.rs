//! Every Redis key agent-gateway uses, all under one prefix (`REDIS_KEY_PREFIX`, default `agw:`).
//!
//! | key | type | written by | meaning |
//! |---|---|---|---|
//! | `tasks:high`, `tasks:normal`, `tasks:low` | stream, group `workers` | gateway (XADD), workers (XREADGROUP/XACK/XAUTOCLAIM) | queued tasks, one stream per [`Priority`]; field `envelope` holds the [`TaskEnvelope`] JSON |
//! | `tasks:delayed` | sorted set | workers | envelopes waiting out their retry backoff; score = due time in Unix milliseconds |
//! | `tasks:dead-letter` | stream | workers, dashboard | tasks that failed `MAX_ATTEMPTS` times or could not be read; fields `envelope`, `error`, `task_id`, `failed_at`, `attempts` |
//! | `dedup:{provider}:{delivery_id}` | string with TTL | gateway (Lua, atomic with the XADD) | the task id created for a provider delivery |
//! | `task-events` | stream (capped) | gateway (`queued`), workers (the rest) | [`TaskEvent`]s; field `event` holds the JSON |
//! | `cancel:{task_id}` | string with TTL | gateway (`@agent cancel`), dashboard | a queued task with it is skipped, a running one killed |
//! | `conv:{conversation_key}` | hash, 30-day TTL refreshed by the gateway | gateway (`latest`, `recent`), workers (`active`, `active_since`) | the conversation's tasks: `latest` = the newest task's id (set right after its enqueue, and again when `@agent retry` re-queues one); `recent` = up to [`CONV_RECENT_MAX`] task ids, newest first, space-separated; `active` = the task running now and `active_since` = when it claimed it (Unix ms) (a worker claims both atomically when a run starts and clears them when the run ends, only if still its own) |
//! | `tracking:{task_id}` | string | gateway or worker, whichever first (SET NX) | the id of the task's single tracking message |
//! | `idempotency:{service}:{caller}:{key}` | string with TTL | provider services (SET NX) | an `Idempotency-Key` call: in progress, then its answer (status + body) |
//! | `git_access:{token_sha256}` | string (JSON) with TTL | github-service | a per-task git proxy token (only its SHA-256 is the key): `owner`, `repo`, `task_id`, `expires_at`; expires after `GIT_ACCESS_TTL` |
//! | `git_access:task:{task_id}:{owner}/{repo}` | set with TTL | github-service | the token digests a task holds for a repository, so `DELETE …/git-access` revokes them all |
//! | `budget:{scope}:{day}` | string (float) with TTL | workers (INCRBYFLOAT) | USD reserved and spent on day `YYYY-MM-DD` (UTC) by `repo:{owner/name}`, `slack:{team}/{channel}` or `jira:{project}` |
//! | `ratelimit:{provider}:{actor_id}:{minute}` | counter with TTL | gateway (INCR + EXPIRE) | tasks an actor started in one minute (Unix minutes), for `ACTOR_RATE_LIMIT_PER_MINUTE` |
//!
//! [`Priority`]: crate::Priority
//! [`TaskEnvelope`]: crate::TaskEnvelope
//! [`TaskEvent`]: crate::TaskEvent

use crate::envelope::{Priority, Provider};
use crate::task_id::TaskId;

/// The consumer group every worker reads the task streams with.
pub const CONSUMER_GROUP: &str = "workers";
/// The stream field holding a task envelope's JSON.
pub const ENVELOPE_FIELD: &str = "envelope";
/// The stream field holding a task event's JSON.
pub const EVENT_FIELD: &str = "event";
/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "agw:";
/// How long a delivery id is remembered for deduplication (providers redeliver for days).
pub const DEDUP_TTL_SECONDS: u64 = 3 * 24 * 60 * 60;
/// How long a cancel request is kept.
pub const CANCEL_TTL_SECONDS: u64 = 24 * 60 * 60;
/// Approximate cap on the `task-events` stream (XADD MAXLEN ~).
pub const TASK_EVENTS_MAX_LEN: usize = 1_000_000;
/// `conv:{conversation_key}` field: the newest task's id (gateway).
pub const CONV_LATEST: &str = "latest";
/// `conv:{conversation_key}` field: recent task ids, newest first, space-separated (gateway).
pub const CONV_RECENT: &str = "recent";
/// `conv:{conversation_key}` field: the task running now (workers).
pub const CONV_ACTIVE: &str = "active";
/// How many task ids `recent` keeps.
pub const CONV_RECENT_MAX: usize = 10;
/// How long a quiet conversation's hash is kept.
pub const CONV_TTL_SECONDS: u64 = 30 * 24 * 60 * 60;

/// Builds key names under one prefix. Cheap to clone; every component builds it from `REDIS_KEY_PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisKeys {
    prefix: String,
}

impl RedisKeys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn task_stream(&self, priority: Priority) -> String {
        format!("{}tasks:{}", self.prefix, priority.as_str())
    }

    /// The task streams, highest priority first.
    pub fn task_streams(&self) -> [String; 3] {
        Priority::ALL.map(|p| self.task_stream(p))
    }

    pub fn delayed_tasks(&self) -> String {
        format!("{}tasks:delayed", self.prefix)
    }

    pub fn dead_letter_stream(&self) -> String {
        format!("{}tasks:dead-letter", self.prefix)
    }

    pub fn dedup(&self, provider: Provider, delivery_id: &str) -> String {
        format!("{}dedup:{}:{}", self.prefix, provider.as_str(), delivery_id)
    }

    pub fn task_events(&self) -> String {
        format!("{}task-events", self.prefix)
    }

    pub fn cancel(&self, task_id: &TaskId) -> String {
        format!("{}cancel:{}", self.prefix, task_id)
    }

    pub fn conversation(&self, conversation_key: &str) -> String {
        format!("{}conv:{}", self.prefix, conversation_key)
    }

    pub fn tracking_message(&self, task_id: &TaskId) -> String {
        format!("{}tracking:{}", self.prefix, task_id)
    }

    /// A provider service's record of one `Idempotency-Key` sent by one caller role.
    pub fn idempotency(&self, service: &str, caller: &str, key: &str) -> String {
        format!("{}idempotency:{}:{}:{}", self.prefix, service, caller, key)
    }

    /// github-service's record of one git proxy token, by the hex SHA-256 of the token.
    pub fn git_access(&self, token_sha256: &str) -> String {
        format!("{}git_access:{}", self.prefix, token_sha256)
    }

    /// The digests of the git proxy tokens `task_id` holds for `owner/repo`.
    pub fn git_access_grants(&self, task_id: &TaskId, owner: &str, repo: &str) -> String {
        format!(
            "{}git_access:task:{}:{}/{}",
            self.prefix, task_id, owner, repo
        )
    }

    /// `scope` is `repo:{owner/name}`, `slack:{team}/{channel}` or `jira:{project}`; `day` is `YYYY-MM-DD` (UTC).
    pub fn daily_budget(&self, scope: &str, day: &str) -> String {
        format!("{}budget:{}:{}", self.prefix, scope, day)
    }

    /// The counter of tasks `actor_id` started on `provider` during Unix minute `minute`.
    pub fn actor_rate(&self, provider: Provider, actor_id: &str, minute: i64) -> String {
        format!(
            "{}ratelimit:{}:{}:{}",
            self.prefix,
            provider.as_str(),
            actor_id,
            minute
        )
    }
}

impl Default for RedisKeys {
    fn default() -> Self {
        Self::new(DEFAULT_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_carries_the_prefix() {
        let keys = RedisKeys::new("test-123:");
        let id = TaskId::new();
        for key in [
            keys.task_stream(Priority::High),
            keys.delayed_tasks(),
            keys.dead_letter_stream(),
            keys.dedup(Provider::Github, "abc"),
            keys.task_events(),
            keys.cancel(&id),
            keys.conversation("github:o/r#1"),
            keys.tracking_message(&id),
        ] {
            assert!(key.starts_with("test-123:"), "{key}");
        }
        assert_eq!(
            keys.dedup(Provider::Slack, "Ev1"),
            "test-123:dedup:slack:Ev1"
        );
        assert_eq!(keys.task_streams()[0], "test-123:tasks:high");
    }
}
