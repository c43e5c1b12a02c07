use std::path::Path;

use fake_providers::configuration::Settings;
use fake_providers::startup::Application;
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;
use tokio_util::sync::{CancellationToken, DropGuard};

pub struct TestApp {
    pub address: String,
    pub client: Client,
    _stop: DropGuard,
}

/// Starts the real application on a free port with a temporary data directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::for_tests()).await
}

/// Starts the real application keeping its repositories in `data_dir`.
pub async fn spawn_app_in(data_dir: &Path) -> TestApp {
    spawn_app_with(Settings {
        data_dir: Some(data_dir.to_path_buf()),
        ..Settings::for_tests()
    })
    .await
}

async fn spawn_app_with(settings: Settings) -> TestApp {
    let application = Application::build(settings)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let stop = CancellationToken::new();
    tokio::spawn(application.run_until(stop.clone()));
    TestApp {
        address,
        client: Client::new(),
        _stop: stop.drop_guard(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A GitHub REST call with a token.
    pub fn github(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(&format!("/github/api{path}")))
            .header("Authorization", "Bearer ghs_test_token")
            .header("Accept", "application/vnd.github+json")
    }

    pub fn git_url(&self, repository: &str) -> String {
        self.url(&format!("/github/git/{repository}.git"))
    }

    /// A Slack Web API call with a JSON body.
    pub async fn slack(&self, method: &str, body: Value) -> Value {
        let response = self
            .client
            .post(self.url(&format!("/slack/api/{method}")))
            .bearer_auth("xoxb-test")
            .json(&body)
            .send()
            .await
            .expect("slack answers");
        assert_eq!(
            response.status(),
            200,
            "Slack answers HTTP 200 even on errors"
        );
        response.json().await.expect("slack answers JSON")
    }

    /// A Jira call as Cloud authenticates (e-mail and API token).
    pub fn jira(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(&format!("/jira{path}")))
            .basic_auth("agent@example.com", Some("jira-api-token"))
    }

    pub fn sentry(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(&format!("/sentry{path}")))
            .bearer_auth("sntrys_test")
    }

    /// `GET /_fake/requests` with the given query.
    pub async fn recorded(&self, query: &[(&str, &str)]) -> Vec<Value> {
        self.client
            .get(self.url("/_fake/requests"))
            .query(query)
            .send()
            .await
            .expect("the recording answers")
            .json()
            .await
            .expect("the recording is JSON")
    }
}

pub async fn json(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// Runs git with no user or system configuration; answers (success, stdout, stderr).
pub async fn git(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Test Agent")
        .env("GIT_AUTHOR_EMAIL", "agent@example.com")
        .env("GIT_COMMITTER_NAME", "Test Agent")
        .env("GIT_COMMITTER_EMAIL", "agent@example.com")
        .output()
        .await
        .expect("git runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
