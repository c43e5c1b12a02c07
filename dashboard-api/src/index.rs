//! The task index: one row per task in dashboard-api's own database (SQLite or PostgreSQL through sqlx's
//! `Any` driver, runtime queries only), derived from the task's log directory so that the live consumer
//! and `dashboard-api reindex` produce the same rows.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use contracts::task_log::{FinalResult, LogFile, TaskMetadata};
use contracts::{Provider, TaskEvent, TaskId};
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use utoipa::ToSchema;

/// The columns of `tasks`, in insert order.
const COLUMNS: [&str; 24] = [
    "task_id",
    "status",
    "provider",
    "command",
    "event",
    "scope",
    "actor",
    "actor_id",
    "instruction",
    "conversation_key",
    "priority",
    "created_at",
    "updated_at",
    "finished_at",
    "attempt",
    "run",
    "worker",
    "last_error",
    "success",
    "duration_ms",
    "cost_micro_usd",
    "input_tokens",
    "output_tokens",
    "model",
];

const INDEXES: &[(&str, &str)] = &[
    ("tasks_by_status", "status, task_id"),
    ("tasks_by_provider", "provider, task_id"),
    ("tasks_by_command", "command, task_id"),
    ("tasks_by_scope", "scope, task_id"),
    ("tasks_by_actor", "actor, task_id"),
    ("tasks_by_actor_id", "actor_id, task_id"),
    ("tasks_by_created_at", "created_at"),
    ("tasks_by_updated_at", "updated_at"),
];

/// Text filters shorter than this (in characters) cannot use the trigram index and scan instead; a text that
/// short is usually common, so the scan soon fills a page.
const SHORTEST_INDEXED_TEXT: usize = 3;
/// Up to this many rows containing the text, a page is read from the text index's matches; with more, the
/// newest-first scan finds a page of matches sooner than sorting all of them.
const TEXT_MATCHES_SORTED_AT_MOST: i64 = 10_000;

/// SQLite: a trigram full-text index of the instruction (FTS5, the table's external content), kept in step
/// by triggers, so that a text filter reads the rows that contain the text instead of scanning them all.
const SQLITE_TEXT_INDEX: [&str; 4] = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS tasks_text USING fts5(instruction, content='tasks', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS tasks_text_insert AFTER INSERT ON tasks BEGIN \
       INSERT INTO tasks_text(rowid, instruction) VALUES (new.rowid, new.instruction); END",
    "CREATE TRIGGER IF NOT EXISTS tasks_text_delete AFTER DELETE ON tasks BEGIN \
       INSERT INTO tasks_text(tasks_text, rowid, instruction) VALUES ('delete', old.rowid, old.instruction); END",
    "CREATE TRIGGER IF NOT EXISTS tasks_text_update AFTER UPDATE OF instruction ON tasks \
       WHEN old.instruction IS NOT new.instruction BEGIN \
       INSERT INTO tasks_text(tasks_text, rowid, instruction) VALUES ('delete', old.rowid, old.instruction); \
       INSERT INTO tasks_text(rowid, instruction) VALUES (new.rowid, new.instruction); END",
];

/// One task as the index knows it. Times are RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskSummary {
    #[schema(example = "task-01934f5e-8c7a-7b3e-9c1d-2f4a5b6c7d8e")]
    pub task_id: String,
    /// queued, running, succeeded, failed, dead_lettered or cancelled.
    pub status: String,
    pub provider: String,
    pub command: String,
    /// The provider's event name.
    pub event: String,
    /// Repository (GitHub `owner/name`), channel (Slack), project key (Jira) or organization (Sentry).
    pub scope: Option<String>,
    /// Login or name of who asked.
    pub actor: Option<String>,
    pub actor_id: Option<String>,
    pub instruction: String,
    pub conversation_key: String,
    pub priority: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempt: i64,
    pub run: i64,
    pub worker: Option<String>,
    pub last_error: Option<String>,
    pub success: Option<bool>,
    pub duration_ms: Option<i64>,
    pub cost_usd: Option<f64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub model: Option<String>,
}

impl TaskSummary {
    /// The row for a task, from its `metadata.json` and, once written, `06-final-result.json`.
    /// `None` when the metadata is missing or unreadable.
    pub fn from_log_dir(dir: &Path) -> Option<Self> {
        let metadata: TaskMetadata =
            serde_json::from_slice(&std::fs::read(dir.join(LogFile::Metadata.file_name())).ok()?)
                .ok()?;
        let final_result: Option<FinalResult> =
            std::fs::read(dir.join(LogFile::FinalResult.file_name()))
                .ok()
                .and_then(|raw| serde_json::from_slice(&raw).ok())
                // A result left by an earlier run says nothing about a re-queued one.
                .filter(|result: &FinalResult| result.run >= metadata.run);
        Some(Self::from_parts(&metadata, final_result.as_ref()))
    }

    pub fn from_parts(metadata: &TaskMetadata, final_result: Option<&FinalResult>) -> Self {
        let envelope = &metadata.envelope;
        let source = &envelope.source;
        let scope = match envelope.provider {
            Provider::Github => source.repo.clone(),
            Provider::Slack => source.slack_channel.clone(),
            Provider::Jira => source
                .jira_issue_key
                .as_deref()
                .map(|key| key.split('-').next().unwrap_or(key).to_owned()),
            Provider::Sentry => source.sentry_org.clone(),
        };
        let actor = envelope
            .actor
            .login
            .clone()
            .or_else(|| envelope.actor.display_name.clone())
            .or_else(|| Some(envelope.actor.id.clone()).filter(|id| !id.is_empty()));
        Self {
            task_id: metadata.task_id.to_string(),
            status: metadata.status.as_str().to_owned(),
            provider: envelope.provider.as_str().to_owned(),
            command: envelope.command.as_str().to_owned(),
            event: envelope.event.clone(),
            scope,
            actor,
            actor_id: Some(envelope.actor.id.clone()).filter(|id| !id.is_empty()),
            instruction: envelope.instruction.clone(),
            conversation_key: envelope.conversation_key.clone(),
            priority: envelope.priority.as_str().to_owned(),
            created_at: metadata.created_at,
            updated_at: metadata.updated_at,
            finished_at: final_result.map(|r| r.finished_at),
            attempt: i64::from(metadata.attempt),
            run: i64::from(metadata.run),
            worker: metadata.worker.clone(),
            last_error: metadata
                .last_error
                .clone()
                .or_else(|| final_result.and_then(|r| r.error.clone())),
            success: final_result.map(|r| r.success),
            duration_ms: final_result.map(|r| saturating_i64(r.duration_ms)),
            cost_usd: final_result.and_then(|r| r.cost_usd),
            input_tokens: final_result.map(|r| saturating_i64(r.input_tokens)),
            output_tokens: final_result.map(|r| saturating_i64(r.output_tokens)),
            model: final_result.and_then(|r| r.model.clone()),
        }
    }

    /// What an event alone says, for a task whose log directory cannot be read.
    pub fn from_event(event: &TaskEvent) -> Self {
        Self {
            task_id: event.task_id.to_string(),
            status: event.status.as_str().to_owned(),
            provider: event.provider.as_str().to_owned(),
            command: event.command.as_str().to_owned(),
            event: String::new(),
            scope: None,
            actor: None,
            actor_id: None,
            instruction: String::new(),
            conversation_key: event.conversation_key.clone(),
            priority: String::new(),
            created_at: event.timestamp,
            updated_at: event.timestamp,
            finished_at: None,
            attempt: i64::from(event.attempt.unwrap_or(1)),
            run: i64::from(event.run.unwrap_or(1)),
            worker: event.worker.clone(),
            last_error: None,
            success: None,
            duration_ms: None,
            cost_usd: None,
            input_tokens: None,
            output_tokens: None,
            model: None,
        }
    }

    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            task_id: row.try_get("task_id")?,
            status: row.try_get("status")?,
            provider: row.try_get("provider")?,
            command: row.try_get("command")?,
            event: row.try_get("event")?,
            scope: row.try_get("scope")?,
            actor: row.try_get("actor")?,
            actor_id: row.try_get("actor_id")?,
            instruction: row.try_get("instruction")?,
            conversation_key: row.try_get("conversation_key")?,
            priority: row.try_get("priority")?,
            created_at: from_micros(row.try_get("created_at")?),
            updated_at: from_micros(row.try_get("updated_at")?),
            finished_at: row
                .try_get::<Option<i64>, _>("finished_at")?
                .map(from_micros),
            attempt: row.try_get("attempt")?,
            run: row.try_get("run")?,
            worker: row.try_get("worker")?,
            last_error: row.try_get("last_error")?,
            success: row.try_get::<Option<i64>, _>("success")?.map(|s| s != 0),
            duration_ms: row.try_get("duration_ms")?,
            cost_usd: row
                .try_get::<Option<i64>, _>("cost_micro_usd")?
                .map(|micro| micro as f64 / 1e6),
            input_tokens: row.try_get("input_tokens")?,
            output_tokens: row.try_get("output_tokens")?,
            model: row.try_get("model")?,
        })
    }

    fn bind_all<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        query
            .bind(self.task_id.clone())
            .bind(self.status.clone())
            .bind(self.provider.clone())
            .bind(self.command.clone())
            .bind(self.event.clone())
            .bind(self.scope.clone())
            .bind(self.actor.clone())
            .bind(self.actor_id.clone())
            .bind(self.instruction.clone())
            .bind(self.conversation_key.clone())
            .bind(self.priority.clone())
            .bind(micros(self.created_at))
            .bind(micros(self.updated_at))
            .bind(self.finished_at.map(micros))
            .bind(self.attempt)
            .bind(self.run)
            .bind(self.worker.clone())
            .bind(self.last_error.clone())
            .bind(self.success.map(i64::from))
            .bind(self.duration_ms)
            .bind(self.cost_usd.map(|usd| (usd * 1e6).round() as i64))
            .bind(self.input_tokens)
            .bind(self.output_tokens)
            .bind(self.model.clone())
    }
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub fn micros(ts: DateTime<Utc>) -> i64 {
    ts.timestamp_micros()
}

pub fn from_micros(value: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(value).unwrap_or_default()
}

/// One change the event consumer makes to the index.
#[derive(Debug, Clone)]
pub enum IndexUpdate {
    /// The full row, derived from the task's log directory.
    Row(TaskSummary),
    /// Only the status and time an event reports, for a task whose directory cannot be read.
    StatusOnly(TaskSummary),
}

/// Filters of the task list; every one is optional and they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub provider: Option<String>,
    pub status: Option<String>,
    pub command: Option<String>,
    pub scope: Option<String>,
    /// Matches the login/name or the provider id.
    pub actor: Option<String>,
    pub created_since: Option<DateTime<Utc>>,
    pub created_until: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the instruction.
    pub text: Option<String>,
    /// Keyset cursor: only tasks with an id below this one (ids sort by creation time).
    pub before: Option<TaskId>,
}

/// A page of the task list, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskPage {
    pub tasks: Vec<TaskSummary>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum Bind {
    Text(String),
    Int(i64),
}

/// The index's database. Cheap to clone.
#[derive(Clone)]
pub struct TaskIndex {
    pool: AnyPool,
    backend: Backend,
    schema_ready: Arc<AtomicBool>,
}

impl TaskIndex {
    /// A pool that connects on demand, so the service starts while the database is down.
    pub fn connect_lazy(database_url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if database_url.starts_with("sqlite:") {
            create_sqlite_parent_dir(database_url)?;
            Backend::Sqlite
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:");
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect_lazy(database_url)?;
        Ok(Self {
            pool,
            backend,
            schema_ready: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn is_schema_ready(&self) -> bool {
        self.schema_ready.load(Ordering::Relaxed)
    }

    /// Creates the table and its indexes when missing.
    pub async fn ensure_schema(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&self.pool)
                .await?;
        }
        // Byte order for the task id on PostgreSQL too, so keyset pages follow creation time exactly.
        let id_type = match self.backend {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "TEXT COLLATE \"C\"",
        };
        let ddl = format!(
            "CREATE TABLE IF NOT EXISTS tasks (
                task_id {id_type} PRIMARY KEY,
                status TEXT NOT NULL,
                provider TEXT NOT NULL,
                command TEXT NOT NULL,
                event TEXT NOT NULL,
                scope TEXT,
                actor TEXT,
                actor_id TEXT,
                instruction TEXT NOT NULL,
                conversation_key TEXT NOT NULL,
                priority TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                finished_at BIGINT,
                attempt BIGINT NOT NULL,
                run BIGINT NOT NULL,
                worker TEXT,
                last_error TEXT,
                success BIGINT,
                duration_ms BIGINT,
                cost_micro_usd BIGINT, -- integer micro-dollars: exact sums, and sqlx Any binds a NULL double as float4 on PostgreSQL
                input_tokens BIGINT,
                output_tokens BIGINT,
                model TEXT
            )"
        );
        sqlx::query(&ddl).execute(&self.pool).await?;
        for (name, columns) in INDEXES {
            sqlx::query(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON tasks ({columns})"
            ))
            .execute(&self.pool)
            .await?;
        }
        match self.backend {
            Backend::Sqlite => self.ensure_sqlite_text_index().await?,
            Backend::Postgres => self.ensure_postgres_text_index().await,
        }
        self.schema_ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// The FTS5 trigram index and its triggers; filled from the table when it is new (an index made
    /// before it existed).
    async fn ensure_sqlite_text_index(&self) -> Result<(), sqlx::Error> {
        let existed: i64 = sqlx::query(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tasks_text'",
        )
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        for statement in SQLITE_TEXT_INDEX {
            sqlx::query(statement).execute(&self.pool).await?;
        }
        if existed == 0 {
            sqlx::query("INSERT INTO tasks_text(tasks_text) VALUES ('rebuild')")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// A pg_trgm index for `LOWER(instruction) LIKE '%…%'`. Without the extension (a role that may not
    /// create it) text filters scan, as they did before the index existed.
    async fn ensure_postgres_text_index(&self) {
        let created = async {
            sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .execute(&self.pool)
                .await?;
            sqlx::query(
                "CREATE INDEX IF NOT EXISTS tasks_by_instruction_trigrams ON tasks \
                 USING gin (LOWER(instruction) gin_trgm_ops)",
            )
            .execute(&self.pool)
            .await
        }
        .await;
        if let Err(error) = created {
            tracing::warn!(%error, "no trigram index for text filters (pg_trgm); they scan the tasks");
        }
    }

    /// Inserts or replaces a task's row, unless the stored row is newer.
    pub async fn upsert(&self, task: &TaskSummary) -> Result<(), sqlx::Error> {
        let sql = upsert_sql();
        task.bind_all(sqlx::query(&sql)).execute(&self.pool).await?;
        Ok(())
    }

    /// Applies what the event consumer learned, in one transaction.
    pub async fn apply_updates(&self, updates: &[IndexUpdate]) -> Result<(), sqlx::Error> {
        if updates.is_empty() {
            return Ok(());
        }
        let full = upsert_sql();
        let status_only = upsert_status_sql();
        let mut transaction = self.pool.begin().await?;
        for update in updates {
            let (sql, task) = match update {
                IndexUpdate::Row(task) => (&full, task),
                IndexUpdate::StatusOnly(task) => (&status_only, task),
            };
            task.bind_all(sqlx::query(sql))
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await
    }

    /// Replaces the whole index with `tasks`, in one transaction.
    pub async fn replace_all(&self, tasks: &[TaskSummary]) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM tasks")
            .execute(&mut *transaction)
            .await?;
        insert_rows(&mut transaction, tasks).await?;
        transaction.commit().await
    }

    /// Adds rows for tasks the index does not hold yet, in one transaction.
    pub async fn insert_new(&self, tasks: &[TaskSummary]) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        insert_rows(&mut transaction, tasks).await?;
        transaction.commit().await
    }

    pub async fn get(&self, task_id: &TaskId) -> Result<Option<TaskSummary>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM tasks WHERE task_id = $1",
            COLUMNS.join(", ")
        ))
        .bind(task_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(TaskSummary::from_row).transpose()
    }

    /// One page of tasks matching `filter`, newest first.
    pub async fn list(&self, filter: &TaskFilter, limit: u32) -> Result<TaskPage, sqlx::Error> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        let next = |binds: &mut Vec<Bind>, value: Bind| {
            binds.push(value);
            format!("${}", binds.len())
        };
        for (column, value) in [
            ("provider", &filter.provider),
            ("status", &filter.status),
            ("command", &filter.command),
            ("scope", &filter.scope),
        ] {
            if let Some(value) = value {
                let placeholder = next(&mut binds, Bind::Text(value.clone()));
                conditions.push(format!("{column} = {placeholder}"));
            }
        }
        let actor = filter
            .actor
            .as_ref()
            .map(|actor| next(&mut binds, Bind::Text(actor.clone())));
        if let Some(since) = filter.created_since {
            let placeholder = next(&mut binds, Bind::Int(micros(since)));
            conditions.push(format!("created_at >= {placeholder}"));
        }
        if let Some(until) = filter.created_until {
            let placeholder = next(&mut binds, Bind::Int(micros(until)));
            conditions.push(format!("created_at < {placeholder}"));
        }
        if let Some(text) = &filter.text {
            let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
            let placeholder = next(&mut binds, Bind::Text(pattern));
            conditions.push(format!("LOWER(instruction) LIKE {placeholder} ESCAPE '\\'"));
            if let Some(phrase) = self.few_text_matches(text).await? {
                let placeholder = next(&mut binds, Bind::Text(phrase));
                conditions.push(format!(
                    "rowid IN (SELECT rowid FROM tasks_text WHERE tasks_text MATCH {placeholder})"
                ));
            }
        }
        if let Some(before) = &filter.before {
            let placeholder = next(&mut binds, Bind::Text(before.to_string()));
            conditions.push(format!("task_id < {placeholder}"));
        }
        let columns = COLUMNS.join(", ");
        let page = u64::from(limit) + 1;
        let select = |extra: Option<String>| {
            let all: Vec<&str> = conditions
                .iter()
                .map(String::as_str)
                .chain(extra.as_deref())
                .collect();
            let where_clause = if all.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", all.join(" AND "))
            };
            format!("SELECT {columns} FROM tasks {where_clause} ORDER BY task_id DESC LIMIT {page}")
        };
        let sql = match &actor {
            None => select(None),
            // Login or provider id: one ordered index range per column, merged, instead of an OR
            // that makes the planner walk the whole id order.
            Some(placeholder) => format!(
                "SELECT {columns} FROM (SELECT * FROM ({}) AS by_login UNION SELECT * FROM ({}) AS by_id) AS matches \
                 ORDER BY task_id DESC LIMIT {page}",
                select(Some(format!("actor = {placeholder}"))),
                select(Some(format!("actor_id = {placeholder}")))
            ),
        };
        let mut query = sqlx::query(&sql);
        for bind in binds {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::Int(int) => query.bind(int),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut tasks = rows
            .iter()
            .map(TaskSummary::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if tasks.len() > limit as usize {
            tasks.truncate(limit as usize);
            tasks.last().map(|t| t.task_id.clone())
        } else {
            None
        };
        Ok(TaskPage { tasks, next_cursor })
    }

    /// On SQLite, the FTS5 phrase matching `text` when at most [`TEXT_MATCHES_SORTED_AT_MOST`] rows contain
    /// it: the page is then read from those rows. (PostgreSQL's planner picks the trigram index by itself.)
    async fn few_text_matches(&self, text: &str) -> Result<Option<String>, sqlx::Error> {
        if self.backend != Backend::Sqlite || text.chars().count() < SHORTEST_INDEXED_TEXT {
            return Ok(None);
        }
        // A double-quoted FTS5 string is a phrase; with the trigram tokenizer, a case-insensitive substring.
        let phrase = format!("\"{}\"", text.replace('"', "\"\""));
        let matches: i64 = sqlx::query(
            "SELECT COUNT(*) FROM (SELECT rowid FROM tasks_text WHERE tasks_text MATCH $1 LIMIT $2) AS found",
        )
        .bind(&phrase)
        .bind(TEXT_MATCHES_SORTED_AT_MOST + 1)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        Ok((matches <= TEXT_MATCHES_SORTED_AT_MOST).then_some(phrase))
    }

    /// Removes rows last updated before `cutoff`; returns how many.
    pub async fn delete_updated_before(&self, cutoff: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM tasks WHERE updated_at < $1")
            .bind(micros(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn delete(&self, task_id: &TaskId) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM tasks WHERE task_id = $1")
            .bind(task_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every row, oldest first: what reindex must reproduce.
    pub async fn all(&self) -> Result<Vec<TaskSummary>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM tasks ORDER BY task_id",
            COLUMNS.join(", ")
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(TaskSummary::from_row).collect()
    }
}

async fn insert_rows(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    tasks: &[TaskSummary],
) -> Result<(), sqlx::Error> {
    for chunk in tasks.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(i * COLUMNS.len() + 1, COLUMNS.len())))
            .collect();
        let sql = format!(
            "INSERT INTO tasks ({}) VALUES {}",
            COLUMNS.join(", "),
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for task in chunk {
            query = task.bind_all(query);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

fn upsert_status_sql() -> String {
    format!(
        "INSERT INTO tasks ({}) VALUES ({}) ON CONFLICT (task_id) DO UPDATE SET \
         status = excluded.status, updated_at = excluded.updated_at WHERE excluded.updated_at >= tasks.updated_at",
        COLUMNS.join(", "),
        placeholders(1, COLUMNS.len())
    )
}

fn upsert_sql() -> String {
    let updates: Vec<String> = COLUMNS[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO tasks ({}) VALUES ({}) ON CONFLICT (task_id) DO UPDATE SET {} WHERE excluded.updated_at >= tasks.updated_at",
        COLUMNS.join(", "),
        placeholders(1, COLUMNS.len()),
        updates.join(", ")
    )
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn create_sqlite_parent_dir(database_url: &str) -> anyhow::Result<()> {
    let path = database_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    Ok(())
}

/// Rebuilds the index from the log directory: every task directory with a readable `metadata.json`.
pub async fn reindex(index: &TaskIndex, logs_root: &Path) -> anyhow::Result<usize> {
    let root = logs_root.to_owned();
    let tasks = tokio::task::spawn_blocking(move || scan_log_dir(&root)).await??;
    index.replace_all(&tasks).await?;
    Ok(tasks.len())
}

/// Every task directory under `root` whose name parses as a task id, with its row.
pub fn scan_log_dir(root: &Path) -> std::io::Result<Vec<TaskSummary>> {
    let entries = match std::fs::read_dir(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other?,
    };
    let mut tasks = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(task_id) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<TaskId>().ok())
        else {
            continue;
        };
        if let Some(task) = TaskSummary::from_log_dir(&root.join(task_id.to_string())) {
            tasks.push(task);
        }
    }
    tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id));
    Ok(tasks)
}
