use std::io::Write;

use chrono::Utc;
use contracts::task_log::LogFile;
use contracts::{Command, Provider, TaskId, TaskStatus};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, envelope, spawn_app};

fn file_lines(app: &TestApp, id: &TaskId, file: LogFile) -> Vec<Value> {
    std::fs::read_to_string(app.writer("x").path(id, file))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn file_json(app: &TestApp, id: &TaskId, file: LogFile) -> Value {
    serde_json::from_slice(&std::fs::read(app.writer("x").path(id, file)).unwrap()).unwrap()
}

#[tokio::test]
async fn the_combined_view_equals_what_the_writers_wrote() {
    let app = spawn_app().await;
    let envelope = envelope(Provider::Github, Command::Fix, "the flaky test", Utc::now());
    app.gateway_accepts(&envelope).await;
    app.worker_starts(&envelope).await;
    app.agent_works(&envelope);
    app.worker_finishes(&envelope, TaskStatus::Succeeded, 0.42, 90_000)
        .await;
    let id = envelope.task_id;

    let combined = app.get_json(&format!("/api/v1/tasks/{id}/logs")).await;
    assert_eq!(combined["task_id"], id.to_string());
    assert_eq!(
        combined["metadata"],
        file_json(&app, &id, LogFile::Metadata)
    );
    assert_eq!(combined["input"], file_json(&app, &id, LogFile::Input));
    assert_eq!(
        combined["final_result"],
        file_json(&app, &id, LogFile::FinalResult)
    );
    for (name, file) in [
        ("webhook_flow", LogFile::WebhookFlow),
        ("queue_flow", LogFile::QueueFlow),
        ("agent_output", LogFile::AgentOutput),
        ("microservices_flow", LogFile::MicroservicesFlow),
    ] {
        let written = file_lines(&app, &id, file);
        assert!(!written.is_empty(), "{name}");
        assert_eq!(combined["streams"][name], Value::Array(written), "{name}");
    }
}

#[tokio::test]
async fn a_stream_pages_with_after_and_limit() {
    let app = spawn_app().await;
    let envelope = envelope(Provider::Slack, Command::Ask, "why", Utc::now());
    app.gateway_accepts(&envelope).await;
    let writer = app.writer("agent-container");
    for i in 0..25 {
        writer
            .append(
                &envelope.task_id,
                LogFile::AgentOutput,
                "message",
                serde_json::json!({"n": i}),
            )
            .unwrap();
    }
    let base = format!("/api/v1/tasks/{}/logs/agent_output", envelope.task_id);
    let first = app.get_json(&format!("{base}?limit=10")).await;
    assert_eq!(first["lines"].as_array().unwrap().len(), 10);
    assert_eq!(first["lines"][0]["n"], 0);
    assert_eq!(first["next_after"], 10);
    assert_eq!(first["more"], true);
    let last = app.get_json(&format!("{base}?after=20&limit=10")).await;
    assert_eq!(last["lines"].as_array().unwrap().len(), 5);
    assert_eq!(last["lines"][0]["n"], 20);
    assert_eq!(last["next_after"], 25);
    assert_eq!(last["more"], false);
    let empty = app.get_json(&format!("{base}?after=25")).await;
    assert_eq!(empty["lines"], serde_json::json!([]));
    assert_eq!(empty["next_after"], 25);

    let unknown_stream = app
        .get(&format!("/api/v1/tasks/{}/logs/secrets", envelope.task_id))
        .await;
    assert_eq!(unknown_stream.status(), 400);
    let bad_limit = app.get(&format!("{base}?limit=0")).await;
    assert_eq!(bad_limit.status(), 400);
}

#[tokio::test]
async fn corrupt_and_half_written_lines_are_shown_as_such() {
    let app = spawn_app().await;
    let envelope = envelope(
        Provider::Jira,
        Command::Investigate,
        "the outage",
        Utc::now(),
    );
    app.gateway_accepts(&envelope).await;
    let writer = app.writer("agent-container");
    let id = envelope.task_id;
    writer
        .append(
            &id,
            LogFile::AgentOutput,
            "message",
            serde_json::json!({"text": "ok"}),
        )
        .unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(writer.path(&id, LogFile::AgentOutput))
        .unwrap();
    file.write_all(
        b"this is not json\n[1,2]\n{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"type\":\"mess",
    )
    .unwrap();
    std::fs::write(
        writer.path(&id, LogFile::FinalResult),
        b"{\"task_id\": \"trunc",
    )
    .unwrap();

    let combined = app.get_json(&format!("/api/v1/tasks/{id}/logs")).await;
    let lines = combined["streams"]["agent_output"].as_array().unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["text"], "ok");
    assert_eq!(
        lines[1],
        serde_json::json!({"corrupt": true, "partial": false, "raw": "this is not json"})
    );
    assert_eq!(lines[2]["corrupt"], true);
    assert_eq!(lines[3]["corrupt"], true);
    assert_eq!(lines[3]["partial"], true);
    assert_eq!(combined["final_result"]["corrupt"], true);
    assert_eq!(combined["final_result"]["raw"], "{\"task_id\": \"trunc");

    let page = app
        .get_json(&format!("/api/v1/tasks/{id}/logs/agent_output?after=1"))
        .await;
    assert_eq!(page["lines"][0]["raw"], "this is not json");
    let summary = app.get(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(summary.status(), 200);
}

/// Sends the request line exactly as given (no client-side normalisation) and returns status and body.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn traversal_attempts_are_refused() {
    let app = spawn_app().await;
    // A directory next to the task logs that must never be served, and a file outside them.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("metadata.json"),
        b"{\"secret\": \"TOPSECRET\"}",
    )
    .unwrap();
    std::fs::write(
        outside.path().join("04-agent-output.jsonl"),
        b"{\"secret\": \"TOPSECRET\"}\n",
    )
    .unwrap();
    let not_a_task = app.logs_dir.path().join("not-a-task");
    std::fs::create_dir(&not_a_task).unwrap();
    std::fs::write(
        not_a_task.join("04-agent-output.jsonl"),
        b"{\"secret\": \"TOPSECRET\"}\n",
    )
    .unwrap();
    let absolute = outside.path().display().to_string();
    let encoded_absolute = absolute.replace('/', "%2F");
    let valid = TaskId::new();

    let attempts = [
        "/api/v1/tasks/../logs".to_owned(),
        "/api/v1/tasks/../../../etc/passwd".to_owned(),
        "/api/v1/tasks/not-a-task/logs".to_owned(),
        "/api/v1/tasks/not-a-task/logs/agent_output".to_owned(),
        "/api/v1/tasks/%2e%2e%2f%2e%2e%2fetc%2fpasswd/logs".to_owned(),
        "/api/v1/tasks/..%2F..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/api/v1/tasks/%252e%252e%252f/logs".to_owned(),
        "/api/v1/tasks/..%5c..%5cwindows/logs".to_owned(),
        format!("/api/v1/tasks/{encoded_absolute}/logs"),
        format!("/api/v1/tasks/{encoded_absolute}/logs/agent_output"),
        format!("/api/v1/tasks/{encoded_absolute}/stream"),
        format!("/api/v1/tasks/{valid}%2F..%2F..%2Fnot-a-task/logs"),
        format!("/api/v1/tasks/{valid}/logs/..%2F..%2Fnot-a-task%2F04-agent-output.jsonl"),
        format!("/api/v1/tasks/{}/logs", valid.to_string().to_uppercase()),
        format!("/api/v1/tasks/{valid}%00/logs"),
        format!("/api/v1/dead-letters/..%2F{valid}/requeue"),
    ];
    for target in &attempts {
        let (status, answer) = raw_get(&app, target).await;
        assert!(
            matches!(status, 400 | 404 | 405),
            "{target} answered {status}"
        );
        assert!(!answer.contains("TOPSECRET"), "{target} leaked a file");
        if target.contains("/api/v1/tasks/") && status == 400 {
            assert!(
                answer.contains("\"code\""),
                "{target}: not a JSON error: {answer}"
            );
        }
    }
    // An id of the right shape that was never created is simply unknown.
    let (status, _) = raw_get(&app, &format!("/api/v1/tasks/{valid}/logs")).await;
    assert_eq!(status, 404);
    let (status, answer) = raw_get(&app, "/api/v1/tasks/not-a-task/logs").await;
    assert_eq!(status, 400);
    assert!(answer.contains("invalid_task_id"));
}
