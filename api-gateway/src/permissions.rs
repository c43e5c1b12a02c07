//! Trust through the provider: a GitHub actor whose `author_association` is not trusted may still have
//! write access to the repository. github-service answers that (`GET …/collaborators/{username}/permission`,
//! gateway role); answers are cached for `PERMISSION_CACHE_TTL`, and an unreachable github-service counts as
//! "no" (briefly cached too, so an outage does not add a failing call to every delivery).

use std::time::{Duration, Instant};

use contracts::Provider;
use contracts::github::RepositoryPermission;
use http::Method;
use moka::Expiry;
use moka::future::Cache;
use service_kit::service_client::{ServiceCall, ServiceClient};
use service_kit::trace_context::TraceContext;

use crate::telemetry;

/// How long one permission question may take: it runs before the webhook is answered.
pub const PERMISSION_CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long "github-service could not answer" is remembered.
const UNAVAILABLE_TTL: Duration = Duration::from_secs(5);
const CACHE_CAPACITY: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PermissionAnswer {
    CanWrite,
    CannotWrite,
    Unavailable,
}

struct AnswerExpiry {
    ttl: Duration,
}

impl Expiry<(String, String), PermissionAnswer> for AnswerExpiry {
    fn expire_after_create(
        &self,
        _key: &(String, String),
        answer: &PermissionAnswer,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(match answer {
            PermissionAnswer::Unavailable => UNAVAILABLE_TTL.min(self.ttl),
            _ => self.ttl,
        })
    }
}

#[derive(Clone)]
pub struct RepositoryPermissions {
    client: ServiceClient,
    answers: Cache<(String, String), PermissionAnswer>,
}

impl RepositoryPermissions {
    /// `client` should make one attempt with [`PERMISSION_CHECK_TIMEOUT`]; `ttl` is `PERMISSION_CACHE_TTL`.
    pub fn new(client: ServiceClient, ttl: Duration) -> Self {
        Self {
            client,
            answers: Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .expire_after(AnswerExpiry { ttl })
                .build(),
        }
    }

    /// Whether `login` may write to `repo` (`owner/name`): `admin`, `maintain` or `write`. Concurrent
    /// questions about the same pair share one call.
    pub async fn can_write(&self, repo: &str, login: &str, trace: &TraceContext) -> bool {
        let key = (repo.to_ascii_lowercase(), login.to_ascii_lowercase());
        let answer = self
            .answers
            .get_with(key, self.ask(repo, login, trace))
            .await;
        answer == PermissionAnswer::CanWrite
    }

    async fn ask(&self, repo: &str, login: &str, trace: &TraceContext) -> PermissionAnswer {
        let call = ServiceCall::new(
            Provider::Github,
            Method::GET,
            format!("/api/v1/github/repos/{repo}/collaborators/{login}/permission"),
        );
        let answer = match self.client.send::<RepositoryPermission>(&call, trace).await {
            Ok(permission) if permission.can_write => {
                tracing::info!(repo, login, permission = %permission.permission, "actor may write to the repository");
                PermissionAnswer::CanWrite
            }
            Ok(permission) => {
                tracing::info!(repo, login, permission = %permission.permission, "actor may not write to the repository");
                PermissionAnswer::CannotWrite
            }
            Err(error) => {
                tracing::warn!(repo, login, %error, "could not ask github-service for the actor's permission; treating the actor as untrusted");
                PermissionAnswer::Unavailable
            }
        };
        telemetry::record_permission_check(match answer {
            PermissionAnswer::CanWrite => "write",
            PermissionAnswer::CannotWrite => "no_write",
            PermissionAnswer::Unavailable => "unavailable",
        });
        answer
    }
}
