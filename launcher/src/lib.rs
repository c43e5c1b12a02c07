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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use serde_json::Value;

    /// Every `cargo run [--release] -p <package>` written in README.md and docs/, by package name.
    fn documented_run_commands(workspace: &Path) -> Vec<String> {
        let mut documents = vec![workspace.join("README.md")];
        for entry in std::fs::read_dir(workspace.join("docs")).unwrap() {
            documents.push(entry.unwrap().path());
        }
        let mut packages = Vec::new();
        for document in documents
            .iter()
            .filter(|p| p.extension() == Some("md".as_ref()))
        {
            let text = std::fs::read_to_string(document).unwrap();
            for (at, _) in text.match_indices("cargo run ") {
                let words: Vec<&str> = text[at..].split_whitespace().take(6).collect();
                if let Some(position) = words.iter().position(|word| *word == "-p") {
                    packages.push(words[position + 1].trim_matches('`').to_owned());
                }
            }
        }
        packages.sort();
        packages.dedup();
        packages
    }

    /// The documented commands name no binary (`cargo run --release -p launcher -- up`, `cargo run -p
    /// api-gateway`), and a package with a second binary (`demo-agent`, `bare-hmac-server`) makes cargo refuse
    /// to guess unless the package says which one `cargo run` means.
    #[test]
    fn every_documented_cargo_run_names_a_package_with_one_binary_to_run() {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let documented = documented_run_commands(workspace);
        assert!(
            documented.contains(&"launcher".to_owned()),
            "README's first command runs the launcher: {documented:?}"
        );

        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .arg("--manifest-path")
            .arg(workspace.join("Cargo.toml"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
        for name in &documented {
            let package = metadata["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|package| package["name"] == name.as_str())
                .unwrap_or_else(|| panic!("the docs run `{name}`, which is not in the workspace"));
            let binaries: Vec<&str> = package["targets"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|target| target["kind"][0] == "bin")
                .filter_map(|target| target["name"].as_str())
                .collect();
            let runs = match binaries.as_slice() {
                [only] => Some(*only),
                _ => package["default_run"].as_str(),
            };
            assert!(
                runs.is_some_and(|binary| binaries.contains(&binary)),
                "`cargo run -p {name}` cannot choose among {binaries:?}: set `default-run`"
            );
        }
    }
}
