//! The gateway's metrics, named in one place.

use std::time::Duration;

use contracts::Provider;
use service_kit::queue::TaskQueue;

pub const WEBHOOKS_TOTAL: &str = "gateway_webhooks_total";
pub const WEBHOOKS_IGNORED_TOTAL: &str = "gateway_webhooks_ignored_total";
pub const WEBHOOK_DURATION_SECONDS: &str = "gateway_webhook_duration_seconds";
pub const LOG_WRITE_FAILURES_TOTAL: &str = "gateway_task_log_write_failures_total";
pub const QUEUE_LENGTH: &str = "gateway_task_queue_length";
pub const ACKNOWLEDGEMENTS_TOTAL: &str = "gateway_acknowledgements_total";
pub const PERMISSION_CHECKS_TOTAL: &str = "gateway_permission_checks_total";
pub const CONTROL_COMMANDS_TOTAL: &str = "gateway_control_commands_total";

/// One answered delivery: its provider, outcome (`queued`, `duplicate`, `ignored`, `challenge`,
/// `unauthorized`, `invalid`, `unavailable`) and how long it took.
pub fn record_webhook(provider: Provider, outcome: &'static str, elapsed: Duration) {
    metrics::counter!(WEBHOOKS_TOTAL, "provider" => provider.as_str(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!(WEBHOOK_DURATION_SECONDS, "provider" => provider.as_str(), "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

pub fn record_ignored(provider: Provider, reason: &'static str) {
    metrics::counter!(WEBHOOKS_IGNORED_TOTAL, "provider" => provider.as_str(), "reason" => reason)
        .increment(1);
}

pub fn record_log_write_failure(file: &'static str) {
    metrics::counter!(LOG_WRITE_FAILURES_TOTAL, "file" => file).increment(1);
}

/// One part of an acknowledgement (`reaction` or `tracking_message`) and how it went (`done`, `failed`,
/// `not_applicable`).
pub fn record_acknowledgement(provider: Provider, part: &'static str, outcome: &'static str) {
    metrics::counter!(ACKNOWLEDGEMENTS_TOTAL, "provider" => provider.as_str(), "part" => part, "outcome" => outcome)
        .increment(1);
}

/// A repository-permission question to github-service: `write`, `no_write` or `unavailable`.
pub fn record_permission_check(outcome: &'static str) {
    metrics::counter!(PERMISSION_CHECKS_TOTAL, "outcome" => outcome).increment(1);
}

/// `@agent cancel` / `@agent retry` and what became of it (`cancel_requested`, `requeued`, or the ignore reason).
pub fn record_control(provider: Provider, command: &'static str, outcome: &'static str) {
    metrics::counter!(CONTROL_COMMANDS_TOTAL, "provider" => provider.as_str(), "command" => command, "outcome" => outcome)
        .increment(1);
}

/// Refreshes the queue-length gauges every `interval` until the process ends.
pub async fn publish_queue_lengths(queue: TaskQueue, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        match queue.depths().await {
            Ok(depths) => {
                for (priority, waiting) in depths.waiting {
                    metrics::gauge!(QUEUE_LENGTH, "state" => "waiting", "priority" => priority.as_str())
                        .set(waiting as f64);
                }
                metrics::gauge!(QUEUE_LENGTH, "state" => "in_flight").set(depths.in_flight as f64);
                metrics::gauge!(QUEUE_LENGTH, "state" => "delayed").set(depths.delayed as f64);
                metrics::gauge!(QUEUE_LENGTH, "state" => "dead_lettered")
                    .set(depths.dead_lettered as f64);
            }
            Err(error) => tracing::warn!(%error, "could not read the queue length"),
        }
    }
}
