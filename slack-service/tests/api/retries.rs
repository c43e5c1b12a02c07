//! Transient failures are retried; a post that could have happened is not repeated.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, json_body, posted_message, spawn_app, status_and_json};

#[tokio::test]
async fn a_502_is_retried_for_an_update() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.update"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .up_to_n_times(2)
        .mount(&app.slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat.update"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "channel": "C0123ABCD", "ts": "1712345680.000200", "text": "x"
        })))
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.put(
            "/api/v1/slack/messages/C0123ABCD/1712345680.000200",
            AGENT_TOKEN,
            &json!({"text": "x"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    let requests = app.slack_requests().await;
    assert_eq!(requests.len(), 3);
    for sent in &requests {
        assert_eq!(
            json_body(sent),
            json!({"channel": "C0123ABCD", "ts": "1712345680.000200", "text": "x"})
        );
    }
}

#[tokio::test]
async fn a_429_waits_out_retry_after_then_posts() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&app.slack)
        .await;
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
    let started = Instant::now();

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/messages",
            AGENT_TOKEN,
            &json!({"channel": "C0123ABCD", "text": "hi"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(app.slack_requests().await.len(), 2);
}

#[tokio::test]
async fn a_post_is_not_repeated_after_a_502() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/messages",
            AGENT_TOKEN,
            &json!({"channel": "C0123ABCD", "text": "hi"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "upstream_failed");
    assert_eq!(
        app.slack_requests().await.len(),
        1,
        "Slack may have posted it: no second post"
    );
}

#[tokio::test]
async fn persistent_502s_end_in_a_502_after_every_attempt() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/conversations.replies"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.get(
            "/api/v1/slack/threads/C0123ABCD/1712345678.123456/replies",
            AGENT_TOKEN,
        )
        .await,
    )
    .await;

    assert_eq!(status, 502, "{body}");
    assert_eq!(app.slack_requests().await.len(), 4);
}

#[tokio::test]
async fn a_rate_limit_past_the_deadline_is_a_503_with_retry_after() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/reactions.add"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .mount(&app.slack)
        .await;

    let response = app
        .post(
            "/api/v1/slack/reactions",
            AGENT_TOKEN,
            &json!({"channel": "C0123ABCD", "timestamp": "1712345678.123456", "name": "eyes"}),
        )
        .await;

    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "120");
    let (_, body) = status_and_json(response).await;
    assert_eq!(body["code"], "upstream_rate_limited");
    assert_eq!(app.slack_requests().await.len(), 1);
}
