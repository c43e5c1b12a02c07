//! Why the service could not start.

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not build the Redis pool: {0}")]
    RedisPool(#[from] service_kit::redis::CreatePoolError),
    #[error("could not bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] service_kit::configuration::ConfigError),
    #[error("could not create AGENT_WORKDIR {path}: {source}")]
    Workdir {
        path: String,
        source: std::io::Error,
    },
}
