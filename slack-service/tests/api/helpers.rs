//! Spawning slack-service on port 0 against a wiremock Slack, with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use service_kit::caller_auth::CallerTokens;
use service_kit::configuration::CommonSettings;
use service_kit::http_client::UpstreamSettings;
use service_kit::provider_service::ProviderSettings;
use service_kit::vault::{EncryptionKey, KeyRing};
use slack_service::configuration::Settings;
use slack_service::startup::Application;
use wiremock::MockServer;

pub const BOT_TOKEN: &str = "xoxb-test-bot-token-1";
pub const GATEWAY_TOKEN: &str = "gateway-token-0123456789";
pub const AGENT_TOKEN: &str = "agent-token-0123456789";
pub const DASHBOARD_TOKEN: &str = "dashboard-token-0123456789";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";
pub const CALLER_TOKENS: &str = "gateway:gateway-token-0123456789,agent:agent-token-0123456789,dashboard:dashboard-token-0123456789";

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub slack: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(slack_api_url: &str, dir: &std::path::Path) -> Settings {
    let mut key = [0u8; 32];
    key.copy_from_slice(&uuid::Uuid::new_v4().as_bytes().repeat(2));
    Settings {
        provider: ProviderSettings {
            common: CommonSettings {
                bind_addr: "127.0.0.1:0".parse().unwrap(),
                redis_url: "redis://127.0.0.1:6379".to_owned(),
                redis_key_prefix: format!("test:{}:", uuid::Uuid::new_v4()),
                task_logs_dir: dir.join("logs"),
            },
            caller_tokens: CallerTokens::parse("CALLER_TOKENS", CALLER_TOKENS).unwrap(),
            admin_token: Some(ADMIN_TOKEN.to_owned()),
            credentials_keys: KeyRing::new(EncryptionKey::from_bytes(&key), vec![]),
            database_url: format!("sqlite://{}", dir.join("slack-service.db").display()),
            upstream: UpstreamSettings {
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
                max_attempts: 4,
                backoff: Duration::from_millis(20),
            },
            call_deadline: Duration::from_secs(10),
            idempotency_ttl: Duration::from_secs(600),
        },
        slack_api_url: slack_api_url.to_owned(),
        slack_bot_token: Some(SecretString::from(BOT_TOKEN)),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        service_kit::telemetry::init_tracing("slack-service-test");
    }
    let slack = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&slack.uri(), dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        http: reqwest::Client::new(),
        slack,
        task_logs_dir,
        database_path: dir.path().join("slack-service.db"),
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Requests Slack received, in order.
    pub async fn slack_requests(&self) -> Vec<wiremock::Request> {
        self.slack.received_requests().await.unwrap_or_default()
    }
}

/// An answer's status and JSON body, for one-line assertions.
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// The header Slack saw on a request.
pub fn header(request: &wiremock::Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The JSON body Slack received.
pub fn json_body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// A Slack `ok: true` answer of `chat.postMessage`, in the shape of its documentation.
pub fn posted_message(channel: &str, ts: &str, thread_ts: Option<&str>, text: &str) -> Value {
    let mut message = serde_json::json!({
        "bot_id": "B0123BOT",
        "type": "message",
        "text": text,
        "user": "U0123BOT",
        "ts": ts,
        "app_id": "A0123APP",
        "team": "T0123TEAM",
        "bot_profile": {"id": "B0123BOT", "app_id": "A0123APP", "name": "agent", "deleted": false}
    });
    if let Some(thread_ts) = thread_ts {
        message["thread_ts"] = thread_ts.into();
        message["parent_user_id"] = "U0456USER".into();
    }
    serde_json::json!({ "ok": true, "channel": channel, "ts": ts, "message": message })
}
