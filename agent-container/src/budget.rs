//! Daily budgets per repository, Slack channel and Jira project (Redis counters `budget:{scope}:{day}`).
//!
//! Before a run, the task's own budget (`max_budget_usd` of its agent definition) is reserved on every scope
//! the task belongs to, atomically and only if no scope would go over its limit; after the run, the
//! reservation is replaced by the cost the agent reported. A run whose runner reports no cost (codex) keeps
//! its reservation as spent, and so does a run whose worker died: budgets err on the side of refusing.

use chrono::Utc;
use contracts::{RedisKeys, TaskEnvelope};
use deadpool_redis::redis::{self, Script};
use service_kit::redis::Pool;

use crate::configuration::DailyBudgets;

/// Counters live two days, so a day's total can still be read the day after.
const COUNTER_TTL_SECONDS: u64 = 2 * 24 * 60 * 60;

// KEYS: one counter per scope; ARGV: amount, then one limit per scope, then the TTL.
// Returns 0 when reserved, else the 1-based index of the first scope that would go over, and its total.
const RESERVE_SCRIPT: &str = r"
local amount = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local spent = tonumber(redis.call('GET', key) or '0')
  if spent + amount > tonumber(ARGV[i + 1]) then return {i, tostring(spent)} end
end
for _, key in ipairs(KEYS) do
  redis.call('INCRBYFLOAT', key, ARGV[1])
  redis.call('EXPIRE', key, ARGV[#ARGV])
end
return {0, ''}
";

#[derive(Debug, Clone, PartialEq)]
struct Scope {
    key: String,
    description: String,
    limit: f64,
}

/// Reserved amounts, to be settled after the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reservation {
    keys: Vec<String>,
    amount: f64,
}

#[derive(Clone)]
pub struct DailyBudget {
    pool: Pool,
    keys: RedisKeys,
    limits: DailyBudgets,
    reserve_script: Script,
}

impl DailyBudget {
    pub fn new(pool: Pool, keys: RedisKeys, limits: DailyBudgets) -> Self {
        Self {
            pool,
            keys,
            limits,
            reserve_script: Script::new(RESERVE_SCRIPT),
        }
    }

    fn scopes(&self, envelope: &TaskEnvelope) -> Vec<Scope> {
        let day = Utc::now().format("%Y-%m-%d").to_string();
        let source = &envelope.source;
        let mut scopes = Vec::new();
        let mut add = |limit: Option<f64>, scope: Option<String>, description: String| {
            if let (Some(limit), Some(scope)) = (limit, scope) {
                scopes.push(Scope {
                    key: self.keys.daily_budget(&scope, &day),
                    description,
                    limit,
                });
            }
        };
        if let Some(repo) = &source.repo {
            add(
                self.limits.per_repository,
                Some(format!("repo:{repo}")),
                format!("repository {repo}"),
            );
        }
        if let (Some(team), Some(channel)) = (&source.slack_team, &source.slack_channel) {
            add(
                self.limits.per_slack_channel,
                Some(format!("slack:{team}/{channel}")),
                format!("Slack channel {channel}"),
            );
        }
        if let Some(project) = source
            .jira_issue_key
            .as_deref()
            .and_then(|k| k.split_once('-'))
            .map(|(p, _)| p)
        {
            add(
                self.limits.per_jira_project,
                Some(format!("jira:{project}")),
                format!("Jira project {project}"),
            );
        }
        scopes
    }

    /// Reserves `amount` USD on every scope of the task, or says which daily budget refuses it.
    pub async fn reserve(
        &self,
        envelope: &TaskEnvelope,
        amount: f64,
    ) -> Result<Reservation, BudgetError> {
        let scopes = self.scopes(envelope);
        if scopes.is_empty() {
            return Ok(Reservation::default());
        }
        let mut invocation = self.reserve_script.prepare_invoke();
        for scope in &scopes {
            invocation.key(&scope.key);
        }
        invocation.arg(amount);
        for scope in &scopes {
            invocation.arg(scope.limit);
        }
        invocation.arg(COUNTER_TTL_SECONDS);
        let mut connection = self
            .pool
            .get()
            .await
            .map_err(|e| BudgetError::Unavailable(e.to_string()))?;
        let (refused_by, spent): (usize, String) =
            invocation
                .invoke_async(&mut connection)
                .await
                .map_err(|e| BudgetError::Unavailable(e.to_string()))?;
        if refused_by == 0 {
            return Ok(Reservation {
                keys: scopes.into_iter().map(|s| s.key).collect(),
                amount,
            });
        }
        let scope = &scopes[refused_by - 1];
        Err(BudgetError::Exceeded(format!(
            "refused: the daily budget of ${:.2} for {} would be exceeded (${:.2} already spent or reserved today \
             (UTC), and this task may spend up to ${amount:.2})",
            scope.limit,
            scope.description,
            spent.parse::<f64>().unwrap_or(0.0)
        )))
    }

    /// Replaces the reservation with what the run cost; without a reported cost the reservation stays.
    pub async fn settle(&self, reservation: &Reservation, cost_usd: Option<f64>) {
        let Some(cost) = cost_usd else { return };
        if reservation.keys.is_empty() {
            return;
        }
        let adjustment = cost - reservation.amount;
        let Ok(mut connection) = self.pool.get().await else {
            return;
        };
        let mut pipeline = redis::pipe();
        for key in &reservation.keys {
            pipeline
                .cmd("INCRBYFLOAT")
                .arg(key)
                .arg(adjustment)
                .ignore();
        }
        if let Err(e) = pipeline.query_async::<()>(&mut connection).await {
            tracing::warn!(error = %e, "could not settle a daily budget reservation");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error("{0}")]
    Exceeded(String),
    #[error("the daily budget could not be checked: {0}")]
    Unavailable(String),
}
