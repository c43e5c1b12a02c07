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
    let spec: serde_json::Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut listed: Vec<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{m} {path}"))
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "get /api/v1/sentry/admin/credentials",
            "get /api/v1/sentry/issues/{issue_id}",
            "get /api/v1/sentry/issues/{issue_id}/events/latest",
            "get /health",
            "get /metrics",
            "get /ready",
            "post /api/v1/sentry/issues/{issue_id}/comments",
            "put /api/v1/sentry/admin/credentials/{name}",
            "put /api/v1/sentry/issues/{issue_id}/assignee",
            "put /api/v1/sentry/issues/{issue_id}/comments/{comment_id}",
            "put /api/v1/sentry/issues/{issue_id}/status",
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
    let app = crate::helpers::spawn_app_with(|settings| {
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
        .get(
            "/api/v1/sentry/issues/1234567890",
            crate::helpers::AGENT_TOKEN,
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        503,
        "no credential can be read without the database"
    );
    assert!(app.sentry_requests().await.is_empty());
}

/// The API contract as served; a change to it must be deliberate (`UPDATE_SNAPSHOTS=1` rewrites the snapshot).
#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let app = crate::helpers::spawn_app().await;
    let spec: serde_json::Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let snapshot_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/openapi.snapshot.json");
    let served = serde_json::to_string_pretty(&spec).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot_path, &served).unwrap();
    }
    let snapshot = std::fs::read_to_string(&snapshot_path)
        .expect("the snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        snapshot == served,
        "the OpenAPI document changed; if that is deliberate, rerun with UPDATE_SNAPSHOTS=1 and commit the snapshot"
    );
}
