//! Everything the four provider services (github, jira, slack, sentry) share, put together once:
//! their common settings, the layers around their API and admin routes, and the application that binds
//! and serves them ([`ProviderApplication`]).
//!
//! ```ignore
//! let settings = ProviderSettings::from_env("github-service", 8081)?;
//! let plumbing = ProviderPlumbing::build("github-service", &settings, &POLICY)?;
//! let app = plumbing
//!     .api_layers(api_router)            // trace → call log → caller token → Idempotency-Key → handler
//!     .merge(plumbing.admin_layers(admin_router)) // trace → call log → ADMIN_TOKEN → handler
//!     .merge(service_kit::ops::router("github-service", plumbing.readiness_checks(), openapi));
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use crate::redis::Pool;
use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use contracts::RedisKeys;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::call_log::{CallLog, record_calls};
use crate::caller_auth::{CallerAuth, CallerTokens, RolePolicy, authenticate, require_admin};
use crate::configuration::{self, CommonSettings, ConfigError, HumanDuration, parse_or};
use crate::credential_admin::CredentialAdmin;
use crate::http_client::UpstreamSettings;
use crate::idempotency::{Idempotency, deduplicate};
use crate::ops::ReadinessCheck;
use crate::redis::RedisReadiness;
use crate::server::BindError;
use crate::trace_context::trace_requests;
use crate::vault::{KeyRing, Vault, VaultError};

/// The settings every provider service reads the same way (its own provider settings come on top).
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `BIND_ADDR`, `REDIS_URL`, `REDIS_KEY_PREFIX`, `TASK_LOGS_DIR`.
    pub common: CommonSettings,
    /// `CALLER_TOKENS` (required): `gateway:<token>,agent:<token>,dashboard:<token>`.
    pub caller_tokens: CallerTokens,
    /// `ADMIN_TOKEN` (optional; unset, admin endpoints answer 403 `admin_disabled`).
    pub admin_token: Option<String>,
    /// `CREDENTIALS_KEY` (required) and `CREDENTIALS_KEY_PREVIOUS`.
    pub credentials_keys: KeyRing,
    /// `DATABASE_URL`, default `sqlite://./data/<service>.db`.
    pub database_url: String,
    /// `UPSTREAM_CONNECT_TIMEOUT`, `UPSTREAM_TIMEOUT`, `UPSTREAM_MAX_ATTEMPTS`, `UPSTREAM_BACKOFF`.
    pub upstream: UpstreamSettings,
    /// `UPSTREAM_DEADLINE`, default `30s`: all of one call's upstream work, retries and waits included.
    pub call_deadline: Duration,
    /// `IDEMPOTENCY_TTL`, default `24h`: how long an `Idempotency-Key` answer is kept.
    pub idempotency_ttl: Duration,
}

impl ProviderSettings {
    pub fn from_env(service: &str, default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonSettings::from_env(default_port)?,
            caller_tokens: CallerTokens::from_env()?,
            admin_token: configuration::secret("ADMIN_TOKEN")?,
            credentials_keys: KeyRing::from_env()?,
            database_url: configuration::var("DATABASE_URL")
                .unwrap_or_else(|| default_database_url(service)),
            upstream: UpstreamSettings::from_env()?,
            call_deadline: parse_or(
                "UPSTREAM_DEADLINE",
                HumanDuration(crate::call_log::DEFAULT_CALL_DEADLINE),
            )?
            .0,
            idempotency_ttl: parse_or(
                "IDEMPOTENCY_TTL",
                HumanDuration(Duration::from_secs(24 * 3600)),
            )?
            .0,
        })
    }
}

/// `sqlite://./data/<service>.db`.
pub fn default_database_url(service: &str) -> String {
    format!("sqlite://./data/{service}.db")
}

/// The shared pieces of one provider service, built from its [`ProviderSettings`].
#[derive(Debug, Clone)]
pub struct ProviderPlumbing {
    pub auth: CallerAuth,
    pub call_log: CallLog,
    pub idempotency: Idempotency,
    pub vault: Vault,
    pub redis: Pool,
}

/// Why the plumbing could not be built (bad URLs; nothing here touches the network).
#[derive(Debug, thiserror::Error)]
pub enum PlumbingError {
    #[error("REDIS_URL is not usable: {0}")]
    Redis(#[from] crate::redis::CreatePoolError),
    #[error("DATABASE_URL is not usable: {0}")]
    Database(#[from] VaultError),
}

impl ProviderPlumbing {
    /// Builds every piece without connecting: the service starts while Redis or its database is down.
    pub fn build(
        service: &'static str,
        settings: &ProviderSettings,
        policy: &'static RolePolicy,
    ) -> Result<Self, PlumbingError> {
        let redis = crate::redis::pool(&settings.common.redis_url, 16)?;
        let idempotency = Idempotency::new(
            redis.clone(),
            RedisKeys::new(settings.common.redis_key_prefix.clone()),
            service,
            settings.idempotency_ttl,
            settings.call_deadline + Duration::from_secs(30),
        );
        Ok(Self {
            auth: CallerAuth::new(
                settings.caller_tokens.clone(),
                settings.admin_token.as_deref(),
                policy,
            ),
            call_log: CallLog::new(
                settings.common.task_logs_dir.clone(),
                service,
                settings.call_deadline,
            ),
            idempotency,
            vault: Vault::connect(&settings.database_url, settings.credentials_keys.clone())?,
            redis,
        })
    }

    /// Wraps the API routes: trace context, call log, caller authentication, `Idempotency-Key`.
    pub fn api_layers(&self, router: Router) -> Router {
        router
            .layer(from_fn_with_state(self.idempotency.clone(), deduplicate))
            .layer(from_fn_with_state(self.auth.clone(), authenticate))
            .layer(from_fn_with_state(self.call_log.clone(), record_calls))
            .layer(from_fn(trace_requests))
    }

    /// Wraps the admin routes: trace context, call log, `ADMIN_TOKEN`.
    pub fn admin_layers(&self, router: Router) -> Router {
        router
            .layer(from_fn_with_state(self.auth.clone(), require_admin))
            .layer(from_fn_with_state(self.call_log.clone(), record_calls))
            .layer(from_fn(trace_requests))
    }

    /// `/ready` checks: Redis and the credential database.
    pub fn readiness_checks(&self) -> Vec<Box<dyn ReadinessCheck>> {
        vec![
            Box::new(RedisReadiness(self.redis.clone())),
            self.vault.readiness(),
        ]
    }
}

/// Declares the bearer schemes the provider services' operations name: `caller_token` and `admin_token`
/// (`#[openapi(modifiers(&BearerSchemes))]`).
pub struct BearerSchemes;

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

/// A provider service, bound and ready to serve: its API routes behind the caller layers, the credential
/// admin routes behind `ADMIN_TOKEN`, the ops routes, and one OpenAPI document of all of them.
pub struct ProviderApplication {
    port: u16,
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
}

impl ProviderApplication {
    /// Puts the routes together and binds `bind_addr` (port 0: any free port). `api` carries the
    /// service's OpenAPI document (info, tags) and its state already applied.
    pub async fn build(
        service: &'static str,
        plumbing: &ProviderPlumbing,
        bind_addr: SocketAddr,
        api: OpenApiRouter,
        admin: CredentialAdmin,
    ) -> Result<Self, BindError> {
        Self::build_with_routes(service, plumbing, bind_addr, api, admin.routes(), None).await
    }

    /// [`build`](Self::build) for a service whose admin routes are its own, and with routes it layers
    /// itself (`own`: the router and its OpenAPI document), merged as they are.
    pub async fn build_with_routes(
        service: &'static str,
        plumbing: &ProviderPlumbing,
        bind_addr: SocketAddr,
        api: OpenApiRouter,
        admin: OpenApiRouter,
        own: Option<(Router, utoipa::openapi::OpenApi)>,
    ) -> Result<Self, BindError> {
        let (callers, mut openapi) = api.split_for_parts();
        let (admin, admin_doc) = admin.split_for_parts();
        openapi.merge(admin_doc);
        let (own, own_doc) = own.unzip();
        if let Some(own_doc) = own_doc {
            openapi.merge(own_doc);
        }
        crate::ops::document_ops(&mut openapi);
        let router = crate::error::with_error_fallbacks(
            plumbing
                .api_layers(callers)
                .merge(plumbing.admin_layers(admin))
                .merge(own.unwrap_or_default())
                .merge(crate::ops::router(
                    service,
                    plumbing.readiness_checks(),
                    openapi,
                )),
        );
        let (listener, port) = crate::server::bind(bind_addr).await?;
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
        let signal = crate::server::shutdown_token();
        tokio::spawn(async move {
            signal.cancelled().await;
            shutdown.cancel();
        });
        crate::server::serve(self.listener, self.router, self.shutdown).await
    }
}
