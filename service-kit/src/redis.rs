//! Redis connections: a lazily connecting pool (a service starts while Redis is down), and a dedicated
//! connection for blocking reads.
//!
//! Every handle the pool gives out is a clone of one multiplexed connection, as redis-rs intends them to be
//! used: commands from concurrent requests share one socket, so they reach Redis together (one read and
//! one write on both sides for several of them) instead of one round trip per socket each. Under the
//! gateway's benchmark load that cut Redis's CPU per enqueue by about a fifth and raised throughput by
//! about 8 % against one connection per checkout (see BENCHMARKS.md). Blocking commands never use the
//! pool: they would hold up every request behind them; they get a [`dedicated_connection`].
//!
//! deadpool-redis checks every connection with a PING round trip each time it is handed out, which
//! doubled the round trips of the busiest paths (one enqueue, one settlement). This pool instead marks the
//! shared connection broken when a command on it fails at the connection level (I/O error, dropped
//! connection, timeout): handles to it are dropped when they come back, and the next checkout connects
//! anew. A PING is sent only through a handle that sat idle for [`TRUSTED_WHILE_BUSY`] or longer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool::Runtime;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_redis::redis::aio::{ConnectionLike, MultiplexedConnection};
use deadpool_redis::redis::{self, AsyncCommands, RedisError, RedisFuture};

use crate::ops::ReadinessCheck;

pub use deadpool_redis::redis as client;

/// How long to wait for a connection or a command before calling Redis unreachable.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// A connection handed out this recently, and not marked broken since, is handed out again unchecked.
pub const TRUSTED_WHILE_BUSY: Duration = Duration::from_secs(1);

pub type Pool = managed::Pool<Manager, Connection>;
pub type PoolError = managed::PoolError<RedisError>;

#[derive(Debug, thiserror::Error)]
pub enum CreatePoolError {
    #[error("REDIS_URL is not a Redis URL: {0}")]
    Url(#[source] RedisError),
    #[error(transparent)]
    Build(#[from] managed::BuildError),
}

/// A pool that connects on demand: building it never touches the network.
pub fn pool(url: &str, max_size: usize) -> Result<Pool, CreatePoolError> {
    let client = redis::Client::open(url).map_err(CreatePoolError::Url)?;
    let manager = Manager {
        client,
        current: tokio::sync::Mutex::new(None),
        config: redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT)),
    };
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(REDIS_TIMEOUT))
        .create_timeout(Some(REDIS_TIMEOUT))
        .recycle_timeout(Some(REDIS_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(CreatePoolError::from)
}

/// Creates and recycles the pool's connections (see the module doc).
#[derive(Debug)]
pub struct Manager {
    client: redis::Client,
    config: redis::AsyncConnectionConfig,
    /// The connection new handles share, until a command on it fails.
    current: tokio::sync::Mutex<Option<TrackedConnection>>,
}

/// A handle to the shared multiplexed connection, and whether a command through any handle to it failed
/// at the connection level.
#[derive(Clone)]
pub struct TrackedConnection {
    inner: MultiplexedConnection,
    broken: Arc<AtomicBool>,
}

impl std::fmt::Debug for TrackedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedConnection")
            .field("broken", &self.is_broken())
            .finish_non_exhaustive()
    }
}

impl TrackedConnection {
    fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    fn note<T>(&mut self, result: &redis::RedisResult<T>) {
        if let Err(error) = result
            && (error.is_io_error()
                || error.is_connection_dropped()
                || error.is_connection_refusal()
                || error.is_timeout()
                || error.is_unrecoverable_error())
        {
            self.broken.store(true, Ordering::Relaxed);
        }
    }
}

impl managed::Manager for Manager {
    type Type = TrackedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<TrackedConnection, RedisError> {
        let mut current = self.current.lock().await;
        if let Some(connection) = current.as_ref().filter(|c| !c.is_broken()) {
            return Ok(connection.clone());
        }
        let inner = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        let connection = TrackedConnection {
            inner,
            broken: Arc::new(AtomicBool::new(false)),
        };
        *current = Some(connection.clone());
        Ok(connection)
    }

    async fn recycle(
        &self,
        connection: &mut TrackedConnection,
        metrics: &Metrics,
    ) -> RecycleResult<RedisError> {
        if connection.is_broken() {
            return Err(RecycleError::message("a command on it failed"));
        }
        if metrics.last_used() < TRUSTED_WHILE_BUSY {
            return Ok(());
        }
        let pong: redis::RedisResult<String> =
            redis::cmd("PING").query_async(&mut connection.inner).await;
        connection.note(&pong);
        match pong? {
            pong if pong == "PONG" => Ok(()),
            other => Err(RecycleError::message(format!(
                "unexpected PING answer {other:?}"
            ))),
        }
    }
}

/// A connection checked out of the [`Pool`]; returns to it when dropped.
pub struct Connection(managed::Object<Manager>);

impl From<managed::Object<Manager>> for Connection {
    fn from(object: managed::Object<Manager>) -> Self {
        Self(object)
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let connection: &mut TrackedConnection = &mut self.0;
            let result = connection.inner.req_packed_command(cmd).await;
            connection.note(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move {
            let connection: &mut TrackedConnection = &mut self.0;
            let result = connection
                .inner
                .req_packed_commands(pipeline, offset, count)
                .await;
            connection.note(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.0.inner.get_db()
    }
}

/// A connection of its own, outside every pool, for blocking commands (`XREADGROUP BLOCK`):
/// its response timeout is longer than the longest block it will be used for.
pub async fn dedicated_connection(
    url: &str,
    longest_block: Duration,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(url)?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(longest_block + REDIS_TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// `/ready` check: Redis answers PING.
pub struct RedisReadiness(pub Pool);

#[async_trait]
impl ReadinessCheck for RedisReadiness {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn check(&self) -> Result<(), String> {
        let mut connection = self.0.get().await.map_err(|e| e.to_string())?;
        let pong: String = tokio::time::timeout(REDIS_TIMEOUT, connection.ping())
            .await
            .map_err(|_| "PING timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(format!("unexpected PING answer {pong:?}"))
        }
    }
}
