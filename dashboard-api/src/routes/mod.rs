//! The API under `/api/v1`, one module per resource.

pub mod analytics;
pub mod dead_letters;
pub mod live;
pub mod logs;
pub mod tasks;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use contracts::TaskId;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::Error;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dashboard-api",
        description = "Every agent-gateway task's full trail: the task index, the logs, a live tail, analytics and dead letters."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "tasks", description = "The task index"),
        (name = "logs", description = "A task's log files"),
        (name = "analytics", description = "Counts, durations, cost and the queue"),
        (name = "dead-letters", description = "Tasks that failed every attempt"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tasks::router())
        .merge(logs::router())
        .merge(live::router())
        .merge(analytics::router())
        .merge(dead_letters::router())
}

/// The `{task_id}` of a path, parsed before anything touches the file system (and `{stream}`, if any).
pub struct TaskPath {
    pub task_id: TaskId,
    pub stream: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for TaskPath {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::bad_request("invalid_path", e.body_text()))?;
        let raw = params.remove("task_id").unwrap_or_default();
        Ok(Self {
            task_id: raw.parse()?,
            stream: params.remove("stream"),
        })
    }
}

pub fn json_bytes(body: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
