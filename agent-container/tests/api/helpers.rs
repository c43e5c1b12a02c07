//! Test harness: an isolated Redis prefix and directories per test, tasks enqueued the way the gateway does,
//! workers as separate processes of the built binary, a fake agent CLI that replays a transcript, and a git
//! server (`git http-backend` behind a small CGI adapter).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::Utc;
use contracts::events::{TaskEvent, TaskStatus};
use contracts::task_log::{FinalResult, LogFile, TaskLogWriter, TaskMetadata};
use contracts::{Actor, Command, Priority, Provider, RedisKeys, SourceRef, TaskEnvelope, TaskId};
use deadpool_redis::redis::{self, AsyncCommands};
use serde_json::{Value, json};
use service_kit::queue::TaskQueue;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// One test's world: its own key prefix, task-log and workspace directories.
pub struct TestContext {
    pub prefix: String,
    pub dir: TempDir,
    pub logs: TaskLogWriter,
    pub queue: TaskQueue,
    pub keys: RedisKeys,
}

impl TestContext {
    pub async fn new() -> Self {
        let prefix = format!("test:{}:", uuid::Uuid::new_v4());
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let pool = service_kit::redis::pool(REDIS_URL, 8).unwrap();
        let keys = RedisKeys::new(prefix.clone());
        let queue = TaskQueue::new(pool, keys.clone());
        queue
            .ensure_groups()
            .await
            .expect("redis at 127.0.0.1:6379");
        Self {
            logs: TaskLogWriter::new(dir.path().join("logs"), "api-gateway"),
            prefix,
            dir,
            queue,
            keys,
        }
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    pub fn workdir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Enqueues as the gateway does: task directory, `metadata.json` (queued), `queued` in the queue flow.
    pub async fn enqueue(&self, envelope: &TaskEnvelope) {
        let id = &envelope.task_id;
        self.logs.create_task_dir(id).unwrap();
        self.logs
            .write_json(id, LogFile::Metadata, &TaskMetadata::queued(envelope))
            .unwrap();
        self.logs
            .append(
                id,
                LogFile::QueueFlow,
                "queued",
                json!({ "stream": self.keys.task_stream(envelope.priority) }),
            )
            .unwrap();
        self.queue.enqueue(envelope, None).await.unwrap();
    }

    pub async fn redis(&self) -> service_kit::redis::Connection {
        self.queue.pool().get().await.unwrap()
    }

    pub fn metadata(&self, id: &TaskId) -> Option<TaskMetadata> {
        self.logs.read_metadata(id).ok()
    }

    pub fn final_result(&self, id: &TaskId) -> Option<FinalResult> {
        let raw = std::fs::read(self.logs.path(id, LogFile::FinalResult)).ok()?;
        Some(serde_json::from_slice(&raw).expect("06-final-result.json parses as FinalResult"))
    }

    pub fn lines(&self, id: &TaskId, file: LogFile) -> Vec<Value> {
        std::fs::read_to_string(self.logs.path(id, file))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
            .collect()
    }

    pub fn types(&self, id: &TaskId, file: LogFile) -> Vec<String> {
        self.lines(id, file)
            .iter()
            .map(|l| l["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The task's events on `task-events`, oldest first.
    pub async fn events(&self, id: &TaskId) -> Vec<TaskEvent> {
        let mut connection = self.redis().await;
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(self.keys.task_events())
            .await
            .unwrap();
        reply
            .ids
            .iter()
            .filter_map(|entry| entry.get::<String>("event"))
            .map(|raw| serde_json::from_str::<TaskEvent>(&raw).unwrap())
            .filter(|event| event.task_id == *id)
            .collect()
    }

    /// Waits until the task's latest event is `status`; returns the latest status seen.
    pub async fn wait_for_last_event(
        &self,
        id: &TaskId,
        status: TaskStatus,
        within: Duration,
    ) -> Option<TaskStatus> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let last = self.events(id).await.last().map(|e| e.status);
            if last == Some(status) || tokio::time::Instant::now() > deadline {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn dead_letters(&self) -> Vec<HashMap<String, String>> {
        let mut connection = self.redis().await;
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(self.keys.dead_letter_stream())
            .await
            .unwrap();
        reply
            .ids
            .iter()
            .map(|entry| {
                entry
                    .map
                    .keys()
                    .map(|k| (k.clone(), entry.get::<String>(k).unwrap_or_default()))
                    .collect()
            })
            .collect()
    }

    /// Waits until the task's metadata says `status` (a terminal one, usually).
    pub async fn wait_for_status(
        &self,
        id: &TaskId,
        status: &str,
        within: Duration,
    ) -> TaskMetadata {
        let found = wait_for(within, || {
            self.metadata(id).filter(|m| m.status.as_str() == status)
        })
        .await;
        found.unwrap_or_else(|| {
            panic!(
                "task never reached `{status}`; metadata: {:?}\nqueue flow: {:?}\nagent output: {:?}",
                self.metadata(id).map(|m| (m.status, m.last_error)),
                self.lines(id, LogFile::QueueFlow),
                self.lines(id, LogFile::AgentOutput),
            )
        })
    }
}

impl Drop for TestContext {
    fn drop(&mut self) {
        let pattern = format!("{}*", self.prefix);
        let Ok(client) = redis::Client::open(REDIS_URL) else {
            return;
        };
        let Ok(mut connection) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut connection);
        }
    }
}

/// Polls `check` every 50 ms until it returns something or `within` passes.
pub async fn wait_for<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn envelope(command: Command, priority: Priority) -> TaskEnvelope {
    TaskEnvelope {
        schema_version: contracts::envelope::SCHEMA_VERSION,
        task_id: TaskId::new(),
        provider: Provider::Github,
        event: "issue_comment.created".into(),
        command,
        instruction: "make the flaky test in tests/test_clock.py deterministic".into(),
        source: SourceRef {
            repo: Some("octo/repo".into()),
            number: Some(12),
            is_pull_request: Some(false),
            comment_id: Some("1001".into()),
            comment_kind: Some("issue_comment".into()),
            url: Some("https://github.com/octo/repo/issues/12#issuecomment-1001".into()),
            ..Default::default()
        },
        actor: Actor {
            id: "583231".into(),
            login: Some("octocat".into()),
            display_name: None,
            kind: "user".into(),
        },
        priority,
        attempt: 1,
        run: 1,
        created_at: Utc::now(),
        conversation_key: TaskEnvelope::github_conversation("octo/repo", 12),
    }
}

/// A worker: a separate process of the built binary, killed when dropped.
pub struct WorkerProcess {
    pub child: tokio::process::Child,
    pub port: u16,
    pub id: String,
}

pub const SECRET_GITHUB_TOKEN: &str = "ghp_WorkerOwnSecretToken0123456789abcdef";
pub const SECRET_SERVICE_TOKEN: &str = "svc-internal-token-5f2a9c7e";
pub const AGENT_API_KEY: &str = "sk-ant-api03-test-key-for-the-agent-only";

impl WorkerProcess {
    pub async fn spawn(ctx: &TestContext, overrides: &[(&str, &str)]) -> Self {
        let port = free_port();
        let id = format!("worker-{}", &uuid::Uuid::new_v4().to_string()[..8]);
        let log = std::fs::File::create(ctx.path(&format!("{id}.log"))).unwrap();
        let mut env: HashMap<String, String> = HashMap::from([
            ("BIND_ADDR".into(), format!("127.0.0.1:{port}")),
            ("REDIS_URL".into(), REDIS_URL.into()),
            ("REDIS_KEY_PREFIX".into(), ctx.prefix.clone()),
            ("TASK_LOGS_DIR".into(), ctx.logs_dir().display().to_string()),
            ("AGENT_WORKDIR".into(), ctx.workdir().display().to_string()),
            ("AGENT_WORKER_ID".into(), id.clone()),
            ("AGENT_LEASE".into(), "2s".into()),
            ("AGENT_RETRY_BACKOFF".into(), "100ms".into()),
            ("AGENT_SHUTDOWN_GRACE".into(), "1s".into()),
            ("AGENT_RUNNER".into(), "claude".into()),
            ("ANTHROPIC_API_KEY".into(), AGENT_API_KEY.into()),
            ("GITHUB_TOKEN".into(), SECRET_GITHUB_TOKEN.into()),
            ("SERVICE_AUTH_TOKEN".into(), SECRET_SERVICE_TOKEN.into()),
            ("RUST_LOG".into(), "info".into()),
            // The provider services are off unless a test brings them (see `follow.rs`).
            ("AGENT_FOLLOW_UP".into(), "false".into()),
        ]);
        for (key, value) in overrides {
            env.insert((*key).into(), (*value).into());
        }
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_agent-container"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&env)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("the agent-container binary starts");
        let worker = Self { child, port, id };
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/health");
        for _ in 0..200 {
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return worker;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "worker never answered /health; its log: {}",
            std::fs::read_to_string(ctx.path(&format!("{}.log", worker.id))).unwrap_or_default()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn sigkill(&mut self) {
        self.child.kill().await.unwrap();
    }

    pub fn sigterm(&self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id().expect("running") as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    }

    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.child.wait())
            .await
            .expect("the worker exits in time")
            .unwrap()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real interpreter (a pyenv shim would need the environment the agent does not get).
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 is installed");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    })
}

/// What the fake agent CLI does; it is a python script with this configuration baked in (the agent's
/// environment carries nothing the test could use to reach it).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FakeCli {
    /// Printed to stdout one by one.
    pub lines: Vec<String>,
    pub line_delay_ms: u64,
    /// Slept before `final_lines`.
    pub pause_ms: u64,
    pub final_lines: Vec<String>,
    pub exit_code: i32,
    pub stderr: String,
    /// Files written into the working directory (the workspace) before the pause.
    pub write_files: HashMap<String, String>,
    /// Appended to (one line per completed run) after the pause.
    pub completion_file: Option<PathBuf>,
    pub argv_file: Option<PathBuf>,
    pub env_file: Option<PathBuf>,
    pub stdin_file: Option<PathBuf>,
    /// A `sleep 600 &` grandchild is started and its pid written here.
    pub grandchild_pid_file: Option<PathBuf>,
    /// This many bytes of junk lines are written after `lines`.
    pub flood_bytes: u64,
}

impl FakeCli {
    pub fn write(&self, path: &Path) -> PathBuf {
        let config = serde_json::to_string(self).unwrap();
        let script = format!(
            r#"#!{python}
import json, os, subprocess, sys, time
C = json.loads({config:?})
if C["argv_file"]:
    open(C["argv_file"], "w").write(json.dumps(sys.argv[1:]))
if C["env_file"]:
    open(C["env_file"], "w").write(json.dumps(dict(os.environ)))
if C["stdin_file"]:
    open(C["stdin_file"], "w").write(sys.stdin.read())
if C["grandchild_pid_file"]:
    subprocess.run(["/bin/sh", "-c", "sleep 600 > /dev/null 2>&1 & echo $! > " + C["grandchild_pid_file"]])
for line in C["lines"]:
    print(line, flush=True)
    time.sleep(C["line_delay_ms"] / 1000)
if C["flood_bytes"]:
    chunk = ("x" * 1023 + "\n") * 64
    written = 0
    while written < C["flood_bytes"]:
        sys.stdout.write(chunk)
        written += len(chunk)
    sys.stdout.flush()
for name, text in C["write_files"].items():
    open(name, "w").write(text)
time.sleep(C["pause_ms"] / 1000)
if C["completion_file"]:
    open(C["completion_file"], "a").write("completed\n")
for line in C["final_lines"]:
    print(line, flush=True)
sys.stderr.write(C["stderr"])
sys.exit(C["exit_code"])
"#,
            python = python(),
        );
        std::fs::write(path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_owned()
    }
}

/// A Claude Code stream-json transcript of a short, successful fix, in the documented shapes.
pub fn claude_transcript() -> Vec<String> {
    [
        json!({"type": "system", "subtype": "init", "cwd": "/workspace", "session_id": "0c1d2e3f-sess", "tools": ["Read", "Edit", "Bash"], "mcp_servers": [], "model": "claude-sonnet-4-5-20250929", "permissionMode": "acceptEdits", "apiKeySource": "ANTHROPIC_API_KEY"}),
        json!({"type": "assistant", "message": {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [{"type": "thinking", "thinking": "The test depends on wall-clock time.", "signature": "sig"}], "stop_reason": null, "usage": {"input_tokens": 12, "output_tokens": 8}}, "parent_tool_use_id": null, "session_id": "0c1d2e3f-sess"}),
        json!({"type": "assistant", "message": {"id": "msg_02", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [{"type": "text", "text": "I'll look at the test first."}, {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "cat tests/test_clock.py"}}], "stop_reason": "tool_use", "usage": {"input_tokens": 30, "output_tokens": 20}}, "parent_tool_use_id": null, "session_id": "0c1d2e3f-sess"}),
        json!({"type": "user", "message": {"role": "user", "content": [{"tool_use_id": "toolu_01", "type": "tool_result", "content": [{"type": "text", "text": format!("GITHUB_TOKEN={SECRET_GITHUB_TOKEN} and ghp_SomeOtherLeakedToken1234567890abcd")}], "is_error": false}]}, "parent_tool_use_id": null, "session_id": "0c1d2e3f-sess"}),
    ]
    .iter()
    .map(Value::to_string)
    .chain([
        String::new(),
        json!({"type": "stream_event", "event": {"type": "content_block_delta"}}).to_string(),
        json!({"type": "assistant", "message": {"id": "msg_03", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "Fixed: the test now freezes the clock."}], "stop_reason": "end_turn"}, "parent_tool_use_id": null, "session_id": "0c1d2e3f-sess"}).to_string(),
    ])
    .collect()
}

pub fn claude_result(subtype: &str, is_error: bool) -> String {
    json!({"type": "result", "subtype": subtype, "is_error": is_error, "duration_ms": 4321, "duration_api_ms": 4000, "num_turns": 3, "result": "Fixed: the test now freezes the clock.", "session_id": "0c1d2e3f-sess", "total_cost_usd": 0.0421, "usage": {"input_tokens": 100, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 30, "output_tokens": 50}}).to_string()
}

pub fn process_alive(pid: i32) -> bool {
    // A zombie is dead for our purposes: only a running process counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .chars()
                .next();
            !matches!(state, Some('Z') | Some('X') | None)
        })
        .unwrap_or(false)
}

/// A local bare repository served over smart HTTP by `git http-backend` through a tiny CGI adapter.
pub struct GitServer {
    pub port: u16,
    root: TempDir,
}

impl GitServer {
    /// Serves `{repo}.git` (e.g. `octo/repo`) holding one commit with `files`.
    pub async fn start(repo: &str, files: &[(&str, &str)]) -> Self {
        Self::start_with_password(repo, files, None).await
    }

    /// Like [`Self::start`]; with `password`, every request must carry it as its HTTP Basic password
    /// (answered 401 with a challenge otherwise), as github-service's git proxy does.
    pub async fn start_with_password(
        repo: &str,
        files: &[(&str, &str)],
        password: Option<String>,
    ) -> Self {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("source");
        std::fs::create_dir_all(&source).unwrap();
        for (name, text) in files {
            let path = source.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let git = |dir: &Path, args: &[&str]| {
            let status = std::process::Command::new("git")
                .args(args)
                .current_dir(dir)
                .env("GIT_AUTHOR_NAME", "test")
                .env("GIT_AUTHOR_EMAIL", "test@example.com")
                .env("GIT_COMMITTER_NAME", "test")
                .env("GIT_COMMITTER_EMAIL", "test@example.com")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&source, &["init", "-q", "-b", "main"]);
        git(&source, &["add", "."]);
        git(&source, &["commit", "-q", "-m", "initial"]);
        let bare = root.path().join("repos").join(format!("{repo}.git"));
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        git(
            root.path(),
            &[
                "clone",
                "-q",
                "--bare",
                source.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let project_root = root.path().join("repos");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let project_root = project_root.clone();
                let password = password.clone();
                tokio::spawn(async move {
                    let _ = serve_cgi(stream, &project_root, password.as_deref()).await;
                });
            }
        });
        Self { port, root }
    }

    /// `git show {rev}:{path}` in the served bare repository.
    pub fn show(&self, repo: &str, rev: &str, path: &str) -> Option<String> {
        let bare = self.root.path().join("repos").join(format!("{repo}.git"));
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(bare)
            .args(["show", &format!("{rev}:{path}")])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The branch names of the served bare repository.
    pub fn branches(&self, repo: &str) -> Vec<String> {
        let bare = self.root.path().join("repos").join(format!("{repo}.git"));
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(bare)
            .args(["for-each-ref", "--format=%(refname:short)", "refs/heads"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn url_template(&self) -> String {
        format!("http://127.0.0.1:{}/{{repo}}.git", self.port)
    }
}

fn git_http_backend() -> PathBuf {
    let out = std::process::Command::new("git")
        .arg("--exec-path")
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join("git-http-backend")
}

/// One HTTP/1.1 request in, one CGI run of `git http-backend`, one response out (connection closed after).
async fn serve_cgi(
    mut stream: TcpStream,
    project_root: &Path,
    password: Option<&str>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let header_end = loop {
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut body = buffer[header_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("GET").to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if let Some(password) = password {
        use base64::Engine;
        let given = headers
            .get("authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(|raw| String::from_utf8_lossy(&raw).into_owned());
        let authorized = given
            .as_deref()
            .and_then(|pair| pair.split_once(':'))
            .is_some_and(|(_, given)| given == password);
        if !authorized {
            stream
                .write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await?;
            return stream.shutdown().await;
        }
    }
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        body = read_chunked(&mut stream, body).await?;
    } else if let Some(length) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        while body.len() < length {
            let mut chunk = vec![0u8; length - body.len()];
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..read]);
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut command = tokio::process::Command::new(git_http_backend());
    command
        .env_clear()
        .env("GIT_PROJECT_ROOT", project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REQUEST_METHOD", &method)
        .env(
            "CONTENT_TYPE",
            headers.get("content-type").cloned().unwrap_or_default(),
        )
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        // http-backend takes pushes only from an authenticated user.
        .env("REMOTE_USER", "agent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(encoding) = headers.get("content-encoding") {
        command.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = headers.get("git-protocol") {
        command.env("GIT_PROTOCOL", protocol);
    }
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let output = child.wait_with_output().await?;
    let _ = writer.await;
    let cgi = output.stdout;
    let split = cgi
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, 4))
        .or_else(|| cgi.windows(2).position(|w| w == b"\n\n").map(|at| (at, 2)));
    let (cgi_head, cgi_body) = match split {
        Some((at, len)) => (
            String::from_utf8_lossy(&cgi[..at]).into_owned(),
            &cgi[at + len..],
        ),
        None => (String::new(), &cgi[..]),
    };
    let mut status = "200 OK".to_owned();
    let mut response = String::new();
    for line in cgi_head.lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                status = value.trim().to_owned()
            }
            Some(_) => {
                response.push_str(line.trim_end());
                response.push_str("\r\n");
            }
            None => {}
        }
    }
    let head = format!(
        "HTTP/1.1 {status}\r\n{response}Content-Length: {}\r\nConnection: close\r\n\r\n",
        cgi_body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(cgi_body).await?;
    stream.shutdown().await
}

async fn read_chunked(stream: &mut TcpStream, mut pending: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(at) = pending.windows(2).position(|w| w == b"\r\n") {
                break at;
            }
            let mut chunk = [0u8; 8192];
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(body);
            }
            pending.extend_from_slice(&chunk[..read]);
        };
        let size_text = String::from_utf8_lossy(&pending[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        pending.drain(..line_end + 2);
        while pending.len() < size + 2 {
            let mut chunk = [0u8; 8192];
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(body);
            }
            pending.extend_from_slice(&chunk[..read]);
        }
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&pending[..size]);
        pending.drain(..size + 2);
    }
}
