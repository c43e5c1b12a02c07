//! Spawning github-service on port 0 against a wiremock GitHub, with its own SQLite database, task-log
//! directory and Redis key prefix.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use github_service::configuration::{GithubCredentials, Settings};
use github_service::git_access::GitAccessSettings;
use github_service::startup::Application;
use serde_json::{Value, json};
use service_kit::testing::{TestClient, database_path, provider_settings};
use wiremock::MockServer;

pub use service_kit::testing::{
    ADMIN_TOKEN, AGENT_TOKEN, CALLER_TOKENS, DASHBOARD_TOKEN, GATEWAY_TOKEN,
    assert_method_not_allowed, header, status_and_json,
};

pub const GITHUB_TOKEN: &str = "ghp_testtoken0123456789";
/// The repository every test works on.
pub const REPO: &str = "/repos/octo-org/hello-world";
/// The same repository under the service's API.
pub const API_REPO: &str = "/api/v1/github/repos/octo-org/hello-world";

pub struct TestApp {
    pub client: TestClient,
    pub github: MockServer,
    pub task_logs_dir: PathBuf,
    pub database_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for one test: everything isolated, retries fast.
pub fn test_settings(github_api_url: &str, dir: &Path) -> Settings {
    Settings {
        provider: provider_settings("github-service", dir),
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
        service_kit::telemetry::init_tracing("github-service-test").keep_for_process();
    }
    let github = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&github.uri(), dir.path());
    adjust(&mut settings);
    let task_logs_dir = settings.provider.common.task_logs_dir.clone();
    let application = Application::build(settings).await.expect("the app builds");
    let client = TestClient::new(application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        client,
        github,
        task_logs_dir,
        database_path: database_path("github-service", dir.path()),
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

    /// Requests GitHub received, in order.
    pub async fn github_requests(&self) -> Vec<wiremock::Request> {
        self.github.received_requests().await.unwrap_or_default()
    }
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
