//! dashboard-api benchmark (release build): `cargo bench -p dashboard-api --bench dashboard`.
//!
//! Each scenario runs in a child process of its own so its peak RSS (VmHWM) is its own:
//! - `combined`: the combined log of a task with 100 000 events, served over HTTP;
//!   baseline: reading the same files from disk.
//! - `sse`: latency from an append to the `line` event reaching an SSE client;
//!   baseline: the configured poll interval.
//! - `list`: a page of the task list over 1 000 000 indexed tasks (SQLite), first page, deep page and
//!   filtered pages; baseline: the same query through the index without HTTP.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use contracts::envelope::SCHEMA_VERSION;
use contracts::task_log::LogFile;
use contracts::{
    Actor, Command, Priority, Provider, SourceRef, TaskEnvelope, TaskId, TaskLogWriter,
    TaskMetadata, TaskStatus,
};
use dashboard_api::configuration::Settings;
use dashboard_api::index::{TaskFilter, TaskIndex, TaskSummary};
use dashboard_api::startup::Application;
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::json;
use service_kit::configuration::CommonSettings;

const COMBINED_EVENTS: usize = 100_000;
const INDEXED_TASKS: usize = 1_000_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--scenario") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let scenario = args[position + 1].clone();
        let dir = args[position + 2].clone();
        runtime.block_on(async {
            match scenario.as_str() {
                "combined" => combined(Path::new(&dir)).await,
                "sse" => sse(Path::new(&dir)).await,
                "list" => list(Path::new(&dir)).await,
                other => panic!("unknown scenario {other}"),
            }
        });
        println!("peak RSS (VmHWM): {:.1} MB", peak_rss_mb());
        return;
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with("--")).cloned();
    for scenario in ["combined", "sse", "list"] {
        if filter.as_deref().is_some_and(|f| !scenario.contains(f)) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        println!("\n## {scenario}");
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--scenario", scenario, &dir.path().display().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "scenario {scenario} failed");
    }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn current_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn sample_envelope(i: usize) -> TaskEnvelope {
    let provider = Provider::ALL[i % 4];
    TaskEnvelope {
        schema_version: SCHEMA_VERSION,
        task_id: TaskId::new(),
        provider,
        event: "issue_comment.created".into(),
        command: [
            Command::Fix,
            Command::Review,
            Command::Ask,
            Command::Investigate,
        ][i % 4],
        instruction: format!(
            "please fix the flaky integration test number {i} in the payments module"
        ),
        source: SourceRef {
            repo: Some(format!("octo/repo-{}", i % 50)),
            number: Some(i as u64),
            ..Default::default()
        },
        actor: Actor {
            id: format!("{}", i % 300),
            login: Some(format!("user{}", i % 300)),
            display_name: None,
            kind: "user".into(),
        },
        priority: Priority::Normal,
        attempt: 1,
        run: 1,
        created_at: Utc::now(),
        conversation_key: format!("github:octo/repo-{}#{i}", i % 50),
    }
}

fn settings(dir: &Path, database_url: &str) -> Settings {
    Settings {
        common: CommonSettings {
            bind_addr: "127.0.0.1:0".parse().unwrap(),
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_key_prefix: format!("bench:{}:", uuid::Uuid::new_v4()),
            task_logs_dir: dir.join("logs"),
        },
        database_url: database_url.to_owned(),
        token: None,
        retention_days: 3650,
        retention_interval: Duration::from_secs(3600),
        consumer_group: "dashboard".into(),
        consumer_name: "bench".into(),
        sse_poll_interval: Duration::from_millis(25),
    }
}

async fn start(settings: Settings) -> (String, tokio_util::sync::CancellationToken) {
    let application = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    let token = application.shutdown_token();
    tokio::spawn(application.run_until_stopped());
    (address, token)
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

/// A task whose four streams hold `COMBINED_EVENTS` lines, as the writers render them.
fn write_big_task(writer: &TaskLogWriter) -> TaskId {
    let envelope = sample_envelope(1);
    let id = envelope.task_id;
    writer.create_task_dir(&id).unwrap();
    let mut metadata = TaskMetadata::queued(&envelope);
    metadata.status = TaskStatus::Running;
    writer
        .write_json(&id, LogFile::Metadata, &metadata)
        .unwrap();
    writer
        .write_json(
            &id,
            LogFile::Input,
            &json!({"instruction": envelope.instruction}),
        )
        .unwrap();
    let mut files: Vec<std::io::BufWriter<std::fs::File>> = LogFile::STREAMS
        .iter()
        .map(|f| std::io::BufWriter::new(std::fs::File::create(writer.path(&id, *f)).unwrap()))
        .collect();
    for i in 0..COMBINED_EVENTS {
        let (slot, kind, fields) = match i % 10 {
            0 => (
                3,
                "service_request",
                json!({"method": "POST", "path": "/repos/octo/repo/issues/12/comments", "status": 201, "duration_ms": 87}),
            ),
            1 => (1, "heartbeat", json!({"worker": "worker-1"})),
            2..=4 => (
                2,
                "tool_call",
                json!({"tool": "Bash", "input": {"command": format!("cargo test -p payments -- test_{i}")}, "call_id": format!("c{i}")}),
            ),
            5..=7 => (
                2,
                "tool_result",
                json!({"call_id": format!("c{i}"), "output": "running 12 tests\ntest result: ok. 12 passed; 0 failed", "is_error": false}),
            ),
            _ => (
                2,
                "message",
                json!({"text": "The failure comes from a timeout in the retry helper; raising it and adding a deterministic clock."}),
            ),
        };
        let slot = if i < 7 { 0 } else { slot };
        let line = writer.render_line(&id, LogFile::STREAMS[slot], Utc::now(), kind, fields);
        files[slot].write_all(line.as_bytes()).unwrap();
    }
    for mut file in files {
        file.flush().unwrap();
    }
    id
}

async fn combined(dir: &Path) {
    let writer = TaskLogWriter::new(dir.join("logs"), "bench");
    let id = write_big_task(&writer);
    let bytes_on_disk: u64 = LogFile::ALL
        .iter()
        .filter_map(|f| std::fs::metadata(writer.path(&id, *f)).ok())
        .map(|m| m.len())
        .sum();
    let (address, _stop) = start(settings(
        dir,
        &format!("sqlite://{}?mode=rwc", dir.join("d.db").display()),
    ))
    .await;
    let client = reqwest::Client::new();
    let url = format!("{address}/api/v1/tasks/{id}/logs");
    let rss_before = current_rss_mb();

    let mut baseline = histogram();
    for _ in 0..20 {
        let started = Instant::now();
        let mut total = 0;
        for file in LogFile::ALL {
            total += std::fs::read(writer.path(&id, file))
                .map(|b| b.len())
                .unwrap_or(0);
        }
        assert!(total > 0);
        baseline
            .record(started.elapsed().as_micros() as u64)
            .unwrap();
    }
    let mut served = histogram();
    let mut body_bytes = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let mut stream = response.bytes_stream();
        body_bytes = 0;
        while let Some(chunk) = stream.next().await {
            body_bytes += chunk.unwrap().len();
        }
        served.record(started.elapsed().as_micros() as u64).unwrap();
    }
    println!(
        "events: {COMBINED_EVENTS}, on disk: {:.1} MB, response: {:.1} MB",
        bytes_on_disk as f64 / 1e6,
        body_bytes as f64 / 1e6
    );
    println!(
        "combined log over HTTP: p50 {} p95 {} max {}",
        ms(served.value_at_quantile(0.5)),
        ms(served.value_at_quantile(0.95)),
        ms(served.max())
    );
    println!(
        "baseline (read the files): p50 {}",
        ms(baseline.value_at_quantile(0.5))
    );
    println!(
        "ratio p50 served / baseline: {:.1}x",
        served.value_at_quantile(0.5) as f64 / baseline.value_at_quantile(0.5) as f64
    );
    println!("RSS before requests: {rss_before:.1} MB");
}

async fn sse(dir: &Path) {
    let writer = TaskLogWriter::new(dir.join("logs"), "bench");
    let envelope = sample_envelope(2);
    let id = envelope.task_id;
    writer.create_task_dir(&id).unwrap();
    let mut metadata = TaskMetadata::queued(&envelope);
    metadata.status = TaskStatus::Running;
    writer
        .write_json(&id, LogFile::Metadata, &metadata)
        .unwrap();
    writer
        .append(&id, LogFile::QueueFlow, "queued", json!({}))
        .unwrap();
    let config = settings(
        dir,
        &format!("sqlite://{}?mode=rwc", dir.join("d.db").display()),
    );
    let poll = config.sse_poll_interval;
    let (address, _stop) = start(config).await;
    let response = reqwest::Client::new()
        .get(format!("{address}/api/v1/tasks/{id}/stream"))
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    // Reads until a `line` event for agent_output line `n` arrives.
    async fn wait_line(
        body: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
        buffer: &mut String,
        n: usize,
    ) {
        let needle = format!("\"stream\":\"agent_output\",\"line\":{n},");
        loop {
            if let Some(at) = buffer.find(&needle) {
                buffer.drain(..at + needle.len());
                return;
            }
            let chunk = body.next().await.unwrap().unwrap();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    let mut latency = histogram();
    for n in 1..=300 {
        // Appends land at random moments relative to the poll.
        tokio::time::sleep(Duration::from_millis(7 + (n as u64 * 13) % 31)).await;
        let started = Instant::now();
        writer
            .append(
                &id,
                LogFile::AgentOutput,
                "message",
                json!({"text": format!("step {n}")}),
            )
            .unwrap();
        wait_line(&mut body, &mut buffer, n).await;
        latency
            .record(started.elapsed().as_micros() as u64)
            .unwrap();
    }
    println!(
        "append -> SSE line event (300 appends): p50 {} p99 {} max {}",
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99)),
        ms(latency.max())
    );
    println!(
        "baseline: SSE_POLL_INTERVAL {} ms (expected mean wait half of it)",
        poll.as_millis()
    );
}

async fn list(dir: &Path) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("dashboard.db").display());
    let index = TaskIndex::connect_lazy(&url).unwrap();
    index.ensure_schema().await.unwrap();
    let started = Instant::now();
    let statuses = [
        TaskStatus::Succeeded,
        TaskStatus::Succeeded,
        TaskStatus::Failed,
        TaskStatus::Running,
        TaskStatus::Succeeded,
    ];
    let mut batch = Vec::with_capacity(10_000);
    let mut middle = None;
    for i in 0..INDEXED_TASKS {
        let envelope = sample_envelope(i);
        let mut metadata = TaskMetadata::queued(&envelope);
        metadata.status = statuses[i % statuses.len()];
        if i == INDEXED_TASKS / 2 {
            middle = Some(envelope.task_id);
        }
        batch.push(TaskSummary::from_parts(&metadata, None));
        if batch.len() == 10_000 {
            index.insert_new(&batch).await.unwrap();
            batch.clear();
        }
    }
    index.insert_new(&batch).await.unwrap();
    drop(batch);
    println!(
        "indexed {INDEXED_TASKS} tasks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (address, _stop) = start(settings(dir, &url)).await;
    let client = reqwest::Client::new();
    let middle = middle.unwrap();
    let pages = [
        (
            "first page (50)",
            "limit=50".to_owned(),
            TaskFilter::default(),
        ),
        (
            "page 10 000 deep (cursor)",
            format!("limit=50&cursor={middle}"),
            TaskFilter {
                before: Some(middle),
                ..Default::default()
            },
        ),
        (
            "status=failed",
            "limit=50&status=failed".to_owned(),
            TaskFilter {
                status: Some("failed".into()),
                ..Default::default()
            },
        ),
        (
            "provider=jira&status=running",
            "limit=50&provider=jira&status=running".to_owned(),
            TaskFilter {
                provider: Some("jira".into()),
                status: Some("running".into()),
                ..Default::default()
            },
        ),
        (
            "repository=octo/repo-8",
            "limit=50&repository=octo/repo-8".to_owned(),
            TaskFilter {
                scope: Some("octo/repo-8".into()),
                ..Default::default()
            },
        ),
        (
            "actor=user42",
            "limit=50&actor=user42".to_owned(),
            TaskFilter {
                actor: Some("user42".into()),
                ..Default::default()
            },
        ),
        (
            "q=number 123456 (one task has it: read from the trigram index)",
            "limit=50&q=number%20123456".to_owned(),
            TaskFilter {
                text: Some("number 123456".into()),
                ..Default::default()
            },
        ),
        (
            "q=number 423 (about 1 100 tasks have it: read from the trigram index)",
            "limit=50&q=number%20423".to_owned(),
            TaskFilter {
                text: Some("number 423".into()),
                ..Default::default()
            },
        ),
        (
            "q=number 4 (about 111 000 tasks have it, none of the newest 400 000: newest-first scan)",
            "limit=50&q=number%204".to_owned(),
            TaskFilter {
                text: Some("number 4".into()),
                ..Default::default()
            },
        ),
    ];
    println!("| page | HTTP p50 | HTTP p95 | index only p50 | ratio |");
    println!("|---|---|---|---|---|");
    for (name, query, filter) in pages {
        let runs = if name.starts_with('q') { 10 } else { 200 };
        let mut direct = histogram();
        for _ in 0..runs {
            let started = Instant::now();
            index.list(&filter, 50).await.unwrap();
            direct.record(started.elapsed().as_micros() as u64).unwrap();
        }
        let mut served = histogram();
        for _ in 0..runs {
            let started = Instant::now();
            let response = client
                .get(format!("{address}/api/v1/tasks?{query}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap();
            served.record(started.elapsed().as_micros() as u64).unwrap();
        }
        println!(
            "| {name} | {} | {} | {} | {:.2}x |",
            ms(served.value_at_quantile(0.5)),
            ms(served.value_at_quantile(0.95)),
            ms(direct.value_at_quantile(0.5)),
            served.value_at_quantile(0.5) as f64 / direct.value_at_quantile(0.5) as f64
        );
    }
}
