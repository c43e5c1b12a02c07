//! The contract between agent-gateway's components: nothing here has business logic.
//!
//! - [`keys`]: every Redis key name, under one configurable prefix.
//! - [`task_id`]: the `task-<uuidv7>` identifier; only a parsed [`TaskId`] becomes a path.
//! - [`envelope`]: the queued task (versioned JSON) and the queue's wire format.
//! - [`events`]: task status events on the `task-events` stream.
//! - [`task_log`]: the per-task log layout and its writer.
//! - [`error`]: the error body every HTTP service answers with.
//! - [`headers`]: header names that travel between components.
//! - [`webhook`]: the api-gateway's answers to providers.

pub mod agent;
pub mod credentials;
pub mod dashboard;
pub mod envelope;
pub mod error;
pub mod events;
pub mod github;
pub mod headers;
pub mod jira;
pub mod keys;
pub mod sentry;
pub mod slack;
pub mod task_id;
pub mod task_log;
pub mod tracking;
pub mod webhook;

pub use envelope::{Actor, Command, Priority, Provider, SourceRef, TaskEnvelope};
pub use error::ErrorBody;
pub use events::{TaskEvent, TaskStatus};
pub use keys::RedisKeys;
pub use task_id::TaskId;
pub use task_log::{LogFile, TaskLogWriter, TaskMetadata};
