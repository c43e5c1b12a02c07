//! The per-task log: one directory per task under `TASK_LOGS_DIR`, written by every component.
//!
//! ```text
//! {TASK_LOGS_DIR}/{task_id}/metadata.json              status and the envelope (gateway once, then the worker holding the task)
//!                          01-input.json               the normalized input (gateway)
//!                          02-webhook-flow.jsonl       received, validation, parsing, command_matching, task_created, queue_push, immediate_response
//!                          03-queue-flow.jsonl         queued, dequeued, worker_assigned, released, reclaimed, requeued, dead_lettered
//!                          04-agent-output.jsonl       message, thinking, tool_call, tool_result, error, ... (worker)
//!                          05-microservices-flow.jsonl service_call, service_request, service_response, service_error (provider services)
//!                          06-final-result.json        the task's result (worker)
//! ```
//!
//! Every JSONL line is one JSON object that starts with `ts` (RFC 3339, microseconds, UTC), `task_id`,
//! `service` and either `stage` (02) or `type` (all others), then the event's own fields. It is appended
//! with a single `write()` on a file opened with `O_APPEND`, so concurrent writers never interleave within
//! a line. A line is at most [`MAX_LINE_BYTES`]; a longer one is cut and marked `"truncated": true`. JSON
//! files are replaced atomically (temporary file in the same directory, then rename), so a reader never
//! sees half a file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{SerializeMap, Serializer as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::envelope::TaskEnvelope;
use crate::events::TaskStatus;
use crate::task_id::TaskId;

/// The longest line the writer appends, newline included.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The files of a task's log directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogFile {
    Metadata,
    Input,
    WebhookFlow,
    QueueFlow,
    AgentOutput,
    MicroservicesFlow,
    FinalResult,
}

impl LogFile {
    pub const ALL: [LogFile; 7] = [
        Self::Metadata,
        Self::Input,
        Self::WebhookFlow,
        Self::QueueFlow,
        Self::AgentOutput,
        Self::MicroservicesFlow,
        Self::FinalResult,
    ];

    /// The four append-only streams, in the order a task passes through them.
    pub const STREAMS: [LogFile; 4] = [
        Self::WebhookFlow,
        Self::QueueFlow,
        Self::AgentOutput,
        Self::MicroservicesFlow,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Metadata => "metadata.json",
            Self::Input => "01-input.json",
            Self::WebhookFlow => "02-webhook-flow.jsonl",
            Self::QueueFlow => "03-queue-flow.jsonl",
            Self::AgentOutput => "04-agent-output.jsonl",
            Self::MicroservicesFlow => "05-microservices-flow.jsonl",
            Self::FinalResult => "06-final-result.json",
        }
    }

    pub fn is_stream(self) -> bool {
        Self::STREAMS.contains(&self)
    }

    /// Lines of the webhook flow carry `stage`; every other stream's lines carry `type`.
    pub fn kind_field(self) -> &'static str {
        match self {
            Self::WebhookFlow => "stage",
            _ => "type",
        }
    }
}

/// `metadata.json`: the task's current status and its envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskMetadata {
    pub task_id: TaskId,
    pub status: TaskStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The delivery attempt of the current run.
    pub attempt: u32,
    pub run: u32,
    /// The worker holding the task, while one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Why the last attempt failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub envelope: TaskEnvelope,
}

impl TaskMetadata {
    pub fn queued(envelope: &TaskEnvelope) -> Self {
        Self {
            task_id: envelope.task_id,
            status: TaskStatus::Queued,
            created_at: envelope.created_at,
            updated_at: Utc::now(),
            attempt: envelope.attempt,
            run: envelope.run,
            worker: None,
            last_error: None,
            envelope: envelope.clone(),
        }
    }
}

/// `06-final-result.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FinalResult {
    pub task_id: TaskId,
    pub status: TaskStatus,
    pub success: bool,
    /// The agent's final answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub duration_ms: u64,
    pub attempts: u32,
    pub run: u32,
    pub runner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<WorkspaceChanges>,
    /// Links produced by the task (pull request, tracking message), when any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    pub finished_at: DateTime<Utc>,
}

/// What the agent changed in its workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceChanges {
    pub changed_files: Vec<String>,
    /// `git diff --stat` summary line, e.g. `2 files changed, 10 insertions(+), 3 deletions(-)`.
    pub diff_stat: String,
}

/// Appends log lines and replaces JSON files in task directories, stamping each line with this service's name.
#[derive(Debug, Clone)]
pub struct TaskLogWriter {
    root: PathBuf,
    service: String,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl TaskLogWriter {
    pub fn new(root: impl Into<PathBuf>, service: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            service: service.into(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn task_dir(&self, task_id: &TaskId) -> PathBuf {
        self.root.join(task_id.text().as_str())
    }

    pub fn path(&self, task_id: &TaskId, file: LogFile) -> PathBuf {
        self.task_dir(task_id).join(file.file_name())
    }

    /// Creates the task's directory (and the root, if needed).
    pub fn create_task_dir(&self, task_id: &TaskId) -> io::Result<PathBuf> {
        let dir = self.task_dir(task_id);
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Removes a task's directory and everything in it.
    pub fn remove_task_dir(&self, task_id: &TaskId) -> io::Result<()> {
        match fs::remove_dir_all(self.task_dir(task_id)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Appends one line, stamped now. `kind` becomes `stage` (webhook flow) or `type` (other streams);
    /// the fields of `fields` (an object) follow it.
    pub fn append(
        &self,
        task_id: &TaskId,
        file: LogFile,
        kind: &str,
        fields: Value,
    ) -> io::Result<()> {
        self.append_at(task_id, file, Utc::now(), kind, fields)
    }

    /// Appends one line stamped with `ts`, for stages recorded before they are written.
    /// The task directory must exist.
    pub fn append_at(
        &self,
        task_id: &TaskId,
        file: LogFile,
        ts: DateTime<Utc>,
        kind: &str,
        fields: Value,
    ) -> io::Result<()> {
        let line = self.render_line(task_id, file, ts, kind, fields);
        let mut handle = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(task_id, file))?;
        handle.write_all(line.as_bytes())
    }

    /// Renders one line (with its newline), cutting it to [`MAX_LINE_BYTES`].
    pub fn render_line(
        &self,
        task_id: &TaskId,
        file: LogFile,
        ts: DateTime<Utc>,
        kind: &str,
        fields: Value,
    ) -> String {
        let ts = format_ts(ts);
        let id = task_id.text();
        let header = [
            ("ts", ts.as_str()),
            ("task_id", id.as_str()),
            ("service", self.service.as_str()),
            (file.kind_field(), kind),
        ];
        let is_header = |key: &str| header.iter().any(|(name, _)| *name == key);
        // Serialized straight into the line, header first: no map of the line is built unless it must be cut.
        let mut text = Vec::with_capacity(256);
        let mut serializer = serde_json::Serializer::new(&mut text);
        let written = (|| {
            let mut line = (&mut serializer).serialize_map(None)?;
            for (key, value) in header {
                line.serialize_entry(key, value)?;
            }
            for (key, value) in event_fields(&fields, is_header) {
                line.serialize_entry(key, value)?;
            }
            line.end()
        })();
        written.expect("a JSON object always serializes into memory");
        if text.len() < MAX_LINE_BYTES {
            text.push(b'\n');
            return String::from_utf8(text).expect("serde_json writes UTF-8");
        }
        let original_bytes = text.len();
        let content: Map<String, Value> = event_fields(&fields, is_header)
            .map(|(key, value)| (key.to_owned(), value.clone()))
            .collect();
        let mut header: Map<String, Value> = header
            .into_iter()
            .map(|(key, value)| (key.to_owned(), Value::String(value.to_owned())))
            .collect();
        let content = Value::Object(content).to_string();
        header.insert("truncated".into(), Value::Bool(true));
        header.insert("original_bytes".into(), original_bytes.into());
        // Escaping can grow the kept text, so shrink until the line fits.
        let mut keep = MAX_LINE_BYTES.saturating_sub(1024);
        loop {
            let mut cut = header.clone();
            cut.insert(
                "content".into(),
                Value::String(prefix_at_char_boundary(&content, keep).to_owned()),
            );
            let mut text = Value::Object(cut).to_string();
            if text.len() < MAX_LINE_BYTES {
                text.push('\n');
                return text;
            }
            keep = keep.saturating_sub(text.len() - MAX_LINE_BYTES + 1024);
        }
    }

    /// Replaces a JSON file atomically: a temporary file in the same directory, then rename.
    pub fn write_json<T: Serialize>(
        &self,
        task_id: &TaskId,
        file: LogFile,
        value: &T,
    ) -> io::Result<()> {
        let target = self.path(task_id, file);
        let temp = self.task_dir(task_id).join(format!(
            ".{}.{}-{}.tmp",
            file.file_name(),
            process_id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let body = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
        let written = fs::write(&temp, body).and_then(|()| fs::rename(&temp, &target));
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    pub fn read_metadata(&self, task_id: &TaskId) -> io::Result<TaskMetadata> {
        let raw = fs::read(self.path(task_id, LogFile::Metadata))?;
        serde_json::from_slice(&raw).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// This process's id, read once (every read is a system call).
fn process_id() -> u32 {
    static ID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *ID.get_or_init(std::process::id)
}

/// RFC 3339, microseconds, `Z`: the `ts` of every log line.
pub fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An event's own fields as a line carries them: an object's entries except the stamp's keys, any other
/// value under `data`, nothing for null.
fn event_fields<'a>(
    fields: &'a Value,
    is_stamp: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
    let (object, other) = match fields {
        Value::Object(object) => (Some(object), None),
        Value::Null => (None, None),
        other => (None, Some(("data", other))),
    };
    object
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.as_str(), value))
        .filter(move |(key, _)| !is_stamp(key))
        .chain(other)
}

fn prefix_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn writer() -> (tempfile::TempDir, TaskLogWriter, TaskId) {
        let dir = tempfile::tempdir().unwrap();
        let writer = TaskLogWriter::new(dir.path(), "test-service");
        let id = TaskId::new();
        writer.create_task_dir(&id).unwrap();
        (dir, writer, id)
    }

    fn lines(writer: &TaskLogWriter, id: &TaskId, file: LogFile) -> Vec<Value> {
        fs::read_to_string(writer.path(id, file))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn appends_stamped_lines() {
        let (_dir, writer, id) = writer();
        writer
            .append(&id, LogFile::WebhookFlow, "received", json!({"bytes": 10}))
            .unwrap();
        writer
            .append(
                &id,
                LogFile::QueueFlow,
                "queued",
                json!({"stream": "tasks:high"}),
            )
            .unwrap();
        let webhook = lines(&writer, &id, LogFile::WebhookFlow);
        assert_eq!(webhook[0]["stage"], "received");
        assert_eq!(webhook[0]["bytes"], 10);
        assert_eq!(webhook[0]["task_id"], id.to_string());
        assert_eq!(webhook[0]["service"], "test-service");
        let ts = webhook[0]["ts"].as_str().unwrap();
        assert!(DateTime::parse_from_rfc3339(ts).is_ok());
        assert_eq!(ts.len(), "2026-01-01T00:00:00.000000Z".len());
        assert_eq!(lines(&writer, &id, LogFile::QueueFlow)[0]["type"], "queued");
    }

    #[test]
    fn a_field_cannot_overwrite_the_stamp() {
        let (_dir, writer, id) = writer();
        writer
            .append(
                &id,
                LogFile::QueueFlow,
                "queued",
                json!({"task_id": "forged", "service": "x"}),
            )
            .unwrap();
        let line = &lines(&writer, &id, LogFile::QueueFlow)[0];
        assert_eq!(line["task_id"], id.to_string());
        assert_eq!(line["service"], "test-service");
        let raw = fs::read_to_string(writer.path(&id, LogFile::QueueFlow)).unwrap();
        assert_eq!(raw.matches("\"task_id\"").count(), 1, "{raw}");
        assert!(
            raw.starts_with("{\"ts\":"),
            "the stamp leads the line: {raw}"
        );
    }

    #[test]
    fn a_value_that_is_not_an_object_goes_under_data() {
        let (_dir, writer, id) = writer();
        writer
            .append(&id, LogFile::AgentOutput, "message", json!(["a", 1]))
            .unwrap();
        writer
            .append(&id, LogFile::AgentOutput, "message", Value::Null)
            .unwrap();
        let lines = lines(&writer, &id, LogFile::AgentOutput);
        assert_eq!(lines[0]["data"], json!(["a", 1]));
        assert_eq!(lines[1].as_object().unwrap().len(), 4, "{}", lines[1]);
    }

    #[test]
    fn cuts_long_lines_and_marks_them() {
        let (_dir, writer, id) = writer();
        let huge = "\"é\\".repeat(100_000);
        writer
            .append(&id, LogFile::AgentOutput, "message", json!({"text": huge}))
            .unwrap();
        let raw = fs::read_to_string(writer.path(&id, LogFile::AgentOutput)).unwrap();
        assert!(raw.len() <= MAX_LINE_BYTES, "{}", raw.len());
        let line: Value = serde_json::from_str(raw.trim_end()).unwrap();
        assert_eq!(line["truncated"], true);
        assert_eq!(line["type"], "message");
        assert!(line["original_bytes"].as_u64().unwrap() > MAX_LINE_BYTES as u64);
        let content = line["content"].as_str().unwrap();
        assert!(content.len() > 10_000);
        assert!(
            content.starts_with("{\"text\":"),
            "the cut content is the event's own fields: {}",
            &content[..40]
        );
    }

    #[test]
    fn concurrent_appends_never_interleave() {
        let (_dir, writer, id) = writer();
        std::thread::scope(|scope| {
            for t in 0..8 {
                let writer = writer.clone();
                scope.spawn(move || {
                    for i in 0..200 {
                        let text = format!("{t}-{i}-").repeat(500);
                        writer
                            .append(&id, LogFile::AgentOutput, "message", json!({"text": text}))
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(lines(&writer, &id, LogFile::AgentOutput).len(), 1600);
    }

    #[test]
    fn json_files_are_replaced_whole() {
        let (_dir, writer, id) = writer();
        writer
            .write_json(&id, LogFile::Input, &json!({"a": 1}))
            .unwrap();
        writer
            .write_json(&id, LogFile::Input, &json!({"a": 2}))
            .unwrap();
        let raw = fs::read_to_string(writer.path(&id, LogFile::Input)).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&raw).unwrap()["a"], 2);
        let leftovers: Vec<_> = fs::read_dir(writer.task_dir(&id))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
