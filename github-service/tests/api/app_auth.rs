//! GitHub App mode: a key generated here, a fake GitHub that verifies the App JWT, installation tokens
//! minted once and reused.

use std::process::Command;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use github_service::configuration::GithubCredentials;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, Request, ResponseTemplate};

use crate::helpers::*;

const APP_ID: &str = "123456";
const INSTALLATION_TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

/// A fresh 2048-bit RSA key: (private PEM, public PEM).
fn generate_rsa_key() -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("app.pem");
    let status = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&private)
        .arg("2048")
        .output()
        .expect("openssl is installed");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let public = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&private)
        .output()
        .unwrap();
    assert!(public.status.success());
    (
        std::fs::read_to_string(private).unwrap(),
        String::from_utf8(public.stdout).unwrap(),
    )
}

/// Matches requests whose bearer token is a valid App JWT by GitHub's rules; records what was wrong.
struct ValidAppJwt {
    public_key: DecodingKey,
    problems: Arc<Mutex<Vec<String>>>,
}

impl ValidAppJwt {
    fn check(&self, request: &Request) -> Result<(), String> {
        let value = request
            .headers
            .get("authorization")
            .ok_or("no Authorization header")?;
        let jwt = value
            .to_str()
            .unwrap()
            .strip_prefix("Bearer ")
            .ok_or("not a Bearer token")?;
        let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.to_string())?;
        if header.alg != Algorithm::RS256 {
            return Err(format!("alg {:?}", header.alg));
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[APP_ID]);
        validation.set_required_spec_claims(&["exp", "iat", "iss"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Value>(jwt, &self.public_key, &validation)
            .map_err(|e| format!("signature or claims: {e}"))?
            .claims;
        let now = Utc::now().timestamp();
        let iat = claims["iat"].as_i64().ok_or("iat is not a number")?;
        let exp = claims["exp"].as_i64().ok_or("exp is not a number")?;
        if !(now - 65..=now - 55).contains(&iat) {
            return Err(format!("iat {iat} is not 60 s before now {now}"));
        }
        if exp <= now || exp > now + 600 {
            return Err(format!("exp {exp} is not within 10 minutes ahead of {now}"));
        }
        if claims["iss"] != APP_ID {
            return Err(format!("iss {}", claims["iss"]));
        }
        Ok(())
    }
}

impl Match for ValidAppJwt {
    fn matches(&self, request: &Request) -> bool {
        match self.check(request) {
            Ok(()) => true,
            Err(problem) => {
                self.problems.lock().unwrap().push(problem);
                false
            }
        }
    }
}

#[tokio::test]
async fn the_app_flow_mints_an_installation_token_once_and_uses_it() {
    let (private_pem, public_pem) = generate_rsa_key();
    let app = spawn_app_with(|settings| {
        settings.credentials = GithubCredentials::App {
            app_id: APP_ID.to_owned(),
            private_key_pem: private_pem.clone(),
        };
    })
    .await;
    let problems = Arc::new(Mutex::new(Vec::new()));
    let jwt = || ValidAppJwt {
        public_key: DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap(),
        problems: problems.clone(),
    };
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/installation")))
        .and(jwt())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "account": user("octo-org", 2), "repository_selection": "selected",
            "access_tokens_url": "https://api.github.com/app/installations/42/access_tokens",
            "app_id": 123456, "target_type": "Organization",
            "permissions": {"issues": "write", "pull_requests": "write", "contents": "write", "metadata": "read"},
            "events": ["issue_comment", "pull_request"], "created_at": "2018-02-09T20:51:14Z", "updated_at": "2018-02-09T20:51:14Z"
        })))
        .expect(1)
        .mount(&app.github)
        .await;
    let expires_at = (Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .and(jwt())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "token": INSTALLATION_TOKEN, "expires_at": expires_at,
            "permissions": {"issues": "write", "contents": "read"}, "repository_selection": "selected"
        })))
        .expect(1)
        .mount(&app.github)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/issues/1/reactions")))
        .and(header(
            "authorization",
            format!("Bearer {INSTALLATION_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(reaction(1, "eyes")))
        .expect(3)
        .mount(&app.github)
        .await;

    for _ in 0..3 {
        let (status, body) = status_and_json(
            app.post(
                &format!("{API_REPO}/issues/1/reactions"),
                GATEWAY_TOKEN,
                &json!({"content": "eyes"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            status,
            201,
            "{body}; JWT problems: {:?}",
            problems.lock().unwrap()
        );
    }
    app.github.verify().await;
    assert!(
        problems.lock().unwrap().is_empty(),
        "{:?}",
        problems.lock().unwrap()
    );

    // Rotating the App key takes a PEM RSA key only, and mints fresh installation tokens.
    let (status, body) = status_and_json(
        app.send(
            reqwest::Method::PUT,
            "/api/v1/github/admin/credentials/github_app_private_key",
            ADMIN_TOKEN,
            Some(&json!({"value": "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_credential"))
    );
}

#[tokio::test]
async fn an_app_key_github_refuses_is_a_502_upstream_unauthorized() {
    let (private_pem, _) = generate_rsa_key();
    let app = spawn_app_with(|settings| {
        settings.credentials = GithubCredentials::App {
            app_id: APP_ID.to_owned(),
            private_key_pem: private_pem,
        };
    })
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/installation")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"
        })))
        .mount(&app.github)
        .await;
    let (status, body) =
        status_and_json(app.get(&format!("{API_REPO}/issues/1"), AGENT_TOKEN).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("upstream_unauthorized")),
        "{body}"
    );
}
