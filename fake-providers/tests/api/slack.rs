use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn messages_are_posted_in_threads_updated_and_read_back() {
    let app = spawn_app().await;
    let thread_ts = "1763780000.000100";

    let posted = app
        .slack(
            "chat.postMessage",
            json!({"channel": "C0LOCAL", "text": "working on it", "thread_ts": thread_ts}),
        )
        .await;
    assert_eq!(posted["ok"], true, "{posted}");
    assert_eq!(posted["channel"], "C0LOCAL");
    assert_eq!(posted["message"]["thread_ts"], thread_ts);
    assert_eq!(posted["message"]["user"], "U0AGENT");
    assert_eq!(posted["message"]["bot_id"], "B0AGENT");
    let ts = posted["ts"].as_str().unwrap().to_owned();

    let form = app
        .client
        .post(app.url("/slack/api/chat.postMessage"))
        .bearer_auth("xoxb-test")
        .form(&[
            ("channel", "C0LOCAL"),
            ("text", "from a form"),
            ("thread_ts", thread_ts),
        ])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(form["ok"], true);
    assert!(
        form["ts"].as_str().unwrap() > ts.as_str(),
        "timestamps increase"
    );

    let updated = app
        .slack(
            "chat.update",
            json!({"channel": "C0LOCAL", "ts": ts, "text": "done"}),
        )
        .await;
    assert_eq!(updated["ok"], true);
    assert_eq!(updated["text"], "done");
    assert!(updated["message"]["edited"]["ts"].is_string());

    let replies = app
        .client
        .get(app.url("/slack/api/conversations.replies"))
        .bearer_auth("xoxb-test")
        .query(&[("channel", "C0LOCAL"), ("ts", thread_ts), ("limit", "2")])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(replies["ok"], true);
    let messages = replies["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["ts"], thread_ts, "the parent comes first");
    assert_eq!(messages[0]["reply_count"], 2);
    assert_eq!(messages[1]["text"], "done");
    assert_eq!(replies["has_more"], true);
    let cursor = replies["response_metadata"]["next_cursor"]
        .as_str()
        .unwrap();
    let rest = app
        .slack(
            "conversations.replies",
            json!({"channel": "C0LOCAL", "ts": thread_ts, "cursor": cursor}),
        )
        .await;
    assert_eq!(rest["messages"][0]["text"], "from a form");
    assert_eq!(rest["response_metadata"]["next_cursor"], "");
}

#[tokio::test]
async fn reactions_conversations_and_identity() {
    let app = spawn_app().await;

    let reaction = json!({"channel": "C0LOCAL", "timestamp": "1763780000.000200", "name": "eyes"});
    assert_eq!(
        app.slack("reactions.add", reaction.clone()).await["ok"],
        true
    );
    let again = app.slack("reactions.add", reaction).await;
    assert_eq!(again["ok"], false);
    assert_eq!(again["error"], "already_reacted");

    let opened = app
        .slack("conversations.open", json!({"users": "U0PERSON"}))
        .await;
    assert_eq!(opened["ok"], true);
    let channel = opened["channel"]["id"].as_str().unwrap().to_owned();
    assert!(channel.starts_with('D'));
    assert_eq!(opened["already_open"], false);
    let reopened = app
        .slack("conversations.open", json!({"users": "U0PERSON"}))
        .await;
    assert_eq!(reopened["channel"]["id"], channel.as_str());
    assert_eq!(reopened["already_open"], true);

    let identity = app.slack("auth.test", json!({})).await;
    assert_eq!(identity["user_id"], "U0AGENT");
    assert_eq!(identity["team_id"], "T0LOCAL");
}

#[tokio::test]
async fn bad_calls_answer_ok_false_with_slacks_codes() {
    let app = spawn_app().await;

    for (method, body, code) in [
        (
            "chat.postMessage",
            json!({"text": "no channel"}),
            "channel_not_found",
        ),
        (
            "chat.postMessage",
            json!({"channel": "not a channel", "text": "x"}),
            "channel_not_found",
        ),
        ("chat.postMessage", json!({"channel": "C0LOCAL"}), "no_text"),
        (
            "chat.postMessage",
            json!({"channel": "C0LOCAL", "text": "x".repeat(40_001)}),
            "msg_too_long",
        ),
        (
            "chat.update",
            json!({"channel": "C0LOCAL", "ts": "1.000001", "text": "x"}),
            "message_not_found",
        ),
        (
            "reactions.add",
            json!({"channel": "C0LOCAL", "timestamp": "1.1", "name": ""}),
            "invalid_name",
        ),
        ("conversations.open", json!({}), "users_list_not_supplied"),
        (
            "chat.delete",
            json!({"channel": "C0LOCAL"}),
            "unknown_method",
        ),
    ] {
        let answer = app.slack(method, body).await;
        assert_eq!(answer["ok"], false, "{method}");
        assert_eq!(answer["error"], code, "{method}");
    }

    let anonymous = app
        .client
        .post(app.url("/slack/api/chat.postMessage"))
        .json(&json!({"channel": "C0LOCAL", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 200);
    assert_eq!(
        anonymous.json::<serde_json::Value>().await.unwrap()["error"],
        "not_authed"
    );
}
