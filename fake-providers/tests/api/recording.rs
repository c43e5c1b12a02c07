use reqwest::Method;
use serde_json::json;

use crate::helpers::{json, spawn_app};

#[tokio::test]
async fn every_provider_request_is_recorded_and_filterable() {
    let app = spawn_app().await;
    app.github(Method::POST, "/repos/demo/sample-repo/issues/1/comments")
        .json(&json!({"body": "hello"}))
        .send()
        .await
        .unwrap();
    app.slack(
        "chat.postMessage",
        json!({"channel": "C0LOCAL", "text": "hi"}),
    )
    .await;
    app.client
        .post(app.url("/slack/api/reactions.add"))
        .bearer_auth("xoxb-test")
        .form(&[
            ("channel", "C0LOCAL"),
            ("timestamp", "1.000001"),
            ("name", "eyes"),
        ])
        .send()
        .await
        .unwrap();
    app.jira(Method::GET, "/rest/api/3/issue/DEMO-1")
        .query(&[("fields", "summary")])
        .send()
        .await
        .unwrap();
    app.sentry(Method::GET, "/api/0/issues/42/")
        .send()
        .await
        .unwrap();
    app.client.get(app.url("/health")).send().await.unwrap();

    let all = app.recorded(&[]).await;
    let providers: Vec<&str> = all
        .iter()
        .map(|r| r["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        providers,
        ["github", "slack", "slack", "jira", "sentry"],
        "ops routes are not recorded"
    );
    let ids: Vec<u64> = all.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);

    let comment = &all[0];
    assert_eq!(comment["method"], "POST");
    assert_eq!(
        comment["path"],
        "/github/api/repos/demo/sample-repo/issues/1/comments"
    );
    assert_eq!(comment["headers"]["authorization"], "Bearer ghs_test_token");
    assert_eq!(comment["body"], json!({"body": "hello"}));
    assert_eq!(comment["status"], 201);
    assert!(comment["received_at"].is_string());

    let form = &all[2];
    assert_eq!(
        form["body"],
        json!({"channel": "C0LOCAL", "timestamp": "1.000001", "name": "eyes"})
    );
    assert_eq!(all[3]["query"], "fields=summary");

    assert_eq!(app.recorded(&[("provider", "slack")]).await.len(), 2);
    assert_eq!(
        app.recorded(&[("provider", "slack"), ("path_contains", "reactions")])
            .await
            .len(),
        1
    );
    assert_eq!(app.recorded(&[("method", "get")]).await.len(), 2);
    assert_eq!(app.recorded(&[("after", "3")]).await.len(), 2);

    let page = app
        .client
        .get(app.url("/_fake/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/github/api/repos/demo/sample-repo/issues/1/comments"));
    assert!(page.contains("chat.postMessage"));

    let cleared = app
        .client
        .delete(app.url("/_fake/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert!(app.recorded(&[]).await.is_empty());
    app.sentry(Method::GET, "/api/0/issues/42/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.recorded(&[]).await[0]["id"],
        6,
        "ids keep increasing after a clear"
    );
}

#[tokio::test]
async fn unknown_paths_are_answered_in_the_providers_shape_and_recorded() {
    let app = spawn_app().await;
    let github = app
        .github(Method::GET, "/repos/demo/sample-repo/unknown/thing")
        .send()
        .await
        .unwrap();
    assert_eq!(github.status(), 404);
    assert_eq!(json(github).await["message"], "Not Found");
    let jira = app
        .jira(Method::GET, "/rest/api/3/unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(jira.status(), 404);
    assert!(json(jira).await["errorMessages"].is_array());
    let recorded = app.recorded(&[("path_contains", "unknown")]).await;
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0]["status"], 404);

    let not_a_number = app
        .github(Method::GET, "/repos/demo/sample-repo/issues/abc")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_number.status(), 404);
    assert_eq!(json(not_a_number).await["message"], "Not Found");

    let bad_filter = app
        .client
        .get(app.url("/_fake/requests?after=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_filter.status(), 400);
    assert_eq!(json(bad_filter).await["code"], "invalid_filter");
}

#[tokio::test]
async fn injected_faults_answer_first_then_wear_off() {
    let app = spawn_app().await;
    let added = app
        .client
        .post(app.url("/_fake/faults"))
        .json(&json!({"path_contains": "/slack/api/chat.postMessage", "status": 429, "count": 2, "retry_after": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let github_fault = json!({
        "path_contains": "/issues/1/comments", "method": "POST", "status": 403,
        "body": {"message": "You have exceeded a secondary rate limit."},
        "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1767225600"},
    });
    app.client
        .post(app.url("/_fake/faults"))
        .json(&github_fault)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(
            app.client
                .get(app.url("/_fake/faults"))
                .send()
                .await
                .unwrap()
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        2
    );

    let post = || {
        app.client
            .post(app.url("/slack/api/chat.postMessage"))
            .bearer_auth("xoxb-test")
            .json(&json!({"channel": "C0LOCAL", "text": "retry me"}))
            .send()
    };
    for _ in 0..2 {
        let limited = post().await.unwrap();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "1");
    }
    let through = post().await.unwrap();
    assert_eq!(through.status(), 200);
    assert_eq!(
        through.json::<serde_json::Value>().await.unwrap()["ok"],
        true
    );

    let listing = app
        .github(Method::GET, "/repos/demo/sample-repo/issues/1/comments")
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200, "the fault is only for POST");
    let failed = app
        .github(Method::POST, "/repos/demo/sample-repo/issues/1/comments")
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 403);
    assert_eq!(failed.headers()["x-ratelimit-reset"], "1767225600");
    assert_eq!(
        json(failed).await["message"],
        "You have exceeded a secondary rate limit."
    );

    let statuses: Vec<u64> = app
        .recorded(&[("path_contains", "chat.postMessage")])
        .await
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
    assert!(
        json(
            app.client
                .get(app.url("/_fake/faults"))
                .send()
                .await
                .unwrap()
        )
        .await
        .as_array()
        .unwrap()
        .is_empty()
    );

    let invalid = app
        .client
        .post(app.url("/_fake/faults"))
        .json(&json!({"path_contains": "", "status": 502}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let malformed = app
        .client
        .post(app.url("/_fake/faults"))
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(json(malformed).await["code"], "invalid_fault");
}
