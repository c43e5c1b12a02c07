//! The token lives encrypted in the service's database; the admin endpoint rotates it while the service serves.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

const NEW_TOKEN: &str = "ghp_rotatedtoken9876543210";

#[tokio::test]
async fn rotating_the_token_while_serving_drops_no_call() {
    let app = Arc::new(spawn_app().await);
    for token in [GITHUB_TOKEN, NEW_TOKEN] {
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/pulls/1")))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(1)))
            .mount(&app.github)
            .await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let mut served = 0;
                while !stop.load(Ordering::SeqCst) {
                    let response = app.get(&format!("{API_REPO}/pulls/1"), AGENT_TOKEN).await;
                    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
                    served += 1;
                }
                served
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let refused = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/github/admin/credentials/github_token",
            AGENT_TOKEN,
            Some(&json!({"value": NEW_TOKEN})),
        )
        .await;
    assert_eq!(refused.status(), 401);
    let (status, metadata) = status_and_json(
        app.send(
            reqwest::Method::PUT,
            "/api/v1/github/admin/credentials/github_token",
            ADMIN_TOKEN,
            Some(&json!({"value": NEW_TOKEN})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{metadata}");
    assert_eq!(metadata["name"], "github_token");
    assert_eq!(metadata["source"], "rotation");
    assert!(
        metadata["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(!metadata.to_string().contains(NEW_TOKEN));

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    let requests = app.github_requests().await;
    let last = requests.last().unwrap();
    assert_eq!(
        header_of(last),
        format!("Bearer {NEW_TOKEN}"),
        "calls after the rotation use the new token"
    );
    assert!(
        requests
            .iter()
            .any(|r| header_of(r) == format!("Bearer {GITHUB_TOKEN}"))
    );

    let (status, listed) = status_and_json(
        app.get("/api/v1/github/admin/credentials", ADMIN_TOKEN)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(NEW_TOKEN) && !listed.to_string().contains(GITHUB_TOKEN));

    // The database file holds neither token in clear.
    let bytes = std::fs::read(&app.database_path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("github_token"), "the row is in this file");
    assert!(!text.contains(NEW_TOKEN) && !text.contains(GITHUB_TOKEN));
}

fn header_of(request: &wiremock::Request) -> String {
    crate::helpers::header(request, "authorization")
}

#[tokio::test]
async fn a_rotation_of_another_credential_or_an_empty_one_is_refused() {
    let app = spawn_app().await;
    let put = |name: &'static str, value: serde_json::Value| {
        let app = &app;
        async move {
            status_and_json(
                app.send(
                    reqwest::Method::PUT,
                    &format!("/api/v1/github/admin/credentials/{name}"),
                    ADMIN_TOKEN,
                    Some(&value),
                )
                .await,
            )
            .await
        }
    };
    let (status, body) = put("github_app_private_key", json!({"value": "x"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "token mode has no App key"
    );
    let (status, body) = put("github_token", json!({"value": "  "})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, body) = put("github_token", json!({"value": "a b"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_credential"))
    );
    let (status, body) = put("github_token", json!({"value": "x", "extra": 1})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_body"))
    );
}
