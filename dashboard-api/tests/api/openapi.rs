use std::collections::BTreeSet;

use crate::helpers::spawn_app;

/// Catches accidental changes to the API's surface: every path and method, and the bearer scheme.
#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let app = spawn_app().await;
    let spec = app.get_json("/openapi.json").await;
    let operations: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{method} {path}"))
        })
        .collect();
    let expected: BTreeSet<String> = [
        "get /api/v1/tasks",
        "get /api/v1/tasks/{task_id}",
        "get /api/v1/tasks/{task_id}/logs",
        "get /api/v1/tasks/{task_id}/logs/{stream}",
        "get /api/v1/tasks/{task_id}/stream",
        "get /api/v1/analytics",
        "get /api/v1/dead-letters",
        "post /api/v1/dead-letters/{task_id}/requeue",
        "get /health",
        "get /ready",
        "get /metrics",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(operations, expected);
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "TaskPage",
        "TaskSummary",
        "CombinedLog",
        "StreamPage",
        "Analytics",
        "DeadLetterPage",
        "RequeueResponse",
        "ErrorBody",
    ] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), 200);
}
