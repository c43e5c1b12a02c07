//! The endpoints every HTTP service serves the same way: `/health`, `/ready`, `/metrics`, `/docs`, `/openapi.json`.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ErrorResponse;

/// One dependency `/ready` asks about.
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &'static str;
    async fn check(&self) -> Result<(), String>;
}

#[derive(Clone)]
struct OpsState {
    service: &'static str,
    checks: Arc<Vec<Box<dyn ReadinessCheck>>>,
}

/// The ops routes of one service. `openapi` is the service's full spec (its handlers' paths included).
pub fn router(
    service: &'static str,
    checks: Vec<Box<dyn ReadinessCheck>>,
    openapi: OpenApi,
) -> Router {
    let state = OpsState {
        service,
        checks: Arc::new(checks),
    };
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
}

async fn health(State(state): State<OpsState>) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "service": state.service }))
}

async fn ready(State(state): State<OpsState>) -> Response {
    let results = futures::future::join_all(
        state
            .checks
            .iter()
            .map(|c| async move { (c.name(), c.check().await) }),
    )
    .await;
    let mut details = serde_json::Map::new();
    let mut failing = Vec::new();
    for (name, result) in results {
        match result {
            Ok(()) => {
                details.insert(name.into(), json!("ok"));
            }
            Err(error) => {
                details.insert(name.into(), json!(format!("unavailable: {error}")));
                failing.push(name);
            }
        }
    }
    if failing.is_empty() {
        Json(json!({ "status": "ready", "service": state.service, "checks": details }))
            .into_response()
    } else {
        ErrorResponse::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!(
                "{} is not ready: {} unavailable",
                state.service,
                failing.join(", ")
            ),
        )
        .with_details(serde_json::Value::Object(details))
        .retry_after(5)
        .into_response()
    }
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::metrics_handle().render(),
    )
        .into_response()
}

/// Documents the ops endpoints in a service's OpenAPI spec.
pub fn document_ops(openapi: &mut OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::response::ResponseBuilder;
    for (path, summary, tag) in [
        ("/health", "Liveness: the process answers.", "ops"),
        (
            "/ready",
            "Readiness: every dependency answers; 503 with the failing ones otherwise.",
            "ops",
        ),
        (
            "/metrics",
            "Prometheus metrics in the text exposition format.",
            "ops",
        ),
    ] {
        let operation = OperationBuilder::new()
            .summary(Some(summary))
            .tag(tag)
            .response("200", ResponseBuilder::new().description("OK"))
            .response(
                "503",
                ResponseBuilder::new().description("Not ready (only /ready)"),
            )
            .build();
        openapi
            .paths
            .add_path_operation(path, vec![HttpMethod::Get], operation);
    }
}
