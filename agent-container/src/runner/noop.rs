//! `AGENT_RUNNER=noop`: runs nothing and succeeds at once. For measuring the worker itself (the benchmark);
//! never configure it for real tasks.

use std::time::Instant;

use async_trait::async_trait;
use contracts::agent::output_types;
use serde_json::json;

use super::{CliRunner, EventSink, RunRequest, RunResult, RunStatus};

pub struct NoopRunner;

#[async_trait]
impl CliRunner for NoopRunner {
    fn name(&self) -> &'static str {
        "noop"
    }

    async fn run(&self, _request: RunRequest, sink: &dyn EventSink) -> RunResult {
        let started = Instant::now();
        sink.emit(
            output_types::MESSAGE,
            json!({ "text": "noop runner: nothing was run" }),
        );
        let mut result = RunResult::new(RunStatus::Succeeded, started.elapsed());
        result.result_text = Some("noop".to_owned());
        result
    }
}
