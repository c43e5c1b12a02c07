//! Redis connections: a lazily connecting pool (a service starts while Redis is down), and a dedicated
//! connection for blocking reads.
//!
//! The pool holds multiplexed connections. deadpool-redis checks every connection with a PING round trip
//! each time it is handed out, which doubled the round trips of the busiest paths (one enqueue, one
//! settlement). This pool instead marks a connection broken when a command on it fails at the connection
//! level (I/O error, dropped connection, timeout) and drops it when it comes back; a PING is sent only
//! to a connection that sat idle for [`TRUSTED_WHILE_BUSY`] or longer.

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
}

/// A pooled multiplexed connection and whether a command on it failed at the connection level.
pub struct TrackedConnection {
    inner: MultiplexedConnection,
    broken: bool,
}

impl std::fmt::Debug for TrackedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedConnection")
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl TrackedConnection {
    fn note<T>(&mut self, result: &redis::RedisResult<T>) {
        if let Err(error) = result
            && (error.is_io_error()
                || error.is_connection_dropped()
                || error.is_connection_refusal()
                || error.is_timeout()
                || error.is_unrecoverable_error())
        {
            self.broken = true;
        }
    }
}

impl managed::Manager for Manager {
    type Type = TrackedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<TrackedConnection, RedisError> {
        let inner = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        Ok(TrackedConnection {
            inner,
            broken: false,
        })
    }

    async fn recycle(
        &self,
        connection: &mut TrackedConnection,
        metrics: &Metrics,
    ) -> RecycleResult<RedisError> {
        if connection.broken {
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
