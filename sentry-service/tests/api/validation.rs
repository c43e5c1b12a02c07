//! Malformed bodies, unknown fields and unknown statuses are a 400; values out of range a 422 naming the field.

use serde_json::json;

use crate::helpers::{AGENT_TOKEN, spawn_app, status_and_json};

#[tokio::test]
async fn malformed_bodies_are_a_400() {
    let app = spawn_app().await;
    let cases = [
        (
            "/api/v1/sentry/issues/1234567890/status",
            json!({"status": "archived_forever"}),
        ),
        (
            "/api/v1/sentry/issues/1234567890/status",
            json!({"status": "resolved", "statusDetails": {}}),
        ),
        ("/api/v1/sentry/issues/1234567890/assignee", json!({})),
    ];
    for (path, bad) in cases {
        let (status, body) = status_and_json(app.put(path, AGENT_TOKEN, &bad).await).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert!(app.sentry_requests().await.is_empty());
}

#[tokio::test]
async fn values_out_of_range_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        app.post(
            "/api/v1/sentry/issues/1234567890/comments",
            AGENT_TOKEN,
            &json!({"text": ""}),
        )
        .await,
        app.post(
            "/api/v1/sentry/issues/1234567890/comments",
            AGENT_TOKEN,
            &json!({"text": "x".repeat(10_001)}),
        )
        .await,
        app.put(
            "/api/v1/sentry/issues/1234567890/assignee",
            AGENT_TOKEN,
            &json!({"assignee": "two words"}),
        )
        .await,
        app.get("/api/v1/sentry/issues/BACKEND-1A", AGENT_TOKEN)
            .await,
        app.get(
            "/api/v1/sentry/issues/..%2F..%2Fprojects/events/latest",
            AGENT_TOKEN,
        )
        .await,
    ];
    let expected_fields = ["text", "text", "assignee", "issue_id", "issue_id"];
    for (response, field) in cases.into_iter().zip(expected_fields) {
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["details"]["errors"][0]["field"], field, "{body}");
    }
    assert!(app.sentry_requests().await.is_empty());
}
