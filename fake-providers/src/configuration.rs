//! Settings from the command line or the environment (every flag has an environment variable).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:9100";

/// Fake GitHub, Slack, Jira and Sentry APIs for local runs and end-to-end tests.
#[derive(Debug, Clone, Parser)]
#[command(name = "fake-providers", version)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BIND_ADDR", default_value = DEFAULT_BIND_ADDR)]
    pub bind_addr: SocketAddr,
    /// Where the bare git repositories live; kept across restarts. Without it, a temporary directory
    /// removed at exit.
    #[arg(long, env = "FAKE_PROVIDERS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The git executable whose `http-backend` serves the repositories.
    #[arg(long, env = "FAKE_PROVIDERS_GIT", default_value = "git")]
    pub git: PathBuf,
}

impl Settings {
    /// Settings for a test: a free port, a temporary data directory, `git` from `PATH`.
    pub fn for_tests() -> Self {
        Self {
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: None,
            git: PathBuf::from("git"),
        }
    }
}
