//! With `X-Task-Id`, the call and its upstream requests land in the task's `05-microservices-flow.jsonl`.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, BOT_TOKEN, posted_message, spawn_app};

fn lines(app: &crate::helpers::TestApp, task_id: &contracts::TaskId) -> Vec<Value> {
    let file = app
        .task_logs_dir
        .join(task_id.to_string())
        .join("05-microservices-flow.jsonl");
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn a_task_call_is_logged_without_secrets() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(posted_message(
            "C0123ABCD",
            "1712345680.000200",
            None,
            "hi",
        )))
        .mount(&app.slack)
        .await;
    let task_id = contracts::TaskId::new();

    let response = app
        .http
        .post(app.url("/api/v1/slack/messages"))
        .bearer_auth(AGENT_TOKEN)
        .header("X-Task-Id", task_id.to_string())
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&json!({"channel": "C0123ABCD", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);

    let lines = lines(&app, &task_id);
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
            ("service_response", "call")
        ]
    );
    assert_eq!(lines[0]["service"], "slack-service");
    assert_eq!(lines[0]["path"], "/api/v1/slack/messages");
    assert_eq!(lines[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(lines[1]["method"], "POST");
    assert_eq!(lines[1]["path"], "/chat.postMessage");
    assert_eq!(lines[2]["status"], 200);
    assert_eq!(lines[3]["status"], 201);
    let raw = serde_json::to_string(&lines).unwrap();
    assert!(!raw.contains(BOT_TOKEN) && !raw.contains(AGENT_TOKEN));
}

#[tokio::test]
async fn a_slack_refusal_is_logged_as_a_service_error() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
        )
        .mount(&app.slack)
        .await;
    let task_id = contracts::TaskId::new();

    app.http
        .post(app.url("/api/v1/slack/messages"))
        .bearer_auth(AGENT_TOKEN)
        .header("X-Task-Id", task_id.to_string())
        .json(&json!({"channel": "C0123ABCD", "text": "hi"}))
        .send()
        .await
        .unwrap();

    let last = lines(&app, &task_id).pop().unwrap();
    assert_eq!(last["type"], "service_error");
    assert_eq!(last["status"], 404);
    assert_eq!(last["code"], "not_found");
}

#[tokio::test]
async fn without_a_task_id_nothing_is_written() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/reactions.add"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&app.slack)
        .await;
    app.post(
        "/api/v1/slack/reactions",
        AGENT_TOKEN,
        &json!({"channel": "C0123ABCD", "timestamp": "1712345678.123456", "name": "eyes"}),
    )
    .await;
    assert!(
        !app.task_logs_dir.exists()
            || std::fs::read_dir(&app.task_logs_dir)
                .unwrap()
                .next()
                .is_none()
    );
}
