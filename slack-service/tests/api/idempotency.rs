//! One `Idempotency-Key`, many concurrent requests: Slack is called once and every caller gets the first answer.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, posted_message, spawn_app};

#[tokio::test]
async fn twenty_concurrent_posts_with_one_key_post_once() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(300))
                .set_body_json(posted_message(
                    "C0123ABCD",
                    "1712345680.000200",
                    None,
                    "once",
                )),
        )
        .mount(&app.slack)
        .await;
    let key = uuid::Uuid::new_v4().to_string();

    let calls = (0..20).map(|_| {
        let request = app
            .http
            .post(app.url("/api/v1/slack/messages"))
            .bearer_auth(AGENT_TOKEN)
            .header("Idempotency-Key", &key)
            .json(&json!({"channel": "C0123ABCD", "text": "once"}));
        async move {
            let response = request.send().await.unwrap();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (
                response.status().as_u16(),
                replayed,
                response.json::<serde_json::Value>().await.unwrap(),
            )
        }
    });
    let answers = futures::future::join_all(calls).await;

    assert_eq!(
        app.slack_requests().await.len(),
        1,
        "Slack must be called once"
    );
    for (status, _, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(
            body,
            &json!({"channel": "C0123ABCD", "ts": "1712345680.000200"})
        );
    }
    assert_eq!(
        answers.iter().filter(|(_, replayed, _)| *replayed).count(),
        19
    );
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(posted_message(
            "C0123ABCD",
            "1712345680.000200",
            None,
            "a",
        )))
        .mount(&app.slack)
        .await;
    let key = uuid::Uuid::new_v4().to_string();
    let send = |text: &'static str| {
        app.http
            .post(app.url("/api/v1/slack/messages"))
            .bearer_auth(AGENT_TOKEN)
            .header("Idempotency-Key", &key)
            .json(&json!({"channel": "C0123ABCD", "text": text}))
            .send()
    };

    assert_eq!(send("a").await.unwrap().status().as_u16(), 201);
    let reused = send("b").await.unwrap();
    assert_eq!(reused.status().as_u16(), 422);
    assert_eq!(app.slack_requests().await.len(), 1);
}
