//! Idempotency-Key: 20 concurrent repeats of one comment post reach GitHub once and get the same answer.

use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn twenty_concurrent_posts_with_one_key_make_one_github_call() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/9/comments")))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(comment(77, "once"))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&app.github)
        .await;
    let url = app.url(&format!("{API_REPO}/issues/9/comments"));
    let answers = futures::future::join_all((0..20).map(|_| {
        app.http
            .post(&url)
            .bearer_auth(AGENT_TOKEN)
            .header("idempotency-key", "comment-task-1")
            .json(&json!({"body": "once"}))
            .send()
    }))
    .await;
    let mut replayed = 0;
    for answer in answers {
        let answer = answer.unwrap();
        replayed += usize::from(answer.headers().contains_key("idempotent-replayed"));
        let (status, body) = status_and_json(answer).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["id"], 77);
    }
    assert_eq!(replayed, 19);
    app.github.verify().await;

    // The same key from another role is another key; a different body under the same key is refused.
    let (status, body) = status_and_json(
        app.http
            .post(&url)
            .bearer_auth(AGENT_TOKEN)
            .header("idempotency-key", "comment-task-1")
            .json(&json!({"body": "something else"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
}
