//! Callers without a valid token are refused (401); callers outside their role too (403). Slack is never called.

use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, DASHBOARD_TOKEN, GATEWAY_TOKEN, spawn_app, status_and_json};

#[tokio::test]
async fn no_or_unknown_token_is_a_401() {
    let app = spawn_app().await;
    let anonymous = app
        .http
        .post(app.url("/api/v1/slack/messages"))
        .json(&json!({"channel": "C0123ABCD", "text": "hi"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(anonymous).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated")),
        "{body}"
    );

    for token in ["not-a-known-token-at-all", ADMIN_TOKEN] {
        let (status, body) = status_and_json(
            app.post(
                "/api/v1/slack/messages",
                token,
                &json!({"channel": "C0123ABCD", "text": "hi"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthenticated")),
            "{token}: {body}"
        );
    }
    let basic = app
        .http
        .get(app.url("/api/v1/slack/threads/C0123ABCD/1712345678.123456/replies"))
        .basic_auth("agent", Some("agent-token-0123456789"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401);
    assert!(app.slack_requests().await.is_empty());
}

#[tokio::test]
async fn operations_outside_the_callers_role_are_a_403() {
    let app = spawn_app().await;
    let refused = [
        app.post(
            "/api/v1/slack/messages",
            DASHBOARD_TOKEN,
            &json!({"channel": "C0123ABCD", "text": "hi"}),
        )
        .await,
        app.put(
            "/api/v1/slack/messages/C0123ABCD/1712345678.123456",
            DASHBOARD_TOKEN,
            &json!({"text": "hi"}),
        )
        .await,
        app.post(
            "/api/v1/slack/reactions",
            DASHBOARD_TOKEN,
            &json!({"channel": "C0123ABCD", "timestamp": "1712345678.123456", "name": "eyes"}),
        )
        .await,
        app.post(
            "/api/v1/slack/conversations/dm",
            DASHBOARD_TOKEN,
            &json!({"users": ["U1"]}),
        )
        .await,
        app.get(
            "/api/v1/slack/threads/C0123ABCD/1712345678.123456/replies",
            GATEWAY_TOKEN,
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
    assert!(app.slack_requests().await.is_empty());
}

#[tokio::test]
async fn admin_endpoints_take_only_the_admin_token() {
    let app = spawn_app().await;
    for token in [GATEWAY_TOKEN, DASHBOARD_TOKEN, "wrong-admin-token-123456"] {
        let (status, _) =
            status_and_json(app.get("/api/v1/slack/admin/credentials", token).await).await;
        assert_eq!(status, 401, "{token}");
    }
    let (status, _) = status_and_json(
        app.get("/api/v1/slack/admin/credentials", ADMIN_TOKEN)
            .await,
    )
    .await;
    assert_eq!(status, 200);
}
