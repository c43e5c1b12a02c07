//! Running an agent CLI contained: a cleared environment, its own process group behind the containment
//! supervisor (see [`crate::containment`]), output read line by line with caps, and a timeout and cancel that
//! kill the whole group, grandchildren included.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

use super::RunStatus;
use crate::containment;

/// The longest stdout line kept; the rest of a longer line is dropped and the line marked truncated.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// How much of the end of stderr is kept (and logged).
pub const STDERR_TAIL_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Written to the agent's stdin, which is then closed; `None`: stdin is `/dev/null`.
    pub stdin: Option<String>,
    pub workdir: PathBuf,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub cancel: CancellationToken,
    pub max_output_bytes: u64,
    pub status_file: PathBuf,
}

/// Why the worker stopped the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    TimedOut(Duration),
    Cancelled,
    OutputLimit(u64),
}

impl Stop {
    pub fn status(self) -> RunStatus {
        match self {
            Self::TimedOut(_) => RunStatus::TimedOut,
            Self::Cancelled => RunStatus::Cancelled,
            Self::OutputLimit(_) => RunStatus::OutputLimitExceeded,
        }
    }

    pub fn describe(self, outcome: &ProcessOutcome) -> String {
        match self {
            Self::TimedOut(limit) => format!(
                "the agent ran longer than its {}s timeout and was killed with its process group",
                limit.as_secs_f64()
            ),
            Self::Cancelled => {
                "the task was cancelled; the agent was killed with its process group".to_owned()
            }
            Self::OutputLimit(limit) => format!(
                "the agent wrote more than {limit} bytes (AGENT_MAX_OUTPUT_BYTES, {} read) and was killed",
                outcome.stdout_bytes
            ),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::TimedOut(_) => "timeout",
            Self::Cancelled => "cancelled",
            Self::OutputLimit(_) => "output_limit",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProcessOutcome {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stderr_tail: String,
    pub stderr_bytes: u64,
    pub stdout_bytes: u64,
    pub stopped: Option<Stop>,
    pub duration: Duration,
    pub spawn_error: Option<String>,
}

impl ProcessOutcome {
    pub fn exited_cleanly(&self) -> bool {
        self.exit_code == Some(0) && self.stopped.is_none() && self.spawn_error.is_none()
    }

    /// `exit code 1, stderr: …` for error messages.
    pub fn describe_exit(&self) -> String {
        let ending = match (self.exit_code, self.signal) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "no exit status".to_owned(),
        };
        let tail = self.stderr_tail.trim();
        if tail.is_empty() {
            ending
        } else {
            let start = tail.len().saturating_sub(500);
            let start = (start..tail.len())
                .find(|&i| tail.is_char_boundary(i))
                .unwrap_or(tail.len());
            format!("{ending}, stderr: {}", &tail[start..])
        }
    }

    /// The fields of the `process_exited` log line.
    pub fn log_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "exit_code": self.exit_code,
            "signal": self.signal,
            "stopped": self.stopped.map(Stop::name),
            "stdout_bytes": self.stdout_bytes,
            "stderr_bytes": self.stderr_bytes,
            "stderr_tail": self.stderr_tail,
            "duration_ms": self.duration.as_millis() as u64,
            "spawn_error": self.spawn_error,
        })
    }
}

/// Kills the process group if the run is abandoned before the supervisor was reaped.
struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `spec`, calling `on_line(line, truncated)` for every stdout line as it arrives.
pub async fn run_contained(
    spec: ProcessSpec,
    mut on_line: impl FnMut(&str, bool) + Send,
) -> ProcessOutcome {
    let started = Instant::now();
    let mut outcome = ProcessOutcome::default();
    let _ = std::fs::remove_file(&spec.status_file);
    let supervisor = match std::env::current_exe() {
        Ok(path) => path,
        Err(e) => {
            outcome.spawn_error = Some(format!("cannot find the worker's own executable: {e}"));
            return outcome;
        }
    };
    let mut command = tokio::process::Command::new(supervisor);
    command
        .arg(containment::SUBCOMMAND)
        .arg(&spec.status_file)
        .arg(&spec.program)
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.workdir)
        .process_group(0)
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            outcome.spawn_error = Some(format!("cannot start the containment supervisor: {e}"));
            outcome.duration = started.elapsed();
            return outcome;
        }
    };
    let mut guard = GroupGuard {
        pgid: child.id().map(|id| Pid::from_raw(id as i32)),
    };
    if let (Some(text), Some(mut stdin)) = (spec.stdin.clone(), child.stdin.take()) {
        tokio::spawn(async move {
            let _ = stdin.write_all(text.as_bytes()).await;
            let _ = stdin.shutdown().await;
        });
    }
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let stderr_task = tokio::spawn(read_tail(stderr, STDERR_TAIL_BYTES));

    let deadline = tokio::time::Instant::now() + spec.timeout;
    let mut lines = CappedLines::new(stdout, MAX_LINE_BYTES);
    let mut stopped = None;
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some((text, truncated))) => {
                    if lines.total_bytes > spec.max_output_bytes {
                        stopped = Some(Stop::OutputLimit(spec.max_output_bytes));
                        break;
                    }
                    on_line(&text, truncated);
                }
                Ok(None) | Err(_) => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                stopped = Some(Stop::TimedOut(spec.timeout));
                break;
            }
            () = spec.cancel.cancelled() => {
                stopped = Some(Stop::Cancelled);
                break;
            }
        }
    }
    if stopped.is_some() {
        guard.kill();
    }
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            () = tokio::time::sleep_until(deadline), if stopped.is_none() => {
                stopped = Some(Stop::TimedOut(spec.timeout));
                guard.kill();
            }
            () = spec.cancel.cancelled(), if stopped.is_none() => {
                stopped = Some(Stop::Cancelled);
                guard.kill();
            }
        }
    };
    guard.pgid = None;
    outcome.stdout_bytes = lines.total_bytes;
    if let Ok(Ok((tail, total))) = tokio::time::timeout(Duration::from_secs(2), stderr_task).await {
        outcome.stderr_tail = tail;
        outcome.stderr_bytes = total;
    }
    match containment::read_status(&spec.status_file) {
        Some(containment::AgentExit::Code(code)) => outcome.exit_code = Some(code),
        Some(containment::AgentExit::Signal(signal)) => outcome.signal = Some(signal),
        Some(containment::AgentExit::SpawnError(error)) => {
            outcome.spawn_error = Some(format!("cannot start `{}`: {error}", spec.program));
        }
        None => {
            use std::os::unix::process::ExitStatusExt;
            if let Ok(status) = status {
                outcome.signal = status.signal();
                outcome.exit_code = if status.signal().is_none() {
                    status.code()
                } else {
                    None
                };
            }
        }
    }
    let _ = std::fs::remove_file(&spec.status_file);
    outcome.stopped = stopped;
    outcome.duration = started.elapsed();
    outcome
}

/// Lines of a stream, each cut to `max_line` bytes, counting every byte read.
struct CappedLines<R> {
    reader: BufReader<R>,
    max_line: usize,
    total_bytes: u64,
}

impl<R: AsyncRead + Unpin> CappedLines<R> {
    fn new(reader: R, max_line: usize) -> Self {
        Self {
            reader: BufReader::with_capacity(64 * 1024, reader),
            max_line,
            total_bytes: 0,
        }
    }

    /// The next line without its newline, and whether it was cut. Cancel-safe between lines only, which is
    /// enough: a cancelled read ends the run.
    async fn next_line(&mut self) -> std::io::Result<Option<(String, bool)>> {
        let mut line = Vec::new();
        let mut truncated = false;
        loop {
            let buffer = self.reader.fill_buf().await?;
            if buffer.is_empty() {
                if line.is_empty() && !truncated {
                    return Ok(None);
                }
                break;
            }
            let (chunk, used, ended) = match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => (&buffer[..at], at + 1, true),
                None => (buffer, buffer.len(), false),
            };
            let room = self.max_line.saturating_sub(line.len());
            if chunk.len() > room {
                truncated = true;
            }
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.total_bytes += used as u64;
            self.reader.consume(used);
            if ended {
                break;
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some((
            String::from_utf8_lossy(&line).into_owned(),
            truncated,
        )))
    }
}

/// Reads a stream to its end, keeping only its last `keep` bytes.
async fn read_tail(mut reader: impl AsyncRead + Unpin, keep: usize) -> (String, u64) {
    let mut tail: VecDeque<u8> = VecDeque::with_capacity(keep);
    let mut buffer = vec![0u8; 16 * 1024];
    let mut total = 0u64;
    while let Ok(read) = reader.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        total += read as u64;
        tail.extend(&buffer[..read]);
        let excess = tail.len().saturating_sub(keep);
        tail.drain(..excess);
    }
    let bytes: Vec<u8> = tail.into();
    (String::from_utf8_lossy(&bytes).into_owned(), total)
}
