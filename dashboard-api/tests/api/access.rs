use dashboard_api::startup::Application;

use crate::helpers::{AppOptions, settings_for, spawn_app_with};

#[tokio::test]
async fn refuses_to_start_on_a_public_address_without_a_token() {
    let logs = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", logs.path().join("d.db").display());
    let mut settings = settings_for(
        logs.path().to_owned(),
        &format!("test:{}:", uuid::Uuid::new_v4()),
        &db,
        &AppOptions::default(),
    );
    settings.common.bind_addr = "0.0.0.0:0".parse().unwrap();
    let error = Application::build(settings.clone())
        .await
        .err()
        .expect("must refuse");
    assert!(error.to_string().contains("DASHBOARD_TOKEN"), "{error}");

    // The binary says the same and exits.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard-api"))
        .env("BIND_ADDR", "0.0.0.0:0")
        .env_remove("DASHBOARD_TOKEN")
        .env_remove("DASHBOARD_TOKEN_FILE")
        .env("DATABASE_URL", &db)
        .env("TASK_LOGS_DIR", logs.path())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("DASHBOARD_TOKEN"));

    // Loopback without a token, or anywhere with one, is fine.
    settings.common.bind_addr = "127.0.0.1:0".parse().unwrap();
    Application::build(settings.clone())
        .await
        .expect("loopback without a token")
        .shutdown_token()
        .cancel();
    settings.common.bind_addr = "0.0.0.0:0".parse().unwrap();
    settings.token = Some("s3cret".to_owned().into());
    Application::build(settings)
        .await
        .expect("public with a token")
        .shutdown_token()
        .cancel();
}

#[tokio::test]
async fn with_a_token_the_api_wants_it_and_the_page_asks_for_it_once() {
    let app = spawn_app_with(AppOptions {
        token: Some("s3cret-token"),
        ..Default::default()
    })
    .await;
    let api = app.url("/api/v1/tasks");

    let anonymous = app.client.get(&api).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert_eq!(
        app.client
            .get(&api)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        app.client
            .get(&api)
            .bearer_auth("s3cret-token")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/openapi.json").await.status(), 200);

    let page = app.get("/tasks/task-x?y=1").await;
    assert_eq!(page.status(), 303);
    assert_eq!(
        page.headers()["location"],
        "/login?next=%2Ftasks%2Ftask-x%3Fy%3D1"
    );
    let login_page = app.get("/login?next=%2Foverview").await;
    assert_eq!(login_page.status(), 200);
    assert!(
        login_page
            .text()
            .await
            .unwrap()
            .contains("value=\"/overview\"")
    );

    let wrong = app
        .client
        .post(app.url("/login"))
        .form(&[("token", "nope"), ("next", "/overview")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());

    let without_token = app
        .client
        .post(app.url("/login"))
        .form(&[("next", "/overview")])
        .send()
        .await
        .unwrap();
    let (status, body) = service_kit::testing::status_and_json(without_token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_body"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("token"),
        "{body}"
    );
    let as_json = app
        .client
        .post(app.url("/login"))
        .json(&serde_json::json!({"token": "s3cret-token"}))
        .send()
        .await
        .unwrap();
    let (status, body) = service_kit::testing::status_and_json(as_json).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );

    let right = app
        .client
        .post(app.url("/login"))
        .form(&[("token", "s3cret-token"), ("next", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], "/", "never redirects off-site");
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains("s3cret-token"),
        "the cookie does not carry the token itself"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let with_cookie = app
        .client
        .get(app.url("/"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 200);
    assert_eq!(
        app.client
            .get(&api)
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let forged = app
        .client
        .get(&api)
        .header("cookie", "agw_dashboard_session=00")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}
