//! `GET /status`: what each slot of this container is doing.

use axum::Json;
use axum::extract::State;
use contracts::agent::WorkerStatus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// This container's worker id, runner, whether it takes new tasks, and each slot's task.
#[utoipa::path(
    get,
    path = "/status",
    tag = "worker",
    responses((status = 200, description = "The container's slots", body = WorkerStatus))
)]
pub async fn status(State(state): State<AppState>) -> Json<WorkerStatus> {
    Json(state.board.status())
}
