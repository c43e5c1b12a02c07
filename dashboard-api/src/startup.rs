use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use contracts::{RedisKeys, TaskLogWriter};
use service_kit::ops::{self, ReadinessCheck};
use service_kit::queue::TaskQueue;
use service_kit::redis::RedisReadiness;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::access::{self, Access};
use crate::configuration::Settings;
use crate::consumer::EventConsumer;
use crate::index::TaskIndex;
use crate::logs::TaskLogs;
use crate::state::{AppState, Shared};

pub const SERVICE_NAME: &str = "dashboard-api";

pub struct Application {
    port: u16,
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
}

/// `/ready`: the index database answers and has its schema.
struct IndexReadiness(TaskIndex);

#[async_trait]
impl ReadinessCheck for IndexReadiness {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Result<(), String> {
        if !self.0.is_schema_ready() {
            self.0.ensure_schema().await.map_err(|e| e.to_string())?;
        }
        sqlx::query("SELECT 1")
            .execute(self.0.pool())
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Application {
    /// Checks access rules, binds, and starts the event consumer and the retention job.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.check_access()?;
        let index = TaskIndex::connect_lazy(&settings.database_url)?;
        if let Err(e) = tokio::time::timeout(Duration::from_secs(5), index.ensure_schema()).await {
            tracing::warn!(error = %e, "the index database is not reachable yet; /ready says so until it is");
        }
        let redis_pool = service_kit::redis::pool(&settings.common.redis_url, 16)?;
        let keys = RedisKeys::new(settings.common.redis_key_prefix.clone());
        let logs = TaskLogs::new(settings.common.task_logs_dir.clone());
        let shutdown = CancellationToken::new();
        let access = Access::new(settings.token.clone());
        let state = AppState::new(Shared {
            index: index.clone(),
            logs: logs.clone(),
            log_writer: TaskLogWriter::new(settings.common.task_logs_dir.clone(), SERVICE_NAME),
            queue: TaskQueue::new(redis_pool.clone(), keys.clone()),
            access: access.clone(),
            sse_poll_interval: settings.sse_poll_interval,
            shutdown: shutdown.clone(),
        });

        tokio::spawn(
            EventConsumer {
                redis_url: settings.common.redis_url.clone(),
                keys,
                group: settings.consumer_group.clone(),
                consumer: settings.consumer_name.clone(),
                index: index.clone(),
                logs: logs.clone(),
            }
            .run(shutdown.clone()),
        );
        tokio::spawn(crate::retention::run_periodically(
            logs,
            index.clone(),
            settings.retention_days,
            settings.retention_interval,
            shutdown.clone(),
        ));

        let (api, mut openapi) = crate::routes::api_router().split_for_parts();
        ops::document_ops(&mut openapi);
        let checks: Vec<Box<dyn ReadinessCheck>> = vec![
            Box::new(IndexReadiness(index)),
            Box::new(RedisReadiness(redis_pool)),
        ];
        let login = Router::new()
            .route("/login", get(access::login_page).post(access::login))
            .route("/logout", post(access::logout).get(access::logout))
            .with_state(access.clone());
        let router = service_kit::error::with_error_fallbacks(
            api.with_state(state)
                .merge(crate::pages::router())
                .merge(login)
                .merge(ops::router(SERVICE_NAME, checks, openapi)),
        )
        .layer(middleware::from_fn_with_state(
            access,
            access::require_access,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http());

        let (listener, port) = service_kit::server::bind(settings.common.bind_addr).await?;
        tracing::info!(address = %SocketAddr::new(settings.common.bind_addr.ip(), port), "dashboard-api listening");
        Ok(Self {
            port,
            listener,
            router,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancelling it stops the server, the consumer, the retention job and every live stream.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        service_kit::server::serve(self.listener, self.router, self.shutdown).await
    }
}
