//! The built binary, started with only its own configuration (env and a secret file), serves and stops
//! cleanly on SIGTERM; without a required secret it refuses to start and names it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use service_kit::testing::free_port;

const BINARY: &str = env!("CARGO_BIN_EXE_github-service");
/// `openssl rand -base64 32` once; any 32 bytes do.
const CREDENTIALS_KEY: &str = "q0Hq2gqR0a7ZkP3m8x2Vd9sYb1cN4eL6tU5wJ7iO3kA=";

#[tokio::test]
async fn the_binary_serves_with_only_its_own_configuration_and_stops_on_sigterm() {
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/2/comments")))
        .and(header(
            "authorization",
            format!("Bearer {GITHUB_TOKEN}").as_str(),
        ))
        .and(body_json(json!({"body": "from the binary"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(3, "from the binary")))
        .expect(1)
        .mount(&github)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("github-token");
    std::fs::write(&token_file, format!("{GITHUB_TOKEN}\n")).unwrap();
    let port = free_port();
    let mut child = Command::new(BINARY)
        .env_clear()
        .current_dir(dir.path())
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "REDIS_KEY_PREFIX",
            format!("test:{}:", uuid::Uuid::now_v7()),
        )
        .env("TASK_LOGS_DIR", dir.path().join("logs"))
        .env("CALLER_TOKENS", CALLER_TOKENS)
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .env("CREDENTIALS_KEY", CREDENTIALS_KEY)
        .env("GITHUB_TOKEN_FILE", &token_file)
        .env("GITHUB_API_URL", github.uri())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = http.get(format!("{base}/health")).send().await
            && response.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the binary did not come up"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the binary exited early"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = http.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    let posted = http
        .post(format!("{base}{API_REPO}/issues/2/comments"))
        .bearer_auth(GATEWAY_TOKEN)
        .json(&json!({"body": "from the binary"}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);
    assert_eq!(
        http.get(format!("{base}/docs/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(
        dir.path().join("data/github-service.db").exists(),
        "the default SQLite file under ./data"
    );
    github.verify().await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 10 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn without_credentials_key_it_refuses_to_start_and_names_it() {
    let output = Command::new(BINARY)
        .env_clear()
        .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("CALLER_TOKENS", CALLER_TOKENS)
        .env("GITHUB_TOKEN", GITHUB_TOKEN)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CREDENTIALS_KEY"), "{stderr}");

    let output = Command::new(BINARY)
        .env_clear()
        .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("CALLER_TOKENS", CALLER_TOKENS)
        .env("CREDENTIALS_KEY", CREDENTIALS_KEY)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("GITHUB_TOKEN") && stderr.contains("GITHUB_APP_ID"),
        "{stderr}"
    );
}
