//! The acknowledgement the user sees within a second: right after the enqueue, off the request's path,
//! the 👀 reaction on what carried the command (GitHub, Slack) and the task's single tracking message
//! ("working on it", with the dashboard link) through the provider services. `immediate_response` in
//! `02-webhook-flow.jsonl` says how both went; a failure is logged and counted, and the task stays queued
//! (the worker posts the tracking message itself when the gateway could not).

use contracts::{LogFile, Provider, TaskEnvelope};
use serde_json::{Value, json};
use service_kit::trace_context::TraceContext;
use service_kit::tracking::TrackingError;

use crate::state::{AppState, SERVICE_NAME};
use crate::telemetry;

/// The tracking message's step name for the acknowledgement (part of its idempotency key).
pub const TRACKING_STEP: &str = "acknowledged";

/// Acknowledges `envelope` on its provider in a task of its own, so the webhook's answer never waits.
pub fn spawn(state: &AppState, envelope: TaskEnvelope, trace: TraceContext) {
    if !state.settings.acknowledge_tasks {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move { acknowledge(&state, &envelope, &trace).await });
}

async fn acknowledge(state: &AppState, envelope: &TaskEnvelope, trace: &TraceContext) {
    let text = tracking_text(envelope, &state.tracker.task_link(&envelope.task_id));
    let (reaction, tracking) = tokio::join!(
        react(state, envelope, trace),
        state
            .tracker
            .show(envelope, &text, TRACKING_STEP, SERVICE_NAME, trace)
    );
    let provider = envelope.provider;
    let tracking = match tracking {
        Ok((message, posted)) => {
            telemetry::record_acknowledgement(provider, "tracking_message", "done");
            json!({ "outcome": "done", "message": message, "posted": posted })
        }
        Err(error) => {
            telemetry::record_acknowledgement(provider, "tracking_message", "failed");
            tracing::warn!(task_id = %envelope.task_id, %error, "could not post the tracking message; the worker will");
            json!({ "outcome": "failed", "error": error.to_string() })
        }
    };
    let line = json!({ "run": envelope.run, "reaction": reaction, "tracking_message": tracking });
    if let Err(error) = state.logs.append(
        &envelope.task_id,
        LogFile::WebhookFlow,
        "immediate_response",
        line,
    ) {
        telemetry::record_log_write_failure(LogFile::WebhookFlow.file_name());
        tracing::error!(task_id = %envelope.task_id, %error, "could not write immediate_response");
    }
}

/// The 👀 reaction, on the first run only (a retry's command is not the message the envelope names).
async fn react(state: &AppState, envelope: &TaskEnvelope, trace: &TraceContext) -> Value {
    let provider = envelope.provider;
    if envelope.run > 1 {
        telemetry::record_acknowledgement(provider, "reaction", "not_applicable");
        return json!({ "outcome": "not_applicable" });
    }
    match state.tracker.react(envelope, trace).await {
        Ok(true) => {
            telemetry::record_acknowledgement(provider, "reaction", "done");
            json!({ "outcome": "done", "content": "eyes" })
        }
        Ok(false) => {
            telemetry::record_acknowledgement(provider, "reaction", "not_applicable");
            json!({ "outcome": "not_applicable" })
        }
        // A Slack slash command leaves no message to react to.
        Err(TrackingError::NoPlace(missing)) => {
            telemetry::record_acknowledgement(provider, "reaction", "not_applicable");
            json!({ "outcome": "not_applicable", "missing": missing })
        }
        Err(error) => {
            telemetry::record_acknowledgement(provider, "reaction", "failed");
            tracing::warn!(task_id = %envelope.task_id, %error, "could not add the reaction");
            json!({ "outcome": "failed", "error": error.to_string() })
        }
    }
}

/// What the tracking message says until a worker takes the task.
pub fn tracking_text(envelope: &TaskEnvelope, link: &str) -> String {
    let who = match envelope.provider {
        Provider::Github => envelope.actor.login.as_ref().map(|l| format!(" for @{l}")),
        _ => envelope
            .actor
            .display_name
            .as_ref()
            .or(envelope.actor.login.as_ref())
            .map(|name| format!(" for {name}")),
    }
    .unwrap_or_default();
    let headline = if envelope.run > 1 {
        format!(
            "🔁 Retrying: run {} of {}{who} is queued.",
            envelope.run, envelope.command
        )
    } else {
        format!("👀 Working on it: {}{who} is queued.", envelope.command)
    };
    format!("{headline}\nProgress and the full log: {link}")
}
