//! `agw`: run agent-gateway locally, and talk to it.
//!
//! - `agw up` builds every service, starts each as its own process on its documented port with embedded
//!   local defaults (SQLite files and task logs under `./data`, the local Redis, the demo agent), prints
//!   the URLs, and stops everything cleanly on Ctrl-C.
//! - `agw send <provider> <sample> "<text>"` sends a correctly signed sample webhook to the gateway and
//!   prints the task id and its dashboard link.

pub mod local;
pub mod samples;
pub mod send;
pub mod up;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "agw",
    version,
    about = "Run agent-gateway locally and send it sample webhooks"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Build and start every service as a separate process; Ctrl-C stops them all.
    Up {
        /// Where SQLite files, task logs, workspaces and service logs go.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        /// Use binaries that are already built instead of running `cargo build` first.
        #[arg(long)]
        no_build: bool,
    },
    /// Send a correctly signed sample webhook to the gateway.
    Send {
        /// github, slack, jira or sentry.
        provider: String,
        /// Which sample: see `agw send --help` (github: issue-comment, issue-opened; slack: app-mention;
        /// jira: comment-created; sentry: issue-created).
        sample: String,
        /// The comment or message text, e.g. "@agent explain src/main.rs".
        #[arg(default_value = "@agent explain what this repository does")]
        text: String,
        /// The gateway's base URL.
        #[arg(long, env = "GATEWAY_URL", default_value = "http://127.0.0.1:8080")]
        gateway: String,
        /// The webhook secret the gateway was started with (`agw up` uses the local default).
        #[arg(long, env = "WEBHOOK_SECRET", default_value = local::WEBHOOK_SECRET)]
        secret: String,
        /// Where the dashboard is, for the printed link.
        #[arg(
            long,
            env = "DASHBOARD_PUBLIC_URL",
            default_value = "http://127.0.0.1:8090"
        )]
        dashboard: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        CliCommand::Up { data_dir, no_build } => up::run(&data_dir, !no_build).await,
        CliCommand::Send {
            provider,
            sample,
            text,
            gateway,
            secret,
            dashboard,
        } => send::run(&provider, &sample, &text, &gateway, &secret, &dashboard).await,
    }
}
