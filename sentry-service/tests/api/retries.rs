//! Transient failures are retried; a comment that could have been added is not added again.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, sentry_issue, spawn_app, status_and_json};

#[tokio::test]
async fn a_502_is_retried_for_a_status_change() {
    let app = spawn_app().await;
    Mock::given(method("PUT"))
        .and(path("/api/0/organizations/acme/issues/1234567890/"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&app.sentry)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/0/organizations/acme/issues/1234567890/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sentry_issue("resolved", json!(null))),
        )
        .mount(&app.sentry)
        .await;

    let (status, body) = status_and_json(
        app.put(
            "/api/v1/sentry/issues/1234567890/status",
            AGENT_TOKEN,
            &json!({"status": "resolved"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    let requests = app.sentry_requests().await;
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.body == br#"{"status":"resolved"}"#)
    );
}

#[tokio::test]
async fn a_429_waits_out_retry_after_then_reads() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/1234567890/"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&app.sentry)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/1234567890/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sentry_issue("unresolved", json!(null))),
        )
        .mount(&app.sentry)
        .await;
    let started = Instant::now();

    let (status, body) = status_and_json(
        app.get("/api/v1/sentry/issues/1234567890", AGENT_TOKEN)
            .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(app.sentry_requests().await.len(), 2);
}

#[tokio::test]
async fn a_comment_is_not_added_twice_after_a_502() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(
            "/api/0/organizations/acme/issues/1234567890/comments/",
        ))
        .respond_with(ResponseTemplate::new(502))
        .mount(&app.sentry)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/sentry/issues/1234567890/comments",
            AGENT_TOKEN,
            &json!({"text": "hi"}),
        )
        .await,
    )
    .await;

    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("upstream_failed")),
        "{body}"
    );
    assert_eq!(app.sentry_requests().await.len(), 1);
}
