//! Spawning jira-service on port 0 against a wiremock Jira (Cloud or Server), with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::path::PathBuf;
use std::time::Duration;

use jira_service::configuration::{Deployment, Settings};
use jira_service::startup::Application;
use secrecy::SecretString;
use serde_json::Value;
use service_kit::caller_auth::CallerTokens;
use service_kit::configuration::CommonSettings;
use service_kit::http_client::UpstreamSettings;
use service_kit::provider_service::ProviderSettings;
use service_kit::vault::{EncryptionKey, KeyRing};
use wiremock::MockServer;

pub const EMAIL: &str = "agent@example.com";
pub const API_TOKEN: &str = "jira-cloud-api-token-1";
pub const PAT: &str = "jira-server-pat-1";
pub const GATEWAY_TOKEN: &str = "gateway-token-0123456789";
pub const AGENT_TOKEN: &str = "agent-token-0123456789";
pub const DASHBOARD_TOKEN: &str = "dashboard-token-0123456789";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";
pub const CALLER_TOKENS: &str = "gateway:gateway-token-0123456789,agent:agent-token-0123456789,dashboard:dashboard-token-0123456789";

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub jira: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(jira_base_url: &str, server: bool, dir: &std::path::Path) -> Settings {
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
            database_url: format!("sqlite://{}", dir.join("jira-service.db").display()),
            upstream: UpstreamSettings {
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
                max_attempts: 4,
                backoff: Duration::from_millis(20),
            },
            call_deadline: Duration::from_secs(10),
            idempotency_ttl: Duration::from_secs(600),
        },
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
        service_kit::telemetry::init_tracing("jira-service-test");
    }
    let jira = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&jira.uri(), server, dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        http: reqwest::Client::new(),
        jira,
        task_logs_dir,
        database_path: dir.path().join("jira-service.db"),
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

    /// Requests Jira received, in order.
    pub async fn jira_requests(&self) -> Vec<wiremock::Request> {
        self.jira.received_requests().await.unwrap_or_default()
    }
}

/// An answer's status and JSON body, for one-line assertions.
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// The header Jira saw on a request.
pub fn header(request: &wiremock::Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The JSON body Jira received.
pub fn json_body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
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
