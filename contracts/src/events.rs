//! Task status events on the `task-events` stream (field `event`, JSON).
//! The gateway publishes `queued`; workers publish every later status; the dashboard indexes them.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::envelope::{Command, Provider, TaskEnvelope};
use crate::task_id::TaskId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    DeadLettered,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::DeadLettered,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::DeadLettered => "dead_lettered",
            Self::Cancelled => "cancelled",
        }
    }

    /// No further status follows unless the task is re-queued.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::DeadLettered | Self::Cancelled
        )
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TaskStatus {
    type Err = crate::envelope::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| crate::envelope::UnknownName(s.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskEvent {
    pub task_id: TaskId,
    pub status: TaskStatus,
    pub timestamp: DateTime<Utc>,
    pub provider: Provider,
    pub command: Command,
    pub conversation_key: String,
    /// The worker that holds the task, for statuses a worker publishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u32>,
}

impl TaskEvent {
    /// An event about `envelope`, stamped now, without worker details.
    pub fn for_envelope(envelope: &TaskEnvelope, status: TaskStatus) -> Self {
        Self {
            task_id: envelope.task_id,
            status,
            timestamp: Utc::now(),
            provider: envelope.provider,
            command: envelope.command,
            conversation_key: envelope.conversation_key.clone(),
            worker: None,
            attempt: None,
            run: Some(envelope.run),
        }
    }

    pub fn with_worker(mut self, worker: impl Into<String>, attempt: u32) -> Self {
        self.worker = Some(worker.into());
        self.attempt = Some(attempt);
        self
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a task event always serializes")
    }
}
