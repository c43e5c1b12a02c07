//! The built binary starts with only its own configuration (SQLite in a temp dir, the token from a `_FILE`),
//! serves, and stops on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, CALLER_TOKENS, sentry_issue};
use service_kit::testing::free_port;

#[tokio::test]
async fn the_binary_serves_with_only_its_own_configuration() {
    let sentry = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/1234567890/"))
        .and(header("authorization", "Bearer standalone-token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sentry_issue("unresolved", json!(null))),
        )
        .expect(1)
        .mount(&sentry)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "standalone-token\n").unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sentry-service"))
        .current_dir(dir.path())
        .env_clear()
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "REDIS_KEY_PREFIX",
            format!("test:{}:", uuid::Uuid::new_v4()),
        )
        .env("CALLER_TOKENS", CALLER_TOKENS)
        .env(
            "CREDENTIALS_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .env("SENTRY_API_URL", sentry.uri())
        .env("SENTRY_ORG", "acme")
        .env("SENTRY_AUTH_TOKEN_FILE", &secret_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let response = http
        .get(format!("{base}/api/v1/sentry/issues/1234567890"))
        .bearer_auth(AGENT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        dir.path().join("data/sentry-service.db").exists(),
        "the default SQLite database is used"
    );

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let stopped = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "no graceful stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_binary_refuses_to_start_without_its_organization() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sentry-service"))
        .current_dir(dir.path())
        .env_clear()
        .env("CALLER_TOKENS", CALLER_TOKENS)
        .env(
            "CREDENTIALS_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("SENTRY_ORG"));
}
