use std::sync::Arc;
use std::time::Duration;

use contracts::TaskLogWriter;
use service_kit::queue::TaskQueue;
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::index::TaskIndex;
use crate::logs::TaskLogs;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub index: TaskIndex,
    pub logs: TaskLogs,
    /// Writes `requeued` lines when the dashboard re-queues a task.
    pub log_writer: TaskLogWriter,
    pub queue: TaskQueue,
    pub access: Access,
    pub sse_poll_interval: Duration,
    /// Cancelled when the service stops: live streams end with it.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
