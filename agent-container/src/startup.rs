//! Builds the service: the HTTP side (`/status` and the ops endpoints on 8085) and the worker loop.

use std::sync::Arc;

use async_trait::async_trait;
use contracts::{RedisKeys, TaskLogWriter};
use service_kit::ops::{self, ReadinessCheck};
use service_kit::queue::TaskQueue;
use service_kit::service_client::ServiceClient;
use service_kit::tracking::Tracker;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::budget::DailyBudget;
use crate::configuration::Settings;
use crate::consumer::QueueConsumer;
use crate::conversation::Conversations;
use crate::error::StartupError;
use crate::execution::Executor;
use crate::follow::FollowUp;
use crate::redact::Redactor;
use crate::routes;
use crate::runner::build_runner;
use crate::state::{AppState, SlotBoard};
use crate::worker::Worker;

pub const SERVICE_NAME: &str = "agent-container";

#[derive(OpenApi)]
#[openapi(info(
    title = "agent-container",
    description = "Workers that run a coding-agent CLI for queued tasks: slot status and ops endpoints."
))]
struct ApiDoc;

pub struct Application {
    port: u16,
    listener: TcpListener,
    router: axum::Router,
    worker: Arc<Worker>,
}

/// `/ready` fails once the container stops taking tasks.
struct AcceptingTasks(Arc<SlotBoard>);

#[async_trait]
impl ReadinessCheck for AcceptingTasks {
    fn name(&self) -> &'static str {
        "worker"
    }

    async fn check(&self) -> Result<(), String> {
        if self.0.is_accepting() {
            Ok(())
        } else {
            Err("shutting down: no new tasks are taken".to_owned())
        }
    }
}

impl Application {
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        service_kit::telemetry::metrics_handle();
        let workdir = std::fs::create_dir_all(&settings.workdir)
            .and_then(|()| std::fs::canonicalize(&settings.workdir))
            .map_err(|source| StartupError::Workdir {
                path: settings.workdir.display().to_string(),
                source,
            })?;
        settings.workdir = workdir;
        let settings = Arc::new(settings);
        let pool =
            service_kit::redis::pool(&settings.common.redis_url, settings.concurrency * 2 + 4)?;
        let keys = RedisKeys::new(settings.common.redis_key_prefix.clone());
        let logs = TaskLogWriter::new(settings.common.task_logs_dir.clone(), SERVICE_NAME);
        let board = Arc::new(SlotBoard::new(
            settings.worker_id.clone(),
            settings.runner.as_str().to_owned(),
            settings.concurrency,
        ));
        let follow = if settings.follow_up {
            let client = ServiceClient::from_env(logs.clone())?;
            Some(Arc::new(FollowUp {
                tracker: Tracker::new(
                    client,
                    pool.clone(),
                    keys.clone(),
                    settings.dashboard_url.clone(),
                ),
                logs: logs.clone(),
                poster: settings.worker_id.clone(),
                answer_retry_for: settings.answer_retry_for,
            }))
        } else {
            None
        };
        let executor = Executor {
            settings: settings.clone(),
            runner: build_runner(&settings),
            logs: logs.clone(),
            redactor: Arc::new(Redactor::new(settings.secret_values.clone())),
            budget: DailyBudget::new(pool.clone(), keys.clone(), settings.daily_budgets),
            follow,
        };
        let worker = Arc::new(Worker {
            settings: settings.clone(),
            consumer: QueueConsumer::new(pool.clone(), keys.clone(), settings.worker_id.clone()),
            queue: TaskQueue::new(pool.clone(), keys.clone()),
            logs,
            executor,
            board: board.clone(),
            conversations: Conversations::new(pool.clone(), keys),
        });

        let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(routes::status::router())
            .with_state(AppState {
                board: board.clone(),
            })
            .split_for_parts();
        ops::document_ops(&mut openapi);
        let checks: Vec<Box<dyn ReadinessCheck>> = vec![
            Box::new(service_kit::redis::RedisReadiness(pool)),
            Box::new(AcceptingTasks(board)),
        ];
        let router = service_kit::error::with_error_fallbacks(router.merge(ops::router(
            SERVICE_NAME,
            checks,
            openapi,
        )));

        let addr = settings.common.bind_addr;
        let (listener, port) = service_kit::server::bind(addr).await?;
        Ok(Self {
            port,
            listener,
            router,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves HTTP and runs the workers until SIGTERM or Ctrl-C, then drains (see [`Worker::run`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let shutdown = service_kit::server::shutdown_token();
        self.run_until(shutdown).await
    }

    pub async fn run_until(self, shutdown: CancellationToken) -> std::io::Result<()> {
        tracing::info!(port = self.port, worker_id = %self.worker.board.worker_id(), "agent-container started");
        let http_stop = CancellationToken::new();
        let server = tokio::spawn(service_kit::server::serve(
            self.listener,
            self.router,
            http_stop.clone(),
        ));
        self.worker.clone().run(shutdown).await;
        http_stop.cancel();
        server.await.map_err(std::io::Error::other)?
    }
}
