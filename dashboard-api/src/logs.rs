//! Reading a task's log directory for the API: the combined view, one stream page by page, and following
//! a stream as it grows. Lines are passed through byte for byte when they are JSON objects; anything else
//! (a corrupt or half-written line) becomes `{"corrupt": true, "partial": <no newline yet>, "raw": "…"}`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use contracts::TaskId;
use contracts::task_log::LogFile;
use serde::de::IgnoredAny;

/// Where task logs live; only a parsed [`TaskId`] ever becomes a path below it.
#[derive(Debug, Clone)]
pub struct TaskLogs {
    root: PathBuf,
}

/// The API name of a stream (`webhook_flow`, `queue_flow`, `agent_output`, `microservices_flow`).
pub fn stream_name(file: LogFile) -> &'static str {
    match file {
        LogFile::Metadata => "metadata",
        LogFile::Input => "input",
        LogFile::WebhookFlow => "webhook_flow",
        LogFile::QueueFlow => "queue_flow",
        LogFile::AgentOutput => "agent_output",
        LogFile::MicroservicesFlow => "microservices_flow",
        LogFile::FinalResult => "final_result",
    }
}

pub fn parse_stream_name(name: &str) -> Option<LogFile> {
    LogFile::STREAMS
        .into_iter()
        .find(|file| stream_name(*file) == name)
}

impl TaskLogs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn task_dir(&self, task_id: &TaskId) -> PathBuf {
        self.root.join(task_id.to_string())
    }

    pub fn path(&self, task_id: &TaskId, file: LogFile) -> PathBuf {
        self.task_dir(task_id).join(file.file_name())
    }

    pub fn exists(&self, task_id: &TaskId) -> bool {
        self.task_dir(task_id).is_dir()
    }

    /// A JSON file as raw JSON: its bytes when they parse, a corrupt marker when not, `null` when absent.
    pub fn json_file(&self, task_id: &TaskId, file: LogFile) -> io::Result<Vec<u8>> {
        match std::fs::read(self.path(task_id, file)) {
            Ok(raw) => {
                let mut out = Vec::with_capacity(raw.len());
                render_value(&raw, true, &mut out);
                Ok(out)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(b"null".to_vec()),
            Err(e) => Err(e),
        }
    }

    /// The combined view as one JSON document:
    /// `{"task_id", "metadata", "input", "streams": {"webhook_flow": […], …}, "final_result"}`.
    pub fn combined(&self, task_id: &TaskId) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.combined_size_hint(task_id));
        out.extend_from_slice(b"{\"task_id\":\"");
        out.extend_from_slice(task_id.to_string().as_bytes());
        out.extend_from_slice(b"\",\"metadata\":");
        out.extend(self.json_file(task_id, LogFile::Metadata)?);
        out.extend_from_slice(b",\"input\":");
        out.extend(self.json_file(task_id, LogFile::Input)?);
        out.extend_from_slice(b",\"streams\":{");
        for (i, file) in LogFile::STREAMS.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(stream_name(file).as_bytes());
            out.extend_from_slice(b"\":");
            self.stream_lines(task_id, file, 0, usize::MAX, &mut out)?;
        }
        out.extend_from_slice(b"},\"final_result\":");
        out.extend(self.json_file(task_id, LogFile::FinalResult)?);
        out.push(b'}');
        Ok(out)
    }

    fn combined_size_hint(&self, task_id: &TaskId) -> usize {
        LogFile::ALL
            .into_iter()
            .filter_map(|file| std::fs::metadata(self.path(task_id, file)).ok())
            .map(|m| m.len() as usize)
            .sum::<usize>()
            + 1024
    }

    /// Writes `[line, …]` for lines `after+1 ..= after+limit` of a stream; returns how many were written
    /// and whether more follow.
    pub fn stream_lines(
        &self,
        task_id: &TaskId,
        file: LogFile,
        after: u64,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<(usize, bool)> {
        out.push(b'[');
        let handle = match File::open(self.path(task_id, file)) {
            Ok(handle) => handle,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                out.push(b']');
                return Ok((0, false));
            }
            Err(e) => return Err(e),
        };
        let mut reader = BufReader::with_capacity(256 * 1024, handle);
        let mut line = Vec::new();
        let mut number = 0u64;
        let mut written = 0usize;
        let mut more = false;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            number += 1;
            if number <= after {
                continue;
            }
            if written == limit {
                more = true;
                break;
            }
            if written > 0 {
                out.push(b',');
            }
            let complete = line.last() == Some(&b'\n');
            render_value(&line, complete, out);
            written += 1;
        }
        out.push(b']');
        Ok((written, more))
    }
}

/// Appends `raw` (one JSON value, surrounding whitespace allowed) if it is a JSON object, or a corrupt
/// marker holding its text.
pub fn render_value(raw: &[u8], complete: bool, out: &mut Vec<u8>) {
    let trimmed = raw.trim_ascii();
    let is_object =
        trimmed.first() == Some(&b'{') && serde_json::from_slice::<IgnoredAny>(trimmed).is_ok();
    if is_object {
        out.extend_from_slice(trimmed);
    } else {
        let marker = serde_json::json!({
            "corrupt": true,
            "partial": !complete,
            "raw": String::from_utf8_lossy(raw.strip_suffix(b"\n").unwrap_or(raw)),
        });
        out.extend(marker.to_string().into_bytes());
    }
}

/// Follows one stream: where the reader is (bytes and complete lines) and what was appended since.
#[derive(Debug)]
pub struct StreamTail {
    path: PathBuf,
    offset: u64,
    lines: u64,
}

impl StreamTail {
    /// A tail positioned after the first `lines` complete lines of the stream.
    pub fn after_lines(path: PathBuf, lines: u64) -> io::Result<Self> {
        let mut tail = Self {
            path,
            offset: 0,
            lines: 0,
        };
        if lines == 0 {
            return Ok(tail);
        }
        let handle = match File::open(&tail.path) {
            Ok(handle) => handle,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(tail),
            Err(e) => return Err(e),
        };
        let mut reader = BufReader::with_capacity(256 * 1024, handle);
        let mut line = Vec::new();
        while tail.lines < lines {
            line.clear();
            let read = reader.read_until(b'\n', &mut line)?;
            if read == 0 || line.last() != Some(&b'\n') {
                break;
            }
            tail.offset += read as u64;
            tail.lines += 1;
        }
        Ok(tail)
    }

    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The complete lines appended since the last call, each with its 1-based number, rendered.
    pub fn read_new(&mut self) -> io::Result<Vec<(u64, Vec<u8>)>> {
        let mut handle = match File::open(&self.path) {
            Ok(handle) => handle,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let length = handle.metadata()?.len();
        if length <= self.offset {
            return Ok(Vec::new());
        }
        handle.seek(SeekFrom::Start(self.offset))?;
        let mut appended = Vec::with_capacity((length - self.offset) as usize);
        handle
            .take(length - self.offset)
            .read_to_end(&mut appended)?;
        let mut found = Vec::new();
        let mut start = 0;
        while let Some(end) = appended[start..].iter().position(|b| *b == b'\n') {
            let line = &appended[start..start + end + 1];
            self.lines += 1;
            let mut rendered = Vec::with_capacity(line.len());
            render_value(line, true, &mut rendered);
            found.push((self.lines, rendered));
            start += end + 1;
        }
        self.offset += start as u64;
        Ok(found)
    }
}
