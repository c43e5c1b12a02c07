//! Jira's HTTP errors become the service's error answers, with Jira's own words.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, spawn_app, spawn_app_with, status_and_json};

#[tokio::test]
async fn upstream_errors_map_to_the_services_answers() {
    let cases = [
        (
            404,
            json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
            404,
            "not_found",
        ),
        (
            401,
            json!({"errorMessages": ["You are not authenticated. Authentication required to perform this operation."], "errors": {}}),
            502,
            "upstream_unauthorized",
        ),
        (
            403,
            json!({"errorMessages": ["You do not have permission to comment on this issue."], "errors": {}}),
            502,
            "upstream_unauthorized",
        ),
        (
            400,
            json!({"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}}),
            422,
            "upstream_rejected",
        ),
    ];
    for (upstream_status, upstream_body, expected_status, expected_code) in cases {
        let app = spawn_app().await;
        Mock::given(method("POST"))
            .and(path("/rest/api/3/issue/PROJ-42/comment"))
            .respond_with(ResponseTemplate::new(upstream_status).set_body_json(&upstream_body))
            .expect(1)
            .mount(&app.jira)
            .await;

        let (status, body) = status_and_json(
            app.post(
                "/api/v1/jira/issues/PROJ-42/comments",
                AGENT_TOKEN,
                &json!({"body": "hi"}),
            )
            .await,
        )
        .await;

        assert_eq!(status, expected_status, "{upstream_status}: {body}");
        assert_eq!(body["code"], expected_code, "{body}");
    }
}

#[tokio::test]
async fn a_rejection_carries_jiras_message() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/transitions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errorMessages": [], "errors": {"resolution": "Field 'resolution' is required"}
        })))
        .mount(&app.jira)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42/transitions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"transitions": [{"id": "31", "name": "Done"}]})),
        )
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/jira/issues/PROJ-42/transitions",
            AGENT_TOKEN,
            &json!({"transition_id": "31"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "upstream_rejected");
    assert_eq!(
        body["message"],
        "resolution: Field 'resolution' is required"
    );
}

#[tokio::test]
async fn a_slow_jira_is_a_504() {
    let app = spawn_app_with(false, |settings| {
        settings.provider.upstream.request_timeout = Duration::from_millis(200);
        settings.provider.upstream.max_attempts = 1;
    })
    .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&app.jira)
        .await;

    let (status, body) =
        status_and_json(app.get("/api/v1/jira/issues/PROJ-42", AGENT_TOKEN).await).await;

    assert_eq!(
        (status, body["code"].as_str()),
        (504, Some("upstream_timeout")),
        "{body}"
    );
}
