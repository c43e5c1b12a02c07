//! Spawning slack-service on port 0 against a wiremock Slack, with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::ops::Deref;
use std::path::PathBuf;

use secrecy::SecretString;
use serde_json::Value;
use service_kit::testing::{TestClient, database_path, provider_settings};
use slack_service::configuration::Settings;
use slack_service::startup::Application;
use wiremock::MockServer;

pub use service_kit::testing::{
    ADMIN_TOKEN, AGENT_TOKEN, CALLER_TOKENS, DASHBOARD_TOKEN, GATEWAY_TOKEN, header, json_body,
    status_and_json,
};

pub const BOT_TOKEN: &str = "xoxb-test-bot-token-1";

pub struct TestApp {
    pub client: TestClient,
    pub slack: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(slack_api_url: &str, dir: &std::path::Path) -> Settings {
    Settings {
        provider: provider_settings("slack-service", dir),
        slack_api_url: slack_api_url.to_owned(),
        slack_bot_token: Some(SecretString::from(BOT_TOKEN)),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        service_kit::telemetry::init_tracing("slack-service-test").keep_for_process();
    }
    let slack = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&slack.uri(), dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let client = TestClient::new(application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        client,
        slack,
        task_logs_dir,
        database_path: database_path("slack-service", dir.path()),
        _dir: dir,
    }
}

impl Deref for TestApp {
    type Target = TestClient;

    fn deref(&self) -> &TestClient {
        &self.client
    }
}

impl TestApp {
    /// Requests Slack received, in order.
    pub async fn slack_requests(&self) -> Vec<wiremock::Request> {
        self.slack.received_requests().await.unwrap_or_default()
    }
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
