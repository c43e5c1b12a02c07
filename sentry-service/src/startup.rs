//! Building the application: vault, Sentry client, routes, OpenAPI; binding; serving until shutdown.

use std::time::Duration;

use anyhow::Context;
use axum::Router;
use secrecy::ExposeSecret;
use service_kit::http_client::UpstreamClient;
use service_kit::ops;
use service_kit::provider_service::ProviderPlumbing;
use service_kit::vault::Vault;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::configuration::{SERVICE_NAME, Settings};
use crate::routes::{self, POLICY};
use crate::sentry_api::{PROVIDER, SentryApi};
use crate::state::{AUTH_TOKEN, AppState};

/// Sent on every request to Sentry.
const USER_AGENT: &str = concat!("agent-gateway-sentry-service/", env!("CARGO_PKG_VERSION"));

/// How often storing the token read at start is retried while the database is down.
const SEED_RETRY: Duration = Duration::from_secs(5);

#[derive(OpenApi)]
#[openapi(
    info(title = "sentry-service", description = "The only door to Sentry's API: read issues and their latest event, set status and assignee, comment."),
    modifiers(&BearerSchemes),
    tags(
        (name = "issues", description = "Read issues, set status and assignee"),
        (name = "events", description = "An issue's latest event"),
        (name = "comments", description = "Comments (issue notes)"),
        (name = "admin", description = "Credential rotation (ADMIN_TOKEN)"),
    )
)]
struct ApiDoc;

struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in ["caller_token", "admin_token"] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The API routes (callers) and the admin routes, unlayered, and the OpenAPI document of both.
pub fn routes(state: AppState) -> (Router, Router, utoipa::openapi::OpenApi) {
    let (callers, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::issues::router())
        .merge(routes::events::router())
        .merge(routes::comments::router())
        .with_state(state.clone())
        .split_for_parts();
    let (admin, admin_doc) = OpenApiRouter::new()
        .merge(routes::admin::router())
        .with_state(state)
        .split_for_parts();
    openapi.merge(admin_doc);
    ops::document_ops(&mut openapi);
    (callers, admin, openapi)
}

pub struct Application {
    port: u16,
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
}

impl Application {
    /// Builds everything and binds `BIND_ADDR` (port 0: any free port). Neither Redis nor the database
    /// needs to be up: `/ready` says what is missing.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let plumbing = ProviderPlumbing::build(SERVICE_NAME, &settings.provider, &POLICY)?;
        seed_credentials(
            plumbing.vault.clone(),
            settings
                .sentry_auth_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
        )
        .await;
        let http = UpstreamClient::new(PROVIDER, USER_AGENT, settings.provider.upstream.clone())
            .context("building the HTTP client")?;
        let state = AppState::new(
            SentryApi::new(http, &settings.sentry_api_url, &settings.sentry_org),
            plumbing.vault.clone(),
        );
        let (callers, admin, openapi) = routes(state);
        let router = plumbing
            .api_layers(callers)
            .merge(plumbing.admin_layers(admin))
            .merge(ops::router(
                SERVICE_NAME,
                plumbing.readiness_checks(),
                openapi,
            ))
            .fallback(service_kit::error::not_found_fallback);
        let bind_addr = settings.provider.common.bind_addr;
        let listener = service_kit::server::bind(bind_addr)
            .await
            .with_context(|| format!("binding {bind_addr}"))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            port,
            listener,
            router,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A token that stops the server (requests in flight finish) when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM, Ctrl-C or [`shutdown_token`](Self::shutdown_token) is cancelled.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let shutdown = self.shutdown.clone();
        let signal = service_kit::server::shutdown_token();
        tokio::spawn(async move {
            signal.cancelled().await;
            shutdown.cancel();
        });
        service_kit::server::serve(self.listener, self.router, self.shutdown).await
    }
}

/// Moves rows to the current key and stores the token read at start. When the database is down this is
/// retried in the background, so the service starts (and says so on `/ready`) without it.
async fn seed_credentials(vault: Vault, auth_token: Option<String>) {
    async fn seed(
        vault: &Vault,
        auth_token: Option<&str>,
    ) -> Result<(), service_kit::vault::VaultError> {
        vault.reencrypt_all().await?;
        if let Some(token) = auth_token {
            vault.seed_from_environment(AUTH_TOKEN, token).await?;
        }
        Ok(())
    }
    if let Err(error) = seed(&vault, auth_token.as_deref()).await {
        tracing::warn!(%error, "could not store the credential read at start; retrying in the background");
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SEED_RETRY).await;
                match seed(&vault, auth_token.as_deref()).await {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::warn!(%error, "could not store the credential read at start; retrying")
                    }
                }
            }
        });
    }
}
