//! Slack's `ok: false` answers (HTTP 200) and real HTTP failures become the service's error answers.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, spawn_app, spawn_app_with, status_and_json};

fn post_body() -> serde_json::Value {
    json!({"channel": "C0123ABCD", "text": "hello"})
}

#[tokio::test]
async fn ok_false_codes_map_to_real_errors() {
    let cases = [
        ("channel_not_found", 404, "not_found"),
        ("invalid_auth", 502, "upstream_unauthorized"),
        ("token_revoked", 502, "upstream_unauthorized"),
        ("missing_scope", 502, "upstream_unauthorized"),
        ("msg_too_long", 422, "upstream_rejected"),
        ("is_archived", 422, "upstream_rejected"),
        ("ratelimited", 503, "upstream_rate_limited"),
        ("internal_error", 502, "upstream_failed"),
    ];
    for (code, expected_status, expected_code) in cases {
        let app = spawn_app().await;
        Mock::given(method("POST"))
            .and(path("/chat.postMessage"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": code})),
            )
            .expect(1)
            .mount(&app.slack)
            .await;

        let (status, body) = status_and_json(
            app.post("/api/v1/slack/messages", AGENT_TOKEN, &post_body())
                .await,
        )
        .await;

        assert_eq!(status, expected_status, "{code}: {body}");
        assert_eq!(body["code"], expected_code, "{code}: {body}");
        if expected_code != "upstream_rate_limited" {
            assert!(
                body["message"].as_str().unwrap().contains(code),
                "{code}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_rejection_carries_slacks_own_explanation() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": false,
            "error": "invalid_blocks",
            "response_metadata": {"messages": ["[ERROR] must provide an object [json-pointer:/blocks/0]"]}
        })))
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/messages",
            AGENT_TOKEN,
            &json!({"channel": "C0123ABCD", "text": "x", "blocks": [{"type": "bogus"}]}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "upstream_rejected");
    assert_eq!(
        body["message"],
        "invalid_blocks: [ERROR] must provide an object [json-pointer:/blocks/0]"
    );
    assert_eq!(body["details"]["upstream_body"]["error"], "invalid_blocks");
}

#[tokio::test]
async fn http_401_and_404_from_slack_map_like_ok_false() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.update"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"ok": false, "error": "not_authed"})),
        )
        .mount(&app.slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/conversations.open"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
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
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("upstream_unauthorized")),
        "{body}"
    );

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/conversations/dm",
            AGENT_TOKEN,
            &json!({"users": ["U1"]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
}

#[tokio::test]
async fn a_slow_slack_is_a_504() {
    let app = spawn_app_with(|settings| {
        settings.provider.upstream.request_timeout = Duration::from_millis(200);
        settings.provider.upstream.max_attempts = 1;
    })
    .await;
    Mock::given(method("GET"))
        .and(path("/conversations.replies"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(2))
                .set_body_json(json!({"ok": true})),
        )
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

    assert_eq!(status, 504, "{body}");
    assert_eq!(body["code"], "upstream_timeout");
}

#[tokio::test]
async fn an_unparseable_answer_is_a_502() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.post("/api/v1/slack/messages", AGENT_TOKEN, &post_body())
            .await,
    )
    .await;

    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "upstream_invalid_response");
}
