//! Spawning the real app on port 0 against the real Redis and a fresh database, and producing tasks the
//! way the gateway, the workers and the provider services do: `TaskLogWriter` for the logs,
//! `TaskQueue` for the queue and `task-events`.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::envelope::SCHEMA_VERSION;
use contracts::task_log::{FinalResult, LogFile};
use contracts::{
    Actor, Command, Priority, Provider, SourceRef, TaskEnvelope, TaskEvent, TaskId, TaskLogWriter,
    TaskMetadata, TaskStatus,
};
use dashboard_api::configuration::Settings;
use dashboard_api::index::TaskIndex;
use dashboard_api::startup::Application;
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use service_kit::configuration::CommonSettings;
use service_kit::queue::TaskQueue;
use tokio_util::sync::CancellationToken;

pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh database: a SQLite file in a temp dir, or `test_<uuid>` on the local PostgreSQL (dropped on drop).
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn create(db: Db) -> Self {
        let dir = tempfile::tempdir().unwrap();
        match db {
            Db::Sqlite => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("dashboard.db").display()
                ),
                postgres_name: None,
                _dir: dir,
            },
            Db::Postgres => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let admin = sqlx::AnyPool::connect(POSTGRES_ADMIN_URL)
                    .await
                    .expect("PostgreSQL at 127.0.0.1:5432");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                Self {
                    url: format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable"),
                    postgres_name: Some(name),
                    _dir: dir,
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_name.take() {
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = sqlx::AnyPool::connect(POSTGRES_ADMIN_URL).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&admin)
                                .await;
                        admin.close().await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub logs_dir: tempfile::TempDir,
    pub queue: TaskQueue,
    pub database: TestDatabase,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub struct AppOptions {
    pub db: Db,
    pub token: Option<&'static str>,
    pub retention_days: u32,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            db: Db::Sqlite,
            token: None,
            retention_days: 30,
        }
    }
}

pub fn settings_for(
    logs_dir: PathBuf,
    prefix: &str,
    database_url: &str,
    options: &AppOptions,
) -> Settings {
    Settings {
        common: CommonSettings {
            bind_addr: "127.0.0.1:0".parse().unwrap(),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_key_prefix: prefix.to_owned(),
            task_logs_dir: logs_dir,
        },
        database_url: database_url.to_owned(),
        token: options.token.map(|t| SecretString::from(t.to_owned())),
        retention_days: options.retention_days,
        retention_interval: Duration::from_millis(300),
        consumer_group: "dashboard".to_owned(),
        consumer_name: "dashboard-test".to_owned(),
        sse_poll_interval: Duration::from_millis(20),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    service_kit::telemetry::init_tracing("dashboard-api-test").keep_for_process();
    let logs_dir = tempfile::tempdir().unwrap();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4());
    let database = TestDatabase::create(options.db).await;
    let settings = settings_for(logs_dir.path().to_owned(), &prefix, &database.url, &options);
    let application = Application::build(settings).await.expect("the app builds");
    let port = application.port();
    let shutdown = application.shutdown_token();
    tokio::spawn(application.run_until_stopped());
    let pool = service_kit::redis::pool("redis://127.0.0.1:6379", 4).unwrap();
    let queue = TaskQueue::new(pool, contracts::RedisKeys::new(prefix.clone()));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        logs_dir,
        queue,
        database,
        shutdown,
    }
}

/// A task as the gateway would build it.
pub fn envelope(
    provider: Provider,
    command: Command,
    instruction: &str,
    created_at: DateTime<Utc>,
) -> TaskEnvelope {
    let (source, conversation_key, actor) = match provider {
        Provider::Github => (
            SourceRef {
                repo: Some("octo/repo".into()),
                number: Some(12),
                is_pull_request: Some(false),
                url: Some("https://github.com/octo/repo/issues/12".into()),
                ..Default::default()
            },
            TaskEnvelope::github_conversation("octo/repo", 12),
            "octocat",
        ),
        Provider::Slack => (
            SourceRef {
                slack_team: Some("T1".into()),
                slack_channel: Some("C42".into()),
                slack_thread_ts: Some("1700000000.000100".into()),
                ..Default::default()
            },
            TaskEnvelope::slack_conversation("T1", "C42", "1700000000.000100"),
            "U123",
        ),
        Provider::Jira => (
            SourceRef {
                jira_site: Some("https://example.atlassian.net".into()),
                jira_issue_key: Some("OPS-7".into()),
                ..Default::default()
            },
            TaskEnvelope::jira_conversation("https://example.atlassian.net", "OPS-7"),
            "jdoe",
        ),
        Provider::Sentry => (
            SourceRef {
                sentry_org: Some("acme".into()),
                sentry_issue_id: Some("99".into()),
                ..Default::default()
            },
            TaskEnvelope::sentry_conversation("acme", "99"),
            "sentry",
        ),
    };
    TaskEnvelope {
        schema_version: SCHEMA_VERSION,
        task_id: TaskId::new(),
        provider,
        event: "issue_comment.created".into(),
        command,
        instruction: instruction.into(),
        source,
        actor: Actor {
            id: format!("id-{actor}"),
            login: Some(actor.into()),
            display_name: None,
            kind: "user".into(),
        },
        priority: Priority::Normal,
        attempt: 1,
        run: 1,
        created_at,
        conversation_key,
    }
}

impl TestApp {
    pub fn writer(&self, service: &str) -> TaskLogWriter {
        TaskLogWriter::new(self.logs_dir.path(), service)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// What the gateway does: task directory, metadata, input, webhook flow, enqueue (publishing `queued`).
    pub async fn gateway_accepts(&self, envelope: &TaskEnvelope) {
        let writer = self.writer("api-gateway");
        let id = envelope.task_id;
        writer.create_task_dir(&id).unwrap();
        let received = Utc::now();
        writer
            .write_json(
                &id,
                LogFile::Input,
                &json!({"provider": envelope.provider, "instruction": envelope.instruction}),
            )
            .unwrap();
        for stage in [
            "received",
            "validation",
            "parsing",
            "command_matching",
            "task_created",
        ] {
            writer
                .append_at(
                    &id,
                    LogFile::WebhookFlow,
                    received,
                    stage,
                    json!({"ok": true}),
                )
                .unwrap();
        }
        writer
            .write_json(&id, LogFile::Metadata, &TaskMetadata::queued(envelope))
            .unwrap();
        writer
            .append(
                &id,
                LogFile::WebhookFlow,
                "queue_push",
                json!({"stream": "tasks:normal"}),
            )
            .unwrap();
        self.queue.enqueue(envelope, None).await.unwrap();
        writer
            .append(
                &id,
                LogFile::QueueFlow,
                "queued",
                json!({"stream": "tasks:normal", "run": 1}),
            )
            .unwrap();
        writer
            .append(
                &id,
                LogFile::WebhookFlow,
                "immediate_response",
                json!({"status": 202}),
            )
            .unwrap();
    }

    /// What a worker does when it takes the task.
    pub async fn worker_starts(&self, envelope: &TaskEnvelope) {
        let writer = self.writer("agent-container");
        let id = envelope.task_id;
        writer
            .append(
                &id,
                LogFile::QueueFlow,
                "dequeued",
                json!({"worker": "worker-1"}),
            )
            .unwrap();
        writer
            .append(
                &id,
                LogFile::QueueFlow,
                "worker_assigned",
                json!({"worker": "worker-1"}),
            )
            .unwrap();
        let mut metadata = writer.read_metadata(&id).unwrap();
        metadata.status = TaskStatus::Running;
        metadata.worker = Some("worker-1".into());
        metadata.updated_at = Utc::now();
        writer
            .write_json(&id, LogFile::Metadata, &metadata)
            .unwrap();
        let event =
            TaskEvent::for_envelope(envelope, TaskStatus::Running).with_worker("worker-1", 1);
        self.queue.publish_event(&event).await.unwrap();
    }

    /// The agent's output and a provider call, as the worker and a provider service write them.
    pub fn agent_works(&self, envelope: &TaskEnvelope) {
        let agent = self.writer("agent-container");
        let id = envelope.task_id;
        agent
            .append(
                &id,
                LogFile::AgentOutput,
                "message",
                json!({"text": "Looking at the failing test."}),
            )
            .unwrap();
        agent
            .append(
                &id,
                LogFile::AgentOutput,
                "thinking",
                json!({"text": "The timeout is too short."}),
            )
            .unwrap();
        agent
            .append(
                &id,
                LogFile::AgentOutput,
                "tool_call",
                json!({"tool": "Bash", "input": {"command": "cargo test"}, "call_id": "c1"}),
            )
            .unwrap();
        agent
            .append(
                &id,
                LogFile::AgentOutput,
                "tool_result",
                json!({"call_id": "c1", "output": "test result: ok", "is_error": false}),
            )
            .unwrap();
        let service = self.writer("github-service");
        service
            .append(
                &id,
                LogFile::MicroservicesFlow,
                "service_request",
                json!({"method": "POST", "path": "/repos/octo/repo/issues/12/comments"}),
            )
            .unwrap();
        service
            .append(
                &id,
                LogFile::MicroservicesFlow,
                "service_response",
                json!({"status": 201, "duration_ms": 120}),
            )
            .unwrap();
    }

    /// What a worker does when the task ends.
    pub async fn worker_finishes(
        &self,
        envelope: &TaskEnvelope,
        status: TaskStatus,
        cost_usd: f64,
        duration_ms: u64,
    ) {
        let writer = self.writer("agent-container");
        let id = envelope.task_id;
        let result = final_result(envelope, status, cost_usd, duration_ms);
        writer
            .write_json(&id, LogFile::FinalResult, &result)
            .unwrap();
        let mut metadata = writer.read_metadata(&id).unwrap();
        metadata.status = status;
        metadata.updated_at = Utc::now();
        metadata.worker = None;
        metadata.last_error = result.error.clone();
        writer
            .write_json(&id, LogFile::Metadata, &metadata)
            .unwrap();
        writer
            .append(
                &id,
                LogFile::QueueFlow,
                "released",
                json!({"status": status}),
            )
            .unwrap();
        let event = TaskEvent::for_envelope(envelope, status).with_worker("worker-1", 1);
        self.queue.publish_event(&event).await.unwrap();
    }

    /// Polls `check` until it is true or 15 s pass.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while tokio::time::Instant::now() < deadline {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    pub async fn index(&self) -> TaskIndex {
        let index = TaskIndex::connect_lazy(&self.database.url).unwrap();
        index.ensure_schema().await.unwrap();
        index
    }
}

pub fn final_result(
    envelope: &TaskEnvelope,
    status: TaskStatus,
    cost_usd: f64,
    duration_ms: u64,
) -> FinalResult {
    let success = status == TaskStatus::Succeeded;
    FinalResult {
        task_id: envelope.task_id,
        status,
        success,
        result_text: success.then(|| "Fixed the flaky test.".to_owned()),
        error: (!success).then(|| "the agent exited with status 1".to_owned()),
        cost_usd: Some(cost_usd),
        input_tokens: 1000,
        output_tokens: 250,
        duration_ms,
        attempts: 1,
        run: envelope.run,
        runner: "claude-code".into(),
        model: Some("claude-sonnet".into()),
        session_id: None,
        changes: None,
        links: vec![],
        finished_at: Utc::now(),
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, Default)]
pub struct SseEvent {
    pub event: String,
    pub id: String,
    pub data: String,
}

/// Reads events from a `text/event-stream` response.
pub struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event (comments and keep-alives skipped), `None` when the stream ends.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent::default();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if !event.event.is_empty() || !event.data.is_empty() {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(15), self.body.next())
                .await
                .expect("an SSE event within 15 s")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk.ok()?));
        }
    }
}
