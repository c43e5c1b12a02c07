//! /health, /ready, /metrics, /docs, /openapi.json; starting while the database is down.

use crate::helpers::*;

#[tokio::test]
async fn serves_the_ops_endpoints_and_its_openapi() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let (status, ready) =
        status_and_json(app.http.get(app.url("/ready")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["checks"]["database"], "ok");
    assert_eq!(ready["checks"]["redis"], "ok");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let docs = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let (status, spec) =
        status_and_json(app.http.get(app.url("/openapi.json")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let paths = spec["paths"].as_object().unwrap();
    for expected in [
        "/api/v1/github/repos/{owner}/{repo}/issues/{number}",
        "/api/v1/github/repos/{owner}/{repo}/issues/{number}/comments",
        "/api/v1/github/repos/{owner}/{repo}/issues/comments/{comment_id}",
        "/api/v1/github/repos/{owner}/{repo}/issues/{number}/reactions",
        "/api/v1/github/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        "/api/v1/github/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
        "/api/v1/github/repos/{owner}/{repo}/pulls/{number}",
        "/api/v1/github/repos/{owner}/{repo}/pulls/{number}/diff",
        "/api/v1/github/repos/{owner}/{repo}/pulls/{number}/files",
        "/api/v1/github/repos/{owner}/{repo}/pulls",
        "/api/v1/github/repos/{owner}/{repo}/branches",
        "/api/v1/github/repos/{owner}/{repo}/collaborators/{username}/permission",
        "/api/v1/github/admin/credentials",
        "/api/v1/github/admin/credentials/{name}",
        "/health",
        "/ready",
    ] {
        assert!(
            paths.contains_key(expected),
            "{expected} missing from the spec"
        );
    }
    let (status, body) =
        status_and_json(app.http.get(app.url("/nope")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_path_asked_with_another_method_gets_a_json_405() {
    let app = spawn_app().await;
    let comments = app.url("/api/v1/github/repos/octo/repo/issues/1/comments");
    for token in [AGENT_TOKEN, "not-a-caller-token"] {
        let response = app
            .http
            .put(&comments)
            .bearer_auth(token)
            .json(&serde_json::json!({"body": "hi"}))
            .send()
            .await
            .unwrap();
        assert_method_not_allowed(response, "POST").await;
    }
    let health = app.http.delete(app.url("/health")).send().await.unwrap();
    assert_method_not_allowed(health, "GET").await;
}

#[tokio::test]
async fn starts_while_its_database_is_down_and_says_so() {
    let app = spawn_app_with(|settings| {
        settings.provider.database_url =
            "postgres://postgres@127.0.0.1:1/github_service".to_owned();
    })
    .await;
    let (status, ready) =
        status_and_json(app.http.get(app.url("/ready")).send().await.unwrap()).await;
    assert_eq!(status, 503, "{ready}");
    assert!(
        ready["details"]["database"]
            .as_str()
            .unwrap()
            .starts_with("unavailable"),
        "{ready}"
    );
    let (status, body) =
        status_and_json(app.get(&format!("{API_REPO}/pulls/1"), AGENT_TOKEN).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("credential_store_unavailable")),
        "{body}"
    );
}
