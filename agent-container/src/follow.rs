//! What the person who asked sees: the task's single tracking message (through `service_kit::tracking::Tracker`)
//! updated in place as the task moves (started, a rate-limited live summary, waiting, the final answer), and
//! the final answer retried while its provider service is down, never posted twice.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contracts::agent::output_types;
use contracts::events::TaskStatus;
use contracts::task_log::{LogFile, TaskLogWriter};
use contracts::tracking::{fit_to_limit, message_limit};
use contracts::{TaskEnvelope, TaskId};
use serde_json::{Value, json};
use service_kit::service_client::ServiceClient;
use service_kit::trace_context::TraceContext;
use service_kit::tracking::{Tracker, TrackingError};

use crate::execution::TaskRun;
use crate::redact::Redactor;
use crate::runner::{EventSink, RunStatus};

/// Room kept for the answer's header and footer when the result text is cut to the provider's limit.
const ANSWER_FRAME_CHARS: usize = 2_000;
/// The live summary is one line of at most this many characters.
const SUMMARY_CHARS: usize = 160;
const FIRST_ANSWER_RETRY: Duration = Duration::from_secs(1);
const LONGEST_ANSWER_RETRY: Duration = Duration::from_secs(30);

pub struct FollowUp {
    pub tracker: Tracker,
    pub logs: TaskLogWriter,
    /// Whose claim a post is (`AGENT_WORKER_ID`).
    pub poster: String,
    pub answer_retry_for: Duration,
}

impl FollowUp {
    pub fn client(&self) -> &ServiceClient {
        self.tracker.client()
    }

    pub fn task_link(&self, task_id: &TaskId) -> String {
        self.tracker.task_link(task_id)
    }

    /// Shows `text` in the tracking message; a failure is logged and otherwise ignored (a later update or the
    /// final answer shows the state again).
    pub async fn show(&self, envelope: &TaskEnvelope, text: &str, step: &str) {
        let trace = TraceContext::new_root();
        if let Err(e) = self
            .tracker
            .show(envelope, text, step, &self.poster, &trace)
            .await
        {
            self.log(
                &envelope.task_id,
                LogFile::MicroservicesFlow,
                "tracking_update_failed",
                json!({ "step": step, "error": e.to_string() }),
            );
        }
    }

    /// Shows the final answer, retrying with backoff for `AGENT_ANSWER_RETRY_FOR` while the provider service
    /// cannot take it. Every try carries the same idempotency key (the step and the run), so the answer is
    /// posted once however often it is tried, by this worker or by one that reclaimed the task.
    /// `on_pending` is told each failed try (the error), e.g. to say so in the task's status.
    pub async fn answer(
        &self,
        envelope: &TaskEnvelope,
        text: &str,
        step: &str,
        on_pending: impl Fn(&str),
    ) -> bool {
        let task_id = &envelope.task_id;
        let started = Instant::now();
        let mut wait = FIRST_ANSWER_RETRY;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let trace = TraceContext::new_root();
            let error = match self
                .tracker
                .show(envelope, text, step, &self.poster, &trace)
                .await
            {
                Ok((_, posted)) => {
                    self.log(
                        task_id,
                        LogFile::MicroservicesFlow,
                        "answer_posted",
                        json!({ "step": step, "tries": tries, "new_message": posted }),
                    );
                    return true;
                }
                Err(e) => e,
            };
            let left = self.answer_retry_for.saturating_sub(started.elapsed());
            if !is_transient(&error) || left.is_zero() {
                let fields = json!({ "step": step, "tries": tries, "error": error.to_string() });
                self.log(
                    task_id,
                    LogFile::MicroservicesFlow,
                    "answer_failed",
                    fields.clone(),
                );
                self.log(task_id, LogFile::QueueFlow, "answer_failed", fields);
                return false;
            }
            let next = wait.min(left);
            let fields = json!({
                "step": step, "tries": tries, "error": error.to_string(),
                "retry_in_ms": next.as_millis() as u64, "gives_up_in_ms": left.as_millis() as u64,
            });
            self.log(
                task_id,
                LogFile::MicroservicesFlow,
                "answer_pending",
                fields.clone(),
            );
            self.log(task_id, LogFile::QueueFlow, "answer_pending", fields);
            on_pending(&error.to_string());
            tokio::time::sleep(next).await;
            wait = (wait * 2).min(LONGEST_ANSWER_RETRY);
        }
    }

    fn log(&self, task_id: &TaskId, file: LogFile, kind: &str, fields: Value) {
        if let Err(e) = self.logs.append(task_id, file, kind, fields) {
            tracing::warn!(%task_id, error = %e, "could not append to the task log");
        }
    }
}

fn is_transient(error: &TrackingError) -> bool {
    match error {
        TrackingError::Call(e) => e.is_transient(),
        TrackingError::Redis(_) => true,
        TrackingError::NoPlace(_) | TrackingError::NoMessageId => false,
    }
}

fn request_line(envelope: &TaskEnvelope) -> String {
    let instruction = envelope.instruction.trim();
    if instruction.is_empty() {
        format!("`@agent {}`", envelope.command)
    } else {
        format!(
            "`@agent {}` {}",
            envelope.command,
            one_line(instruction, SUMMARY_CHARS)
        )
    }
}

pub fn started_text(envelope: &TaskEnvelope, link: &str) -> String {
    format!(
        "⏳ Working on {}.\n\nFollow along: {link}",
        request_line(envelope)
    )
}

pub fn progress_text(envelope: &TaskEnvelope, summary: &str, link: &str) -> String {
    format!(
        "⏳ Working on {}.\n\nNow: {summary}\n\nFollow along: {link}",
        request_line(envelope)
    )
}

pub fn waiting_text(envelope: &TaskEnvelope, behind: &str, link: &str) -> String {
    format!(
        "⏸️ Queued {}: waiting for the task already running in this conversation ({behind}) to finish.\n\nTask log: {link}",
        request_line(envelope)
    )
}

/// The tracking step of a task's last word.
pub fn final_step(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Succeeded => "final",
        TaskStatus::Cancelled => "cancelled",
        _ => "failed",
    }
}

/// The final answer: what was done or what went wrong (in plain words), the result, the numbers, the links.
pub fn final_text(
    envelope: &TaskEnvelope,
    status: TaskStatus,
    attempts: u32,
    run: &TaskRun,
    link: &str,
) -> String {
    let result = &run.result;
    let mut text = match status {
        TaskStatus::Succeeded => format!("✅ Done: {}.", request_line(envelope)),
        TaskStatus::Cancelled => format!(
            "🛑 Cancelled: {} was stopped before it finished.",
            request_line(envelope)
        ),
        _ => format!(
            "❌ {} did not finish: {}.",
            request_line(envelope),
            failure_in_words(status, attempts, run)
        ),
    };
    if let Some(answer) = result.result_text.as_deref().map(str::trim)
        && !answer.is_empty()
        && status == TaskStatus::Succeeded
    {
        let room = message_limit(envelope.provider).saturating_sub(ANSWER_FRAME_CHARS);
        text.push_str("\n\n");
        text.push_str(&fit_to_limit(answer, room, link));
    }
    if let Some(url) = &run.pull_request {
        text.push_str(&format!("\n\nPull request: {url}"));
    } else if let Some(note) = &run.note {
        text.push_str(&format!("\n\nNote: {note}"));
    }
    let mut numbers = vec![format!("took {}", human_duration(result.duration))];
    if let Some(cost) = result.cost_usd {
        numbers.push(format!("cost ${cost:.4}"));
    }
    if result.input_tokens + result.output_tokens > 0 {
        numbers.push(format!(
            "{} input / {} output tokens",
            result.input_tokens, result.output_tokens
        ));
    }
    text.push_str(&format!("\n\n{} · full log: {link}", numbers.join(" · ")));
    text
}

fn failure_in_words(status: TaskStatus, attempts: u32, run: &TaskRun) -> String {
    let error = run
        .result
        .error
        .as_deref()
        .map(|e| one_line(e, 300))
        .unwrap_or_else(|| "no reason was given".to_owned());
    if let Some(reason) = &run.refused {
        return format!("it was refused ({})", one_line(reason, 300));
    }
    if status == TaskStatus::DeadLettered {
        return format!("it crashed {attempts} times and was given up (last error: {error})");
    }
    match run.result.status {
        RunStatus::TimedOut => format!("it ran out of time and was stopped ({error})"),
        RunStatus::OutputLimitExceeded => {
            "the agent wrote far more output than allowed and was stopped".to_owned()
        }
        RunStatus::OutputUnreadable => format!("the agent's output could not be read ({error})"),
        RunStatus::AgentFailed => format!("the agent reported an error ({error})"),
        _ => format!("the agent could not run ({error})"),
    }
}

fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        format!(
            "{} min {} s",
            duration.as_secs() / 60,
            duration.as_secs() % 60
        )
    }
}

fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= limit {
        flat
    } else {
        let cut: String = flat.chars().take(limit.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Keeps the latest one-line summary of what the agent is doing, from the events it emits.
#[derive(Clone, Default)]
pub struct LiveSummary(Arc<Mutex<Option<String>>>);

impl LiveSummary {
    pub fn observe(&self, kind: &str, fields: &Value, redactor: &Redactor) {
        let summary = match kind {
            output_types::TOOL_CALL => {
                let name = fields["name"].as_str().unwrap_or("a tool");
                let input = &fields["input"];
                let detail = [
                    "command",
                    "file_path",
                    "path",
                    "pattern",
                    "url",
                    "description",
                ]
                .iter()
                .find_map(|key| input[*key].as_str())
                .map(|d| format!(": {}", one_line(d, SUMMARY_CHARS / 2)))
                .unwrap_or_default();
                format!("running `{name}`{detail}")
            }
            output_types::MESSAGE => match fields["text"].as_str() {
                Some(text) if !text.trim().is_empty() => one_line(text, SUMMARY_CHARS),
                _ => return,
            },
            _ => return,
        };
        *self.0.lock().expect("summary lock") = Some(redactor.redact_text(&summary));
    }

    pub fn latest(&self) -> Option<String> {
        self.0.lock().expect("summary lock").clone()
    }
}

/// Passes events on to the task log and keeps the live summary (redacted: it is shown to people).
pub struct SummarizingSink<'a> {
    pub inner: &'a dyn EventSink,
    pub summary: LiveSummary,
    pub redactor: &'a Redactor,
}

impl EventSink for SummarizingSink<'_> {
    fn emit(&self, kind: &str, fields: Value) {
        self.summary.observe(kind, &fields, self.redactor);
        self.inner.emit(kind, fields);
    }
}
