//! One `Idempotency-Key`, twenty concurrent requests: Jira is called once, everyone gets the first answer.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, cloud_comment, spawn_app};

#[tokio::test]
async fn twenty_concurrent_comments_with_one_key_comment_once() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/comment"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_delay(Duration::from_millis(300))
                .set_body_json(cloud_comment("10010", "once")),
        )
        .mount(&app.jira)
        .await;
    let key = uuid::Uuid::new_v4().to_string();

    let calls = (0..20).map(|_| {
        let request = app
            .http
            .post(app.url("/api/v1/jira/issues/PROJ-42/comments"))
            .bearer_auth(AGENT_TOKEN)
            .header("Idempotency-Key", &key)
            .json(&json!({"body": "once"}));
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
        app.jira_requests().await.len(),
        1,
        "Jira must be called once"
    );
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["id"], "10010");
    }
}
