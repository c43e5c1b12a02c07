//! Callers without a token, with a wrong one, or outside their role are refused before GitHub is called.

use reqwest::Method as M;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn unauthenticated_and_out_of_role_callers_are_refused() {
    let app = spawn_app().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&app.github)
        .await;

    let anonymous = app
        .http
        .get(app.url(&format!("{API_REPO}/issues/1")))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(anonymous).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, _) = status_and_json(
        app.get(&format!("{API_REPO}/issues/1"), "not-a-caller-token-at-all")
            .await,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) =
        status_and_json(app.get(&format!("{API_REPO}/issues/1"), ADMIN_TOKEN).await).await;
    assert_eq!(status, 401, "the admin token is not a caller token");

    for (verb, route, token, body) in [
        (
            M::POST,
            "issues/1/comments",
            DASHBOARD_TOKEN,
            Some(json!({"body": "x"})),
        ),
        (
            M::POST,
            "issues/1/reactions",
            DASHBOARD_TOKEN,
            Some(json!({"content": "eyes"})),
        ),
        (M::GET, "issues/1", GATEWAY_TOKEN, None),
        (M::GET, "pulls/1/diff", GATEWAY_TOKEN, None),
        (
            M::POST,
            "branches",
            GATEWAY_TOKEN,
            Some(json!({"name": "x"})),
        ),
        (
            M::POST,
            "pulls",
            GATEWAY_TOKEN,
            Some(json!({"title": "t", "head": "a", "base": "b"})),
        ),
        (M::DELETE, "issues/comments/1", GATEWAY_TOKEN, None),
        (
            M::GET,
            "collaborators/octocat/permission",
            DASHBOARD_TOKEN,
            None,
        ),
    ] {
        let response = app
            .send(
                verb.clone(),
                &format!("{API_REPO}/{route}"),
                token,
                body.as_ref(),
            )
            .await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{verb} {route}: {body}"
        );
    }

    let (status, body) = status_and_json(
        app.get("/api/v1/github/admin/credentials", AGENT_TOKEN)
            .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    app.github.verify().await;
}
