//! Health, readiness, metrics, the OpenAPI document and Swagger UI.

use crate::helpers::spawn_app;

#[tokio::test]
async fn ops_endpoints_answer() {
    let app = spawn_app().await;
    for path in ["/health", "/ready", "/metrics", "/docs/"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_operation() {
    let app = spawn_app().await;
    assert_eq!(
        app.openapi_operations().await,
        [
            "get /api/v1/jira/admin/credentials",
            "get /api/v1/jira/issues/{issue_key}",
            "get /api/v1/jira/issues/{issue_key}/transitions",
            "get /health",
            "get /metrics",
            "get /ready",
            "post /api/v1/jira/issues/{issue_key}/comments",
            "post /api/v1/jira/issues/{issue_key}/transitions",
            "put /api/v1/jira/admin/credentials/{name}",
            "put /api/v1/jira/issues/{issue_key}/comments/{comment_id}",
        ]
    );
}

#[tokio::test]
async fn starts_without_redis_or_its_database_and_says_so_on_ready() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = crate::helpers::spawn_app_with(false, |settings| {
        settings.provider.common.redis_url = format!("redis://127.0.0.1:{closed_port}");
        settings.provider.database_url =
            format!("postgres://postgres@127.0.0.1:{closed_port}/none");
    })
    .await;

    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
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
        .get("/api/v1/jira/issues/PROJ-42", crate::helpers::AGENT_TOKEN)
        .await;
    assert_eq!(
        response.status().as_u16(),
        503,
        "no credential can be read without the database"
    );
    assert!(app.jira_requests().await.is_empty());
}

/// The API contract as served; a change to it must be deliberate (`UPDATE_SNAPSHOTS=1` rewrites the snapshot).
#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let app = crate::helpers::spawn_app().await;
    app.assert_openapi_matches_snapshot(env!("CARGO_MANIFEST_DIR"))
        .await;
}
