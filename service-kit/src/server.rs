//! Serving a router until SIGTERM or Ctrl-C, and the shutdown signal itself.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}

/// A token cancelled on SIGTERM or Ctrl-C: one place every task of a service watches.
pub fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        cancel.cancel();
    });
    token
}

/// `BIND_ADDR` could not be listened on; says which address, since the system's reason alone
/// ("Address already in use") does not.
#[derive(Debug, thiserror::Error)]
#[error("could not listen on {addr}")]
pub struct BindError {
    pub addr: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// Binds `addr`; answers the listener and its port (port 0 picks a free one, as tests do).
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, u16), BindError> {
    let failed = |source| BindError { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(failed)?;
    let port = listener.local_addr().map_err(failed)?.port();
    Ok((listener, port))
}

/// Serves `router` on `listener` until `shutdown` is cancelled, letting requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_address_is_named_in_the_error() {
        let (_taken, port) = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let error = bind(addr).await.unwrap_err();
        assert_eq!(error.addr, addr);
        assert_eq!(error.to_string(), format!("could not listen on {addr}"));
        assert_eq!(
            error.source.kind(),
            std::io::ErrorKind::AddrInUse,
            "the system's reason stays the error's source"
        );
    }
}
