//! agent-container benchmark against the real Redis at 127.0.0.1:6379, workers as separate processes of the
//! release binary running the no-op runner (`AGENT_RUNNER=noop`):
//!
//! 1. enqueue to runner start, one task at a time with idle workers (p50/p99), against a bare `XREADGROUP`
//!    consumer in this process (the queue's own floor);
//! 2. tasks/s two containers drain from a queue of 10 000, against one bare consumer (read + ack only);
//! 3. worker overhead per task excluding the CLI, from the task log (`dequeued` to `06-final-result.json`'s
//!    `finished_at`) and from the workers' `agent_worker_overhead_seconds` histogram (whole handling minus
//!    the runner, settlement included).
//!
//! The drain runs twice, task logs and workspaces on the disk (under cargo's target directory) and on tmpfs
//! (`/dev/shm`), beside how many task-shaped directories each creates per second in the same run: this
//! machine's disk creates files up to ten times slower for a minute or more after many were deleted.
//!
//! `cargo bench -p agent-container --bench queue_drain` (set `BENCH_TASKS` to change the 10 000,
//! `BENCH_CONCURRENCY` the 32 slots per container).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use contracts::events::TaskEvent;
use contracts::task_log::{LogFile, TaskLogWriter, TaskMetadata};
use contracts::{Actor, Command, Priority, Provider, RedisKeys, SourceRef, TaskEnvelope, TaskId};
use deadpool_redis::redis::{self, AsyncCommands};
use serde_json::Value;
use service_kit::queue::TaskQueue;

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const LATENCY_SAMPLES: usize = 1000;

fn envelope() -> TaskEnvelope {
    TaskEnvelope {
        schema_version: contracts::envelope::SCHEMA_VERSION,
        task_id: TaskId::new(),
        provider: Provider::Slack,
        event: "app_mention".into(),
        command: Command::Ask,
        instruction: "what does the retry policy do?".into(),
        source: SourceRef {
            slack_team: Some("T0001".into()),
            slack_channel: Some("C0001".into()),
            slack_thread_ts: Some("1700000000.000100".into()),
            ..Default::default()
        },
        actor: Actor {
            id: "U0001".into(),
            ..Default::default()
        },
        priority: Priority::Normal,
        attempt: 1,
        run: 1,
        created_at: Utc::now(),
        conversation_key: "slack:T0001/C0001/1700000000.000100".into(),
    }
}

struct Bench {
    prefix: String,
    root: tempfile::TempDir,
    logs: TaskLogWriter,
    queue: TaskQueue,
    keys: RedisKeys,
}

/// Where a run keeps its task logs and workspaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    /// The local disk, under cargo's target directory.
    Disk,
    /// tmpfs (`/dev/shm`): the workers' own cost, without the disk's.
    Tmpfs,
}

impl Storage {
    fn tempdir(self) -> tempfile::TempDir {
        match self {
            Storage::Disk => tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")),
            Storage::Tmpfs => tempfile::tempdir_in("/dev/shm"),
        }
        .unwrap()
    }
}

/// Task-shaped directories per second in `root` (a directory, two files written and renamed, two
/// appended): what the storage allows right now. The probe's files stay until `root` goes: deleting
/// thousands of files slows this disk's next creations for a minute or more.
fn probe_files(root: &std::path::Path) -> f64 {
    use std::io::Write;
    const COUNT: usize = 2000;
    let started = Instant::now();
    for i in 0..COUNT {
        let task = root.join(format!("task-{i}"));
        std::fs::create_dir(&task).unwrap();
        for name in ["metadata.json", "01-input.json"] {
            let temp = task.join(format!(".{name}.tmp"));
            std::fs::write(&temp, [b'x'; 1500]).unwrap();
            std::fs::rename(&temp, task.join(name)).unwrap();
        }
        for name in ["02-webhook-flow.jsonl", "03-queue-flow.jsonl"] {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(task.join(name))
                .unwrap()
                .write_all(&[b'y'; 600])
                .unwrap();
        }
    }
    COUNT as f64 / started.elapsed().as_secs_f64()
}

impl Bench {
    async fn new(label: &str, storage: Storage) -> Self {
        let prefix = format!("bench:{label}:{}:", uuid::Uuid::new_v4());
        let root = storage.tempdir();
        let pool = service_kit::redis::pool(REDIS_URL, 16).unwrap();
        let keys = RedisKeys::new(prefix.clone());
        let queue = TaskQueue::new(pool, keys.clone());
        queue
            .ensure_groups()
            .await
            .expect("redis at 127.0.0.1:6379");
        Self {
            logs: TaskLogWriter::new(root.path().join("logs"), "api-gateway"),
            prefix,
            root,
            queue,
            keys,
        }
    }

    /// What the gateway does before the enqueue (not timed).
    fn prepare(&self, envelope: &TaskEnvelope) {
        self.logs.create_task_dir(&envelope.task_id).unwrap();
        self.logs
            .write_json(
                &envelope.task_id,
                LogFile::Metadata,
                &TaskMetadata::queued(envelope),
            )
            .unwrap();
    }

    fn spawn_worker(&self, name: &str, concurrency: usize) -> (std::process::Child, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_agent-container"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("REDIS_URL", REDIS_URL)
            .env("REDIS_KEY_PREFIX", &self.prefix)
            .env("TASK_LOGS_DIR", self.root.path().join("logs"))
            .env("AGENT_WORKDIR", self.root.path().join("work"))
            .env("AGENT_WORKER_ID", name)
            .env("AGENT_RUNNER", "noop")
            .env("AGENT_CONCURRENCY", concurrency.to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_healthy(port);
        (child, port)
    }

    fn first_ts(&self, id: &TaskId, file: LogFile, kind: &str) -> DateTime<Utc> {
        let text = std::fs::read_to_string(self.logs.path(id, file)).unwrap();
        let line: Value = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|l| l["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {}", file.file_name()));
        line["ts"].as_str().unwrap().parse().unwrap()
    }

    fn finished_at(&self, id: &TaskId) -> DateTime<Utc> {
        let raw = std::fs::read(self.logs.path(id, LogFile::FinalResult)).unwrap();
        serde_json::from_slice::<Value>(&raw).unwrap()["finished_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    async fn cleanup(&self) {
        let mut connection = self.queue.pool().get().await.unwrap();
        let keys: Vec<String> = connection.keys(format!("{}*", self.prefix)).await.unwrap();
        if !keys.is_empty() {
            let _: () = connection.del(keys).await.unwrap();
        }
    }
}

fn wait_healthy(port: u16) {
    for _ in 0..400 {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = stream.write_all(b"GET /health HTTP/1.0\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("worker on port {port} never became healthy");
}

fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// `agent_worker_overhead_seconds` buckets summed over workers: (upper bound, cumulative count).
fn overhead_buckets(ports: &[u16]) -> Vec<(f64, u64)> {
    let mut buckets: HashMap<String, u64> = HashMap::new();
    for port in ports {
        for line in scrape(*port).lines() {
            if let Some(rest) = line.strip_prefix("agent_worker_overhead_seconds_bucket{le=\"")
                && let Some((le, count)) = rest.split_once("\"} ")
            {
                *buckets.entry(le.to_owned()).or_default() +=
                    count.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    let mut sorted: Vec<(f64, u64)> = buckets
        .into_iter()
        .map(|(le, n)| {
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                },
                n,
            )
        })
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    sorted
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(name: &str, mut samples_ms: Vec<f64>) -> (f64, f64) {
    samples_ms.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&samples_ms, 0.50), percentile(&samples_ms, 0.99));
    println!(
        "{name}: n={} p50={p50:.3} ms p99={p99:.3} ms max={:.3} ms",
        samples_ms.len(),
        samples_ms.last().unwrap()
    );
    (p50, p99)
}

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap() as f64 / 1000.0
}

/// Baseline: a bare consumer in this process blocking on XREADGROUP, one entry at a time.
async fn bare_latency() -> Vec<f64> {
    let bench = Bench::new("bare-latency", Storage::Disk).await;
    let stream = bench.keys.task_stream(Priority::Normal);
    let mut reader = service_kit::redis::dedicated_connection(REDIS_URL, Duration::from_secs(1))
        .await
        .unwrap();
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let task = envelope();
        let group = contracts::keys::CONSUMER_GROUP;
        let read = async {
            let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(group)
                .arg("bare")
                .arg("COUNT")
                .arg(1)
                .arg("BLOCK")
                .arg(1000)
                .arg("STREAMS")
                .arg(&stream)
                .arg(">")
                .query_async(&mut reader)
                .await
                .unwrap();
            (Instant::now(), reply)
        };
        let enqueue = async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let start = Instant::now();
            bench.queue.enqueue(&task, None).await.unwrap();
            start
        };
        let ((received, reply), started) = tokio::join!(read, enqueue);
        let entry = reply.unwrap().keys.remove(0).ids.remove(0);
        let _: i64 = bench
            .queue
            .pool()
            .get()
            .await
            .unwrap()
            .xack(&stream, group, &[entry.id])
            .await
            .unwrap();
        samples.push((received - started).as_secs_f64() * 1000.0);
    }
    bench.cleanup().await;
    samples
}

async fn worker_latency(storage: Storage) -> (Vec<f64>, Vec<f64>) {
    let bench = Bench::new("latency", storage).await;
    let (mut worker, _) = bench.spawn_worker("latency-worker", 4);
    let mut events = service_kit::redis::dedicated_connection(REDIS_URL, Duration::from_secs(5))
        .await
        .unwrap();
    let mut last_id = "$".to_owned();
    let mut latency = Vec::with_capacity(LATENCY_SAMPLES);
    let mut overhead = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let task = envelope();
        bench.prepare(&task);
        let enqueued_at = Utc::now();
        bench.queue.enqueue(&task, None).await.unwrap();
        'done: loop {
            let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREAD")
                .arg("BLOCK")
                .arg(5000)
                .arg("STREAMS")
                .arg(bench.keys.task_events())
                .arg(&last_id)
                .query_async(&mut events)
                .await
                .unwrap();
            for key in reply.expect("a task event within 5s").keys {
                for entry in key.ids {
                    last_id = entry.id.clone();
                    let event: TaskEvent =
                        serde_json::from_str(&entry.get::<String>("event").unwrap()).unwrap();
                    if event.task_id == task.task_id && event.status.is_terminal() {
                        break 'done;
                    }
                }
            }
        }
        let runner_started = bench.first_ts(&task.task_id, LogFile::AgentOutput, "message");
        let dequeued = bench.first_ts(&task.task_id, LogFile::QueueFlow, "dequeued");
        latency.push(millis(enqueued_at, runner_started));
        overhead.push(millis(dequeued, bench.finished_at(&task.task_id)));
    }
    worker.kill().unwrap();
    let _ = worker.wait();
    bench.cleanup().await;
    (latency, overhead)
}

/// Baseline: one bare consumer draining the same number of entries with XREADGROUP COUNT 64 + XACK.
async fn bare_drain(tasks: usize) -> f64 {
    let bench = Bench::new("bare-drain", Storage::Disk).await;
    fill(&bench, tasks, false).await;
    let stream = bench.keys.task_stream(Priority::Normal);
    let group = contracts::keys::CONSUMER_GROUP;
    let mut connection = bench.queue.pool().get().await.unwrap();
    let started = Instant::now();
    let mut drained = 0;
    while drained < tasks {
        let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(group)
            .arg("bare")
            .arg("COUNT")
            .arg(64)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">")
            .query_async(&mut connection)
            .await
            .unwrap();
        let ids: Vec<String> = reply
            .map(|r| {
                r.keys
                    .into_iter()
                    .flat_map(|k| k.ids)
                    .map(|e| e.id)
                    .collect()
            })
            .unwrap_or_default();
        for id in &ids {
            let _: i64 = connection.xack(&stream, group, &[id]).await.unwrap();
        }
        drained += ids.len();
    }
    let rate = tasks as f64 / started.elapsed().as_secs_f64();
    bench.cleanup().await;
    rate
}

async fn fill(bench: &Bench, tasks: usize, prepare: bool) -> Vec<TaskId> {
    let mut ids = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        let task = envelope();
        if prepare {
            bench.prepare(&task);
        }
        bench.queue.enqueue(&task, None).await.unwrap();
        ids.push(task.task_id);
    }
    ids
}

async fn worker_drain(
    tasks: usize,
    concurrency: usize,
    storage: Storage,
) -> (f64, Vec<(f64, u64)>) {
    let bench = Bench::new("drain", storage).await;
    let ids = fill(&bench, tasks, true).await;
    let workers: Vec<_> = ["drain-a", "drain-b"]
        .into_iter()
        .map(|name| bench.spawn_worker(name, concurrency))
        .collect();
    loop {
        let depths = bench.queue.depths().await.unwrap();
        if depths.waiting.iter().all(|(_, n)| *n == 0) && depths.in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = ids
        .iter()
        .map(|id| bench.first_ts(id, LogFile::QueueFlow, "dequeued"))
        .min()
        .unwrap();
    let last = ids.iter().map(|id| bench.finished_at(id)).max().unwrap();
    let mut to_assigned = Vec::with_capacity(tasks);
    let mut to_runner = Vec::with_capacity(tasks);
    let mut to_result = Vec::with_capacity(tasks);
    for id in &ids {
        let dequeued = bench.first_ts(id, LogFile::QueueFlow, "dequeued");
        let assigned = bench.first_ts(id, LogFile::QueueFlow, "worker_assigned");
        let runner = bench.first_ts(id, LogFile::AgentOutput, "message");
        to_assigned.push(millis(dequeued, assigned));
        to_runner.push(millis(assigned, runner));
        to_result.push(millis(runner, bench.finished_at(id)));
    }
    summary(
        "  drain: dequeued -> worker_assigned (start round trip)",
        to_assigned,
    );
    summary(
        "  drain: worker_assigned -> runner start (metadata, workspace)",
        to_runner,
    );
    summary("  drain: runner start -> final result written", to_result);
    let succeeded = ids
        .iter()
        .filter(|id| {
            bench
                .logs
                .read_metadata(id)
                .is_ok_and(|m| m.status.as_str() == "succeeded")
        })
        .count();
    assert_eq!(succeeded, tasks, "every task succeeded");
    let ports: Vec<u16> = workers.iter().map(|(_, port)| *port).collect();
    let buckets = overhead_buckets(&ports);
    for (mut child, _) in workers {
        child.kill().unwrap();
        let _ = child.wait();
    }
    bench.cleanup().await;
    (tasks as f64 / (millis(first, last) / 1000.0), buckets)
}

fn print_buckets(buckets: &[(f64, u64)]) {
    let total = buckets.last().map_or(0, |(_, n)| *n).max(1);
    let shown: Vec<String> = buckets
        .iter()
        .filter(|(le, _)| *le <= 0.005 || le.is_infinite())
        .map(|(le, n)| format!("<= {le}s: {:.1}%", *n as f64 * 100.0 / total as f64))
        .collect();
    println!(
        "worker overhead histogram (whole handling minus runner, {total} tasks): {}",
        shown.join(", ")
    );
}

#[tokio::main]
async fn main() {
    let tasks: usize = std::env::var("BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    println!(
        "agent-container benchmark: real Redis at {REDIS_URL}, no-op runner, bench profile (release + fat LTO)"
    );

    let (bare_p50, bare_p99) = summary(
        "baseline: enqueue -> bare XREADGROUP consumer",
        bare_latency().await,
    );
    for storage in [Storage::Disk, Storage::Tmpfs] {
        let (latency, overhead) = worker_latency(storage).await;
        let (p50, p99) = summary(
            &format!("{storage:?}: enqueue -> runner start (idle worker)"),
            latency,
        );
        println!(
            "  ratio to baseline: p50 x{:.1}, p99 x{:.1}",
            p50 / bare_p50,
            p99 / bare_p99
        );
        summary(
            &format!(
                "{storage:?}: worker overhead, dequeued -> final result written (idle worker)"
            ),
            overhead,
        );
    }

    let probes = [Storage::Disk, Storage::Tmpfs].map(|storage| {
        let root = storage.tempdir();
        (storage, probe_files(root.path()), root)
    });
    for (storage, rate, _) in &probes {
        println!("baseline: {storage:?} creates {rate:.0} task-shaped directories/s");
    }
    let bare_rate = bare_drain(tasks).await;
    println!("baseline: one bare consumer drains {tasks} entries at {bare_rate:.0} entries/s");
    for storage in [Storage::Disk, Storage::Tmpfs] {
        let (rate, buckets) = worker_drain(tasks, concurrency, storage).await;
        println!(
            "{storage:?}: two containers (AGENT_CONCURRENCY={concurrency} each) drain {tasks} no-op tasks at {rate:.0} tasks/s ({:.2} of the bare consumer)",
            rate / bare_rate
        );
        print_buckets(&buckets);
    }
    drop(probes);
}
