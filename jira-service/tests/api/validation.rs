//! Malformed bodies and unknown fields are a 400; values out of range a 422 naming the field.

use serde_json::json;

use crate::helpers::{AGENT_TOKEN, spawn_app, status_and_json};

#[tokio::test]
async fn malformed_json_and_unknown_fields_are_a_400() {
    let app = spawn_app().await;
    let malformed = app
        .http
        .post(app.url("/api/v1/jira/issues/PROJ-42/comments"))
        .bearer_auth(AGENT_TOKEN)
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    for bad in [
        json!({"body": "hi", "visibility": {"type": "role", "value": "Administrators"}}),
        json!({}),
    ] {
        let (status, body) = status_and_json(
            app.post("/api/v1/jira/issues/PROJ-42/comments", AGENT_TOKEN, &bad)
                .await,
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert!(app.jira_requests().await.is_empty());
}

#[tokio::test]
async fn values_out_of_range_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            "/api/v1/jira/issues/PROJ-42/comments",
            json!({"body": " "}),
            "body",
        ),
        (
            "/api/v1/jira/issues/PROJ-42/comments",
            json!({"body": "x".repeat(32_001)}),
            "body",
        ),
        (
            "/api/v1/jira/issues/..%2Fadmin/comments",
            json!({"body": "hi"}),
            "issue_key",
        ),
        (
            "/api/v1/jira/issues/PROJ-42/transitions",
            json!({}),
            "transition_id",
        ),
        (
            "/api/v1/jira/issues/PROJ-42/transitions",
            json!({"transition_id": "31", "transition_name": "Done"}),
            "transition_id",
        ),
        (
            "/api/v1/jira/issues/PROJ-42/transitions",
            json!({"transition_id": "abc"}),
            "transition_id",
        ),
    ];
    for (path, request, field) in cases {
        let (status, body) = status_and_json(app.post(path, AGENT_TOKEN, &request).await).await;
        assert_eq!(status, 422, "{path} {field}: {body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["details"]["errors"][0]["field"], field, "{body}");
    }
    let (status, body) = status_and_json(
        app.put(
            "/api/v1/jira/issues/PROJ-42/comments/abc",
            AGENT_TOKEN,
            &json!({"body": "hi"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["details"]["errors"][0]["field"].as_str()),
        (422, Some("comment_id")),
        "{body}"
    );
    assert!(app.jira_requests().await.is_empty());
}
