//! Retries: a 502 on a read, a 429 with Retry-After on a comment, and no blind repeat of a creating POST.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn a_read_is_retried_after_502s() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/pulls/1")))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&app.github)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/pulls/1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(1)))
        .expect(1)
        .mount(&app.github)
        .await;
    let (status, body) =
        status_and_json(app.get(&format!("{API_REPO}/pulls/1"), AGENT_TOKEN).await).await;
    assert_eq!(status, 200, "{body}");
    app.github.verify().await;
}

#[tokio::test]
async fn a_comment_waits_out_a_429_with_retry_after() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/3/comments")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "You have exceeded a secondary rate limit."})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.github)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/3/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(5, "hi")))
        .expect(1)
        .mount(&app.github)
        .await;
    let started = Instant::now();
    let (status, body) = status_and_json(
        app.post(
            &format!("{API_REPO}/issues/3/comments"),
            AGENT_TOKEN,
            &json!({"body": "hi"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "answered before Retry-After passed"
    );
    let posts = app.github_requests().await;
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body, posts[1].body);
}

#[tokio::test]
async fn a_comment_is_not_posted_twice_after_a_502_and_the_caller_gets_502() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/3/comments")))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&app.github)
        .await;
    let (status, body) = status_and_json(
        app.post(
            &format!("{API_REPO}/issues/3/comments"),
            AGENT_TOKEN,
            &json!({"body": "hi"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("upstream_failed"))
    );
    app.github.verify().await;
}

#[tokio::test]
async fn a_rate_limit_beyond_the_deadline_is_a_503_with_retry_after() {
    let app = spawn_app().await;
    let reset = chrono::Utc::now().timestamp() + 600;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"message": "API rate limit exceeded for installation ID 42.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})),
        )
        .expect(1)
        .mount(&app.github)
        .await;
    let response = app.get(&format!("{API_REPO}/pulls/1"), AGENT_TOKEN).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("upstream_rate_limited"))
    );
    assert!((590..=602).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn a_github_that_never_answers_in_time_is_a_504() {
    let app = spawn_app_with(|settings| {
        settings.provider.upstream.request_timeout = Duration::from_millis(300);
        settings.provider.upstream.max_attempts = 2;
    })
    .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(pull_request(1))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&app.github)
        .await;
    let (status, body) =
        status_and_json(app.get(&format!("{API_REPO}/pulls/1"), AGENT_TOKEN).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (504, Some("upstream_timeout"))
    );
}
