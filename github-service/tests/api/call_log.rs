//! With X-Task-Id, the service appends its lines to the task's 05-microservices-flow.jsonl.

use contracts::TaskId;
use contracts::task_log::LogFile;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn log_lines(app: &TestApp, task: &TaskId) -> Vec<Value> {
    let file = app
        .task_logs_dir
        .join(task.to_string())
        .join(LogFile::MicroservicesFlow.file_name());
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_task_call_is_logged_call_and_upstream_without_secrets() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/4/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(8, "secret-looking text")))
        .mount(&app.github)
        .await;
    let task = TaskId::new();
    assert!(!app.task_logs_dir.join(task.to_string()).exists());
    let response = app
        .http
        .post(app.url(&format!("{API_REPO}/issues/4/comments")))
        .bearer_auth(AGENT_TOKEN)
        .header("x-task-id", task.to_string())
        .header("traceparent", TRACEPARENT)
        .json(&json!({"body": "secret-looking text"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let lines = log_lines(&app, &task);
    let kinds: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["type"].as_str().unwrap(), l["scope"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("service_call", "call"),
            ("service_request", "upstream"),
            ("service_response", "upstream"),
            ("service_response", "call"),
        ]
    );
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["path"], format!("{API_REPO}/issues/4/comments"));
    assert_eq!(
        lines[0]["route"],
        "/api/v1/github/repos/{owner}/{repo}/issues/{number}/comments"
    );
    assert_eq!(
        lines[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
        "the caller's trace continues"
    );
    assert_eq!(lines[1]["path"], format!("{REPO}/issues/4/comments"));
    assert_eq!(lines[2]["status"], 201);
    assert_eq!(lines[3]["status"], 201);
    assert!(lines[3]["duration_ms"].as_f64().unwrap() > 0.0);
    for line in &lines {
        assert_eq!(line["task_id"], task.to_string());
        assert_eq!(line["service"], "github-service");
        let text = line.to_string();
        assert!(
            !text.contains(GITHUB_TOKEN)
                && !text.contains(AGENT_TOKEN)
                && !text.contains("secret-looking"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_failed_task_call_ends_with_service_error() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&app.github)
        .await;
    let task = TaskId::new();
    let response = app
        .http
        .get(app.url(&format!("{API_REPO}/pulls/5")))
        .bearer_auth(AGENT_TOKEN)
        .header("x-task-id", task.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let lines = log_lines(&app, &task);
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "service_error");
    assert_eq!(last["scope"], "call");
    assert_eq!(last["status"], 404);
    assert_eq!(last["code"], "not_found");

    // A refused caller is logged too, and GitHub never sees the call.
    let refused_task = TaskId::new();
    let response = app
        .http
        .get(app.url(&format!("{API_REPO}/pulls/5")))
        .header("x-task-id", refused_task.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let refused = log_lines(&app, &refused_task);
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[1]["code"], "unauthenticated");
}
