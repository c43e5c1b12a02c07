//! One `Idempotency-Key`, twenty concurrent requests: Sentry is called once, everyone gets the first answer.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, spawn_app};

#[tokio::test]
async fn twenty_concurrent_comments_with_one_key_comment_once() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/api/0/organizations/acme/issues/1234567890/comments/"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_millis(300)).set_body_json(json!({
            "id": "4567", "type": "note", "data": {"text": "once"}, "dateCreated": "2024-03-01T11:00:00Z"
        })))
        .mount(&app.sentry)
        .await;
    let key = uuid::Uuid::new_v4().to_string();

    let calls = (0..20).map(|_| {
        let request = app
            .http
            .post(app.url("/api/v1/sentry/issues/1234567890/comments"))
            .bearer_auth(AGENT_TOKEN)
            .header("Idempotency-Key", &key)
            .json(&json!({"text": "once"}));
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        }
    });
    let answers = futures::future::join_all(calls).await;

    assert_eq!(
        app.sentry_requests().await.len(),
        1,
        "Sentry must be called once"
    );
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["id"], "4567");
    }
}
