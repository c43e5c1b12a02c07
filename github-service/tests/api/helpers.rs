//! Spawning github-service on port 0 against a wiremock GitHub, with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use github_service::configuration::{GithubCredentials, Settings};
use github_service::git_access::GitAccessSettings;
use github_service::startup::Application;
use serde_json::{Value, json};
use service_kit::caller_auth::CallerTokens;
use service_kit::configuration::CommonSettings;
use service_kit::http_client::UpstreamSettings;
use service_kit::provider_service::ProviderSettings;
use service_kit::vault::{EncryptionKey, KeyRing};
use wiremock::MockServer;

pub const GITHUB_TOKEN: &str = "ghp_testtoken0123456789";
pub const GATEWAY_TOKEN: &str = "gateway-token-0123456789";
pub const AGENT_TOKEN: &str = "agent-token-0123456789";
pub const DASHBOARD_TOKEN: &str = "dashboard-token-0123456789";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";
pub const CALLER_TOKENS: &str = "gateway:gateway-token-0123456789,agent:agent-token-0123456789,dashboard:dashboard-token-0123456789";
/// The repository every test works on.
pub const REPO: &str = "/repos/octo-org/hello-world";
/// The same repository under the service's API.
pub const API_REPO: &str = "/api/v1/github/repos/octo-org/hello-world";

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub github: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// 32 bytes of key material from two UUIDv7s (74 random bits each): enough for a test key.
pub fn test_key() -> EncryptionKey {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::now_v7().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::now_v7().as_bytes());
    EncryptionKey::from_bytes(&key)
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(github_api_url: &str, dir: &Path) -> Settings {
    Settings {
        provider: ProviderSettings {
            common: CommonSettings {
                bind_addr: "127.0.0.1:0".parse().unwrap(),
                redis_url: "redis://127.0.0.1:6379".to_owned(),
                redis_key_prefix: format!("test:{}:", uuid::Uuid::now_v7()),
                task_logs_dir: dir.join("logs"),
            },
            caller_tokens: CallerTokens::parse("CALLER_TOKENS", CALLER_TOKENS).unwrap(),
            admin_token: Some(ADMIN_TOKEN.to_owned()),
            credentials_keys: KeyRing::new(test_key(), vec![]),
            database_url: format!("sqlite://{}", dir.join("github-service.db").display()),
            upstream: UpstreamSettings {
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
                max_attempts: 4,
                backoff: Duration::from_millis(20),
            },
            call_deadline: Duration::from_secs(10),
            idempotency_ttl: Duration::from_secs(600),
        },
        api_url: github_api_url.to_owned(),
        credentials: GithubCredentials::Token {
            token: GITHUB_TOKEN.to_owned(),
        },
        git_access: GitAccessSettings::default(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        service_kit::telemetry::init_tracing("github-service-test");
    }
    let github = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&github.uri(), dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        http: reqwest::Client::new(),
        github,
        task_logs_dir,
        database_path: dir.path().join("github-service.db"),
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// Requests GitHub received, in order.
    pub async fn github_requests(&self) -> Vec<wiremock::Request> {
        self.github.received_requests().await.unwrap_or_default()
    }
}

/// An answer's status and JSON body, for one-line assertions.
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// A header GitHub saw on a request.
pub fn header(request: &wiremock::Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

// --- GitHub's answers, in the shapes of docs.github.com/rest (trimmed to a realistic subset) ---

pub fn user(login: &str, id: u64) -> Value {
    json!({
        "login": login, "id": id, "node_id": "MDQ6VXNlcjE=",
        "avatar_url": "https://github.com/images/error/octocat_happy.gif",
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "type": "User", "site_admin": false
    })
}

pub fn issue(number: u64, comments: u64) -> Value {
    json!({
        "id": 1, "node_id": "MDU6SXNzdWUx", "number": number,
        "url": format!("https://api.github.com/repos/octo-org/hello-world/issues/{number}"),
        "html_url": format!("https://github.com/octo-org/hello-world/issues/{number}"),
        "state": "open", "state_reason": null, "title": "Found a bug", "body": "I'm having a problem with this.",
        "user": user("octocat", 1),
        "labels": [{"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "name": "bug", "description": "Something isn't working", "color": "f29513", "default": true}],
        "assignee": null, "assignees": [], "milestone": null, "locked": false, "active_lock_reason": null,
        "comments": comments, "closed_at": null,
        "created_at": "2011-04-22T13:33:48Z", "updated_at": "2011-04-22T13:33:48Z",
        "author_association": "COLLABORATOR"
    })
}

pub fn comment(id: u64, body: &str) -> Value {
    json!({
        "id": id, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
        "url": format!("https://api.github.com/repos/octo-org/hello-world/issues/comments/{id}"),
        "html_url": format!("https://github.com/octo-org/hello-world/issues/1347#issuecomment-{id}"),
        "body": body, "user": user("agent-bot[bot]", 99),
        "created_at": "2011-04-14T16:00:49Z", "updated_at": "2011-04-14T16:00:49Z",
        "issue_url": "https://api.github.com/repos/octo-org/hello-world/issues/1347",
        "author_association": "NONE"
    })
}

pub fn pull_request(number: u64) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/octo-org/hello-world/pulls/{number}"),
        "id": 1, "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
        "html_url": format!("https://github.com/octo-org/hello-world/pull/{number}"),
        "diff_url": format!("https://github.com/octo-org/hello-world/pull/{number}.diff"),
        "number": number, "state": "open", "locked": false, "title": "Amazing new feature",
        "user": user("octocat", 1), "body": "Please pull these awesome changes in!",
        "created_at": "2011-01-26T19:01:12Z", "updated_at": "2011-01-26T19:01:12Z",
        "closed_at": null, "merged_at": null, "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6",
        "draft": false,
        "head": {"label": "octo-org:new-topic", "ref": "new-topic", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
                 "user": user("octo-org", 2), "repo": {"id": 1296269, "name": "hello-world", "full_name": "octo-org/hello-world"}},
        "base": {"label": "octo-org:main", "ref": "main", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5f",
                 "user": user("octo-org", 2), "repo": {"id": 1296269, "name": "hello-world", "full_name": "octo-org/hello-world"}},
        "merged": false, "mergeable": true, "comments": 10, "commits": 3, "additions": 100, "deletions": 3, "changed_files": 5
    })
}

pub fn reaction(id: u64, content: &str) -> Value {
    json!({"id": id, "node_id": "MDg6UmVhY3Rpb24x", "user": user("agent-bot[bot]", 99), "content": content, "created_at": "2016-05-20T20:09:31Z"})
}
