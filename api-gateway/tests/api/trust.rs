//! Trust through the provider: a GitHub actor without a trusted `author_association` who may write to the
//! repository (github-service says so) is trusted; answers are cached; github-service down means untrusted.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    SERVICE_TOKEN, github_comment, github_delivery, spawn_app, spawn_app_with_services,
};

const PERMISSION_PATH: &str = "/api/v1/github/repos/octo/repo/collaborators/eve/permission";

#[tokio::test]
async fn a_writer_without_a_trusted_association_is_asked_about_once() {
    let (app, services) = spawn_app_with_services(|s| s.acknowledge_tasks = false).await;
    Mock::given(method("GET"))
        .and(path(PERMISSION_PATH))
        .and(header("authorization", format!("Bearer {SERVICE_TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "username": "eve", "permission": "write", "role_name": "maintain", "can_write": true
        })))
        .expect(1)
        .mount(&services.github)
        .await;

    for text in ["@agent fix the build", "@agent review the fix"] {
        let answer = app
            .send(&github_delivery(
                "issue_comment",
                &github_comment(text, "CONTRIBUTOR", "eve", "User"),
            ))
            .await;
        assert_eq!(answer.status, 202, "{}", answer.body);
        assert_eq!(
            app.envelope(&answer.task_id()).actor.login.as_deref(),
            Some("eve")
        );
    }
    services.github.verify().await;
}

#[tokio::test]
async fn a_reader_stays_untrusted() {
    let (app, services) = spawn_app_with_services(|s| s.acknowledge_tasks = false).await;
    Mock::given(method("GET"))
        .and(path(PERMISSION_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "username": "eve", "permission": "read", "role_name": "triage", "can_write": false
        })))
        .expect(1)
        .mount(&services.github)
        .await;

    app.send(&github_delivery(
        "issue_comment",
        &github_comment("@agent fix", "NONE", "eve", "User"),
    ))
    .await
    .assert_ignored("untrusted_actor");
    assert!(app.task_dirs().is_empty());
}

#[tokio::test]
async fn github_service_down_means_untrusted() {
    let app = spawn_app().await;
    app.send(&github_delivery(
        "issue_comment",
        &github_comment("@agent fix", "NONE", "eve", "User"),
    ))
    .await
    .assert_ignored("untrusted_actor");
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("gateway_permission_checks_total{outcome=\"unavailable\"}"),
        "{metrics}"
    );
}
