use reqwest::Method;
use serde_json::json;

use crate::helpers::{json, spawn_app};

#[tokio::test]
async fn seeded_github_issue_and_comment_are_read_back_and_not_recorded() {
    let app = spawn_app().await;
    let seeded = app
        .client
        .put(app.url("/_fake/github/repos/demo/sample-repo/issues/7"))
        .json(&json!({"title": "Explain src/main.rs", "body": "What does it do?", "user": "mona"}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 204);
    let comment = app
        .client
        .post(app.url("/_fake/github/repos/demo/sample-repo/issues/7/comments"))
        .json(&json!({"id": 2_000_042, "body": "@agent explain src/main.rs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(comment.status(), 201);
    assert_eq!(json(comment).await["id"], 2_000_042);

    let issue = json(
        app.github(Method::GET, "/repos/demo/sample-repo/issues/7")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(issue["title"], "Explain src/main.rs");
    assert_eq!(issue["user"]["login"], "mona");
    let comments = json(
        app.github(Method::GET, "/repos/demo/sample-repo/issues/7/comments")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(comments[0]["id"], 2_000_042);
    assert_eq!(comments[0]["user"]["login"], "octocat");
    assert_eq!(comments[0]["author_association"], "OWNER");

    let duplicate = app
        .client
        .post(app.url("/_fake/github/repos/demo/sample-repo/issues/7/comments"))
        .json(&json!({"id": 2_000_042, "body": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 409);
    let unknown = app
        .client
        .put(app.url("/_fake/github/repos/demo/elsewhere/issues/1"))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let unknown_field = app
        .client
        .put(app.url("/_fake/github/repos/demo/sample-repo/issues/1"))
        .json(&json!({"title": "x", "labels": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), 400);

    let recorded = app.recorded(&[]).await;
    assert!(
        recorded
            .iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("/_fake"))
    );
}

#[tokio::test]
async fn seeded_slack_message_and_jira_comment_appear_in_their_threads() {
    let app = spawn_app().await;
    let message = app
        .client
        .post(app.url("/_fake/slack/messages"))
        .json(&json!({"channel": "C0LOCAL", "ts": "1763780000.000300", "text": "<@U0AGENT> explain the repo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(message.status(), 201);
    app.slack(
        "chat.postMessage",
        json!({"channel": "C0LOCAL", "thread_ts": "1763780000.000300", "text": "on it"}),
    )
    .await;
    let replies = app
        .slack(
            "conversations.replies",
            json!({"channel": "C0LOCAL", "ts": "1763780000.000300"}),
        )
        .await;
    assert_eq!(
        replies["messages"][0]["text"],
        "<@U0AGENT> explain the repo"
    );
    assert_eq!(replies["messages"][0]["user"], "U0PERSON");
    assert_eq!(replies["messages"][1]["text"], "on it");

    let bad_channel = app
        .client
        .post(app.url("/_fake/slack/messages"))
        .json(&json!({"channel": "nowhere", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_channel.status(), 422);

    let comment = app
        .client
        .post(app.url("/_fake/jira/issues/DEMO-1/comments"))
        .json(&json!({"body": "@agent explain the sample service"}))
        .send()
        .await
        .unwrap();
    assert_eq!(comment.status(), 201);
    let issue = json(
        app.jira(Method::GET, "/rest/api/2/issue/DEMO-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let first = &issue["fields"]["comment"]["comments"][0];
    assert_eq!(first["body"], "@agent explain the sample service");
    assert_eq!(first["author"]["displayName"], "Local Person");
    let other = app
        .client
        .post(app.url("/_fake/jira/issues/OTHER-1/comments"))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}
