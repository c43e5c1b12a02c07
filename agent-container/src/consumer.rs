//! The worker's side of the queue contract (`service_kit::queue`): reading deliveries by priority without
//! starvation, reclaiming entries whose lease expired, renewing leases, and settling a delivery (ack,
//! retry later, dead-letter, release) atomically and only while this worker still owns it.

use std::time::Duration;

use contracts::keys::{self, CONSUMER_GROUP, ENVELOPE_FIELD, RedisKeys};
use contracts::{Priority, TaskId};
use deadpool_redis::redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use deadpool_redis::redis::{self, Script};
use service_kit::redis::Pool;

/// One delivered stream entry.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub priority: Priority,
    pub stream: String,
    pub entry_id: String,
    /// The `envelope` field, if the entry has one.
    pub raw_envelope: Option<Vec<u8>>,
    /// How many times the entry was delivered, this delivery included.
    pub delivery_count: u64,
    /// Set when the entry was taken over from a worker whose lease expired.
    pub reclaimed: Option<Reclaim>,
}

#[derive(Debug, Clone)]
pub struct Reclaim {
    pub idle_ms: u64,
}

/// What to do with a delivery once its attempt is over.
#[derive(Debug, Clone)]
pub enum Settlement {
    /// Done (succeeded, failed for good, cancelled).
    Ack,
    /// Park the envelope (with its attempt raised) in `tasks:delayed` until `due_ms`.
    RetryAt { envelope: String, due_ms: i64 },
    DeadLetter {
        envelope: String,
        error: String,
        task_id: String,
        attempts: u32,
    },
    /// Back onto its stream for another worker (shutdown).
    Release { envelope: String },
}

/// Ownership check first: only the consumer holding the entry may settle or renew it.
// KEYS: stream, target (delayed / dead-letter / stream / unused), task-events
// ARGV: group, consumer, entry id, mode, payload…, event JSON ('' for none), events max len
const SETTLE_SCRIPT: &str = r"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
local mode = ARGV[4]
if mode == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
elseif mode == 'dead' then
  redis.call('XADD', KEYS[2], '*', 'envelope', ARGV[5], 'error', ARGV[6], 'task_id', ARGV[7], 'failed_at', ARGV[8], 'attempts', ARGV[9])
elseif mode == 'release' then
  redis.call('XADD', KEYS[2], '*', 'envelope', ARGV[5])
end
local event = ARGV[#ARGV - 1]
if event ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[#ARGV], '*', 'event', event)
end
return 1
";

// KEYS: stream, cancel key, task-events; ARGV: group, consumer, entry id, event JSON ('' for none), events max len
// Returns {owned, cancel requested}.
const RENEW_SCRIPT: &str = r"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return {0, 0} end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
local cancel = redis.call('EXISTS', KEYS[2])
if ARGV[4] ~= '' and cancel == 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'event', ARGV[4])
end
return {1, cancel}
";

// KEYS: delayed, high, normal, low; ARGV: now ms, batch. Moves due envelopes onto their priority stream.
const PROMOTE_SCRIPT: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, envelope in ipairs(due) do
  redis.call('ZREM', KEYS[1], envelope)
  local ok, decoded = pcall(cjson.decode, envelope)
  local stream = KEYS[3]
  if ok and type(decoded) == 'table' then
    if decoded.priority == 'high' then stream = KEYS[2] elseif decoded.priority == 'low' then stream = KEYS[4] end
  end
  redis.call('XADD', stream, '*', 'envelope', envelope)
end
return #due
";

// KEYS: the task streams in reading order; ARGV: group, consumer, count.
// Reads from the first stream that has new entries: {stream index, id, has envelope, envelope, …} or {}.
const READ_SCRIPT: &str = r"
for i, key in ipairs(KEYS) do
  local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', key, '>')
  if reply and reply[1] and #reply[1][2] > 0 then
    local out = {i}
    for _, entry in ipairs(reply[1][2]) do
      local fields = entry[2]
      local envelope = false
      for f = 1, #fields, 2 do
        if fields[f] == 'envelope' then envelope = fields[f + 1] end
      end
      table.insert(out, entry[1])
      if envelope then
        table.insert(out, 1)
        table.insert(out, envelope)
      else
        table.insert(out, 0)
        table.insert(out, '')
      end
    end
    return out
  end
end
return {}
";

#[derive(Clone)]
pub struct QueueConsumer {
    pool: Pool,
    keys: RedisKeys,
    consumer: String,
    settle_script: Script,
    renew_script: Script,
    promote_script: Script,
    read_script: Script,
}

/// Every this many reads, the lower priorities are read first, so a busy `high` stream cannot starve them.
pub const LOW_FIRST_EVERY: u64 = 4;

impl QueueConsumer {
    pub fn new(pool: Pool, keys: RedisKeys, consumer: String) -> Self {
        Self {
            pool,
            keys,
            consumer,
            settle_script: Script::new(SETTLE_SCRIPT),
            renew_script: Script::new(RENEW_SCRIPT),
            promote_script: Script::new(PROMOTE_SCRIPT),
            read_script: Script::new(READ_SCRIPT),
        }
    }

    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    pub fn keys(&self) -> &RedisKeys {
        &self.keys
    }

    /// The order the streams are read in on read number `round`.
    pub fn read_order(round: u64) -> [Priority; 3] {
        if round % LOW_FIRST_EVERY == LOW_FIRST_EVERY - 1 {
            [Priority::Low, Priority::Normal, Priority::High]
        } else {
            Priority::ALL
        }
    }

    /// Up to `count` new entries without blocking, from the first stream in `order` that has any
    /// (one round trip: the streams are tried in a script).
    pub async fn read_now(
        &self,
        connection: &mut redis::aio::MultiplexedConnection,
        order: [Priority; 3],
        count: usize,
    ) -> redis::RedisResult<Vec<Delivery>> {
        let mut invocation = self.read_script.prepare_invoke();
        for priority in order {
            invocation.key(self.keys.task_stream(priority));
        }
        let reply: Vec<redis::Value> = invocation
            .arg(CONSUMER_GROUP)
            .arg(&self.consumer)
            .arg(count)
            .invoke_async(connection)
            .await?;
        let Some((first, entries)) = reply.split_first() else {
            return Ok(Vec::new());
        };
        let index: usize = redis::from_redis_value_ref(first)?;
        let priority = order[index.saturating_sub(1).min(2)];
        let stream = self.keys.task_stream(priority);
        let mut deliveries = Vec::with_capacity(entries.len() / 3);
        for entry in entries.chunks_exact(3) {
            let has_envelope: i64 = redis::from_redis_value_ref(&entry[1])?;
            deliveries.push(Delivery {
                priority,
                stream: stream.clone(),
                entry_id: redis::from_redis_value_ref(&entry[0])?,
                raw_envelope: if has_envelope == 1 {
                    Some(redis::from_redis_value_ref(&entry[2])?)
                } else {
                    None
                },
                delivery_count: 1,
                reclaimed: None,
            });
        }
        Ok(deliveries)
    }

    /// Blocks up to `block` for one new entry on any stream (one per stream at most).
    pub async fn read_blocking(
        &self,
        connection: &mut redis::aio::MultiplexedConnection,
        order: [Priority; 3],
        block: Duration,
    ) -> redis::RedisResult<Vec<Delivery>> {
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(CONSUMER_GROUP)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(block.as_millis() as u64)
            .arg("STREAMS");
        for priority in order {
            command.arg(self.keys.task_stream(priority));
        }
        command.arg(">").arg(">").arg(">");
        let reply: Option<StreamReadReply> = command.query_async(connection).await?;
        let mut deliveries = self.deliveries(reply);
        deliveries.sort_by_key(|d| order.iter().position(|p| *p == d.priority));
        Ok(deliveries)
    }

    fn deliveries(&self, reply: Option<StreamReadReply>) -> Vec<Delivery> {
        let Some(reply) = reply else {
            return Vec::new();
        };
        reply
            .keys
            .into_iter()
            .flat_map(|key| {
                let priority = self.priority_of(&key.key);
                key.ids.into_iter().map(move |entry| Delivery {
                    priority,
                    stream: key.key.clone(),
                    raw_envelope: envelope_bytes(&entry),
                    entry_id: entry.id,
                    delivery_count: 1,
                    reclaimed: None,
                })
            })
            .collect()
    }

    fn priority_of(&self, stream: &str) -> Priority {
        Priority::ALL
            .into_iter()
            .find(|p| self.keys.task_stream(*p) == stream)
            .unwrap_or(Priority::Normal)
    }

    /// Takes over up to `count` entries idle longer than `lease` (their worker died), highest priority first.
    pub async fn reclaim(
        &self,
        lease: Duration,
        count: usize,
    ) -> redis::RedisResult<Vec<Delivery>> {
        let mut connection = self.connection().await?;
        let mut claimed = Vec::new();
        for priority in Priority::ALL {
            if claimed.len() >= count {
                break;
            }
            let stream = self.keys.task_stream(priority);
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&stream)
                .arg(CONSUMER_GROUP)
                .arg(&self.consumer)
                .arg(lease.as_millis() as u64)
                .arg("0-0")
                .arg("COUNT")
                .arg(count - claimed.len())
                .query_async(&mut connection)
                .await?;
            for entry in reply.claimed {
                let pending: redis::streams::StreamPendingCountReply = redis::cmd("XPENDING")
                    .arg(&stream)
                    .arg(CONSUMER_GROUP)
                    .arg(&entry.id)
                    .arg(&entry.id)
                    .arg(1)
                    .query_async(&mut connection)
                    .await?;
                let delivery_count = pending.ids.first().map_or(2, |p| p.times_delivered as u64);
                claimed.push(Delivery {
                    priority,
                    stream: stream.clone(),
                    raw_envelope: envelope_bytes(&entry),
                    entry_id: entry.id,
                    delivery_count,
                    reclaimed: Some(Reclaim {
                        idle_ms: lease.as_millis() as u64,
                    }),
                });
            }
        }
        Ok(claimed)
    }

    /// Renews the lease if this worker still owns the delivery: `(owned, cancel requested)`.
    /// `event`, when given, is published on `task-events` in the same step (unless a cancel is pending).
    pub async fn renew(
        &self,
        delivery: &Delivery,
        task_id: &TaskId,
        event: Option<&str>,
    ) -> redis::RedisResult<(bool, bool)> {
        let mut connection = self.connection().await?;
        let (owned, cancel): (i64, i64) = self
            .renew_script
            .key(&delivery.stream)
            .key(self.keys.cancel(task_id))
            .key(self.keys.task_events())
            .arg(CONSUMER_GROUP)
            .arg(&self.consumer)
            .arg(&delivery.entry_id)
            .arg(event.unwrap_or(""))
            .arg(keys::TASK_EVENTS_MAX_LEN)
            .invoke_async(&mut connection)
            .await?;
        Ok((owned == 1, cancel == 1))
    }

    /// Settles a delivery and publishes `event` with it; false when another worker owns it now.
    pub async fn settle(
        &self,
        delivery: &Delivery,
        settlement: &Settlement,
        event: Option<&str>,
    ) -> redis::RedisResult<bool> {
        let mut invocation = self.settle_script.prepare_invoke();
        invocation.key(&delivery.stream);
        let (mode, target) = match settlement {
            Settlement::Ack => ("ack", delivery.stream.clone()),
            Settlement::RetryAt { .. } => ("retry", self.keys.delayed_tasks()),
            Settlement::DeadLetter { .. } => ("dead", self.keys.dead_letter_stream()),
            Settlement::Release { .. } => ("release", delivery.stream.clone()),
        };
        invocation
            .key(target)
            .key(self.keys.task_events())
            .arg(CONSUMER_GROUP)
            .arg(&self.consumer)
            .arg(&delivery.entry_id)
            .arg(mode);
        match settlement {
            Settlement::Ack => {}
            Settlement::RetryAt { envelope, due_ms } => {
                invocation.arg(envelope).arg(*due_ms);
            }
            Settlement::DeadLetter {
                envelope,
                error,
                task_id,
                attempts,
            } => {
                invocation
                    .arg(envelope)
                    .arg(error)
                    .arg(task_id)
                    .arg(contracts::task_log::format_ts(chrono::Utc::now()))
                    .arg(*attempts);
            }
            Settlement::Release { envelope } => {
                invocation.arg(envelope);
            }
        }
        invocation
            .arg(event.unwrap_or(""))
            .arg(keys::TASK_EVENTS_MAX_LEN);
        let mut connection = self.connection().await?;
        let owned: i64 = invocation.invoke_async(&mut connection).await?;
        Ok(owned == 1)
    }

    /// Moves envelopes whose backoff ended from `tasks:delayed` back onto their streams.
    pub async fn promote_due(&self) -> redis::RedisResult<u64> {
        let mut connection = self.connection().await?;
        let [high, normal, low] = self.keys.task_streams();
        self.promote_script
            .key(self.keys.delayed_tasks())
            .key(high)
            .key(normal)
            .key(low)
            .arg(service_kit::queue::now_millis())
            .arg(100)
            .invoke_async(&mut connection)
            .await
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

fn envelope_bytes(entry: &StreamId) -> Option<Vec<u8>> {
    match entry.map.get(ENVELOPE_FIELD)? {
        redis::Value::BulkString(bytes) => Some(bytes.clone()),
        redis::Value::SimpleString(text) => Some(text.clone().into_bytes()),
        _ => None,
    }
}
