//! Building the application: settings in, a bound server out.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use contracts::RedisKeys;
use service_kit::queue::TaskQueue;
use service_kit::redis::RedisReadiness;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::configuration::Settings;
use crate::routes;
use crate::signature::{Clock, SystemClock};
use crate::state::{AppState, SERVICE_NAME};
use crate::telemetry;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "agent-gateway api-gateway",
        description = "Receives signed webhooks from GitHub, Slack, Jira and Sentry and queues `@agent` requests as tasks."
    ),
    tags((name = "webhooks", description = "Provider webhook endpoints (configure each provider with its URL once)"))
)]
struct ApiDoc;

/// The OpenAPI document: every webhook endpoint and the ops endpoints.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut spec) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(routes::webhooks::router())
        .split_for_parts();
    service_kit::ops::document_ops(&mut spec);
    spec
}

pub struct Application {
    port: u16,
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    state: AppState,
}

impl Application {
    /// Binds `BIND_ADDR` (port 0 picks a free one). Redis is not contacted: the gateway starts while it is down.
    pub async fn build(settings: Settings) -> std::io::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Self::build`] with the clock Slack's timestamp window is checked against.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        service_kit::telemetry::metrics_handle();
        let pool = service_kit::redis::pool(&settings.common.redis_url, settings.redis_pool_size)
            .map_err(std::io::Error::other)?;
        let queue = TaskQueue::new(
            pool.clone(),
            RedisKeys::new(settings.common.redis_key_prefix.clone()),
        );
        let max_body_bytes = settings.max_body_bytes;
        let (listener, port) = service_kit::server::bind(settings.common.bind_addr)
            .await
            .map_err(std::io::Error::other)?;
        let state = AppState::new(settings, queue, clock);

        let (webhooks, _) = OpenApiRouter::new()
            .merge(routes::webhooks::router())
            .layer(DefaultBodyLimit::max(max_body_bytes))
            .with_state(state.clone())
            .split_for_parts();
        let router =
            service_kit::error::with_error_fallbacks(webhooks.merge(service_kit::ops::router(
                SERVICE_NAME,
                vec![Box::new(RedisReadiness(pool))],
                openapi(),
            )))
            .layer(axum::middleware::from_fn(
                service_kit::trace_context::trace_requests,
            ));
        Ok(Self {
            port,
            listener,
            router,
            shutdown: CancellationToken::new(),
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancelling it stops the server after the requests in flight.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled (SIGTERM or Ctrl-C in `main`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let queue = self.state.queue.clone();
        if let Err(error) = queue.ensure_groups().await {
            tracing::warn!(%error, "could not create the consumer groups yet; Redis is probably down");
        }
        let interval =
            Duration::from_secs(self.state.settings.queue_metrics_interval_seconds.max(1));
        let gauges = tokio::spawn(telemetry::publish_queue_lengths(queue, interval));
        tracing::info!(port = self.port, "api-gateway listening");
        let served = service_kit::server::serve(self.listener, self.router, self.shutdown).await;
        gauges.abort();
        served
    }
}
