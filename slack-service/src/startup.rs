//! Building the application: vault, Slack client, routes, OpenAPI; binding; serving until shutdown.

use anyhow::Context;
use secrecy::ExposeSecret;
use service_kit::credential_admin::{CredentialAdmin, seed_credentials};
use service_kit::http_client::UpstreamClient;
use service_kit::provider_service::{BearerSchemes, ProviderApplication, ProviderPlumbing};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::configuration::{SERVICE_NAME, Settings};
use crate::routes::{self, POLICY};
use crate::slack_api::{PROVIDER, SlackApi};
use crate::state::{AppState, BOT_TOKEN, CREDENTIAL_NAMES};

/// Sent on every request to Slack.
const USER_AGENT: &str = concat!("agent-gateway-slack-service/", env!("CARGO_PKG_VERSION"));

#[derive(OpenApi)]
#[openapi(
    info(title = "slack-service", description = "The only door to Slack's Web API: post, update, react, read threads, open DMs."),
    modifiers(&BearerSchemes),
    tags(
        (name = "messages", description = "Post and update messages"),
        (name = "reactions", description = "Emoji reactions"),
        (name = "threads", description = "Read threads"),
        (name = "conversations", description = "Direct messages"),
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
        seed_credentials(
            plumbing.vault.clone(),
            BOT_TOKEN,
            settings
                .slack_bot_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
        )
        .await;
        let http = UpstreamClient::new(PROVIDER, USER_AGENT, settings.provider.upstream.clone())
            .context("building the HTTP client")?;
        let state = AppState::new(
            SlackApi::new(http, &settings.slack_api_url),
            plumbing.vault.clone(),
        );
        let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(routes::messages::router())
            .merge(routes::reactions::router())
            .merge(routes::threads::router())
            .merge(routes::conversations::router())
            .with_state(state);
        let admin = CredentialAdmin {
            provider_path: "slack",
            provider_title: "Slack",
            credential_names: CREDENTIAL_NAMES.to_vec(),
            documented_names: CREDENTIAL_NAMES,
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
