use chrono::Utc;
use contracts::task_log::LogFile;
use contracts::{Command, Provider, TaskStatus};
use serde_json::{Value, json};

use crate::helpers::{SseEvent, SseReader, envelope, spawn_app};

fn data(event: &SseEvent) -> Value {
    serde_json::from_str(&event.data).unwrap()
}

/// Reads `line` events until one of `stream` carries `kind`, returning every event read.
async fn read_until(reader: &mut SseReader, stream: &str, kind: &str) -> Vec<SseEvent> {
    let mut seen = Vec::new();
    loop {
        let event = reader.next().await.expect("the stream is still open");
        let done = event.event == "line" && {
            let d = data(&event);
            d["stream"] == stream && (d["event"]["type"] == kind || d["event"]["stage"] == kind)
        };
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn sse_follows_appends_resumes_with_last_event_id_and_ends_with_the_task() {
    let app = spawn_app().await;
    let envelope = envelope(Provider::Github, Command::Fix, "the flaky test", Utc::now());
    app.gateway_accepts(&envelope).await;
    app.worker_starts(&envelope).await;
    let id = envelope.task_id;
    let url = app.url(&format!("/api/v1/tasks/{id}/stream"));

    let mut reader = SseReader::new(app.client.get(&url).send().await.unwrap());
    let backlog = read_until(&mut reader, "queue_flow", "worker_assigned").await;
    let lines: Vec<Value> = backlog
        .iter()
        .filter(|e| e.event == "line")
        .map(data)
        .collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["stream"] == "webhook_flow")
            .count(),
        7
    );
    assert_eq!(
        lines.iter().filter(|l| l["stream"] == "queue_flow").count(),
        3
    );
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["event"]["stage"], "received");

    let agent = app.writer("agent-container");
    agent
        .append(
            &id,
            LogFile::AgentOutput,
            "message",
            json!({"text": "first"}),
        )
        .unwrap();
    let followed = read_until(&mut reader, "agent_output", "message").await;
    let first = followed.last().unwrap();
    assert_eq!(data(first)["event"]["text"], "first");
    assert_eq!(data(first)["line"], 1);
    let resume_from = first.id.clone();
    assert_eq!(resume_from, "7.3.1.0");
    let status = backlog
        .iter()
        .chain(followed.iter())
        .find(|e| e.event == "status")
        .expect("a status event");
    assert_eq!(data(status)["status"], "running");
    drop(reader);

    // Written while nobody listens.
    agent
        .append(
            &id,
            LogFile::AgentOutput,
            "tool_call",
            json!({"tool": "Bash"}),
        )
        .unwrap();
    app.writer("github-service")
        .append(
            &id,
            LogFile::MicroservicesFlow,
            "service_request",
            json!({"path": "/x"}),
        )
        .unwrap();

    let resumed = app
        .client
        .get(&url)
        .header("Last-Event-ID", &resume_from)
        .send()
        .await
        .unwrap();
    let mut reader = SseReader::new(resumed);
    let mut replayed = Vec::new();
    while replayed.len() < 2 {
        let event = reader.next().await.unwrap();
        if event.event == "line" {
            replayed.push(data(&event));
        }
    }
    assert_eq!(replayed[0]["stream"], "agent_output");
    assert_eq!(replayed[0]["line"], 2);
    assert_eq!(replayed[0]["event"]["type"], "tool_call");
    assert_eq!(replayed[1]["stream"], "microservices_flow");
    assert_eq!(replayed[1]["event"]["type"], "service_request");

    app.worker_finishes(&envelope, TaskStatus::Succeeded, 0.1, 1000)
        .await;
    let mut rest = Vec::new();
    while let Some(event) = reader.next().await {
        rest.push(event);
    }
    let end = rest.last().expect("an end event");
    assert_eq!(end.event, "end");
    assert_eq!(data(end)["status"], "succeeded");
    assert!(
        rest.iter()
            .any(|e| e.event == "line" && data(e)["event"]["type"] == "released")
    );
    assert!(
        rest.iter()
            .any(|e| e.event == "status" && data(e)["status"] == "succeeded")
    );
}

#[tokio::test]
async fn a_finished_task_streams_its_lines_and_ends_at_once() {
    let app = spawn_app().await;
    let envelope = envelope(Provider::Slack, Command::Ask, "why", Utc::now());
    app.gateway_accepts(&envelope).await;
    app.worker_finishes(&envelope, TaskStatus::Failed, 0.0, 10)
        .await;
    let response = app
        .get(&format!("/api/v1/tasks/{}/stream", envelope.task_id))
        .await;
    let mut reader = SseReader::new(response);
    let mut events = Vec::new();
    while let Some(event) = reader.next().await {
        events.push(event);
    }
    assert_eq!(events.last().unwrap().event, "end");
    assert_eq!(events.iter().filter(|e| e.event == "line").count(), 7 + 2);

    let bad = app
        .client
        .get(app.url(&format!("/api/v1/tasks/{}/stream", envelope.task_id)))
        .header("Last-Event-ID", "x.y")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let unknown = app
        .get(&format!(
            "/api/v1/tasks/{}/stream",
            contracts::TaskId::new()
        ))
        .await;
    assert_eq!(unknown.status(), 404);
}
