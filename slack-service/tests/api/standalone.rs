//! The built binary starts with only its own configuration (SQLite in a temp dir), serves, and stops on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, CALLER_TOKENS, posted_message};
use service_kit::testing::free_port;

#[tokio::test]
async fn the_binary_serves_with_only_its_own_configuration() {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-standalone-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(posted_message(
            "C0123ABCD",
            "1712345680.000200",
            None,
            "hi",
        )))
        .expect(1)
        .mount(&slack)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_slack-service"))
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
        .env("SLACK_BOT_TOKEN", "xoxb-standalone-token")
        .env("SLACK_API_URL", slack.uri())
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
        .post(format!("{base}/api/v1/slack/messages"))
        .bearer_auth(AGENT_TOKEN)
        .json(&json!({"channel": "C0123ABCD", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert!(
        dir.path().join("data/slack-service.db").exists(),
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
