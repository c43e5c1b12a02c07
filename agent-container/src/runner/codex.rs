//! OpenAI Codex CLI: `codex exec --json --skip-git-repo-check --sandbox workspace-write [--model M] -`, the
//! prompt on stdin.
//!
//! The JSONL stream: `thread.started` (`thread_id`), `turn.started`, `item.started` / `item.updated` /
//! `item.completed` with an `item` whose `type` is `agent_message` or `reasoning` (`text`),
//! `command_execution` (`command`, `aggregated_output`, `exit_code`, `status`), `file_change` (`changes`),
//! `mcp_tool_call` (`server`, `tool`, `arguments`, `result`, `error`), `web_search` (`query`), `todo_list` or
//! `error` (`message`); `turn.completed` with `usage` {`input_tokens`, `cached_input_tokens`,
//! `output_tokens`}; `turn.failed` (`error.message`); `error` (`message`). Codex reports tokens, never a cost.
//! A run succeeds when the process exits 0 after a `turn.completed` and no `turn.failed` or `error`.

use async_trait::async_trait;
use contracts::agent::output_types;
use serde_json::{Value, json};

use super::process::{ProcessSpec, run_contained};
use super::{CliRunner, EventSink, RunRequest, RunResult, RunStatus, result_from_process};

pub struct CodexRunner {
    program: String,
}

impl CodexRunner {
    pub fn new(program: String) -> Self {
        Self { program }
    }

    pub fn arguments(request: &RunRequest) -> Vec<String> {
        let mut args: Vec<String> = [
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            "workspace-write",
        ]
        .map(str::to_owned)
        .to_vec();
        if let Some(model) = &request.model {
            args.extend(["--model".into(), model.clone()]);
        }
        args.push("-".into());
        args
    }
}

#[async_trait]
impl CliRunner for CodexRunner {
    fn name(&self) -> &'static str {
        "codex"
    }

    async fn run(&self, request: RunRequest, sink: &dyn EventSink) -> RunResult {
        let prompt = if request.system_prompt.is_empty() {
            request.prompt.clone()
        } else {
            format!("{}\n\n{}", request.system_prompt, request.prompt)
        };
        let spec = ProcessSpec {
            program: self.program.clone(),
            args: Self::arguments(&request),
            stdin: Some(prompt),
            workdir: request.workdir.clone(),
            env: request.env.clone(),
            timeout: request.limits.timeout,
            cancel: request.cancel.clone(),
            max_output_bytes: request.max_output_bytes,
            status_file: request.status_file.clone(),
        };
        let mut stream = CodexStream::default();
        let outcome = run_contained(spec, |line, _| stream.handle_line(line, sink)).await;
        sink.emit(output_types::PROCESS_EXITED, outcome.log_fields());
        if !stream.turn_completed || stream.failure.is_some() || !outcome.exited_cleanly() {
            let missing = match (&stream.failure, &stream.first_bad_line) {
                (Some(failure), _) => format!("codex reported a failure: {failure}"),
                (None, Some(bad)) => format!("codex's JSONL was malformed ({bad})"),
                (None, None) if stream.turn_completed => "codex exited with an error".to_owned(),
                (None, None) => {
                    "codex's output ended without `turn.completed` (truncated stream)".to_owned()
                }
            };
            let mut result = result_from_process(&outcome, &missing);
            if outcome.stopped.is_none() && outcome.spawn_error.is_none() {
                if stream.failure.is_some() {
                    result.status = RunStatus::AgentFailed;
                } else if stream.first_bad_line.is_some() {
                    result.status = RunStatus::OutputUnreadable;
                }
            }
            stream.fill(&mut result);
            return result;
        }
        let mut result = RunResult::new(RunStatus::Succeeded, outcome.duration);
        stream.fill(&mut result);
        result
    }
}

#[derive(Default)]
struct CodexStream {
    line_number: u64,
    first_bad_line: Option<String>,
    thread_id: Option<String>,
    last_message: Option<String>,
    input_tokens: u64,
    output_tokens: u64,
    turns: u32,
    turn_completed: bool,
    failure: Option<String>,
}

impl CodexStream {
    fn fill(&self, result: &mut RunResult) {
        result.session_id = self.thread_id.clone();
        result.result_text = self.last_message.clone();
        result.input_tokens = self.input_tokens;
        result.output_tokens = self.output_tokens;
        result.turns = Some(self.turns);
    }

    fn handle_line(&mut self, line: &str, sink: &dyn EventSink) {
        self.line_number += 1;
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let event: Value = match serde_json::from_str(line) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) | Err(_) => {
                let reason = format!("line {} is not a JSON object", self.line_number);
                sink.emit(
                    output_types::ERROR,
                    json!({ "source": "worker", "message": format!("unreadable agent output: {reason}") }),
                );
                self.first_bad_line.get_or_insert(reason);
                return;
            }
        };
        match event.get("type").and_then(Value::as_str) {
            Some("thread.started") => {
                self.thread_id = event
                    .get("thread_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                sink.emit(
                    output_types::SESSION_STARTED,
                    json!({ "runner": "codex", "session_id": self.thread_id }),
                );
            }
            Some("turn.started") => self.turns += 1,
            Some("turn.completed") => {
                self.turn_completed = true;
                let usage = event.get("usage");
                let count = |name: &str| {
                    usage
                        .and_then(|u| u.get(name))
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                };
                self.input_tokens += count("input_tokens");
                self.output_tokens += count("output_tokens");
                sink.emit(
                    output_types::RESULT,
                    json!({ "usage": usage, "turns": self.turns }),
                );
            }
            Some("turn.failed") => {
                let message = event
                    .get("error")
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("turn failed")
                    .to_owned();
                sink.emit(
                    output_types::ERROR,
                    json!({ "source": "agent", "message": message }),
                );
                self.failure = Some(message);
            }
            Some("error") => {
                let message = event
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_owned();
                sink.emit(
                    output_types::ERROR,
                    json!({ "source": "agent", "message": message }),
                );
                self.failure = Some(message);
            }
            Some(kind @ ("item.started" | "item.completed")) => {
                if let Some(item) = event.get("item") {
                    self.handle_item(item, kind == "item.completed", sink);
                }
            }
            _ => {}
        }
    }

    fn handle_item(&mut self, item: &Value, completed: bool, sink: &dyn EventSink) {
        let field = |name: &str| item.get(name).cloned().unwrap_or(Value::Null);
        match (item.get("type").and_then(Value::as_str), completed) {
            (Some("agent_message"), true) => {
                self.last_message = item.get("text").and_then(Value::as_str).map(str::to_owned);
                sink.emit(output_types::MESSAGE, json!({ "text": field("text") }));
            }
            (Some("reasoning"), true) => sink.emit(output_types::THINKING, json!({ "text": field("text") })),
            (Some("command_execution"), false) => sink.emit(
                output_types::TOOL_CALL,
                json!({ "id": field("id"), "name": "command_execution", "input": { "command": field("command") } }),
            ),
            (Some("command_execution"), true) => sink.emit(
                output_types::TOOL_RESULT,
                json!({
                    "tool_use_id": field("id"),
                    "content": field("aggregated_output"),
                    "exit_code": field("exit_code"),
                    "is_error": item.get("status").and_then(Value::as_str) == Some("failed"),
                }),
            ),
            (Some("mcp_tool_call"), false) => sink.emit(
                output_types::TOOL_CALL,
                json!({ "id": field("id"), "name": format!("mcp:{}/{}", field("server").as_str().unwrap_or(""), field("tool").as_str().unwrap_or("")), "input": field("arguments") }),
            ),
            (Some("mcp_tool_call"), true) => sink.emit(
                output_types::TOOL_RESULT,
                json!({
                    "tool_use_id": field("id"),
                    "content": field("result"),
                    "is_error": item.get("status").and_then(Value::as_str) == Some("failed"),
                    "error": field("error"),
                }),
            ),
            (Some("file_change"), true) => sink.emit(
                output_types::TOOL_RESULT,
                json!({ "tool_use_id": field("id"), "name": "file_change", "content": field("changes"), "is_error": item.get("status").and_then(Value::as_str) == Some("failed") }),
            ),
            (Some("web_search"), false) => sink.emit(
                output_types::TOOL_CALL,
                json!({ "id": field("id"), "name": "web_search", "input": { "query": field("query") } }),
            ),
            (Some("error"), _) => sink.emit(output_types::ERROR, json!({ "source": "agent", "message": field("message") })),
            _ => {}
        }
    }
}
