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
            "put /api/v1/sentry/issues/{issue_id}/status",
        ]
    );
}
