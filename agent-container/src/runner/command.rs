//! `AGENT_RUNNER=command`: any executable (`AGENT_COMMAND`, arguments `AGENT_COMMAND_ARGS`), the prompt on
//! stdin, the exit code deciding success.
//!
//! Output may be plain text (each line becomes a `message`) or JSON lines: an object with a `type` among
//! `message`, `thinking`, `tool_call`, `tool_result`, `error` is logged as that event; an object with
//! `"type": "result"` may carry `result` (the final text), `cost_usd`, `input_tokens`, `output_tokens`,
//! `session_id`. Without a `result` line, the final text is the plain output (its last 64 KiB).

use async_trait::async_trait;
use contracts::agent::output_types;
use serde_json::{Value, json};

use super::process::{ProcessSpec, run_contained};
use super::{CliRunner, EventSink, RunRequest, RunResult, RunStatus, result_from_process};

/// How much plain output is kept as the final text.
const MAX_PLAIN_RESULT_BYTES: usize = 64 * 1024;

const PASSED_THROUGH_TYPES: [&str; 5] = [
    output_types::MESSAGE,
    output_types::THINKING,
    output_types::TOOL_CALL,
    output_types::TOOL_RESULT,
    output_types::ERROR,
];

pub struct CommandRunner {
    program: String,
    args: Vec<String>,
}

impl CommandRunner {
    pub fn new(program: String, args: Vec<String>) -> Self {
        Self { program, args }
    }
}

#[async_trait]
impl CliRunner for CommandRunner {
    fn name(&self) -> &'static str {
        "command"
    }

    async fn run(&self, request: RunRequest, sink: &dyn EventSink) -> RunResult {
        let spec = ProcessSpec {
            program: self.program.clone(),
            args: self.args.clone(),
            stdin: Some(request.prompt.clone()),
            workdir: request.workdir.clone(),
            env: request.env.clone(),
            timeout: request.limits.timeout,
            cancel: request.cancel.clone(),
            max_output_bytes: request.max_output_bytes,
            status_file: request.status_file.clone(),
        };
        sink.emit(
            output_types::SESSION_STARTED,
            json!({ "runner": "command", "program": self.program }),
        );
        let mut plain = String::new();
        let mut reported: Option<Value> = None;
        let outcome = run_contained(spec, |line, _| {
            if line.trim().is_empty() {
                return;
            }
            let parsed: Option<Value> = serde_json::from_str(line.trim()).ok();
            let kind = parsed
                .as_ref()
                .and_then(|v| v.get("type"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            match (parsed, kind.as_deref()) {
                (Some(value), Some("result")) => {
                    sink.emit(output_types::RESULT, value.clone());
                    reported = Some(value);
                }
                (Some(Value::Object(mut fields)), Some(kind))
                    if PASSED_THROUGH_TYPES.contains(&kind) =>
                {
                    fields.remove("type");
                    sink.emit(kind, Value::Object(fields));
                }
                _ => {
                    sink.emit(output_types::MESSAGE, json!({ "text": line }));
                    plain.push_str(line);
                    plain.push('\n');
                    if plain.len() > 2 * MAX_PLAIN_RESULT_BYTES {
                        let mut cut = plain.len() - MAX_PLAIN_RESULT_BYTES;
                        while !plain.is_char_boundary(cut) {
                            cut += 1;
                        }
                        plain.drain(..cut);
                    }
                }
            }
        })
        .await;
        sink.emit(output_types::PROCESS_EXITED, outcome.log_fields());
        let mut result = if outcome.exited_cleanly() {
            RunResult::new(RunStatus::Succeeded, outcome.duration)
        } else {
            result_from_process(&outcome, "the command failed")
        };
        let field = |name: &str| reported.as_ref().and_then(|r| r.get(name));
        result.result_text = field("result")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                let text = plain.trim_end();
                let start = text.len().saturating_sub(MAX_PLAIN_RESULT_BYTES);
                let start = (start..=text.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                (!text.is_empty()).then(|| text[start..].to_owned())
            });
        result.cost_usd = field("cost_usd").and_then(Value::as_f64);
        result.input_tokens = field("input_tokens").and_then(Value::as_u64).unwrap_or(0);
        result.output_tokens = field("output_tokens").and_then(Value::as_u64).unwrap_or(0);
        result.session_id = field("session_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        result
    }
}
