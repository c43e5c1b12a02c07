//! Malformed bodies and unknown fields are a 400; values out of range a 422 naming the field.

use serde_json::json;

use crate::helpers::{AGENT_TOKEN, spawn_app, status_and_json};

#[tokio::test]
async fn malformed_json_unknown_and_missing_fields_are_a_400() {
    let app = spawn_app().await;
    let malformed = app
        .http
        .post(app.url("/api/v1/slack/messages"))
        .bearer_auth(AGENT_TOKEN)
        .header("content-type", "application/json")
        .body("{\"channel\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(malformed).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["code"].is_string(), "{body}");

    for bad in [
        json!({"channel": "C0123ABCD", "text": "hi", "as_user": true}),
        json!({"channel": "C0123ABCD"}),
        json!({"channel": 12, "text": "hi"}),
    ] {
        let (status, body) =
            status_and_json(app.post("/api/v1/slack/messages", AGENT_TOKEN, &bad).await).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert!(app.slack_requests().await.is_empty());
}

#[tokio::test]
async fn values_out_of_range_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            "/api/v1/slack/messages",
            json!({"channel": "C0123ABCD", "text": "  "}),
            "text",
        ),
        (
            "/api/v1/slack/messages",
            json!({"channel": "C0123ABCD", "text": "x".repeat(40_001)}),
            "text",
        ),
        (
            "/api/v1/slack/messages",
            json!({"channel": "../admin", "text": "hi"}),
            "channel",
        ),
        (
            "/api/v1/slack/messages",
            json!({"channel": "C0123ABCD", "text": "hi", "thread_ts": "yesterday"}),
            "thread_ts",
        ),
        (
            "/api/v1/slack/messages",
            json!({"channel": "C0123ABCD", "text": "hi", "blocks": [1]}),
            "blocks",
        ),
        (
            "/api/v1/slack/reactions",
            json!({"channel": "C0123ABCD", "timestamp": "1.2", "name": ":eyes:"}),
            "name",
        ),
        (
            "/api/v1/slack/reactions",
            json!({"channel": "C0123ABCD", "timestamp": "now", "name": "eyes"}),
            "timestamp",
        ),
        (
            "/api/v1/slack/conversations/dm",
            json!({"users": []}),
            "users",
        ),
        (
            "/api/v1/slack/conversations/dm",
            json!({"users": ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"]}),
            "users",
        ),
    ];
    for (path, request, field) in cases {
        let (status, body) = status_and_json(app.post(path, AGENT_TOKEN, &request).await).await;
        assert_eq!(status, 422, "{path} {field}: {body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["details"]["errors"][0]["field"], field, "{body}");
    }
    let (status, body) = status_and_json(
        app.get(
            "/api/v1/slack/threads/C0123ABCD/1712345678.123456/replies?limit=0",
            AGENT_TOKEN,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["details"]["errors"][0]["field"].as_str()),
        (422, Some("limit")),
        "{body}"
    );
    assert!(app.slack_requests().await.is_empty());
}

#[tokio::test]
async fn an_unknown_query_parameter_is_a_400() {
    let app = spawn_app().await;
    let (status, body) = status_and_json(
        app.get(
            "/api/v1/slack/threads/C0123ABCD/1712345678.123456/replies?oldest=1",
            AGENT_TOKEN,
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["code"].is_string());
}
