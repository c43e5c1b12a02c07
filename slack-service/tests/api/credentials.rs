//! The bot token: stored encrypted, rotated without a restart, never shown.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    ADMIN_TOKEN, AGENT_TOKEN, BOT_TOKEN, posted_message, spawn_app, spawn_app_with, status_and_json,
};

const NEW_TOKEN: &str = "xoxb-rotated-bot-token-2";

fn mount_post(app: &crate::helpers::TestApp) -> Mock {
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(posted_message(
            "C0123ABCD",
            "1712345680.000200",
            None,
            "hi",
        )))
        .named(format!("chat.postMessage at {}", app.slack.uri()))
}

async fn post(app: &crate::helpers::TestApp) -> u16 {
    app.post(
        "/api/v1/slack/messages",
        AGENT_TOKEN,
        &json!({"channel": "C0123ABCD", "text": "hi"}),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn a_rotation_while_serving_takes_effect_on_the_next_call() {
    let app = spawn_app().await;
    mount_post(&app).mount(&app.slack).await;

    let traffic = {
        let address = app.address.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut statuses = Vec::new();
            for _ in 0..40 {
                let response = http
                    .post(format!("{address}/api/v1/slack/messages"))
                    .bearer_auth(AGENT_TOKEN)
                    .json(&json!({"channel": "C0123ABCD", "text": "hi"}))
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
            "/api/v1/slack/admin/credentials/slack_bot_token",
            ADMIN_TOKEN,
            &json!({"value": NEW_TOKEN}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{metadata}");
    let statuses = traffic.await.unwrap();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(post(&app).await, 201);

    let seen: Vec<String> = app
        .slack_requests()
        .await
        .iter()
        .map(|r| crate::helpers::header(r, "authorization"))
        .collect();
    let switched = seen
        .iter()
        .position(|h| *h == format!("Bearer {NEW_TOKEN}"))
        .expect("the new token was used");
    assert!(switched > 0, "some calls ran before the rotation");
    assert!(
        seen[..switched]
            .iter()
            .all(|h| *h == format!("Bearer {BOT_TOKEN}"))
    );
    assert!(
        seen[switched..]
            .iter()
            .all(|h| *h == format!("Bearer {NEW_TOKEN}")),
        "no call went back to the old token"
    );
}

#[tokio::test]
async fn only_metadata_is_ever_answered_and_the_row_holds_no_plaintext() {
    let app = spawn_app().await;
    let (status, list) = status_and_json(
        app.get("/api/v1/slack/admin/credentials", ADMIN_TOKEN)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["name"], "slack_bot_token");
    assert_eq!(list[0]["source"], "environment");
    assert!(
        list[0]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(!list.to_string().contains(BOT_TOKEN));

    let (status, rotated) = status_and_json(
        app.put(
            "/api/v1/slack/admin/credentials/slack_bot_token",
            ADMIN_TOKEN,
            &json!({"value": NEW_TOKEN}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(rotated["source"], "rotation");
    assert_ne!(rotated["fingerprint"], list[0]["fingerprint"]);
    assert!(!rotated.to_string().contains(NEW_TOKEN));

    let database = std::fs::read(&app.database_path).unwrap();
    for secret in [BOT_TOKEN, NEW_TOKEN] {
        assert!(
            !database
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} is stored in plaintext"
        );
    }
}

#[tokio::test]
async fn a_rotation_refuses_unknown_names_and_unusable_values() {
    let app = spawn_app().await;
    let (status, _) = status_and_json(
        app.put(
            "/api/v1/slack/admin/credentials/github_token",
            ADMIN_TOKEN,
            &json!({"value": NEW_TOKEN}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    for value in ["", "xoxb-with\nnewline", "has space"] {
        let (status, body) = status_and_json(
            app.put(
                "/api/v1/slack/admin/credentials/slack_bot_token",
                ADMIN_TOKEN,
                &json!({"value": value}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("validation_failed")),
            "{value:?}: {body}"
        );
    }
    let (status, _) = status_and_json(
        app.put(
            "/api/v1/slack/admin/credentials/slack_bot_token",
            ADMIN_TOKEN,
            &json!({"value": NEW_TOKEN, "x": 1}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn without_any_token_calls_answer_503_until_one_is_rotated_in() {
    let app = spawn_app_with(|settings| settings.slack_bot_token = None).await;
    mount_post(&app).mount(&app.slack).await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/slack/messages",
            AGENT_TOKEN,
            &json!({"channel": "C0123ABCD", "text": "hi"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("credential_missing")),
        "{body}"
    );

    app.put(
        "/api/v1/slack/admin/credentials/slack_bot_token",
        ADMIN_TOKEN,
        &json!({"value": NEW_TOKEN}),
    )
    .await;
    assert_eq!(post(&app).await, 201);
    assert_eq!(
        crate::helpers::header(&app.slack_requests().await[0], "authorization"),
        format!("Bearer {NEW_TOKEN}")
    );
}
