//! Each operation against a fake Slack: the exact request sent and the answer returned.

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    AGENT_TOKEN, BOT_TOKEN, GATEWAY_TOKEN, json_body, posted_message, spawn_app, status_and_json,
};

#[tokio::test]
async fn posts_a_reply_in_a_thread() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(posted_message(
            "C0123ABCD",
            "1712345680.000200",
            Some("1712345678.123456"),
            "On it",
        )))
        .expect(1)
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/messages",
            GATEWAY_TOKEN,
            &json!({"channel": "C0123ABCD", "text": "On it", "thread_ts": "1712345678.123456"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({"channel": "C0123ABCD", "ts": "1712345680.000200", "thread_ts": "1712345678.123456"})
    );
    let requests = app.slack_requests().await;
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method.as_str(), "POST");
    assert_eq!(sent.url.path(), "/chat.postMessage");
    assert_eq!(
        crate::helpers::header(sent, "authorization"),
        format!("Bearer {BOT_TOKEN}")
    );
    assert_eq!(
        crate::helpers::header(sent, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(
        json_body(sent),
        json!({"channel": "C0123ABCD", "text": "On it", "thread_ts": "1712345678.123456"})
    );
}

#[tokio::test]
async fn posts_blocks_with_a_fallback_text() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(posted_message(
            "C0123ABCD",
            "1712345680.000300",
            None,
            "Working",
        )))
        .mount(&app.slack)
        .await;
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Working*"}}]);

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/messages",
            AGENT_TOKEN,
            &json!({"channel": "C0123ABCD", "text": "Working", "blocks": blocks, "reply_broadcast": false}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({"channel": "C0123ABCD", "ts": "1712345680.000300"})
    );
    assert_eq!(
        json_body(&app.slack_requests().await[0]),
        json!({"channel": "C0123ABCD", "text": "Working", "reply_broadcast": false, "blocks": blocks})
    );
}

#[tokio::test]
async fn updates_a_message() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/chat.update"))
        .and(header("authorization", format!("Bearer {BOT_TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "channel": "C0123ABCD",
            "ts": "1712345680.000200",
            "text": "Done: PR #12",
            "message": {"text": "Done: PR #12", "user": "U0123BOT", "thread_ts": "1712345678.123456"}
        })))
        .expect(1)
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.put(
            "/api/v1/slack/messages/C0123ABCD/1712345680.000200",
            AGENT_TOKEN,
            &json!({"text": "Done: PR #12"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"channel": "C0123ABCD", "ts": "1712345680.000200", "thread_ts": "1712345678.123456"})
    );
    let sent = &app.slack_requests().await[0];
    assert_eq!(sent.method.as_str(), "POST");
    assert_eq!(
        json_body(sent),
        json!({"channel": "C0123ABCD", "ts": "1712345680.000200", "text": "Done: PR #12"})
    );
}

#[tokio::test]
async fn adds_a_reaction_and_treats_already_reacted_as_done() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/reactions.add"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .up_to_n_times(1)
        .mount(&app.slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/reactions.add"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "already_reacted"})),
        )
        .mount(&app.slack)
        .await;
    let request = json!({"channel": "C0123ABCD", "timestamp": "1712345678.123456", "name": "eyes"});

    let (first_status, first) = status_and_json(
        app.post("/api/v1/slack/reactions", GATEWAY_TOKEN, &request)
            .await,
    )
    .await;
    let (second_status, second) = status_and_json(
        app.post("/api/v1/slack/reactions", GATEWAY_TOKEN, &request)
            .await,
    )
    .await;

    assert_eq!(first_status, 200, "{first}");
    assert_eq!(
        first,
        json!({"channel": "C0123ABCD", "timestamp": "1712345678.123456", "name": "eyes", "already_reacted": false})
    );
    assert_eq!(second_status, 200, "{second}");
    assert_eq!(second["already_reacted"], true);
    let requests = app.slack_requests().await;
    assert_eq!(requests.len(), 2);
    for sent in &requests {
        assert_eq!(sent.url.path(), "/reactions.add");
        assert_eq!(
            crate::helpers::header(sent, "authorization"),
            format!("Bearer {BOT_TOKEN}")
        );
        assert_eq!(json_body(sent), request);
    }
}

#[tokio::test]
async fn reads_a_thread_page_by_page() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/conversations.replies"))
        .and(query_param("channel", "C0123ABCD"))
        .and(query_param("ts", "1712345678.123456"))
        .and(query_param("limit", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "messages": [
                {"type": "message", "user": "U0456USER", "text": "@agent fix the flaky test", "thread_ts": "1712345678.123456",
                 "reply_count": 3, "subscribed": true, "last_read": "1712345690.000100", "unread_count": 0, "ts": "1712345678.123456"},
                {"type": "message", "bot_id": "B0123BOT", "subtype": "bot_message", "text": "On it", "thread_ts": "1712345678.123456",
                 "parent_user_id": "U0456USER", "ts": "1712345680.000200", "edited": {"user": "U0123BOT", "ts": "1712345690.000000"}}
            ],
            "has_more": true,
            "response_metadata": {"next_cursor": "bmV4dF90czoxNzEyMzQ1Njk1"}
        })))
        .expect(1)
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.get(
            "/api/v1/slack/threads/C0123ABCD/1712345678.123456/replies?limit=2",
            AGENT_TOKEN,
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "channel": "C0123ABCD",
            "thread_ts": "1712345678.123456",
            "messages": [
                {"ts": "1712345678.123456", "thread_ts": "1712345678.123456", "user": "U0456USER",
                 "text": "@agent fix the flaky test", "reply_count": 3},
                {"ts": "1712345680.000200", "thread_ts": "1712345678.123456", "bot_id": "B0123BOT",
                 "subtype": "bot_message", "text": "On it", "edited_ts": "1712345690.000000"}
            ],
            "next_cursor": "bmV4dF90czoxNzEyMzQ1Njk1"
        })
    );
    let sent = &app.slack_requests().await[0];
    assert_eq!(sent.method.as_str(), "GET");
    assert_eq!(
        crate::helpers::header(sent, "authorization"),
        format!("Bearer {BOT_TOKEN}")
    );
    assert_eq!(
        sent.url.query(),
        Some("channel=C0123ABCD&ts=1712345678.123456&limit=2")
    );
}

#[tokio::test]
async fn opens_a_direct_message() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/conversations.open"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "no_op": true, "already_open": true, "channel": {"id": "D069C7QFK"}
        })))
        .expect(1)
        .mount(&app.slack)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/conversations/dm",
            AGENT_TOKEN,
            &json!({"users": ["U0456USER"]}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"channel": "D069C7QFK", "already_open": true}));
    let sent = &app.slack_requests().await[0];
    assert_eq!(
        crate::helpers::header(sent, "authorization"),
        format!("Bearer {BOT_TOKEN}")
    );
    assert_eq!(json_body(sent), json!({"users": "U0456USER"}));
}
