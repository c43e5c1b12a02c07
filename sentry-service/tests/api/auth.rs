//! Callers without a valid token are refused (401); callers outside their role too (403). Sentry is never called.

use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, DASHBOARD_TOKEN, GATEWAY_TOKEN, spawn_app, status_and_json};

#[tokio::test]
async fn no_or_unknown_token_is_a_401() {
    let app = spawn_app().await;
    let anonymous = app
        .http
        .get(app.url("/api/v1/sentry/issues/1234567890"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    for token in ["not-a-known-token-at-all", ADMIN_TOKEN] {
        let (status, body) =
            status_and_json(app.get("/api/v1/sentry/issues/1234567890", token).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthenticated")),
            "{body}"
        );
    }
    assert!(app.sentry_requests().await.is_empty());
}

#[tokio::test]
async fn operations_outside_the_callers_role_are_a_403() {
    let app = spawn_app().await;
    let refused = [
        app.get("/api/v1/sentry/issues/1234567890", GATEWAY_TOKEN)
            .await,
        app.get(
            "/api/v1/sentry/issues/1234567890/events/latest",
            GATEWAY_TOKEN,
        )
        .await,
        app.put(
            "/api/v1/sentry/issues/1234567890/status",
            GATEWAY_TOKEN,
            &json!({"status": "resolved"}),
        )
        .await,
        app.put(
            "/api/v1/sentry/issues/1234567890/assignee",
            GATEWAY_TOKEN,
            &json!({"assignee": null}),
        )
        .await,
        app.put(
            "/api/v1/sentry/issues/1234567890/status",
            DASHBOARD_TOKEN,
            &json!({"status": "resolved"}),
        )
        .await,
        app.put(
            "/api/v1/sentry/issues/1234567890/assignee",
            DASHBOARD_TOKEN,
            &json!({"assignee": null}),
        )
        .await,
        app.post(
            "/api/v1/sentry/issues/1234567890/comments",
            DASHBOARD_TOKEN,
            &json!({"text": "hi"}),
        )
        .await,
        app.put(
            "/api/v1/sentry/issues/1234567890/comments/4567",
            DASHBOARD_TOKEN,
            &json!({"text": "hi"}),
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
    assert!(app.sentry_requests().await.is_empty());
}
