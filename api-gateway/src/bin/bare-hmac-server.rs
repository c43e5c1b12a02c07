//! Benchmark baseline: an axum server that only reads a GitHub delivery's body and checks its HMAC, the
//! least any gateway must do. `api-gateway/bench/run.sh` measures it beside the gateway, on the same load.
//!
//! `BIND_ADDR` (default `127.0.0.1:8099`), `GITHUB_WEBHOOK_SECRET` (required), `MAX_BODY_BYTES`.

use std::net::SocketAddr;
use std::sync::Arc;

use api_gateway::configuration::DEFAULT_MAX_BODY_BYTES;
use api_gateway::signature::{GithubVerifier, SignatureVerifier, SignedRequest};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use secrecy::SecretString;
use service_kit::configuration;

async fn verify(
    State(verifier): State<Arc<GithubVerifier>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let request = SignedRequest {
        headers: &headers,
        query: None,
        body: &body,
    };
    match verifier.verify(&request) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr: SocketAddr =
        configuration::parse_or("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8099)))?;
    let max_body_bytes = configuration::parse_or("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?;
    let secret = configuration::var("GITHUB_WEBHOOK_SECRET")
        .ok_or_else(|| anyhow::anyhow!("GITHUB_WEBHOOK_SECRET is required"))?;
    let verifier = Arc::new(GithubVerifier {
        secrets: vec![SecretString::from(secret)],
    });
    let router = Router::new()
        .route("/webhooks/github", post(verify))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router)
        .with_graceful_shutdown(service_kit::server::shutdown_signal())
        .await?;
    Ok(())
}
