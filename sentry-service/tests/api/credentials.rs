//! The auth token: stored encrypted, rotated without a restart, never shown.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    ADMIN_TOKEN, AGENT_TOKEN, AUTH_TOKEN, header, sentry_issue, spawn_app, status_and_json,
};

const NEW_TOKEN: &str = "sntrys-rotated-auth-token-2";

#[tokio::test]
async fn a_rotation_while_serving_takes_effect_on_the_next_call() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/1234567890/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sentry_issue("unresolved", json!(null))),
        )
        .mount(&app.sentry)
        .await;

    let traffic = {
        let address = app.address.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut statuses = Vec::new();
            for _ in 0..40 {
                let response = http
                    .get(format!("{address}/api/v1/sentry/issues/1234567890"))
                    .bearer_auth(AGENT_TOKEN)
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            statuses
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    let (status, metadata) = status_and_json(
        app.put(
            "/api/v1/sentry/admin/credentials/sentry_auth_token",
            ADMIN_TOKEN,
            &json!({"value": NEW_TOKEN}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{metadata}");
    assert_eq!(metadata["source"], "rotation");
    assert!(!metadata.to_string().contains(NEW_TOKEN));
    let statuses = traffic.await.unwrap();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let seen: Vec<String> = app
        .sentry_requests()
        .await
        .iter()
        .map(|r| header(r, "authorization"))
        .collect();
    let switched = seen
        .iter()
        .position(|h| *h == format!("Bearer {NEW_TOKEN}"))
        .expect("the new token was used");
    assert!(switched > 0);
    assert!(
        seen[..switched]
            .iter()
            .all(|h| *h == format!("Bearer {AUTH_TOKEN}"))
    );
    assert!(
        seen[switched..]
            .iter()
            .all(|h| *h == format!("Bearer {NEW_TOKEN}"))
    );

    let (_, list) = status_and_json(
        app.get("/api/v1/sentry/admin/credentials", ADMIN_TOKEN)
            .await,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(NEW_TOKEN) && !list.to_string().contains(AUTH_TOKEN));
    let database = std::fs::read(&app.database_path).unwrap();
    for secret in [AUTH_TOKEN, NEW_TOKEN] {
        assert!(
            !database
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} stored in plaintext"
        );
    }
}
