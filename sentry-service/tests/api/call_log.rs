//! With `X-Task-Id`, the call and its upstream requests land in the task's `05-microservices-flow.jsonl`.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, AUTH_TOKEN, spawn_app};

#[tokio::test]
async fn a_task_call_is_logged_without_secrets() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/1234567890/"))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "detail": "The requested resource does not exist"
        })))
        .mount(&app.sentry)
        .await;
    let task_id = contracts::TaskId::new();

    let response = app
        .http
        .get(app.url("/api/v1/sentry/issues/1234567890"))
        .bearer_auth(AGENT_TOKEN)
        .header("X-Task-Id", task_id.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    let file = app
        .task_logs_dir
        .join(task_id.to_string())
        .join("05-microservices-flow.jsonl");
    let raw = std::fs::read_to_string(file).unwrap();
    let lines: Vec<Value> = raw
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "service_call",
            "service_request",
            "service_response",
            "service_error"
        ]
    );
    assert_eq!(
        lines[1]["path"],
        "/api/0/organizations/acme/issues/1234567890/"
    );
    assert_eq!(lines[2]["status"], 404);
    assert_eq!(lines[3]["code"], "not_found");
    assert!(lines.iter().all(|l| l["service"] == "sentry-service"));
    assert!(!raw.contains(AUTH_TOKEN) && !raw.contains(AGENT_TOKEN));
}
