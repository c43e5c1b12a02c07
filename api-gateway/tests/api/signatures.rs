//! The providers' published vectors (../shared/fixtures/vectors.json, re-stated here so the repository
//! stands alone) and every way a signature check can fail, through the running server.

use std::sync::Arc;

use api_gateway::signature::{
    FixedClock, GithubVerifier, SignatureVerifier, SignedRequest, SlackVerifier, hmac_sha256_hex,
};
use http::{HeaderMap, HeaderValue};
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{
    github_comment, github_delivery, github_raw, jira_comment, jira_delivery, sentry_delivery,
    sentry_issue_created, slack_app_mention, slack_delivery, slack_raw, spawn_app, spawn_app_with,
};

const SLACK_VECTOR_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn secret(value: &str) -> Vec<SecretString> {
    vec![SecretString::from(value.to_owned())]
}

#[test]
fn the_published_github_vectors_verify() {
    for (key, body, signature) in [
        (
            "It's a Secret to Everybody",
            "Hello, World!",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ),
        (
            "mysecret",
            "{\"foo\":\"bar\"}",
            "sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3",
        ),
    ] {
        let map = headers(&[("x-hub-signature-256", signature)]);
        let verifier = GithubVerifier {
            secrets: secret(key),
        };
        let request = SignedRequest {
            headers: &map,
            query: None,
            body: body.as_bytes(),
        };
        assert_eq!(verifier.verify(&request), Ok(()), "{body}");
        let tampered = SignedRequest {
            body: b"Hello, World?",
            ..request
        };
        assert!(verifier.verify(&tampered).is_err());
    }
}

#[test]
fn the_published_slack_vector_verifies_at_its_own_time_and_not_today() {
    let map = headers(&[
        ("x-slack-request-timestamp", "1531420618"),
        (
            "x-slack-signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        ),
    ]);
    let request = SignedRequest {
        headers: &map,
        query: None,
        body: SLACK_VECTOR_BODY.as_bytes(),
    };
    let then = SlackVerifier {
        secrets: secret("8f742231b10e8888abcd99yyyzzz85a5"),
        clock: Arc::new(FixedClock(1_531_420_618 + 60)),
    };
    assert_eq!(then.verify(&request), Ok(()));
    let today = SlackVerifier {
        secrets: secret("8f742231b10e8888abcd99yyyzzz85a5"),
        clock: Arc::new(api_gateway::signature::SystemClock),
    };
    assert_eq!(
        today.verify(&request).unwrap_err().code(),
        "stale_timestamp"
    );
}

#[test]
fn the_vectors_file_agrees_when_present() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/vectors.json");
    let Ok(raw) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is absent", path.display());
        return;
    };
    let vectors: serde_json::Value = serde_json::from_str(&raw).unwrap();
    for vector in vectors["vectors"].as_array().unwrap() {
        let secret_text = vector["secret"].as_str().unwrap();
        let body = vector["body_inline"].as_str().unwrap();
        let expected = vector["expected_header_value"].as_str().unwrap();
        let name = vector["expected_header_name"].as_str().unwrap();
        match (vector["provider"].as_str().unwrap(), name) {
            ("github", "X-Hub-Signature-256") => {
                assert_eq!(
                    format!(
                        "sha256={}",
                        hmac_sha256_hex(secret_text, &[body.as_bytes()])
                    ),
                    expected
                );
            }
            ("slack", _) => {
                let ts = vector["timestamp"].as_str().unwrap();
                let computed =
                    hmac_sha256_hex(secret_text, &[b"v0:", ts.as_bytes(), b":", body.as_bytes()]);
                assert_eq!(format!("v0={computed}"), expected);
            }
            // The legacy SHA-1 header is not accepted: only X-Hub-Signature-256 counts.
            ("github", "X-Hub-Signature") => {
                let map = headers(&[("x-hub-signature", expected)]);
                let verifier = GithubVerifier {
                    secrets: secret(secret_text),
                };
                let request = SignedRequest {
                    headers: &map,
                    query: None,
                    body: body.as_bytes(),
                };
                assert_eq!(
                    verifier.verify(&request).unwrap_err().code(),
                    "missing_signature"
                );
            }
            other => panic!("unexpected vector {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_github_docs_vector_passes_the_server_signature_check() {
    let app = spawn_app_with(|s| s.github.secrets = secret("It's a Secret to Everybody")).await;
    let delivery = github_raw(
        "issue_comment",
        b"Hello, World!".to_vec(),
        "application/json",
    )
    .header(
        "x-hub-signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
    // The signature is accepted; the body is then (rightly) not a JSON payload.
    app.send(&delivery)
        .await
        .assert_error(400, "malformed_body");
}

#[tokio::test]
async fn wrong_missing_or_tampered_signatures_get_401() {
    let app = spawn_app().await;
    let payload = github_comment("@agent fix it", "OWNER", "ada", "User");

    let wrong = github_delivery("issue_comment", &payload).header(
        "x-hub-signature-256",
        format!("sha256={}", hmac_sha256_hex("not-the-secret", &[b"x"])),
    );
    app.send(&wrong)
        .await
        .assert_error(401, "invalid_signature");

    let missing = github_delivery("issue_comment", &payload).without("x-hub-signature-256");
    app.send(&missing)
        .await
        .assert_error(401, "missing_signature");

    let mut tampered = github_delivery("issue_comment", &payload);
    tampered.body =
        serde_json::to_vec(&github_comment("@agent fix it", "OWNER", "mallory", "User")).unwrap();
    let answer = app.send(&tampered).await;
    answer.assert_error(401, "invalid_signature");
    let expected = hmac_sha256_hex(crate::helpers::GITHUB_SECRET, &[&tampered.body]);
    assert!(
        !answer.body.to_string().contains(&expected),
        "the answer must not echo the expected signature"
    );

    let slack = slack_delivery(&slack_app_mention("<@UBOT1> fix", "U1", "Ev1"))
        .header("x-slack-signature", "v0=00");
    app.send(&slack)
        .await
        .assert_error(401, "invalid_signature");
    let slack = slack_delivery(&slack_app_mention("<@UBOT1> fix", "U1", "Ev1"))
        .without("x-slack-request-timestamp");
    app.send(&slack)
        .await
        .assert_error(401, "missing_signature");

    let jira =
        jira_delivery(&jira_comment("@agent fix", "u")).header("x-hub-signature", "sha256=abcd");
    app.send(&jira).await.assert_error(401, "invalid_signature");

    let sentry = sentry_delivery("issue", &sentry_issue_created()).without("sentry-hook-signature");
    app.send(&sentry)
        .await
        .assert_error(401, "missing_signature");

    assert!(app.task_dirs().is_empty());
    assert!(app.queued_envelopes().is_empty());
}

#[tokio::test]
async fn stale_and_future_slack_timestamps_get_401() {
    let app = spawn_app().await;
    let body = slack_app_mention("<@UBOT1> fix", "U1", "Ev9")
        .to_string()
        .into_bytes();
    let now = chrono::Utc::now().timestamp();
    for ts in [now - 301, now + 301, now - 86_400] {
        app.send(&slack_raw(body.clone(), "application/json", ts))
            .await
            .assert_error(401, "stale_timestamp");
    }
    let answer = app
        .send(&slack_raw(body, "application/json", now - 200))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
}

#[tokio::test]
async fn a_rotated_secret_list_accepts_old_and_new() {
    let app = spawn_app_with(|s| {
        s.github.secrets = vec![
            SecretString::from("old-secret".to_owned()),
            SecretString::from(crate::helpers::GITHUB_SECRET.to_owned()),
        ];
    })
    .await;
    let payload = json!({"zen": "z", "hook_id": 1});
    let body = payload.to_string().into_bytes();
    let old = github_raw("ping", body.clone(), "application/json").header(
        "x-hub-signature-256",
        format!("sha256={}", hmac_sha256_hex("old-secret", &[&body])),
    );
    app.send(&old).await.assert_ignored("ping");
    app.send(&github_delivery("ping", &payload))
        .await
        .assert_ignored("ping");
}

#[tokio::test]
async fn a_provider_without_a_secret_answers_provider_not_configured() {
    let app = spawn_app_with(|s| {
        s.github.secrets.clear();
        s.jira.secrets.clear();
        s.jira.query_tokens.clear();
    })
    .await;
    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix", "OWNER", "a", "User"),
        ))
        .await;
    answer.assert_error(401, "provider_not_configured");
    app.send(&jira_delivery(&jira_comment("@agent fix", "u")))
        .await
        .assert_error(401, "provider_not_configured");
    let unsigned = github_delivery("ping", &json!({})).without("x-hub-signature-256");
    app.send(&unsigned)
        .await
        .assert_error(401, "provider_not_configured");
}
