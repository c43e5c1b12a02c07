//! Health, readiness, metrics, the OpenAPI document and Swagger UI; unknown paths answer JSON.

use crate::helpers::spawn_app;

#[tokio::test]
async fn ops_endpoints_answer() {
    let app = spawn_app().await;
    let health: serde_json::Value = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["service"], "slack-service");

    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    let status = ready.status().as_u16();
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(status, 200, "{body}");

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status().as_u16(), 200);

    let docs = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status().as_u16(), 200);

    let missing = app
        .http
        .get(app.url("/api/v1/slack/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn the_openapi_document_lists_every_operation() {
    let app = spawn_app().await;
    assert_eq!(
        app.openapi_operations().await,
        [
            "get /api/v1/slack/admin/credentials",
            "get /api/v1/slack/threads/{channel}/{thread_ts}/replies",
            "get /health",
            "get /metrics",
            "get /ready",
            "post /api/v1/slack/conversations/dm",
            "post /api/v1/slack/messages",
            "post /api/v1/slack/reactions",
            "put /api/v1/slack/admin/credentials/{name}",
            "put /api/v1/slack/messages/{channel}/{ts}",
        ]
    );
    let spec = app.openapi().await;
    assert!(spec["components"]["schemas"]["PostMessageRequest"].is_object());
    assert!(spec["components"]["securitySchemes"]["caller_token"].is_object());
}

#[tokio::test]
async fn starts_without_redis_or_its_database_and_says_so_on_ready() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.provider.common.redis_url = format!("redis://127.0.0.1:{closed_port}");
        settings.provider.database_url =
            format!("postgres://postgres@127.0.0.1:{closed_port}/none");
    })
    .await;

    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["code"], "not_ready");
    assert!(
        body["details"]["redis"]
            .as_str()
            .unwrap()
            .starts_with("unavailable"),
        "{body}"
    );
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    let response = app
        .post(
            "/api/v1/slack/messages",
            crate::helpers::AGENT_TOKEN,
            &serde_json::json!({"channel": "C0123ABCD", "text": "hi"}),
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        503,
        "no credential can be read without the database"
    );
    assert!(app.slack_requests().await.is_empty());
}

/// The API contract as served; a change to it must be deliberate (`UPDATE_SNAPSHOTS=1` rewrites the snapshot).
#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let app = crate::helpers::spawn_app().await;
    app.assert_openapi_matches_snapshot(env!("CARGO_MANIFEST_DIR"))
        .await;
}
