//! Header names carried on every HTTP call between components.

/// The task an inter-service call belongs to; the callee appends its log lines to this task.
pub const TASK_ID: &str = "x-task-id";
/// W3C trace context (`00-<trace-id>-<span-id>-<flags>`).
pub const TRACEPARENT: &str = "traceparent";
/// Repeats of a request with the same key get the first answer; the provider is called once.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
