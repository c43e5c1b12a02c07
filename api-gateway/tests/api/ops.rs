//! /health, /ready, /metrics, /docs and the OpenAPI document.

use crate::helpers::{github_comment, github_delivery, spawn_app};

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let app = spawn_app().await;
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 200, "{body}");

    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix", "OWNER", "ada", "User"),
        ))
        .await;
    assert_eq!(answer.status, 202);
    app.send(&github_delivery(
        "issue_comment",
        &github_comment("hello", "OWNER", "ada", "User"),
    ))
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (status, metrics) = app.get("/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        "gateway_webhooks_total{provider=\"github\",outcome=\"queued\"}",
        "gateway_webhooks_ignored_total{provider=\"github\",reason=\"not_a_command\"}",
        "gateway_webhook_duration_seconds_bucket",
        "gateway_task_queue_length",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from /metrics");
    }
}

#[tokio::test]
async fn the_openapi_document_names_every_endpoint_header_and_answer() {
    let app = spawn_app().await;
    let (status, raw) = app.get("/openapi.json").await;
    assert_eq!(status, 200);
    let spec: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let mut names: Vec<&str> = paths.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "/health",
            "/metrics",
            "/ready",
            "/webhooks/github",
            "/webhooks/jira",
            "/webhooks/sentry",
            "/webhooks/slack"
        ]
    );
    for (path, header) in [
        ("/webhooks/github", "X-Hub-Signature-256"),
        ("/webhooks/slack", "X-Slack-Request-Timestamp"),
        ("/webhooks/jira", "X-Atlassian-Webhook-Identifier"),
        ("/webhooks/sentry", "Sentry-Hook-Resource"),
    ] {
        let operation = &spec["paths"][path]["post"];
        let params: Vec<&str> = operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            params.contains(&header),
            "{path} does not document {header}"
        );
        let mut statuses: Vec<&str> = operation["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            ["200", "202", "400", "401", "413", "415", "503"],
            "{path}"
        );
    }
    assert!(spec["components"]["schemas"]["WebhookAnswer"].is_object());
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
    let (status, page) = app.get("/docs/").await;
    assert_eq!(status, 200);
    assert!(page.contains("swagger"), "{page}");
}
