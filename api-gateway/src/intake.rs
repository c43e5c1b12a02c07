//! Turning a task request into a queued task: the rate limit, the log directory, the envelope, the enqueue.
//!
//! Order matters: the log directory (metadata, input, the webhook stages so far, `queued`) exists before
//! the enqueue, because a worker may pick the task up at once; the answer goes out only once the task is in
//! Redis. A duplicate or a failed enqueue removes the directory again, so no directory ever claims a task
//! that is not queued. Log writes that fail are counted and traced but never fail the request.

use std::fs::{File, OpenOptions};
use std::io::Write;

use chrono::{DateTime, Utc};
use contracts::envelope::SCHEMA_VERSION;
use contracts::task_log::TaskMetadata;
use contracts::webhook::WebhookAnswer;
use contracts::{LogFile, TaskEnvelope, TaskId, TaskLogWriter};
use deadpool_redis::redis;
use http::HeaderMap;
use serde::Serialize;
use serde_json::{Value, json};
use service_kit::queue::{EnqueueOutcome, QueueError};
use service_kit::trace_context::TraceContext;

use crate::delivery::{StageTimes, TaskRequest, reason};
use crate::error::WebhookError;
use crate::state::AppState;
use crate::{acknowledge, telemetry};

/// How long a rate-limit counter outlives its minute.
const RATE_WINDOW_TTL_SECONDS: u64 = 120;

/// What the gateway saw of the request, for the `received` stage and `01-input.json`.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub headers: Value,
    pub query: Option<String>,
    pub body_bytes: usize,
}

impl ReceivedRequest {
    pub fn new(headers: &HeaderMap, query: Option<&str>, body_bytes: usize) -> Self {
        Self {
            headers: redacted_headers(headers),
            query: query.map(redacted_query),
            body_bytes,
        }
    }
}

pub async fn create_task(
    state: &AppState,
    task_id: TaskId,
    mut request: TaskRequest,
    times: StageTimes,
    received: ReceivedRequest,
    trace: &TraceContext,
) -> Result<WebhookAnswer, WebhookError> {
    let keys = state.queue.keys();
    let dedup_keys: Vec<String> = request
        .delivery_ids
        .iter()
        .map(|id| keys.dedup(request.provider, id))
        .collect();
    if let Some(answer) = precheck(state, &request, &dedup_keys).await? {
        return Ok(answer);
    }

    let envelope = TaskEnvelope {
        schema_version: SCHEMA_VERSION,
        task_id,
        provider: request.provider,
        event: request.event.clone(),
        command: request.command,
        instruction: request.instruction.clone(),
        source: request.source.clone(),
        actor: request.actor.clone(),
        priority: state.settings.priority_of(request.command),
        attempt: 1,
        run: 1,
        created_at: Utc::now(),
        conversation_key: request.conversation_key.clone(),
    };

    let also_in_conversation = request.also_in_conversation.take();
    let logs = state.logs.clone();
    let prepared = envelope.clone();
    let stream = keys.task_stream(envelope.priority);
    let webhook_flow = state
        .file_work
        .run(move || prepare_task_dir(&logs, &prepared, &request, times, received, &stream))
        .await
        .flatten();

    let dedup_refs: Vec<&str> = dedup_keys.iter().map(String::as_str).collect();
    let outcome = state
        .queue
        .enqueue_new_task(&envelope, &dedup_refs, also_in_conversation.as_deref())
        .await;
    let entry_id = match outcome {
        Ok(EnqueueOutcome::Queued { entry_id }) => entry_id,
        Ok(EnqueueOutcome::Duplicate { task_id: original }) => {
            drop(webhook_flow);
            remove_task_dir(state, task_id).await;
            return duplicate_answer(&original);
        }
        Err(error) => {
            drop(webhook_flow);
            remove_task_dir(state, task_id).await;
            return Err(unavailable(error));
        }
    };

    // One short append, through the descriptor the stages above were written with when there is one.
    let fields = json!({ "stream": keys.task_stream(envelope.priority), "entry_id": entry_id });
    let written = match webhook_flow {
        Some(mut file) => file.write_all(
            state
                .logs
                .render_line(
                    &task_id,
                    LogFile::WebhookFlow,
                    Utc::now(),
                    "queue_push",
                    fields,
                )
                .as_bytes(),
        ),
        None => state
            .logs
            .append(&task_id, LogFile::WebhookFlow, "queue_push", fields),
    };
    if let Err(error) = written {
        log_write_failed(LogFile::WebhookFlow.file_name(), &task_id, &error);
    }
    // On the request's closing line, which is then the only line of a queued delivery.
    let span = tracing::Span::current();
    span.record("command", tracing::field::display(&envelope.command));
    span.record("priority", envelope.priority.as_str());
    span.record("conversation_key", envelope.conversation_key.as_str());
    acknowledge::spawn(state, envelope, *trace);
    Ok(WebhookAnswer::Queued { task_id })
}

/// With the rate limit on, one round trip before any file is written: is the actor over the limit, and
/// has a dedup key been claimed already (a cheap early answer)? Without it the enqueue script alone
/// decides duplicates: a rare duplicate then costs a directory written and removed, which is cheaper than
/// a round trip on every delivery.
async fn precheck(
    state: &AppState,
    request: &TaskRequest,
    dedup_keys: &[String],
) -> Result<Option<WebhookAnswer>, WebhookError> {
    let limit = state.settings.actor_rate_limit_per_minute;
    if limit == 0 {
        return Ok(None);
    }
    let mut pipe = redis::pipe();
    if !dedup_keys.is_empty() {
        pipe.cmd("MGET").arg(dedup_keys);
    }
    let minute = Utc::now().timestamp().div_euclid(60);
    let key = state
        .queue
        .keys()
        .actor_rate(request.provider, &request.actor.id, minute);
    pipe.cmd("INCR").arg(&key);
    pipe.cmd("EXPIRE")
        .arg(&key)
        .arg(RATE_WINDOW_TTL_SECONDS)
        .ignore();
    let mut connection = state
        .queue
        .pool()
        .get()
        .await
        .map_err(|e| unavailable(e.into()))?;
    let replies: Vec<redis::Value> = pipe
        .query_async(&mut connection)
        .await
        .map_err(|e| unavailable(e.into()))?;
    let mut replies = replies.into_iter();
    if !dedup_keys.is_empty() {
        let existing: Vec<Option<String>> = replies
            .next()
            .map(redis::from_redis_value)
            .transpose()
            .map_err(|e| WebhookError::QueueUnavailable(e.to_string()))?
            .unwrap_or_default();
        if let Some(original) = existing.into_iter().flatten().next() {
            return duplicate_answer(&original).map(Some);
        }
    }
    let count: u64 = replies
        .next()
        .map(redis::from_redis_value)
        .transpose()
        .map_err(|e| WebhookError::QueueUnavailable(e.to_string()))?
        .unwrap_or(0);
    if count > u64::from(limit) {
        telemetry::record_ignored(request.provider, reason::RATE_LIMITED);
        tracing::info!(actor = %request.actor.id, count, limit, "actor over the rate limit");
        return Ok(Some(WebhookAnswer::Ignored {
            reason: reason::RATE_LIMITED.to_owned(),
        }));
    }
    Ok(None)
}

fn duplicate_answer(original: &str) -> Result<WebhookAnswer, WebhookError> {
    let task_id = original.parse().map_err(|_| {
        WebhookError::QueueUnavailable(format!("a dedup key holds `{original}`, not a task id"))
    })?;
    Ok(WebhookAnswer::Duplicate { task_id })
}

fn unavailable(error: QueueError) -> WebhookError {
    WebhookError::QueueUnavailable(error.to_string())
}

/// `01-input.json`: the normalized request and what the gateway saw of it.
#[derive(Serialize)]
struct Input<'a> {
    task_id: &'a TaskId,
    received_at: String,
    request: &'a TaskRequest,
    headers: &'a Value,
    query: Option<&'a str>,
    body_bytes: usize,
}

/// The directory, `metadata.json`, `01-input.json`, the webhook stages up to `task_created`, and `queued`
/// in `03-queue-flow.jsonl`: all before the XADD, so a fast worker's `dequeued` always comes after
/// `queued`. A duplicate or a failed enqueue removes the directory again. Answers
/// `02-webhook-flow.jsonl`, open for appending, for the `queue_push` stage.
fn prepare_task_dir(
    logs: &TaskLogWriter,
    envelope: &TaskEnvelope,
    request: &TaskRequest,
    times: StageTimes,
    received: ReceivedRequest,
    stream: &str,
) -> Option<File> {
    let task_id = &envelope.task_id;
    if let Err(error) = logs.create_task_dir(task_id) {
        log_write_failed("directory", task_id, &error);
        return None;
    }
    if let Err(error) = logs.write_json(task_id, LogFile::Metadata, &TaskMetadata::queued(envelope))
    {
        log_write_failed(LogFile::Metadata.file_name(), task_id, &error);
    }
    let input = Input {
        task_id,
        received_at: contracts::task_log::format_ts(times.received),
        request,
        headers: &received.headers,
        query: received.query.as_deref(),
        body_bytes: received.body_bytes,
    };
    if let Err(error) = logs.write_json(task_id, LogFile::Input, &input) {
        log_write_failed(LogFile::Input.file_name(), task_id, &error);
    }
    let stages: [(DateTime<Utc>, &str, Value); 5] = [
        (
            times.received,
            "received",
            // The headers move into the line (json! would copy them).
            Value::Object(serde_json::Map::from_iter([
                ("provider".to_owned(), json!(request.provider)),
                ("body_bytes".to_owned(), received.body_bytes.into()),
                ("headers".to_owned(), received.headers),
            ])),
        ),
        (
            times.validated,
            "validation",
            json!({ "signature": "valid" }),
        ),
        (times.parsed, "parsing", json!({ "event": request.event })),
        (
            times.matched,
            "command_matching",
            json!({ "command": request.command, "actor": request.actor.id }),
        ),
        (
            Utc::now(),
            "task_created",
            json!({ "priority": envelope.priority, "conversation_key": envelope.conversation_key }),
        ),
    ];
    let path = logs.path(task_id, LogFile::WebhookFlow);
    let webhook_flow = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| {
            // Whole lines in one write: each line stays intact beside any other appender.
            let lines: String = stages
                .into_iter()
                .map(|(ts, stage, fields)| {
                    logs.render_line(task_id, LogFile::WebhookFlow, ts, stage, fields)
                })
                .collect();
            file.write_all(lines.as_bytes())?;
            Ok(file)
        });
    let webhook_flow = match webhook_flow {
        Ok(file) => Some(file),
        Err(error) => {
            log_write_failed(LogFile::WebhookFlow.file_name(), task_id, &error);
            None
        }
    };
    append_logged(
        logs,
        task_id,
        LogFile::QueueFlow,
        "queued",
        json!({ "stream": stream, "priority": envelope.priority, "attempt": envelope.attempt, "run": envelope.run }),
    );
    webhook_flow
}

fn append_logged(logs: &TaskLogWriter, task_id: &TaskId, file: LogFile, kind: &str, fields: Value) {
    if let Err(error) = logs.append(task_id, file, kind, fields) {
        log_write_failed(file.file_name(), task_id, &error);
    }
}

fn log_write_failed(file: &'static str, task_id: &TaskId, error: &std::io::Error) {
    telemetry::record_log_write_failure(file);
    tracing::error!(task_id = %task_id, file, %error, "could not write the task log");
}

async fn remove_task_dir(state: &AppState, task_id: TaskId) {
    let logs = state.logs.clone();
    state
        .file_work
        .run(move || {
            if let Err(error) = logs.remove_task_dir(&task_id) {
                log_write_failed("directory", &task_id, &error);
            }
        })
        .await;
}

/// Words that mark a header (or query parameter) name as holding a credential.
const SENSITIVE_WORDS: [&[u8]; 8] = [
    b"signature",
    b"token",
    b"cookie",
    b"authorization",
    b"secret",
    b"api-key",
    b"apikey",
    b"password",
];

/// Whether a (lowercase) name contains one of [`SENSITIVE_WORDS`]. One pass over the name's short bytes:
/// eight substring searches per header, each set up anew, cost more than the rest of the redaction.
fn is_sensitive_header(name: &str) -> bool {
    let name = name.as_bytes();
    (0..name.len()).any(|start| {
        SENSITIVE_WORDS
            .iter()
            .any(|word| word[0] == name[start] && name[start..].starts_with(word))
    })
}

/// The request headers as a JSON object, with signatures, tokens and cookies replaced by `[redacted]`.
pub fn redacted_headers(headers: &HeaderMap) -> Value {
    let mut object = serde_json::Map::new();
    for (name, value) in headers {
        let shown = if is_sensitive_header(name.as_str()) {
            "[redacted]".to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        object.insert(name.as_str().to_owned(), Value::String(shown));
    }
    Value::Object(object)
}

/// The query string with the values of token-like parameters redacted.
pub fn redacted_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive_header(&name.to_ascii_lowercase()) => {
                format!("{name}=[redacted]")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn redacts_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hub-signature-256",
            HeaderValue::from_static("sha256=abc"),
        );
        headers.insert("cookie", HeaderValue::from_static("a=b"));
        headers.insert("x-github-event", HeaderValue::from_static("issue_comment"));
        let shown = redacted_headers(&headers);
        assert_eq!(shown["x-hub-signature-256"], "[redacted]");
        assert_eq!(shown["cookie"], "[redacted]");
        assert_eq!(shown["x-github-event"], "issue_comment");
        assert_eq!(redacted_query("a=1&token=s3cret"), "a=1&token=[redacted]");
        for name in [
            "authorization",
            "x-api-key",
            "x-apikey",
            "x-hook-secret",
            "x-slack-signature",
            "x-atlassian-token",
            "db-password",
        ] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in [
            "x-github-delivery",
            "content-length",
            "host",
            "user-agent",
            "s",
            "",
        ] {
            assert!(!is_sensitive_header(name), "{name}");
        }
    }
}
