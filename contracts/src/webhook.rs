//! What the api-gateway answers a provider's webhook delivery with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::task_id::TaskId;

/// A 2xx answer to a webhook delivery (202 for `queued` and `requeued`, 200 for the others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WebhookAnswer {
    /// A new task is on the queue.
    Queued { task_id: TaskId },
    /// This delivery was seen before; `task_id` is the task it created.
    Duplicate { task_id: TaskId },
    /// The delivery is valid but starts no task; `reason` says why (e.g. `not_a_command`, `untrusted_actor`).
    Ignored { reason: String },
    /// `@agent cancel` (200): the conversation's running or queued task `task_id` was asked to stop.
    CancelRequested { task_id: TaskId },
    /// `@agent retry` (202): the conversation's latest failed task `task_id` is queued again, its run raised.
    Requeued { task_id: TaskId },
}
