//! Callers without a valid token are refused (401); callers outside their role too (403). Jira is never called.

use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, DASHBOARD_TOKEN, GATEWAY_TOKEN, spawn_app, status_and_json};

#[tokio::test]
async fn no_or_unknown_token_is_a_401() {
    let app = spawn_app().await;
    let anonymous = app
        .http
        .get(app.url("/api/v1/jira/issues/PROJ-42"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    for token in ["not-a-known-token-at-all", ADMIN_TOKEN] {
        let (status, body) =
            status_and_json(app.get("/api/v1/jira/issues/PROJ-42", token).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthenticated")),
            "{body}"
        );
    }
    assert!(app.jira_requests().await.is_empty());
}

#[tokio::test]
async fn operations_outside_the_callers_role_are_a_403() {
    let app = spawn_app().await;
    let refused = [
        app.get("/api/v1/jira/issues/PROJ-42", GATEWAY_TOKEN).await,
        app.get("/api/v1/jira/issues/PROJ-42/transitions", GATEWAY_TOKEN)
            .await,
        app.post(
            "/api/v1/jira/issues/PROJ-42/transitions",
            GATEWAY_TOKEN,
            &json!({"transition_id": "31"}),
        )
        .await,
        app.post(
            "/api/v1/jira/issues/PROJ-42/comments",
            DASHBOARD_TOKEN,
            &json!({"body": "hi"}),
        )
        .await,
        app.put(
            "/api/v1/jira/issues/PROJ-42/comments/10010",
            DASHBOARD_TOKEN,
            &json!({"body": "hi"}),
        )
        .await,
        app.post(
            "/api/v1/jira/issues/PROJ-42/transitions",
            DASHBOARD_TOKEN,
            &json!({"transition_id": "31"}),
        )
        .await,
    ];
    for response in refused {
        let (status, body) = status_and_json(response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{body}"
        );
    }
    assert!(app.jira_requests().await.is_empty());
}

#[tokio::test]
async fn admin_endpoints_take_only_the_admin_token() {
    let app = spawn_app().await;
    let (status, _) = status_and_json(
        app.get("/api/v1/jira/admin/credentials", GATEWAY_TOKEN)
            .await,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) =
        status_and_json(app.get("/api/v1/jira/admin/credentials", ADMIN_TOKEN).await).await;
    assert_eq!(status, 200);
}
