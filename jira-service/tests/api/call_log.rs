//! With `X-Task-Id`, the call and its upstream requests land in the task's `05-microservices-flow.jsonl`.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, API_TOKEN, spawn_app};

#[tokio::test]
async fn a_task_call_is_logged_without_secrets() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42"))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}
        })))
        .mount(&app.jira)
        .await;
    let task_id = contracts::TaskId::new();

    let response = app
        .http
        .get(app.url("/api/v1/jira/issues/PROJ-42"))
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
    assert_eq!(lines[1]["path"], "/rest/api/3/issue/PROJ-42");
    assert_eq!(lines[2]["status"], 404);
    assert_eq!(lines[3]["code"], "not_found");
    assert!(lines.iter().all(|l| l["service"] == "jira-service"));
    assert!(!raw.contains(API_TOKEN) && !raw.contains(AGENT_TOKEN));
}
