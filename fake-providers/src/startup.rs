//! Building the application: the data directory, the sample repository, the router, the listener.

use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use service_kit::error::ErrorResponse;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::configuration::Settings;
use crate::github::GithubData;
use crate::repository::{Git, SAMPLE_OWNER, SAMPLE_REPO, git_dir};
use crate::state::AppState;
use crate::{git_http, github, inspect, jira, recorder, seed, sentry, slack};

pub struct Application {
    port: u16,
    listener: TcpListener,
    router: Router,
    data_dir: PathBuf,
    /// Removes a temporary data directory when the application is dropped.
    _temporary_dir: Option<tempfile::TempDir>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let git = Git::new(&settings.git);
        let version = git.check_installed().await?;
        let (data_dir, temporary_dir) = match &settings.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the data directory {}", dir.display()))?;
                (dir.clone(), None)
            }
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("fake-providers-")
                    .tempdir()
                    .context("creating a temporary data directory")?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        let repositories_root = data_dir.join("repos");
        git.ensure_sample_repository(&git_dir(&repositories_root, SAMPLE_OWNER, SAMPLE_REPO))
            .await
            .context("creating the sample repository")?;
        tracing::info!(git = %version, repositories = %repositories_root.display(), "sample repository ready");

        let state = AppState::new(git, repositories_root, GithubData::with_sample_repository());
        let router = router(state);
        let (listener, port) = service_kit::server::bind(settings.bind_addr).await?;
        Ok(Self {
            port,
            listener,
            router,
            data_dir,
            _temporary_dir: temporary_dir,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(service_kit::server::shutdown_token()).await
    }

    /// Serves until `shutdown` is cancelled.
    pub async fn run_until(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let Self {
            listener,
            router,
            _temporary_dir,
            ..
        } = self;
        service_kit::server::serve(listener, router, shutdown).await
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .nest("/github/api", github::router())
        .nest("/github/git", git_http::router())
        .nest("/github", github::pages_router())
        .nest("/slack/api", slack::router())
        .nest("/jira", jira::router())
        .nest("/sentry", sentry::router())
        .merge(inspect::router())
        .merge(seed::router())
        .with_state(state.clone())
        .merge(service_kit::ops::router(
            "fake-providers",
            Vec::new(),
            inspect::openapi(),
        ))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(recorder::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state,
            recorder::record_requests,
        ))
}

/// An unknown path, answered in the shape of the provider it is under.
async fn not_found(uri: Uri) -> Response {
    match recorder::provider_of(uri.path()) {
        Some("github") => github::not_found(),
        Some("slack") => slack::unknown_method(),
        Some("jira") => jira::not_found(),
        Some("sentry") => sentry::not_found(),
        _ => ErrorResponse::not_found(format!("no route for {}", uri.path())).into_response(),
    }
}
