use std::time::Duration;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use service_kit::extract::Query;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analytics::{self, Analytics, QueueStats};
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_analytics))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Tasks created at or after (RFC 3339); default 30 days before `until`.
    since: Option<DateTime<Utc>>,
    /// Tasks created before (RFC 3339); default now.
    until: Option<DateTime<Utc>>,
}

/// Counts by status, provider and command per hour and per day, success rate, p50/p95 duration, cost and
/// tokens per day, provider, command and repository, and the queue's depth, in-flight and dead-letter counts.
#[utoipa::path(
    get,
    path = "/api/v1/analytics",
    params(AnalyticsQuery),
    responses(
        (status = 200, description = "The figures", body = Analytics),
        (status = 400, description = "Bad time range", body = contracts::ErrorBody),
    ),
    tag = "analytics"
)]
pub async fn get_analytics(
    State(state): State<AppState>,
    Query(query): Query<AnalyticsQuery>,
) -> Result<Json<Analytics>, Error> {
    let until = query.until.unwrap_or_else(Utc::now);
    let since = query.since.unwrap_or(until - chrono::Duration::days(30));
    if since >= until {
        return Err(Error::bad_request(
            "invalid_query",
            "since must be before until",
        ));
    }
    if until - since > chrono::Duration::days(366) {
        return Err(Error::bad_request(
            "invalid_query",
            "the range may span at most 366 days",
        ));
    }
    let mut figures = analytics::compute(&state.index, since, until).await?;
    match tokio::time::timeout(Duration::from_secs(3), state.queue.depths()).await {
        Ok(Ok(depths)) => figures.queue = Some(QueueStats::from_depths(&depths)),
        Ok(Err(e)) => figures.queue_error = Some(e.to_string()),
        Err(_) => figures.queue_error = Some("redis did not answer in time".to_owned()),
    }
    Ok(Json(figures))
}
