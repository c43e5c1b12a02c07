//! The agent's way to the code: per-task tokens for the git smart-HTTP proxy ([`crate::git_proxy`]).
//!
//! `POST …/git-access` issues a random token bound to one task and one repository. Only the token's
//! SHA-256 is kept, in Redis (`git_access:{sha256}`, expiring after `GIT_ACCESS_TTL`), with a per-task set of
//! digests (`git_access:task:{task_id}:{owner}/{repo}`) so `DELETE …/git-access` revokes them all. The proxy
//! looks a presented token up by its digest. A token is never logged and never stored in clear, which is why
//! these routes sit outside the `Idempotency-Key` layer (a replay would have to keep the answer, token and all).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use contracts::{RedisKeys, TaskId};
use rand::Rng;
use serde::{Deserialize, Serialize};
use service_kit::call_log::{CallContext, CallLog};
use service_kit::configuration::{self, ConfigError, HumanDuration, parse_or};
use service_kit::error::ErrorResponse;
use service_kit::redis::Pool;
use service_kit::redis::client::{self as redis, Script};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::github_api::GithubApi;

/// `GITHUB_GIT_URL` default.
pub const DEFAULT_GIT_URL: &str = "https://github.com";
/// `GIT_ACCESS_TTL` default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(2 * 3600);
/// How long a repository's default branch is remembered.
pub const DEFAULT_BRANCH_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "agwgit_";

/// The git access settings.
#[derive(Debug, Clone)]
pub struct GitAccessSettings {
    /// `GITHUB_GIT_URL`, default `https://github.com`: where `/{owner}/{repo}.git/…` is forwarded.
    pub git_url: String,
    /// `GITHUB_SERVICE_PUBLIC_URL`: the base of the clone URLs handed out; unset, the `Host` the caller used.
    pub public_url: Option<String>,
    /// `GIT_ACCESS_TTL`, default `2h`: how long a token works unless revoked.
    pub ttl: Duration,
}

impl Default for GitAccessSettings {
    fn default() -> Self {
        Self {
            git_url: DEFAULT_GIT_URL.to_owned(),
            public_url: None,
            ttl: DEFAULT_TTL,
        }
    }
}

impl GitAccessSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let ttl = parse_or("GIT_ACCESS_TTL", HumanDuration(DEFAULT_TTL))?.0;
        if ttl.is_zero() {
            return Err(ConfigError::Invalid {
                name: "GIT_ACCESS_TTL".to_owned(),
                value: "0".to_owned(),
                reason: "a token must live for some time".to_owned(),
            });
        }
        Ok(Self {
            git_url: configuration::var("GITHUB_GIT_URL")
                .unwrap_or_else(|| DEFAULT_GIT_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            public_url: configuration::var("GITHUB_SERVICE_PUBLIC_URL")
                .map(|url| url.trim_end_matches('/').to_owned()),
            ttl,
        })
    }
}

/// Why a git access request or a proxied git request was refused.
#[derive(Debug, thiserror::Error)]
pub enum GitAccessError {
    #[error("send `X-Task-Id: task-<uuid>`: a git token belongs to one task")]
    TaskIdRequired,
    #[error(
        "give the token from POST /api/v1/github/repos/{{owner}}/{{repo}}/git-access as the HTTP Basic password (it may have expired or been revoked)"
    )]
    Unauthenticated,
    #[error("this token is for another repository")]
    WrongRepository,
    #[error(
        "pushing to the default branch `{branch}` is refused: push another branch and open a pull request"
    )]
    DefaultBranchPush { branch: String },
    #[error("the push could not be read: {0}")]
    MalformedPush(String),
    #[error("a compressed push (Content-Encoding: {0}) cannot be checked and is refused")]
    EncodedPush(String),
    #[error(
        "only git's smart HTTP protocol is served (`?service=git-upload-pack` or `git-receive-pack`)"
    )]
    NotSmartHttp,
    #[error("the token store (Redis) is unavailable: {0}")]
    StoreUnavailable(String),
}

impl From<GitAccessError> for ErrorResponse {
    fn from(error: GitAccessError) -> Self {
        let message = error.to_string();
        match error {
            GitAccessError::TaskIdRequired => {
                ErrorResponse::bad_request("task_id_required", message)
            }
            GitAccessError::Unauthenticated => {
                ErrorResponse::unauthorized("git_unauthenticated", message)
            }
            GitAccessError::WrongRepository => {
                ErrorResponse::new(StatusCode::FORBIDDEN, "git_wrong_repository", message)
            }
            GitAccessError::DefaultBranchPush { branch } => {
                ErrorResponse::new(StatusCode::FORBIDDEN, "default_branch_protected", message)
                    .with_details(serde_json::json!({ "default_branch": branch }))
            }
            GitAccessError::MalformedPush(_) => {
                ErrorResponse::bad_request("malformed_push", message)
            }
            GitAccessError::EncodedPush(_) => ErrorResponse::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_content_encoding",
                message,
            ),
            GitAccessError::NotSmartHttp => ErrorResponse::bad_request("smart_http_only", message),
            GitAccessError::StoreUnavailable(_) => ErrorResponse::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "git_access_unavailable",
                message,
            )
            .retry_after(5),
        }
    }
}

/// What a token stands for, stored under its digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GitGrant {
    pub owner: String,
    pub repo: String,
    pub task_id: TaskId,
    pub expires_at: DateTime<Utc>,
}

impl GitGrant {
    /// Whether the grant is for `owner/repo` (GitHub names are case-insensitive).
    pub fn covers(&self, owner: &str, repo: &str) -> bool {
        self.owner.eq_ignore_ascii_case(owner) && self.repo.eq_ignore_ascii_case(repo)
    }
}

/// A freshly issued token (the only time it exists in clear) and its grant.
pub struct IssuedToken {
    pub token: String,
    pub grant: GitGrant,
}

/// The hex SHA-256 of a token: its name in Redis.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Tokens, their store, the default-branch cache, and what the proxy needs to reach GitHub's git.
pub struct GitAccess {
    settings: GitAccessSettings,
    redis: Pool,
    keys: RedisKeys,
    call_log: CallLog,
    upstream: reqwest::Client,
    default_branches: Mutex<HashMap<String, (String, Instant)>>,
}

impl std::fmt::Debug for GitAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitAccess")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn store_error(error: impl std::fmt::Display) -> GitAccessError {
    tracing::warn!(%error, "git access token store unavailable");
    GitAccessError::StoreUnavailable(error.to_string())
}

impl GitAccess {
    /// `connect_timeout` bounds reaching GitHub's git; transfers themselves have no overall time limit (a
    /// large clone or push takes as long as it takes) but fail when nothing arrives for `idle_timeout`.
    pub fn new(
        settings: GitAccessSettings,
        redis: Pool,
        keys: RedisKeys,
        call_log: CallLog,
        user_agent: &str,
        connect_timeout: Duration,
        idle_timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let upstream = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .read_timeout(idle_timeout)
            .user_agent(user_agent)
            // Bodies pass through as they are, compressed or not: never decoded on the way.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            // A redirect would carry the service's credential somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            settings,
            redis,
            keys,
            call_log,
            upstream,
            default_branches: Mutex::new(HashMap::new()),
        })
    }

    pub fn settings(&self) -> &GitAccessSettings {
        &self.settings
    }

    pub fn call_log(&self) -> &CallLog {
        &self.call_log
    }

    pub fn upstream(&self) -> &reqwest::Client {
        &self.upstream
    }

    /// The repository's default branch, from GitHub (`GET /repos/{owner}/{repo}`), remembered a few minutes.
    pub async fn default_branch(
        &self,
        github: &GithubApi,
        owner: &str,
        repo: &str,
        context: &CallContext,
    ) -> Result<String, Error> {
        let repository = format!("{owner}/{repo}").to_ascii_lowercase();
        if let Some((branch, fetched)) = self
            .default_branches
            .lock()
            .expect("default branch cache lock")
            .get(&repository)
            && fetched.elapsed() < DEFAULT_BRANCH_CACHE_TTL
        {
            return Ok(branch.clone());
        }
        let branch = github.default_branch(owner, repo, context).await?;
        self.default_branches
            .lock()
            .expect("default branch cache lock")
            .insert(repository, (branch.clone(), Instant::now()));
        Ok(branch)
    }

    /// GitHub names are case-insensitive: `Octo-Org/Repo` and `octo-org/repo` share their grants.
    fn grants_key(&self, task_id: &TaskId, owner: &str, repo: &str) -> String {
        self.keys.git_access_grants(
            task_id,
            &owner.to_ascii_lowercase(),
            &repo.to_ascii_lowercase(),
        )
    }

    /// Issues a new token for `task_id` on `owner/repo`, valid for `GIT_ACCESS_TTL`.
    pub async fn issue(
        &self,
        task_id: &TaskId,
        owner: &str,
        repo: &str,
    ) -> Result<IssuedToken, GitAccessError> {
        let token = format!(
            "{TOKEN_PREFIX}{}",
            hex::encode(rand::rng().random::<[u8; 32]>())
        );
        let ttl_ms = self.settings.ttl.as_millis() as u64;
        let grant = GitGrant {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            task_id: *task_id,
            expires_at: Utc::now()
                + chrono::Duration::from_std(self.settings.ttl).unwrap_or(chrono::Duration::MAX),
        };
        let digest = token_digest(&token);
        let grants = self.grants_key(task_id, owner, repo);
        let mut connection = self.redis.get().await.map_err(store_error)?;
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.keys.git_access(&digest))
            .arg(serde_json::to_string(&grant).expect("a grant serializes"))
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .cmd("SADD")
            .arg(&grants)
            .arg(&digest)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&grants)
            .arg(ttl_ms)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(store_error)?;
        Ok(IssuedToken { token, grant })
    }

    /// Revokes every token `task_id` holds for `owner/repo`; answers how many were still live.
    pub async fn revoke(
        &self,
        task_id: &TaskId,
        owner: &str,
        repo: &str,
    ) -> Result<u64, GitAccessError> {
        let script = Script::new(
            r#"local revoked = 0
               for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
                 revoked = revoked + redis.call('DEL', ARGV[1] .. digest)
               end
               redis.call('DEL', KEYS[1])
               return revoked"#,
        );
        let mut connection = self.redis.get().await.map_err(store_error)?;
        script
            .key(self.grants_key(task_id, owner, repo))
            .arg(self.keys.git_access(""))
            .invoke_async::<u64>(&mut connection)
            .await
            .map_err(store_error)
    }

    /// The grant of a presented token: 401 when it is unknown, expired or revoked.
    pub async fn grant_of(&self, token: &str) -> Result<GitGrant, GitAccessError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(GitAccessError::Unauthenticated);
        }
        let mut connection = self.redis.get().await.map_err(store_error)?;
        let stored: Option<String> = redis::cmd("GET")
            .arg(self.keys.git_access(&token_digest(token)))
            .query_async(&mut connection)
            .await
            .map_err(store_error)?;
        let grant: GitGrant = stored
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .ok_or(GitAccessError::Unauthenticated)?;
        if grant.expires_at <= Utc::now() {
            return Err(GitAccessError::Unauthenticated);
        }
        Ok(grant)
    }
}
