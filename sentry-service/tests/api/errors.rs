//! Sentry's HTTP errors become the service's error answers, with Sentry's own words.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{AGENT_TOKEN, spawn_app, status_and_json};

#[tokio::test]
async fn upstream_errors_map_to_the_services_answers() {
    let cases = [
        (
            404,
            json!({"detail": "The requested resource does not exist"}),
            404,
            "not_found",
        ),
        (
            401,
            json!({"detail": "Invalid token"}),
            502,
            "upstream_unauthorized",
        ),
        (
            403,
            json!({"detail": "You do not have permission to perform this action."}),
            502,
            "upstream_unauthorized",
        ),
        (
            400,
            json!({"detail": "Cannot assign to non-team member"}),
            422,
            "upstream_rejected",
        ),
    ];
    for (upstream_status, upstream_body, expected_status, expected_code) in cases {
        let app = spawn_app().await;
        Mock::given(method("PUT"))
            .and(path("/api/0/organizations/acme/issues/1234567890/"))
            .respond_with(ResponseTemplate::new(upstream_status).set_body_json(&upstream_body))
            .expect(1)
            .mount(&app.sentry)
            .await;

        let (status, body) = status_and_json(
            app.put(
                "/api/v1/sentry/issues/1234567890/assignee",
                AGENT_TOKEN,
                &json!({"assignee": "nobody@example.com"}),
            )
            .await,
        )
        .await;

        assert_eq!(status, expected_status, "{upstream_status}: {body}");
        assert_eq!(body["code"], expected_code, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains(upstream_body["detail"].as_str().unwrap()),
            "{body}"
        );
    }
}
