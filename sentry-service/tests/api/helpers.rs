//! Spawning sentry-service on port 0 against a wiremock Sentry, with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use sentry_service::configuration::Settings;
use sentry_service::startup::Application;
use serde_json::Value;
use service_kit::caller_auth::CallerTokens;
use service_kit::configuration::CommonSettings;
use service_kit::http_client::UpstreamSettings;
use service_kit::provider_service::ProviderSettings;
use service_kit::vault::{EncryptionKey, KeyRing};
use wiremock::MockServer;

pub const AUTH_TOKEN: &str = "sntrys-test-auth-token-1";
pub const ORG: &str = "acme";
pub const GATEWAY_TOKEN: &str = "gateway-token-0123456789";
pub const AGENT_TOKEN: &str = "agent-token-0123456789";
pub const DASHBOARD_TOKEN: &str = "dashboard-token-0123456789";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";
pub const CALLER_TOKENS: &str = "gateway:gateway-token-0123456789,agent:agent-token-0123456789,dashboard:dashboard-token-0123456789";

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub sentry: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(sentry_api_url: &str, dir: &std::path::Path) -> Settings {
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
            database_url: format!("sqlite://{}", dir.join("sentry-service.db").display()),
            upstream: UpstreamSettings {
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
                max_attempts: 4,
                backoff: Duration::from_millis(20),
            },
            call_deadline: Duration::from_secs(10),
            idempotency_ttl: Duration::from_secs(600),
        },
        sentry_api_url: sentry_api_url.to_owned(),
        sentry_org: ORG.to_owned(),
        sentry_auth_token: Some(SecretString::from(AUTH_TOKEN)),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        service_kit::telemetry::init_tracing("sentry-service-test");
    }
    let sentry = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&sentry.uri(), dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        http: reqwest::Client::new(),
        sentry,
        task_logs_dir,
        database_path: dir.path().join("sentry-service.db"),
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

    /// Requests Sentry received, in order.
    pub async fn sentry_requests(&self) -> Vec<wiremock::Request> {
        self.sentry.received_requests().await.unwrap_or_default()
    }
}

/// An answer's status and JSON body, for one-line assertions.
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// The header Sentry saw on a request.
pub fn header(request: &wiremock::Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The JSON body Sentry received.
pub fn json_body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// An issue as Sentry's API answers it (`GET /api/0/organizations/{org}/issues/{id}/`).
pub fn sentry_issue(status: &str, assigned_to: Value) -> Value {
    serde_json::json!({
        "activity": [],
        "annotations": [],
        "assignedTo": assigned_to,
        "count": "150",
        "culprit": "raven.scripts.runner in main",
        "firstSeen": "2024-03-01T09:00:00.000000Z",
        "hasSeen": false,
        "id": "1234567890",
        "isBookmarked": false,
        "isPublic": false,
        "isSubscribed": true,
        "lastSeen": "2024-03-01T10:15:30.000000Z",
        "level": "error",
        "logger": null,
        "metadata": {"title": "ZeroDivisionError: division by zero"},
        "numComments": 0,
        "permalink": "https://acme.sentry.io/issues/1234567890/",
        "platform": "python",
        "project": {"id": "2", "name": "Backend", "slug": "backend"},
        "shareId": null,
        "shortId": "BACKEND-1A",
        "status": status,
        "statusDetails": {},
        "substatus": (status == "unresolved").then_some("ongoing"),
        "title": "ZeroDivisionError: division by zero",
        "type": "error",
        "userCount": 12
    })
}
