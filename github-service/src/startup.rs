//! Building the application: vault, GitHub client, routes, OpenAPI; binding; serving until shutdown.

use anyhow::Context;
use service_kit::http_client::UpstreamClient;
use service_kit::provider_service::{BearerSchemes, ProviderApplication, ProviderPlumbing};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::configuration::{SERVICE_NAME, Settings};
use crate::git_access::GitAccess;
use crate::github_api::{GithubApi, PROVIDER};
use crate::github_auth::GithubAuth;
use crate::routes::{self, POLICY};
use crate::state::AppState;

/// Sent on every request to GitHub (GitHub refuses requests without one).
const USER_AGENT: &str = concat!("agent-gateway-github-service/", env!("CARGO_PKG_VERSION"));
/// A proxied git transfer fails when GitHub sends nothing for this long (a large pack takes as long as it takes).
const GIT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "github-service",
        description = "The only door to GitHub: issues, comments, reactions, pull requests, branches, permissions."
    ),
    modifiers(&BearerSchemes),
    tags(
        (name = "issues", description = "Issues with their comments"),
        (name = "comments", description = "Post, update and delete issue and pull request comments"),
        (name = "reactions", description = "Reactions on issues, comments and review comments"),
        (name = "pulls", description = "Pull requests, their diffs and files"),
        (name = "branches", description = "Create branches"),
        (name = "permissions", description = "A user's permission on a repository"),
        (name = "git", description = "Per-task tokens for the git smart-HTTP proxy at /git/{owner}/{repo}.git"),
        (name = "admin", description = "Credential rotation (ADMIN_TOKEN)"),
    )
)]
struct ApiDoc;

pub struct Application(ProviderApplication);

impl Application {
    /// Builds everything and binds `BIND_ADDR` (port 0: any free port). Neither Redis nor the database
    /// needs to be up: `/ready` says what is missing, and the credential read at start is stored on first use.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let plumbing = ProviderPlumbing::build(SERVICE_NAME, &settings.provider, &POLICY)?;
        let http = UpstreamClient::new(PROVIDER, USER_AGENT, settings.provider.upstream.clone())
            .context("building the HTTP client")?;
        let auth = GithubAuth::new(settings.credentials, plumbing.vault.clone());
        if let Err(error) = plumbing.vault.reencrypt_all().await {
            tracing::warn!(%error, "could not re-encrypt stored credentials under the current key");
        }
        if let Err(error) = auth.seed().await {
            tracing::warn!(%error, "could not store the credential read at start; retried on first use");
        }
        let git = GitAccess::new(
            settings.git_access,
            plumbing.redis.clone(),
            contracts::RedisKeys::new(settings.provider.common.redis_key_prefix.clone()),
            plumbing.call_log.clone(),
            USER_AGENT,
            settings.provider.upstream.connect_timeout,
            GIT_IDLE_TIMEOUT,
        )
        .context("building the git HTTP client")?;
        let state = AppState::new(
            GithubApi::new(http, settings.api_url, auth),
            plumbing.vault.clone(),
            git,
        );
        let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(routes::issues::router())
            .merge(routes::comments::router())
            .merge(routes::reactions::router())
            .merge(routes::pulls::router())
            .merge(routes::branches::router())
            .merge(routes::permissions::router())
            .with_state(state.clone());
        let admin = OpenApiRouter::new()
            .merge(routes::admin::router())
            .with_state(state.clone());
        let (git_access, git_access_doc) = OpenApiRouter::new()
            .merge(routes::git_access::router())
            .with_state(state.clone())
            .split_for_parts();
        let own = routes::git_access::layered(git_access, &plumbing)
            .merge(crate::git_proxy::router(state));
        let application = ProviderApplication::build_with_routes(
            SERVICE_NAME,
            &plumbing,
            settings.provider.common.bind_addr,
            api,
            admin,
            Some((own, git_access_doc)),
        )
        .await?;
        Ok(Self(application))
    }

    pub fn port(&self) -> u16 {
        self.0.port()
    }

    /// A token that stops the server (requests in flight finish) when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.0.shutdown_token()
    }

    /// Serves until SIGTERM, Ctrl-C or [`shutdown_token`](Self::shutdown_token) is cancelled.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.0.run_until_stopped().await
    }
}
