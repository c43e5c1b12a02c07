//! The built binary starts with only its own configuration (SQLite in a temp dir, the token from a `_FILE`),
//! serves, and stops on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, CALLER_TOKENS};
use service_kit::testing::free_port;

#[tokio::test]
async fn the_binary_serves_with_only_its_own_configuration() {
    let jira = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/OPS-7/transitions"))
        .and(header("authorization", "Bearer standalone-pat"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"transitions": []})))
        .expect(1)
        .mount(&jira)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "standalone-pat\n").unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jira-service"))
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
        .env("JIRA_BASE_URL", jira.uri())
        .env("JIRA_PAT_FILE", &secret_file)
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
        .get(format!("{base}/api/v1/jira/issues/OPS-7/transitions"))
        .bearer_auth(AGENT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        dir.path().join("data/jira-service.db").exists(),
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
async fn the_binary_refuses_to_start_without_its_jira_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_jira-service"))
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
    assert!(String::from_utf8_lossy(&output.stderr).contains("JIRA_BASE_URL"));
}

#[test]
fn the_binary_names_the_missing_credential_variables() {
    let dir = tempfile::tempdir().unwrap();
    let start = |extra: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jira-service"));
        command
            .current_dir(dir.path())
            .env_clear()
            .env("CALLER_TOKENS", CALLER_TOKENS)
            .env(
                "CREDENTIALS_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            )
            .env("JIRA_BASE_URL", "https://example.atlassian.net");
        for (name, value) in extra {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };

    assert!(start(&[]).contains("JIRA_EMAIL + JIRA_API_TOKEN"));
    assert!(start(&[("JIRA_API_TOKEN", "token")]).contains("JIRA_EMAIL"));
    assert!(start(&[("JIRA_DEPLOYMENT", "cloud")]).contains("JIRA_EMAIL"));
    assert!(start(&[("JIRA_DEPLOYMENT", "on-prem")]).contains("JIRA_DEPLOYMENT"));
}
