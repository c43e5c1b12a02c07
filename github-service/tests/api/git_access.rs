//! The agent's git access: per-task tokens (`…/git-access`) and the git smart-HTTP proxy (`/git/…`), with a
//! real `git` client on one side and `git http-backend` over a bare repository standing in for GitHub.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use contracts::TaskId;
use github_service::configuration::{GithubCredentials, Settings};
use github_service::git_access::GitAccessSettings;
use rand::RngCore;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::git_backend::{GitBackend, git, git_command};
use crate::helpers::*;

const OWNER: &str = "octo-org";
const REPO_NAME: &str = "hello-world";
const GIT_ACCESS: &str = "/api/v1/github/repos/octo-org/hello-world/git-access";

/// GitHub's `GET /repos/{owner}/{repo}` (trimmed): the proxy reads `default_branch` from it.
fn repository(default_branch: &str) -> Value {
    json!({
        "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": REPO_NAME,
        "full_name": format!("{OWNER}/{REPO_NAME}"), "private": false,
        "owner": user(OWNER, 2),
        "html_url": format!("https://github.com/{OWNER}/{REPO_NAME}"),
        "clone_url": format!("https://github.com/{OWNER}/{REPO_NAME}.git"),
        "default_branch": default_branch, "visibility": "public",
        "created_at": "2011-01-26T19:01:12Z", "updated_at": "2011-01-26T19:14:43Z", "pushed_at": "2011-01-26T19:06:43Z"
    })
}

struct GitTest {
    app: TestApp,
    backend: GitBackend,
    work: tempfile::TempDir,
}

async fn spawn_git_test(adjust: impl FnOnce(&mut Settings)) -> GitTest {
    let backend = GitBackend::start(OWNER, REPO_NAME).await;
    let git_url = backend.url.clone();
    let app = spawn_app_with(|settings| {
        settings.git_access = GitAccessSettings {
            git_url,
            ..GitAccessSettings::default()
        };
        adjust(settings);
    })
    .await;
    Mock::given(method("GET"))
        .and(path(REPO))
        .respond_with(ResponseTemplate::new(200).set_body_json(repository("main")))
        .mount(&app.github)
        .await;
    GitTest {
        app,
        backend,
        work: tempfile::tempdir().unwrap(),
    }
}

impl GitTest {
    async fn issue(&self, task_id: &TaskId) -> Value {
        let response = self
            .app
            .http
            .post(self.app.url(GIT_ACCESS))
            .bearer_auth(AGENT_TOKEN)
            .header("x-task-id", task_id.to_string())
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    async fn revoke(&self, task_id: &TaskId) -> (u16, Value) {
        status_and_json(
            self.app
                .http
                .delete(self.app.url(GIT_ACCESS))
                .bearer_auth(AGENT_TOKEN)
                .header("x-task-id", task_id.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The clone URL with the token as the Basic password.
    fn authenticated_url(access: &Value) -> String {
        access["clone_url"].as_str().unwrap().replacen(
            "http://",
            &format!("http://agent:{}@", access["token"].as_str().unwrap()),
            1,
        )
    }

    async fn clone(&self, access: &Value, name: &str) -> std::path::PathBuf {
        git(
            self.work.path(),
            &["clone", "--quiet", &Self::authenticated_url(access), name],
        )
        .await;
        self.work.path().join(name)
    }

    /// Runs git expecting a failure; answers its stderr.
    async fn git_fails(dir: &Path, args: &[&str]) -> String {
        let output = git_command(dir, args).output().await.unwrap();
        assert!(!output.status.success(), "git {args:?} should have failed");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// A raw request to the proxy with an optional Basic password.
    async fn proxy_get(&self, path: &str, password: Option<&str>) -> reqwest::Response {
        let mut request = self.app.http.get(self.app.url(path));
        if let Some(password) = password {
            request = request.basic_auth("agent", Some(password));
        }
        request.send().await.unwrap()
    }
}

async fn commit_file(dir: &Path, file: &str, text: &str) -> String {
    std::fs::write(dir.join(file), text).unwrap();
    git(dir, &["add", file]).await;
    git(dir, &["commit", "--quiet", "-m", &format!("change {file}")]).await;
    git(dir, &["rev-parse", "HEAD"]).await
}

fn task_log(app: &TestApp, task_id: &TaskId) -> Vec<Value> {
    let file = app
        .task_logs_dir
        .join(task_id.to_string())
        .join("05-microservices-flow.jsonl");
    std::fs::read_to_string(&file)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const INFO_REFS: &str = "/git/octo-org/hello-world.git/info/refs?service=git-upload-pack";

#[tokio::test]
async fn an_agent_clones_and_pushes_a_branch_with_the_services_credential() {
    let test = spawn_git_test(|_| {}).await;
    let task_id = TaskId::new();
    let access = test.issue(&task_id).await;
    let token = access["token"].as_str().unwrap().to_owned();
    assert_eq!(
        access["clone_url"],
        format!("{}/git/octo-org/hello-world.git", test.app.address)
    );
    assert_eq!(access["default_branch"], "main");
    let expires_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(access["expires_at"].clone()).unwrap();
    let lifetime = expires_at - chrono::Utc::now();
    assert!(
        lifetime > chrono::Duration::minutes(119) && lifetime <= chrono::Duration::hours(2),
        "{lifetime}"
    );

    let clone = test.clone(&access, "clone").await;
    assert_eq!(
        std::fs::read_to_string(clone.join("README.md")).unwrap(),
        "# hello-world\n"
    );
    git(&clone, &["checkout", "--quiet", "-b", "agent/fix-1"]).await;
    let commit = commit_file(&clone, "fix.txt", "fixed\n").await;
    git(&clone, &["push", "--quiet", "origin", "agent/fix-1"]).await;
    assert_eq!(
        test.backend
            .rev(OWNER, REPO_NAME, "refs/heads/agent/fix-1")
            .await
            .as_deref(),
        Some(commit.as_str())
    );
    git(&clone, &["fetch", "--quiet", "origin"]).await;

    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{GITHUB_TOKEN}"))
    );
    let requests = test.backend.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/git-receive-pack")),
        "{requests:?}"
    );
    for request in &requests {
        assert_eq!(
            request.authorization.as_deref(),
            Some(expected.as_str()),
            "{request:?}"
        );
        assert_eq!(request.remote_user.as_deref(), Some("x-access-token"));
        assert!(
            request.path.starts_with("/octo-org/hello-world.git/"),
            "{request:?}"
        );
    }

    let log = task_log(&test.app, &task_id);
    let raw = serde_json::to_string(&log).unwrap();
    assert!(!raw.contains(&token), "the token is never logged");
    assert!(
        !raw.contains(GITHUB_TOKEN),
        "the credential is never logged"
    );
    let services: Vec<&str> = log
        .iter()
        .filter(|line| line["type"] == "service_call")
        .filter_map(|line| line["git_service"].as_str())
        .collect();
    assert!(services.contains(&"git-upload-pack"), "{log:?}");
    assert!(services.contains(&"git-receive-pack"), "{log:?}");
    let push = log
        .iter()
        .find(|line| line["type"] == "git_push")
        .expect("the push is logged");
    assert_eq!(
        push["refs"],
        json!([{ "ref": "refs/heads/agent/fix-1", "action": "create" }])
    );
    assert!(
        log.iter()
            .any(|line| line["type"] == "service_response" && line["scope"] == "upstream"),
        "{log:?}"
    );
}

#[tokio::test]
async fn pushes_to_the_default_branch_are_refused_before_reaching_github() {
    let test = spawn_git_test(|_| {}).await;
    let task_id = TaskId::new();
    let access = test.issue(&task_id).await;
    let clone = test.clone(&access, "clone").await;
    let main_before = test
        .backend
        .rev(OWNER, REPO_NAME, "refs/heads/main")
        .await
        .unwrap();
    commit_file(&clone, "README.md", "# changed on main\n").await;

    let stderr = GitTest::git_fails(&clone, &["push", "origin", "main"]).await;
    assert!(stderr.contains("403"), "{stderr}");
    let stderr = GitTest::git_fails(&clone, &["push", "origin", "HEAD:refs/heads/Main"]).await;
    assert!(stderr.contains("403"), "{stderr}");
    let stderr = GitTest::git_fails(&clone, &["push", "origin", "--delete", "main"]).await;
    assert!(stderr.contains("403"), "{stderr}");
    git(
        &clone,
        &["push", "--quiet", "origin", "HEAD:refs/heads/agent/other"],
    )
    .await;

    assert_eq!(
        test.backend.rev(OWNER, REPO_NAME, "refs/heads/main").await,
        Some(main_before),
        "the default branch is unchanged upstream"
    );
    let pushes: Vec<_> = test
        .backend
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/git-receive-pack"))
        .collect();
    assert_eq!(
        pushes.len(),
        1,
        "only the allowed push reached upstream: {pushes:?}"
    );

    // The answer git gets is the service's JSON error.
    let zero = "0".repeat(40);
    let command = format!("{zero} {} refs/heads/main\0report-status\n", "1".repeat(40));
    let body = format!("{:04x}{command}0000", command.len() + 4);
    let response = test
        .app
        .http
        .post(
            test.app
                .url("/git/octo-org/hello-world.git/git-receive-pack"),
        )
        .basic_auth("agent", Some(access["token"].as_str().unwrap()))
        .header("content-type", "application/x-git-receive-pack-request")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, error) = status_and_json(response).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (403, Some("default_branch_protected"))
    );
    assert_eq!(error["details"]["default_branch"], "main");
    let refused = task_log(&test.app, &task_id)
        .into_iter()
        .filter(|line| {
            line["type"] == "service_error" && line["code"] == "default_branch_protected"
        })
        .count();
    assert_eq!(refused, 4, "each refused push is in the task's log");
}

#[tokio::test]
async fn revoked_tokens_are_refused() {
    let test = spawn_git_test(|_| {}).await;
    let task_id = TaskId::new();
    let first = test.issue(&task_id).await;
    let second = test.issue(&task_id).await;
    assert_ne!(first["token"], second["token"]);
    let other_task = TaskId::new();
    let other = test.issue(&other_task).await;
    test.clone(&first, "before").await;

    assert_eq!(test.revoke(&task_id).await, (200, json!({ "revoked": 2 })));
    for access in [&first, &second] {
        let stderr = GitTest::git_fails(
            test.work.path(),
            &["clone", &GitTest::authenticated_url(access), "after"],
        )
        .await;
        assert!(
            stderr.contains("Authentication failed") || stderr.contains("401"),
            "{stderr}"
        );
        let response = test.proxy_get(INFO_REFS, access["token"].as_str()).await;
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"agent-gateway\""
        );
    }
    assert_eq!(test.revoke(&task_id).await, (200, json!({ "revoked": 0 })));
    let response = test.proxy_get(INFO_REFS, other["token"].as_str()).await;
    assert_eq!(response.status(), 200, "another task's token still works");
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let test = spawn_git_test(|settings| settings.git_access.ttl = Duration::from_secs(1)).await;
    let access = test.issue(&TaskId::new()).await;
    let token = access["token"].as_str().unwrap();
    assert_eq!(test.proxy_get(INFO_REFS, Some(token)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let response = test.proxy_get(INFO_REFS, Some(token)).await;
    assert_eq!(response.status(), 401);
    let (_, error) = status_and_json(response).await;
    assert_eq!(error["code"], "git_unauthenticated");
}

#[tokio::test]
async fn tokens_work_only_for_their_repository_and_only_as_a_password() {
    let test = spawn_git_test(|_| {}).await;
    let access = test.issue(&TaskId::new()).await;
    let token = access["token"].as_str().unwrap();

    let response = test
        .proxy_get(
            "/git/octo-org/other-repo.git/info/refs?service=git-upload-pack",
            Some(token),
        )
        .await;
    let (status, error) = status_and_json(response).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (403, Some("git_wrong_repository"))
    );
    let stderr = GitTest::git_fails(
        test.work.path(),
        &[
            "clone",
            &GitTest::authenticated_url(&access).replace("hello-world", "other-repo"),
            "other",
        ],
    )
    .await;
    assert!(stderr.contains("403"), "{stderr}");

    for password in [
        None,
        Some("agwgit_not-a-token"),
        Some(GITHUB_TOKEN),
        Some(AGENT_TOKEN),
    ] {
        let response = test.proxy_get(INFO_REFS, password).await;
        assert_eq!(response.status(), 401, "{password:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"agent-gateway\""
        );
    }
    let bearer = test
        .app
        .http
        .get(test.app.url(INFO_REFS))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 401);
    let dumb = test
        .proxy_get("/git/octo-org/hello-world.git/info/refs", Some(token))
        .await;
    assert_eq!(dumb.status(), 400, "only the smart protocol is served");
    assert!(
        test.backend.requests().is_empty(),
        "nothing refused reached upstream"
    );
}

#[tokio::test]
async fn git_access_is_the_agents_and_needs_a_task() {
    let test = spawn_git_test(|settings| {
        settings.git_access.public_url = Some("https://agw.example.com/github".to_owned());
    })
    .await;
    let task_id = TaskId::new().to_string();
    for verb in [reqwest::Method::POST, reqwest::Method::DELETE] {
        for (token, expected) in [
            (Some(GATEWAY_TOKEN), 403),
            (Some(DASHBOARD_TOKEN), 403),
            (Some(ADMIN_TOKEN), 401),
            (None, 401),
        ] {
            let mut request = test
                .app
                .http
                .request(verb.clone(), test.app.url(GIT_ACCESS))
                .header("x-task-id", &task_id);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert_eq!(status, expected, "{verb} with {token:?}");
        }
        for task in [None, Some("not-a-task-id")] {
            let mut request = test
                .app
                .http
                .request(verb.clone(), test.app.url(GIT_ACCESS))
                .bearer_auth(AGENT_TOKEN);
            if let Some(task) = task {
                request = request.header("x-task-id", task);
            }
            let (status, error) = status_and_json(request.send().await.unwrap()).await;
            assert_eq!(
                (status, error["code"].as_str()),
                (400, Some("task_id_required")),
                "{verb} {task:?}"
            );
        }
    }
    let (status, error) = status_and_json(
        test.app
            .http
            .post(
                test.app
                    .url("/api/v1/github/repos/octo-org/..%2Fx/git-access"),
            )
            .bearer_auth(AGENT_TOKEN)
            .header("x-task-id", &task_id)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{error}");

    let access = test.issue(&task_id.parse().unwrap()).await;
    assert_eq!(
        access["clone_url"],
        "https://agw.example.com/github/git/octo-org/hello-world.git"
    );
    assert!(access["token"].as_str().unwrap().starts_with("agwgit_"));
    let spec: Value = test
        .app
        .http
        .get(test.app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/api/v1/github/repos/{owner}/{repo}/git-access"]["post"].is_object());
    assert!(spec["paths"]["/api/v1/github/repos/{owner}/{repo}/git-access"]["delete"].is_object());
}

/// A fresh 2048-bit RSA key (PEM) for App mode.
async fn generate_rsa_key() -> String {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("app.pem");
    let output = tokio::process::Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&private)
        .arg("2048")
        .output()
        .await
        .expect("openssl is installed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(private).unwrap()
}

#[tokio::test]
async fn in_app_mode_a_large_push_streams_through_with_the_installation_token() {
    const INSTALLATION_TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
    let private_key_pem = generate_rsa_key().await;
    let test = spawn_git_test(|settings| {
        settings.credentials = GithubCredentials::App {
            app_id: "123456".to_owned(),
            private_key_pem,
        };
    })
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/installation")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "account": user(OWNER, 2), "app_id": 123456, "target_type": "Organization",
            "repository_selection": "all", "permissions": {"contents": "write", "metadata": "read"}
        })))
        .mount(&test.app.github)
        .await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "token": INSTALLATION_TOKEN,
            "expires_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
            "permissions": {"contents": "write", "metadata": "read"}, "repository_selection": "all"
        })))
        .expect(1)
        .mount(&test.app.github)
        .await;

    let access = test.issue(&TaskId::new()).await;
    let clone = test.clone(&access, "clone").await;
    git(&clone, &["checkout", "--quiet", "-b", "agent/large"]).await;
    // Incompressible and larger than git's 1 MiB post buffer: git probes, then sends the pack chunked.
    let mut data = vec![0u8; 3 * 1024 * 1024];
    rand::rng().fill_bytes(&mut data);
    std::fs::write(clone.join("large.bin"), &data).unwrap();
    git(&clone, &["add", "large.bin"]).await;
    git(&clone, &["commit", "--quiet", "-m", "large file"]).await;
    let commit = git(&clone, &["rev-parse", "HEAD"]).await;
    git(&clone, &["push", "--quiet", "origin", "agent/large"]).await;
    assert_eq!(
        test.backend
            .rev(OWNER, REPO_NAME, "refs/heads/agent/large")
            .await,
        Some(commit)
    );

    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("x-access-token:{INSTALLATION_TOKEN}"))
    );
    let requests = test.backend.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(
            request.authorization.as_deref(),
            Some(expected.as_str()),
            "{request:?}"
        );
    }
}
