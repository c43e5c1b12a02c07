//! How github-service proves itself to GitHub.
//!
//! - Token mode: `Authorization: Bearer <GITHUB_TOKEN>` on every request.
//! - App mode: an RS256 JWT (`iss` = App id, `iat` 60 s in the past against clock drift, `exp` 9 minutes
//!   ahead, under GitHub's 10-minute limit) finds the repository's installation
//!   (`GET /repos/{owner}/{repo}/installation`) and mints an installation token
//!   (`POST /app/installations/{id}/access_tokens`), which is cached until 5 minutes before it expires.
//!
//! The secret (token or private key) lives in the vault: stored from the environment at start, replaced by
//! the admin rotation endpoint, read back (decrypted, cached briefly) for each use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use service_kit::call_log::CallContext;
use service_kit::http_client::{Idempotence, UpstreamClient};
use service_kit::vault::{Vault, VaultError};

use crate::configuration::GithubCredentials;
use crate::error::Error;

/// Vault name of a personal access token.
pub const TOKEN_CREDENTIAL: &str = "github_token";
/// Vault name of a GitHub App's private key (PEM).
pub const APP_KEY_CREDENTIAL: &str = "github_app_private_key";
/// How far back `iat` is set, against clock drift (GitHub's recommendation).
pub const JWT_BACKDATE_SECONDS: i64 = 60;
/// How far ahead `exp` is set (GitHub refuses more than 10 minutes).
pub const JWT_LIFETIME_SECONDS: i64 = 9 * 60;
/// An installation token is replaced this long before it expires.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The headers GitHub asks every REST client to send.
pub const ACCEPT_JSON: &str = "application/vnd.github+json";
pub const API_VERSION_HEADER: &str = "x-github-api-version";
pub const API_VERSION: &str = "2022-11-28";

#[derive(Debug, Clone)]
enum Mode {
    App { app_id: String },
    Token,
}

#[derive(Debug, Serialize)]
struct AppClaims<'a> {
    iat: i64,
    exp: i64,
    iss: &'a str,
}

#[derive(Debug, Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Debug, Deserialize)]
struct AccessToken {
    token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Clone)]
struct InstallationToken {
    token: SecretString,
    refresh_after: DateTime<Utc>,
}

/// Authentication to GitHub for every request of the service.
pub struct GithubAuth {
    mode: Mode,
    vault: Vault,
    initial_secret: SecretString,
    seeded: tokio::sync::OnceCell<()>,
    installations: Mutex<HashMap<String, u64>>,
    tokens: tokio::sync::Mutex<HashMap<u64, InstallationToken>>,
}

impl std::fmt::Debug for GithubAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubAuth")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Signs the App JWT for `app_id` with a PEM RSA key, valid from 60 s ago to 9 minutes ahead.
pub fn app_jwt(
    app_id: &str,
    private_key_pem: &str,
    now: DateTime<Utc>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes())?;
    let claims = AppClaims {
        iat: now.timestamp() - JWT_BACKDATE_SECONDS,
        exp: now.timestamp() + JWT_LIFETIME_SECONDS,
        iss: app_id,
    };
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
}

impl GithubAuth {
    pub fn new(credentials: GithubCredentials, vault: Vault) -> Self {
        let (mode, secret) = match credentials {
            GithubCredentials::App {
                app_id,
                private_key_pem,
            } => (Mode::App { app_id }, private_key_pem),
            GithubCredentials::Token { token } => (Mode::Token, token),
        };
        Self {
            mode,
            vault,
            initial_secret: SecretString::from(secret),
            seeded: tokio::sync::OnceCell::new(),
            installations: Mutex::new(HashMap::new()),
            tokens: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The vault name of the credential this mode uses.
    pub fn credential_name(&self) -> &'static str {
        match self.mode {
            Mode::App { .. } => APP_KEY_CREDENTIAL,
            Mode::Token => TOKEN_CREDENTIAL,
        }
    }

    /// Stores the secret read at start in the vault (once; retried on the next use while the database is down).
    pub async fn seed(&self) -> Result<(), VaultError> {
        self.seeded
            .get_or_try_init(|| async {
                self.vault
                    .seed_from_environment(
                        self.credential_name(),
                        self.initial_secret.expose_secret(),
                    )
                    .await
                    .map(|_| ())
            })
            .await
            .map(|_| ())
    }

    /// Checks a rotated value before it is stored: an App key must be a PEM RSA private key.
    pub fn check_rotation(&self, name: &str, value: &str) -> Result<(), Error> {
        if name != self.credential_name() {
            return Err(Error::UnknownCredential(name.to_owned()));
        }
        if let Mode::App { app_id } = &self.mode {
            app_jwt(app_id, value, Utc::now())
                .map_err(|e| Error::InvalidCredential(format!("not a PEM RSA private key: {e}")))?;
        } else if value.trim().is_empty() || value.chars().any(char::is_whitespace) {
            return Err(Error::InvalidCredential(
                "a token has no whitespace".to_owned(),
            ));
        }
        Ok(())
    }

    /// Forgets minted installation tokens (after a key rotation, or when GitHub refused one).
    pub async fn forget_installation_tokens(&self) {
        self.tokens.lock().await.clear();
    }

    async fn secret(&self) -> Result<SecretString, Error> {
        self.seed().await?;
        self.vault
            .get(self.credential_name())
            .await?
            .ok_or(Error::CredentialMissing(self.credential_name()))
    }

    /// The `Authorization` header value for a request about `owner/repo`.
    pub async fn authorization(
        &self,
        http: &UpstreamClient,
        api_url: &str,
        owner: &str,
        repo: &str,
        context: &CallContext,
    ) -> Result<String, Error> {
        let app_id = match &self.mode {
            Mode::Token => return Ok(format!("Bearer {}", self.secret().await?.expose_secret())),
            Mode::App { app_id } => app_id,
        };
        let installation = self
            .installation(http, api_url, app_id, owner, repo, context)
            .await?;
        let mut tokens = self.tokens.lock().await;
        if let Some(cached) = tokens.get(&installation)
            && Utc::now() < cached.refresh_after
        {
            return Ok(format!("Bearer {}", cached.token.expose_secret()));
        }
        let jwt = self.jwt(app_id).await?;
        let response = http
            .send(
                http.request(
                    Method::POST,
                    &format!("{api_url}/app/installations/{installation}/access_tokens"),
                )
                .header(reqwest::header::ACCEPT, ACCEPT_JSON)
                .header(API_VERSION_HEADER, API_VERSION)
                .bearer_auth(jwt),
                Idempotence::Idempotent,
                context,
            )
            .await?;
        let minted: AccessToken = response.json()?;
        let refresh_after = minted.expires_at
            - chrono::Duration::from_std(TOKEN_REFRESH_MARGIN).unwrap_or_default();
        let header = format!("Bearer {}", minted.token);
        tokens.insert(
            installation,
            InstallationToken {
                token: SecretString::from(minted.token),
                refresh_after,
            },
        );
        Ok(header)
    }

    async fn jwt(&self, app_id: &str) -> Result<String, Error> {
        let key = self.secret().await?;
        app_jwt(app_id, key.expose_secret(), Utc::now()).map_err(|e| Error::Signing(e.to_string()))
    }

    async fn installation(
        &self,
        http: &UpstreamClient,
        api_url: &str,
        app_id: &str,
        owner: &str,
        repo: &str,
        context: &CallContext,
    ) -> Result<u64, Error> {
        let repository = format!("{owner}/{repo}").to_ascii_lowercase();
        if let Some(id) = self
            .installations
            .lock()
            .expect("installations lock")
            .get(&repository)
        {
            return Ok(*id);
        }
        let jwt = self.jwt(app_id).await?;
        let response = http
            .send(
                http.request(
                    Method::GET,
                    &format!("{api_url}/repos/{owner}/{repo}/installation"),
                )
                .header(reqwest::header::ACCEPT, ACCEPT_JSON)
                .header(API_VERSION_HEADER, API_VERSION)
                .bearer_auth(jwt),
                Idempotence::Idempotent,
                context,
            )
            .await?;
        let installation: Installation = response.json()?;
        self.installations
            .lock()
            .expect("installations lock")
            .insert(repository, installation.id);
        Ok(installation.id)
    }
}
