//! Spawning jira-service on port 0 against a wiremock Jira (Cloud or Server), with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::ops::Deref;
use std::path::PathBuf;

use jira_service::configuration::{Deployment, Settings};
use jira_service::startup::Application;
use secrecy::SecretString;
use serde_json::Value;
use service_kit::testing::{TestClient, database_path, provider_settings};
use wiremock::MockServer;

pub use service_kit::testing::{
    ADMIN_TOKEN, AGENT_TOKEN, CALLER_TOKENS, DASHBOARD_TOKEN, GATEWAY_TOKEN, header, json_body,
    status_and_json,
};

pub const EMAIL: &str = "agent@example.com";
pub const API_TOKEN: &str = "jira-cloud-api-token-1";
pub const PAT: &str = "jira-server-pat-1";

pub struct TestApp {
    pub client: TestClient,
    pub jira: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(jira_base_url: &str, server: bool, dir: &std::path::Path) -> Settings {
    Settings {
        provider: provider_settings("jira-service", dir),
        jira_base_url: jira_base_url.to_owned(),
        deployment: if server {
            Deployment::Server
        } else {
            Deployment::Cloud {
                email: EMAIL.to_owned(),
            }
        },
        jira_secret: Some(SecretString::from(if server { PAT } else { API_TOKEN })),
    }
}

/// jira-service for Jira Cloud.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(false, |_| {}).await
}

/// jira-service for Jira Server/Data Center.
pub async fn spawn_server_app() -> TestApp {
    spawn_app_with(true, |_| {}).await
}

pub async fn spawn_app_with(server: bool, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        service_kit::telemetry::init_tracing("jira-service-test").keep_for_process();
    }
    let jira = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&jira.uri(), server, dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let client = TestClient::new(application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        client,
        jira,
        task_logs_dir,
        database_path: database_path("jira-service", dir.path()),
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
    /// Requests Jira received, in order.
    pub async fn jira_requests(&self) -> Vec<wiremock::Request> {
        self.jira.received_requests().await.unwrap_or_default()
    }
}

/// `Authorization` of Jira Cloud: Basic with the email and API token.
pub fn cloud_authorization(token: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{token}"))
    )
}

/// A comment as Jira Cloud answers it (REST v3, body in ADF).
pub fn cloud_comment(id: &str, text: &str) -> Value {
    serde_json::json!({
        "self": format!("https://example.atlassian.net/rest/api/3/issue/10002/comment/{id}"),
        "id": id,
        "author": {
            "self": "https://example.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
            "accountId": "5b10a2844c20165700ede21g",
            "displayName": "Agent Bot",
            "active": true
        },
        "body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": text}]}
        ]},
        "updateAuthor": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Agent Bot", "active": true},
        "created": "2024-03-01T10:15:30.000+0000",
        "updated": "2024-03-01T10:15:30.000+0000",
        "jsdPublic": true
    })
}
