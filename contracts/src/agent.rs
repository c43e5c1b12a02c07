//! What agent-container tells others: its `/status` answer and the event types of `04-agent-output.jsonl`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::envelope::{Command, Priority};
use crate::task_id::TaskId;

/// The `type` of a line in `04-agent-output.jsonl`.
pub mod output_types {
    /// The agent process started: runner, model, session id when known.
    pub const SESSION_STARTED: &str = "session_started";
    /// Text the agent wrote (`text`).
    pub const MESSAGE: &str = "message";
    /// The agent's visible reasoning (`text`).
    pub const THINKING: &str = "thinking";
    /// A tool the agent called (`id`, `name`, `input`).
    pub const TOOL_CALL: &str = "tool_call";
    /// What a tool returned (`tool_use_id`, `content`, `is_error`).
    pub const TOOL_RESULT: &str = "tool_result";
    /// Something went wrong (`message`), from the agent or from reading its output.
    pub const ERROR: &str = "error";
    /// The agent's own final report (`subtype`, `is_error`, `cost_usd`, tokens, turns).
    pub const RESULT: &str = "result";
    /// The process ended (`exit_code`, `signal`, `stderr_tail`, `stdout_bytes`, `stopped` when the worker stopped it).
    pub const PROCESS_EXITED: &str = "process_exited";
}

/// What a worker slot is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    Idle,
    Running,
}

/// One of a container's `AGENT_CONCURRENCY` slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlotStatus {
    pub slot: usize,
    pub state: SlotState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
}

/// agent-container's `GET /status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerStatus {
    /// The worker id written into `worker_assigned` and task events.
    pub worker_id: String,
    /// The configured runner (`claude`, `codex`, `command`, `noop`).
    pub runner: String,
    /// False once shutdown began: no new task is taken.
    pub accepting: bool,
    pub slots: Vec<SlotStatus>,
}
