//! Building the application: vault, Jira client, routes, OpenAPI; binding; serving until shutdown.

use anyhow::Context;
use secrecy::ExposeSecret;
use service_kit::credential_admin::{CredentialAdmin, seed_credentials};
use service_kit::http_client::UpstreamClient;
use service_kit::provider_service::{BearerSchemes, ProviderApplication, ProviderPlumbing};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::configuration::{SERVICE_NAME, Settings};
use crate::jira_api::{JiraApi, PROVIDER};
use crate::routes::{self, POLICY};
use crate::state::{API_TOKEN, AppState, PERSONAL_ACCESS_TOKEN, credential_name};

/// Sent on every request to Jira.
const USER_AGENT: &str = concat!("agent-gateway-jira-service/", env!("CARGO_PKG_VERSION"));

#[derive(OpenApi)]
#[openapi(
    info(title = "jira-service", description = "The only door to Jira (Cloud and Server/Data Center): read issues, add and update comments, list and apply transitions."),
    modifiers(&BearerSchemes),
    tags(
        (name = "issues", description = "Read issues"),
        (name = "comments", description = "Add and update comments"),
        (name = "transitions", description = "Workflow transitions"),
        (name = "admin", description = "Credential rotation (ADMIN_TOKEN)"),
    )
)]
struct ApiDoc;

pub struct Application(ProviderApplication);

impl Application {
    /// Builds everything and binds `BIND_ADDR` (port 0: any free port). Neither Redis nor the database
    /// needs to be up: `/ready` says what is missing.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let plumbing = ProviderPlumbing::build(SERVICE_NAME, &settings.provider, &POLICY)?;
        let credential = credential_name(&settings.deployment);
        seed_credentials(
            plumbing.vault.clone(),
            credential,
            settings
                .jira_secret
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
        )
        .await;
        let http = UpstreamClient::new(PROVIDER, USER_AGENT, settings.provider.upstream.clone())
            .context("building the HTTP client")?;
        let state = AppState::new(
            JiraApi::new(http, &settings.jira_base_url, settings.deployment.clone()),
            plumbing.vault.clone(),
            credential,
        );
        let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(routes::issues::router())
            .merge(routes::comments::router())
            .merge(routes::transitions::router())
            .with_state(state);
        let admin = CredentialAdmin {
            provider_path: "jira",
            provider_title: "Jira",
            credential_names: vec![credential],
            documented_names: &[API_TOKEN, PERSONAL_ACCESS_TOKEN],
            vault: plumbing.vault.clone(),
        };
        let application = ProviderApplication::build(
            SERVICE_NAME,
            &plumbing,
            settings.provider.common.bind_addr,
            api,
            admin,
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
