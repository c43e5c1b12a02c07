//! Redis connections: a lazily connecting pool (a service starts while Redis is down), and a dedicated
//! connection for blocking reads.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::{self, AsyncCommands};
use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};

use crate::ops::ReadinessCheck;

pub use deadpool_redis::redis as client;

/// How long to wait for a connection or a command before calling Redis unreachable.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// A pool that connects on demand: building it never touches the network.
pub fn pool(url: &str, max_size: usize) -> Result<Pool, deadpool_redis::CreatePoolError> {
    let mut config = Config::from_url(url);
    config.pool = Some(PoolConfig {
        max_size,
        timeouts: Timeouts {
            wait: Some(REDIS_TIMEOUT),
            create: Some(REDIS_TIMEOUT),
            recycle: Some(REDIS_TIMEOUT),
        },
        ..PoolConfig::default()
    });
    config.create_pool(Some(Runtime::Tokio1))
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
