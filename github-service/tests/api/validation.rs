//! Bad input: malformed JSON or an unknown field 400, a value out of range 422, GitHub never called.

use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_never_reaches_github() {
    let app = spawn_app().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&app.github)
        .await;
    let comments = app.url(&format!("{API_REPO}/issues/1/comments"));

    let malformed = app
        .http
        .post(&comments)
        .bearer_auth(AGENT_TOKEN)
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(malformed).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_body"))
    );

    let (status, body) = status_and_json(
        app.post(
            &format!("{API_REPO}/issues/1/comments"),
            AGENT_TOKEN,
            &json!({"body": "x", "bdy": "y"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_body"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("unknown field"),
        "{body}"
    );

    let not_json = app
        .http
        .post(&comments)
        .bearer_auth(AGENT_TOKEN)
        .body("body=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);

    for (route, request, field) in [
        ("issues/1/comments", json!({"body": ""}), "body"),
        (
            "issues/1/comments",
            json!({"body": "x".repeat(65_537)}),
            "body",
        ),
        (
            "issues/1/reactions",
            json!({"content": "thumbsup"}),
            "content",
        ),
        ("branches", json!({"name": "bad..name"}), "name"),
        ("branches", json!({"name": "ok", "sha": "abc"}), "sha"),
        (
            "pulls",
            json!({"title": "", "head": "a", "base": "main"}),
            "title",
        ),
    ] {
        let (status, body) = status_and_json(
            app.post(&format!("{API_REPO}/{route}"), AGENT_TOKEN, &request)
                .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("validation_failed")),
            "{route}: {body}"
        );
        assert_eq!(body["details"]["errors"][0]["field"], field, "{body}");
        assert_eq!(
            body["details"]["errors"].as_array().unwrap().len(),
            1,
            "one error for the one bad field: {body}"
        );
    }

    let (status, body) = status_and_json(
        app.get(
            "/api/v1/github/repos/octo-org/..%2Fetc/issues/1",
            AGENT_TOKEN,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed")),
        "{body}"
    );
    let (status, body) = status_and_json(
        app.get(&format!("{API_REPO}/issues/not-a-number"), AGENT_TOKEN)
            .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_path")),
        "{body}"
    );
    assert_eq!(
        body["message"],
        "number: `not-a-number` is not a whole number, 0 or more"
    );
    let (status, body) = status_and_json(
        app.get(
            &format!("{API_REPO}/collaborators/bad%20name/permission"),
            AGENT_TOKEN,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed")),
        "{body}"
    );
    app.github.verify().await;
}
