//! The pool: no PING per checkout, a connection that failed is never handed out again, and concurrent
//! checkouts share one multiplexed connection.

use deadpool_redis::redis::AsyncCommands;
use service_kit::redis::Pool;
use service_kit::testing::{OwnRedis, free_port};

/// A redis-server of the test's own (so it can be stopped and counted) and a pool of `size` handles to it.
struct OwnServer {
    dir: tempfile::TempDir,
    port: u16,
    redis: OwnRedis,
    pool: Pool,
}

impl OwnServer {
    async fn start(size: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let redis = OwnRedis::start(port, dir.path()).await;
        let pool = service_kit::redis::pool(&format!("redis://127.0.0.1:{port}"), size).unwrap();
        Self {
            dir,
            port,
            redis,
            pool,
        }
    }

    /// One section of the server's `INFO`, through a handle from the pool.
    async fn info(&self, section: &str) -> String {
        let mut connection = self.pool.get().await.unwrap();
        deadpool_redis::redis::cmd("INFO")
            .arg(section)
            .query_async(&mut connection)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_restarted_redis_costs_at_most_one_failed_command() {
    let OwnServer {
        dir,
        port,
        redis,
        pool,
    } = OwnServer::start(1).await;
    let mut connection = pool.get().await.unwrap();
    let _: () = connection.set("k", "before").await.unwrap();
    drop(connection);

    redis.stop();
    let _redis = OwnRedis::start(port, dir.path()).await;
    let mut failures = 0;
    let value = loop {
        let mut connection = pool.get().await.unwrap();
        match connection.get::<_, Option<String>>("k").await {
            Ok(value) => break value,
            Err(error) => {
                failures += 1;
                assert!(failures < 2, "the broken connection came back: {error}");
            }
        }
    };
    assert_eq!(value, None, "a fresh server holds nothing");
    assert!(failures <= 1);
}

#[tokio::test]
async fn a_busy_pool_sends_no_ping() {
    let server = OwnServer::start(1).await;
    for _ in 0..50 {
        let mut connection = server.pool.get().await.unwrap();
        let _: i64 = connection.incr("n", 1).await.unwrap();
    }
    let stats = server.info("commandstats").await;
    assert!(
        !stats.contains("cmdstat_ping"),
        "a checkout pinged although the connection was just used:\n{stats}"
    );
}

#[tokio::test]
async fn concurrent_checkouts_share_one_connection() {
    let server = OwnServer::start(8).await;
    let increments = (0..64).map(|_| {
        let pool = server.pool.clone();
        tokio::spawn(async move {
            let mut connection = pool.get().await.unwrap();
            let _: i64 = connection.incr("n", 1).await.unwrap();
        })
    });
    for increment in futures::future::join_all(increments).await {
        increment.unwrap();
    }
    assert!(server.pool.status().size > 1, "the checkouts overlapped");
    let mut connection = server.pool.get().await.unwrap();
    let total: i64 = connection.get("n").await.unwrap();
    assert_eq!(total, 64);
    drop(connection);
    let clients = server.info("clients").await;
    assert!(
        clients.contains("connected_clients:1\r\n"),
        "the pool opened more than one connection:\n{clients}"
    );
}
