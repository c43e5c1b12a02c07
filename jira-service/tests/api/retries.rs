//! Transient failures are retried; a comment that could have been added is not added again.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, cloud_comment, spawn_app, status_and_json};

#[tokio::test]
async fn a_502_is_retried_for_a_read() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42/transitions"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&app.jira)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42/transitions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"transitions": []})))
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.get("/api/v1/jira/issues/PROJ-42/transitions", AGENT_TOKEN)
            .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(app.jira_requests().await.len(), 3);
}

#[tokio::test]
async fn a_429_waits_out_retry_after_then_comments() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/comment"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&app.jira)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/comment"))
        .respond_with(ResponseTemplate::new(201).set_body_json(cloud_comment("10010", "hi")))
        .mount(&app.jira)
        .await;
    let started = Instant::now();

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/jira/issues/PROJ-42/comments",
            AGENT_TOKEN,
            &json!({"body": "hi"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    let requests = app.jira_requests().await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn a_comment_is_not_added_twice_after_a_502() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/comment"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/jira/issues/PROJ-42/comments",
            AGENT_TOKEN,
            &json!({"body": "hi"}),
        )
        .await,
    )
    .await;

    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("upstream_failed")),
        "{body}"
    );
    assert_eq!(app.jira_requests().await.len(), 1);
}
