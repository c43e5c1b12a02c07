//! Aggregates over the task index, plus the queue's live numbers from Redis.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::index::{TaskIndex, from_micros, micros};

const HOUR_MICROS: i64 = 3_600_000_000;
const DAY_MICROS: i64 = 24 * HOUR_MICROS;

/// Tasks created in one hour or day, with one status, provider and command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CountBucket {
    pub bucket_start: DateTime<Utc>,
    pub status: String,
    pub provider: String,
    pub command: String,
    pub count: i64,
}

/// Cost and tokens of the tasks created on one day, per provider, command and repository/channel/project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CostBucket {
    pub day: DateTime<Utc>,
    pub provider: String,
    pub command: String,
    pub scope: Option<String>,
    pub tasks: i64,
    pub cost_usd: f64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DurationStats {
    /// Finished tasks with a recorded duration.
    pub count: i64,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

/// The queue right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueStats {
    /// Entries not yet delivered, per priority (`high`, `normal`, `low`).
    pub waiting: BTreeMap<String, u64>,
    /// Delivered and not yet acknowledged: running, or held by a dead worker.
    pub in_flight: u64,
    /// Waiting out a retry backoff.
    pub delayed: u64,
    pub dead_lettered: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Analytics {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_provider: BTreeMap<String, i64>,
    pub by_command: BTreeMap<String, i64>,
    pub counts_per_hour: Vec<CountBucket>,
    pub counts_per_day: Vec<CountBucket>,
    /// succeeded / (succeeded + failed + dead_lettered); absent when none finished.
    pub success_rate: Option<f64>,
    pub duration: DurationStats,
    pub cost_per_day: Vec<CostBucket>,
    pub total_cost_usd: f64,
    pub total_input_tokens: i64,
    pub total_output_tokens: i64,
    /// Absent when Redis cannot be asked; `queue_error` says why.
    pub queue: Option<QueueStats>,
    pub queue_error: Option<String>,
}

/// Everything but the queue numbers, for tasks created in `[since, until)`.
pub async fn compute(
    index: &TaskIndex,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Analytics, sqlx::Error> {
    let counts_per_hour = counts(index, since, until, HOUR_MICROS).await?;
    let counts_per_day = counts(index, since, until, DAY_MICROS).await?;
    let mut by_status = BTreeMap::new();
    let mut by_provider = BTreeMap::new();
    let mut by_command = BTreeMap::new();
    for bucket in &counts_per_day {
        *by_status.entry(bucket.status.clone()).or_insert(0) += bucket.count;
        *by_provider.entry(bucket.provider.clone()).or_insert(0) += bucket.count;
        *by_command.entry(bucket.command.clone()).or_insert(0) += bucket.count;
    }
    let total = by_status.values().sum();
    let succeeded = by_status.get("succeeded").copied().unwrap_or(0);
    let finished = succeeded
        + by_status.get("failed").copied().unwrap_or(0)
        + by_status.get("dead_lettered").copied().unwrap_or(0);
    let success_rate = (finished > 0).then(|| succeeded as f64 / finished as f64);
    let cost_per_day = costs(index, since, until).await?;
    Ok(Analytics {
        since,
        until,
        total,
        by_status,
        by_provider,
        by_command,
        counts_per_hour,
        counts_per_day,
        success_rate,
        duration: durations(index, since, until).await?,
        // Not `sum()`: the float sum of nothing is -0.0, which an empty window would show as "-0.0".
        total_cost_usd: cost_per_day.iter().fold(0.0, |total, c| total + c.cost_usd),
        total_input_tokens: cost_per_day.iter().map(|c| c.input_tokens).sum(),
        total_output_tokens: cost_per_day.iter().map(|c| c.output_tokens).sum(),
        cost_per_day,
        queue: None,
        queue_error: None,
    })
}

async fn counts(
    index: &TaskIndex,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    width: i64,
) -> Result<Vec<CountBucket>, sqlx::Error> {
    let sql = format!(
        "SELECT created_at / {width} AS bucket, status, provider, command, COUNT(*) AS n FROM tasks \
         WHERE created_at >= $1 AND created_at < $2 GROUP BY bucket, status, provider, command \
         ORDER BY bucket, status, provider, command"
    );
    let rows = sqlx::query(&sql)
        .bind(micros(since))
        .bind(micros(until))
        .fetch_all(index.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(CountBucket {
                bucket_start: from_micros(row.try_get::<i64, _>("bucket")? * width),
                status: row.try_get("status")?,
                provider: row.try_get("provider")?,
                command: row.try_get("command")?,
                count: row.try_get("n")?,
            })
        })
        .collect()
}

async fn costs(
    index: &TaskIndex,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<CostBucket>, sqlx::Error> {
    let sql = format!(
        "SELECT created_at / {DAY_MICROS} AS day, provider, command, scope, COUNT(*) AS n, \
         CAST(SUM(cost_micro_usd) AS BIGINT) AS cost, CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, \
         CAST(SUM(output_tokens) AS BIGINT) AS output_tokens FROM tasks \
         WHERE created_at >= $1 AND created_at < $2 GROUP BY day, provider, command, scope \
         ORDER BY day, provider, command, scope"
    );
    let rows = sqlx::query(&sql)
        .bind(micros(since))
        .bind(micros(until))
        .fetch_all(index.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(CostBucket {
                day: from_micros(row.try_get::<i64, _>("day")? * DAY_MICROS),
                provider: row.try_get("provider")?,
                command: row.try_get("command")?,
                scope: row.try_get("scope")?,
                tasks: row.try_get("n")?,
                cost_usd: row.try_get::<Option<i64>, _>("cost")?.unwrap_or(0) as f64 / 1e6,
                input_tokens: row.try_get::<Option<i64>, _>("input_tokens")?.unwrap_or(0),
                output_tokens: row.try_get::<Option<i64>, _>("output_tokens")?.unwrap_or(0),
            })
        })
        .collect()
}

async fn durations(
    index: &TaskIndex,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<DurationStats, sqlx::Error> {
    const RANGE: &str =
        "FROM tasks WHERE created_at >= $1 AND created_at < $2 AND duration_ms IS NOT NULL";
    let count: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n {RANGE}"))
        .bind(micros(since))
        .bind(micros(until))
        .fetch_one(index.pool())
        .await?
        .try_get("n")?;
    if count == 0 {
        return Ok(DurationStats::default());
    }
    let percentile = async |p: f64| -> Result<Option<i64>, sqlx::Error> {
        // Nearest rank: the smallest value with at least p of the values at or below it.
        let rank = ((p * count as f64).ceil() as i64).clamp(1, count);
        let row = sqlx::query(&format!(
            "SELECT duration_ms {RANGE} ORDER BY duration_ms LIMIT 1 OFFSET {}",
            rank - 1
        ))
        .bind(micros(since))
        .bind(micros(until))
        .fetch_optional(index.pool())
        .await?;
        row.map(|r| r.try_get("duration_ms")).transpose()
    };
    Ok(DurationStats {
        count,
        p50_ms: percentile(0.50).await?,
        p95_ms: percentile(0.95).await?,
    })
}

impl QueueStats {
    pub fn from_depths(depths: &service_kit::queue::QueueDepths) -> Self {
        Self {
            waiting: depths
                .waiting
                .iter()
                .map(|(p, n)| (p.as_str().to_owned(), *n))
                .collect(),
            in_flight: depths.in_flight,
            delayed: depths.delayed,
            dead_lettered: depths.dead_lettered,
        }
    }
}
