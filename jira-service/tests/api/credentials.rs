//! The API token / PAT: stored encrypted, rotated without a restart, never shown.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    ADMIN_TOKEN, AGENT_TOKEN, API_TOKEN, PAT, cloud_authorization, cloud_comment, header,
    spawn_app, spawn_server_app, status_and_json,
};

const NEW_TOKEN: &str = "jira-cloud-api-token-2";

#[tokio::test]
async fn a_rotation_while_serving_takes_effect_on_the_next_call() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/comment"))
        .respond_with(ResponseTemplate::new(201).set_body_json(cloud_comment("10010", "hi")))
        .mount(&app.jira)
        .await;

    let traffic = {
        let address = app.address.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut statuses = Vec::new();
            for _ in 0..40 {
                let response = http
                    .post(format!("{address}/api/v1/jira/issues/PROJ-42/comments"))
                    .bearer_auth(AGENT_TOKEN)
                    .json(&json!({"body": "hi"}))
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_millis(60)).await;
    let (status, metadata) = status_and_json(
        app.put(
            "/api/v1/jira/admin/credentials/jira_api_token",
            ADMIN_TOKEN,
            &json!({"value": NEW_TOKEN}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{metadata}");
    assert!(!metadata.to_string().contains(NEW_TOKEN));
    let statuses = traffic.await.unwrap();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");

    let seen: Vec<String> = app
        .jira_requests()
        .await
        .iter()
        .map(|r| header(r, "authorization"))
        .collect();
    let switched = seen
        .iter()
        .position(|h| *h == cloud_authorization(NEW_TOKEN))
        .expect("the new token was used");
    assert!(switched > 0);
    assert!(
        seen[..switched]
            .iter()
            .all(|h| *h == cloud_authorization(API_TOKEN))
    );
    assert!(
        seen[switched..]
            .iter()
            .all(|h| *h == cloud_authorization(NEW_TOKEN))
    );

    let database = std::fs::read(&app.database_path).unwrap();
    for secret in [API_TOKEN, NEW_TOKEN] {
        assert!(
            !database
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} stored in plaintext"
        );
    }
}

#[tokio::test]
async fn a_server_deployment_holds_and_rotates_its_pat() {
    let app = spawn_server_app().await;
    let (status, list) =
        status_and_json(app.get("/api/v1/jira/admin/credentials", ADMIN_TOKEN).await).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["name"], "jira_pat");
    assert!(!list.to_string().contains(PAT));
    let (status, _) = status_and_json(
        app.put(
            "/api/v1/jira/admin/credentials/jira_api_token",
            ADMIN_TOKEN,
            &json!({"value": NEW_TOKEN}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "a Server deployment holds no API token");
    let (status, _) = status_and_json(
        app.put(
            "/api/v1/jira/admin/credentials/jira_pat",
            ADMIN_TOKEN,
            &json!({"value": "has space"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
}
