//! Why the service could not start.

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not build the Redis pool: {0}")]
    RedisPool(#[from] service_kit::redis::CreatePoolError),
    #[error(transparent)]
    Bind(#[from] service_kit::server::BindError),
    #[error(transparent)]
    Config(#[from] service_kit::configuration::ConfigError),
    #[error("could not create AGENT_WORKDIR {path}: {source}")]
    Workdir {
        path: String,
        source: std::io::Error,
    },
}
