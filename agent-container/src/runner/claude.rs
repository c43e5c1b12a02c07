//! Claude Code: `claude -p <prompt> --output-format stream-json --verbose …`.
//!
//! The stream: `system`/`init` (session id, model, tools); `assistant` messages with content blocks `text`,
//! `thinking`, `tool_use`; `user` messages with `tool_result` blocks; a final `result` with `subtype`,
//! `is_error`, `result`, `total_cost_usd` (older CLIs: `cost_usd`), `usage`, `num_turns`, `duration_ms`,
//! `session_id`. A run succeeds only when that result says `subtype == "success"` and `is_error == false`.

use async_trait::async_trait;
use contracts::agent::output_types;
use serde_json::{Value, json};

use super::process::{ProcessSpec, run_contained};
use super::{CliRunner, EventSink, RunRequest, RunResult, RunStatus, result_from_process};

pub struct ClaudeRunner {
    program: String,
}

impl ClaudeRunner {
    pub fn new(program: String) -> Self {
        Self { program }
    }

    /// The command line, prompt first (`-p` takes no value; the prompt is the positional argument).
    pub fn arguments(request: &RunRequest) -> Vec<String> {
        let limits = &request.limits;
        let mut args = vec![
            "-p".to_owned(),
            request.prompt.clone(),
            "--output-format".into(),
            "stream-json".into(),
            "--verbose".into(),
            "--max-turns".into(),
            limits.max_turns.to_string(),
            "--max-budget-usd".into(),
            format!("{}", limits.max_budget_usd),
            "--permission-mode".into(),
            limits.permission_mode.clone(),
        ];
        if let Some(model) = &request.model {
            args.extend(["--model".into(), model.clone()]);
        }
        if !limits.allowed_tools.is_empty() {
            args.extend(["--allowedTools".into(), limits.allowed_tools.join(",")]);
        }
        if !request.system_prompt.is_empty() {
            args.extend([
                "--append-system-prompt".into(),
                request.system_prompt.clone(),
            ]);
        }
        args
    }
}

#[async_trait]
impl CliRunner for ClaudeRunner {
    fn name(&self) -> &'static str {
        "claude"
    }

    async fn run(&self, request: RunRequest, sink: &dyn EventSink) -> RunResult {
        let spec = ProcessSpec {
            program: self.program.clone(),
            args: Self::arguments(&request),
            stdin: None,
            workdir: request.workdir.clone(),
            env: request.env.clone(),
            timeout: request.limits.timeout,
            cancel: request.cancel.clone(),
            max_output_bytes: request.max_output_bytes,
            status_file: request.status_file.clone(),
        };
        let mut stream = ClaudeStream::default();
        let outcome = run_contained(spec, |line, truncated| {
            stream.handle_line(line, truncated, sink)
        })
        .await;
        sink.emit(output_types::PROCESS_EXITED, outcome.log_fields());
        let Some(final_result) = stream.result.take() else {
            let missing = match &stream.first_bad_line {
                Some(bad) => format!(
                    "the agent's stream-json was malformed ({bad}) and ended without a result"
                ),
                None => "the agent's output ended without a `result` event (truncated stream)"
                    .to_owned(),
            };
            let mut result = result_from_process(&outcome, &missing);
            if stream.first_bad_line.is_some() && result.status == RunStatus::ProcessFailed {
                result.status = RunStatus::OutputUnreadable;
            }
            result.session_id = stream.session_id;
            result.model = stream.model;
            return result;
        };
        let mut result = RunResult::new(RunStatus::Succeeded, outcome.duration);
        let field = |name: &str| final_result.get(name);
        let subtype = field("subtype")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let is_error = field("is_error").and_then(Value::as_bool).unwrap_or(true);
        result.result_text = field("result").and_then(Value::as_str).map(str::to_owned);
        result.cost_usd = field("total_cost_usd")
            .or_else(|| field("cost_usd"))
            .and_then(Value::as_f64);
        if let Some(usage) = field("usage") {
            let count = |name: &str| usage.get(name).and_then(Value::as_u64).unwrap_or(0);
            result.input_tokens = count("input_tokens")
                + count("cache_creation_input_tokens")
                + count("cache_read_input_tokens");
            result.output_tokens = count("output_tokens");
        }
        result.turns = field("num_turns").and_then(Value::as_u64).map(|n| n as u32);
        result.session_id = field("session_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or(stream.session_id);
        result.model = stream.model;
        if let Some(stop) = outcome.stopped {
            result.status = stop.status();
            result.error = Some(stop.describe(&outcome));
        } else if subtype != "success" || is_error {
            result.status = RunStatus::AgentFailed;
            let detail = field("errors")
                .and_then(Value::as_array)
                .map(|errors| {
                    errors
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .filter(|s| !s.is_empty())
                .or_else(|| result.result_text.clone());
            result.error = Some(match detail {
                Some(detail) => {
                    format!("the agent reported `{subtype}` (is_error: {is_error}): {detail}")
                }
                None => format!("the agent reported `{subtype}` (is_error: {is_error})"),
            });
        }
        result
    }
}

/// What the parser keeps between lines.
#[derive(Default)]
struct ClaudeStream {
    line_number: u64,
    first_bad_line: Option<String>,
    session_id: Option<String>,
    model: Option<String>,
    result: Option<Value>,
}

impl ClaudeStream {
    fn handle_line(&mut self, line: &str, truncated: bool, sink: &dyn EventSink) {
        self.line_number += 1;
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let event: Value = match serde_json::from_str(line) {
            Ok(Value::Object(map)) => Value::Object(map),
            Ok(_) | Err(_) => {
                let reason = match serde_json::from_str::<Value>(line) {
                    Err(e) if truncated => format!(
                        "line {} was cut at {} bytes: {e}",
                        self.line_number,
                        line.len()
                    ),
                    Err(e) => format!("line {} is not JSON: {e}", self.line_number),
                    Ok(_) => format!("line {} is not a JSON object", self.line_number),
                };
                sink.emit(
                    output_types::ERROR,
                    json!({ "source": "worker", "message": format!("unreadable agent output: {reason}"), "line": preview(line) }),
                );
                self.first_bad_line.get_or_insert(reason);
                return;
            }
        };
        match event.get("type").and_then(Value::as_str) {
            Some("system") if event.get("subtype").and_then(Value::as_str) == Some("init") => {
                self.session_id = event
                    .get("session_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                self.model = event
                    .get("model")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                sink.emit(
                    output_types::SESSION_STARTED,
                    json!({
                        "runner": "claude",
                        "session_id": self.session_id,
                        "model": self.model,
                        "tools": event.get("tools"),
                        "permission_mode": event.get("permissionMode"),
                    }),
                );
            }
            Some("assistant") => {
                for block in content_blocks(&event) {
                    match block.get("type").and_then(Value::as_str) {
                        Some("text") => sink.emit(output_types::MESSAGE, json!({ "text": block.get("text") })),
                        Some("thinking") => {
                            sink.emit(output_types::THINKING, json!({ "text": block.get("thinking") }));
                        }
                        Some("tool_use") => sink.emit(
                            output_types::TOOL_CALL,
                            json!({ "id": block.get("id"), "name": block.get("name"), "input": block.get("input") }),
                        ),
                        _ => {}
                    }
                }
            }
            Some("user") => {
                for block in content_blocks(&event) {
                    if block.get("type").and_then(Value::as_str) == Some("tool_result") {
                        sink.emit(
                            output_types::TOOL_RESULT,
                            json!({
                                "tool_use_id": block.get("tool_use_id"),
                                "content": flatten_content(block.get("content")),
                                "is_error": block.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                            }),
                        );
                    }
                }
            }
            Some("result") => {
                sink.emit(
                    output_types::RESULT,
                    json!({
                        "subtype": event.get("subtype"),
                        "is_error": event.get("is_error"),
                        "cost_usd": event.get("total_cost_usd").or_else(|| event.get("cost_usd")),
                        "num_turns": event.get("num_turns"),
                        "duration_ms": event.get("duration_ms"),
                        "usage": event.get("usage"),
                        "result": event.get("result"),
                    }),
                );
                if event
                    .get("is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    sink.emit(
                        output_types::ERROR,
                        json!({ "source": "agent", "message": event.get("result").or_else(|| event.get("subtype")) }),
                    );
                }
                self.result = Some(event);
            }
            _ => {}
        }
    }
}

fn content_blocks(event: &Value) -> impl Iterator<Item = &Value> {
    event
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A tool result's content as text: a string, or the text of its blocks.
fn flatten_content(content: Option<&Value>) -> Value {
    match content {
        Some(Value::String(text)) => Value::String(text.clone()),
        Some(Value::Array(blocks)) => Value::String(
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

fn preview(line: &str) -> String {
    line.chars().take(200).collect()
}
