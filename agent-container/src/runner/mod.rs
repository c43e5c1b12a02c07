//! The `CliRunner` trait (the issue's `CLIRunner`) and its runners, one file each.
//!
//! A runner turns a [`RunRequest`] into a command line, runs it through [`process::run_contained`]
//! (own process group, cleared environment, capped output, timeout and cancel), parses the output stream line
//! by line into [`EventSink`] events while the process runs, and reports a [`RunResult`].
//! Adding a runner: one new file implementing [`CliRunner`], one arm in [`build_runner`], one name in
//! [`RunnerKind`](crate::configuration::RunnerKind).

pub mod claude;
pub mod codex;
pub mod command;
pub mod noop;
pub mod process;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::configuration::{RunnerKind, Settings};

/// Where a runner reports what the agent does (`04-agent-output.jsonl`, redacted).
pub trait EventSink: Send + Sync {
    /// `kind` is one of [`contracts::agent::output_types`]; `fields` an object.
    fn emit(&self, kind: &str, fields: Value);
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub max_turns: u32,
    pub max_budget_usd: f64,
    pub timeout: Duration,
    pub allowed_tools: Vec<String>,
    pub permission_mode: String,
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub prompt: String,
    pub system_prompt: String,
    pub workdir: PathBuf,
    pub model: Option<String>,
    pub limits: Limits,
    /// The agent's whole environment (nothing of the worker's is inherited).
    pub env: Vec<(String, String)>,
    /// Where the containment supervisor leaves the agent's exit status.
    pub status_file: PathBuf,
    pub max_output_bytes: u64,
    /// Cancelled when the task is cancelled, its lease is lost or the worker stops.
    pub cancel: CancellationToken,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Succeeded,
    /// The agent ran and reported failure (error result, max turns, budget): retrying would not help.
    AgentFailed,
    /// The process could not start, crashed, or its output stopped short: worth another attempt.
    ProcessFailed,
    /// The output was not in the runner's format: another attempt would read the same.
    OutputUnreadable,
    TimedOut,
    Cancelled,
    OutputLimitExceeded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    pub status: RunStatus,
    pub result_text: Option<String>,
    pub error: Option<String>,
    pub cost_usd: Option<f64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub duration: Duration,
    pub turns: Option<u32>,
    pub session_id: Option<String>,
    /// The model the agent reported using, when it did.
    pub model: Option<String>,
}

impl RunResult {
    pub fn new(status: RunStatus, duration: Duration) -> Self {
        Self {
            status,
            result_text: None,
            error: None,
            cost_usd: None,
            input_tokens: 0,
            output_tokens: 0,
            duration,
            turns: None,
            session_id: None,
            model: None,
        }
    }

    pub fn success(&self) -> bool {
        self.status == RunStatus::Succeeded
    }
}

#[async_trait]
pub trait CliRunner: Send + Sync {
    /// The name written into `06-final-result.json` (`claude`, `codex`, …).
    fn name(&self) -> &'static str;

    async fn run(&self, request: RunRequest, sink: &dyn EventSink) -> RunResult;
}

/// The runner `AGENT_RUNNER` names.
pub fn build_runner(settings: &Settings) -> Arc<dyn CliRunner> {
    match settings.runner {
        RunnerKind::Claude => Arc::new(claude::ClaudeRunner::new(settings.claude_bin.clone())),
        RunnerKind::Codex => Arc::new(codex::CodexRunner::new(settings.codex_bin.clone())),
        RunnerKind::Command => Arc::new(command::CommandRunner::new(
            settings
                .command_bin
                .clone()
                .expect("validated by Settings::from_env"),
            settings.command_args.clone(),
        )),
        RunnerKind::Noop => Arc::new(noop::NoopRunner),
    }
}

/// The process-level ending turned into a result when the stream itself did not decide it.
pub(crate) fn result_from_process(
    outcome: &process::ProcessOutcome,
    what_was_missing: &str,
) -> RunResult {
    let mut result = RunResult::new(RunStatus::ProcessFailed, outcome.duration);
    if let Some(stop) = outcome.stopped {
        result.status = stop.status();
        result.error = Some(stop.describe(outcome));
        return result;
    }
    result.error = Some(match &outcome.spawn_error {
        Some(error) => error.clone(),
        None => format!("{what_was_missing} ({})", outcome.describe_exit()),
    });
    result
}
