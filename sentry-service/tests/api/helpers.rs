//! Spawning sentry-service on port 0 against a wiremock Sentry, with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::ops::Deref;
use std::path::PathBuf;

use secrecy::SecretString;
use sentry_service::configuration::Settings;
use sentry_service::startup::Application;
use serde_json::Value;
use service_kit::testing::{TestClient, database_path, provider_settings};
use wiremock::MockServer;

pub use service_kit::testing::{
    ADMIN_TOKEN, AGENT_TOKEN, CALLER_TOKENS, DASHBOARD_TOKEN, GATEWAY_TOKEN, header, json_body,
    status_and_json,
};

pub const AUTH_TOKEN: &str = "sntrys-test-auth-token-1";
pub const ORG: &str = "acme";

pub struct TestApp {
    pub client: TestClient,
    pub sentry: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(sentry_api_url: &str, dir: &std::path::Path) -> Settings {
    Settings {
        provider: provider_settings("sentry-service", dir),
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
        service_kit::telemetry::init_tracing("sentry-service-test").keep_for_process();
    }
    let sentry = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&sentry.uri(), dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let client = TestClient::new(application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        client,
        sentry,
        task_logs_dir,
        database_path: database_path("sentry-service", dir.path()),
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
    /// Requests Sentry received, in order.
    pub async fn sentry_requests(&self) -> Vec<wiremock::Request> {
        self.sentry.received_requests().await.unwrap_or_default()
    }
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
