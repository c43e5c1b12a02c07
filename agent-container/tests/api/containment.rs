use std::collections::HashMap;
use std::time::Duration;

use contracts::events::TaskStatus;
use contracts::task_log::LogFile;
use contracts::{Command, Priority};
use serde_json::Value;

use crate::helpers::{
    AGENT_API_KEY, FakeCli, REDIS_URL, SECRET_GITHUB_TOKEN, SECRET_SERVICE_TOKEN, TestContext,
    WorkerProcess, claude_result, claude_transcript, envelope, process_alive, wait_for,
};

fn cli_with_grandchild(ctx: &TestContext) -> String {
    FakeCli {
        lines: claude_transcript(),
        grandchild_pid_file: Some(ctx.path("grandchild.pid")),
        pause_ms: 60_000,
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"))
    .display()
    .to_string()
}

async fn grandchild_pid(ctx: &TestContext) -> i32 {
    let pid = wait_for(Duration::from_secs(20), || {
        std::fs::read_to_string(ctx.path("grandchild.pid"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
    })
    .await
    .expect("the fake CLI started its grandchild");
    assert!(
        process_alive(pid),
        "the grandchild runs while the agent does"
    );
    pid
}

async fn assert_gone(pid: i32) {
    let gone = wait_for(Duration::from_secs(5), || {
        (!process_alive(pid)).then_some(())
    })
    .await;
    assert!(gone.is_some(), "grandchild {pid} outlived the agent");
}

#[tokio::test]
async fn a_timeout_kills_the_agent_with_its_grandchildren() {
    let ctx = TestContext::new().await;
    let cli = cli_with_grandchild(&ctx);
    let definitions = ctx.path("agents.json");
    std::fs::write(&definitions, r#"{"fix": {"timeout_seconds": 2}}"#).unwrap();
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_CLAUDE_BIN", &cli),
            ("AGENT_DEFINITIONS_FILE", definitions.to_str().unwrap()),
        ],
    )
    .await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    let pid = grandchild_pid(&ctx).await;

    let metadata = ctx
        .wait_for_status(&task.task_id, "failed", Duration::from_secs(20))
        .await;
    assert!(metadata.last_error.unwrap().contains("timeout"));
    assert_gone(pid).await;
    let result = ctx.final_result(&task.task_id).unwrap();
    assert!(result.error.unwrap().contains("2s timeout"));
    let exited = ctx
        .lines(&task.task_id, LogFile::AgentOutput)
        .into_iter()
        .find(|l| l["type"] == "process_exited")
        .unwrap();
    assert_eq!(exited["stopped"], "timeout");
}

#[tokio::test]
async fn a_cancel_kills_a_running_agent_with_its_grandchildren() {
    let ctx = TestContext::new().await;
    let cli = cli_with_grandchild(&ctx);
    let _worker = WorkerProcess::spawn(&ctx, &[("AGENT_CLAUDE_BIN", &cli)]).await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    let pid = grandchild_pid(&ctx).await;

    ctx.queue
        .request_cancel(&task.task_id, "octocat")
        .await
        .unwrap();
    ctx.wait_for_status(&task.task_id, "cancelled", Duration::from_secs(10))
        .await;
    assert_gone(pid).await;
    let result = ctx.final_result(&task.task_id).unwrap();
    assert_eq!(result.status, TaskStatus::Cancelled);
    // metadata.json is written just before the settlement publishes the event.
    let last = ctx
        .wait_for_last_event(&task.task_id, TaskStatus::Cancelled, Duration::from_secs(5))
        .await;
    assert_eq!(last, Some(TaskStatus::Cancelled));
}

#[tokio::test]
async fn a_task_cancelled_while_queued_is_skipped() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        argv_file: Some(ctx.path("argv.json")),
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    ctx.queue
        .request_cancel(&task.task_id, "octocat")
        .await
        .unwrap();
    let _worker = WorkerProcess::spawn(&ctx, &[("AGENT_CLAUDE_BIN", cli.to_str().unwrap())]).await;

    ctx.wait_for_status(&task.task_id, "cancelled", Duration::from_secs(10))
        .await;
    assert_eq!(
        ctx.types(&task.task_id, LogFile::QueueFlow),
        ["queued", "dequeued", "skipped"]
    );
    assert!(!ctx.path("argv.json").exists(), "the agent never ran");
    // metadata.json is written just before the settlement publishes the event.
    let mut statuses = Vec::new();
    for _ in 0..100 {
        statuses = ctx
            .events(&task.task_id)
            .await
            .iter()
            .map(|e| e.status)
            .collect();
        if statuses.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(statuses, [TaskStatus::Queued, TaskStatus::Cancelled]);
}

#[tokio::test]
async fn a_flood_of_output_stays_within_the_caps() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        lines: vec![claude_transcript()[0].clone()],
        flood_bytes: 200 * 1024 * 1024,
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_CLAUDE_BIN", cli.to_str().unwrap()),
            ("AGENT_MAX_OUTPUT_BYTES", "2000000"),
        ],
    )
    .await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    let metadata = ctx
        .wait_for_status(&task.task_id, "failed", Duration::from_secs(30))
        .await;
    assert!(
        metadata
            .last_error
            .unwrap()
            .contains("more than 2000000 bytes")
    );
    let logged = std::fs::metadata(ctx.logs.path(&task.task_id, LogFile::AgentOutput))
        .unwrap()
        .len();
    assert!(
        logged < 4 * 1024 * 1024,
        "04-agent-output.jsonl grew to {logged} bytes"
    );
}

#[tokio::test]
async fn a_truncated_stream_fails_the_task_with_a_clear_error() {
    let ctx = TestContext::new().await;
    let mut lines = claude_transcript();
    lines.truncate(3);
    lines.push(
        r#"{"type":"assistant","message":{"content":[{"type":"text","text":"half a li"#.to_owned(),
    );
    let cli = FakeCli {
        lines,
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let worker = WorkerProcess::spawn(&ctx, &[("AGENT_CLAUDE_BIN", cli.to_str().unwrap())]).await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;

    let metadata = ctx
        .wait_for_status(&task.task_id, "failed", Duration::from_secs(20))
        .await;
    let error = metadata.last_error.unwrap();
    assert!(
        error.contains("malformed")
            && error.contains("line 4")
            && error.contains("without a result"),
        "{error}"
    );
    let output = ctx.lines(&task.task_id, LogFile::AgentOutput);
    assert!(
        output
            .iter()
            .any(|l| l["type"] == "error" && l["message"].as_str().unwrap().contains("line 4"))
    );
    assert!(
        output.iter().any(|l| l["type"] == "message"),
        "what was readable is logged"
    );
    let health = reqwest::get(worker.url("/health")).await.unwrap();
    assert!(health.status().is_success(), "the worker survives");

    let second = envelope(Command::Fix, Priority::Normal);
    let cut_short = FakeCli {
        lines: claude_transcript(),
        ..Default::default()
    };
    cut_short.write(&ctx.path("claude"));
    ctx.enqueue(&second).await;
    let metadata = ctx
        .wait_for_status(&second.task_id, "dead_lettered", Duration::from_secs(30))
        .await;
    let error = metadata.last_error.unwrap_or_default();
    assert!(error.contains("without a `result` event"), "{error}");
}

#[tokio::test]
async fn the_agent_environment_holds_none_of_the_worker_secrets() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        env_file: Some(ctx.path("env.json")),
        lines: vec![format!(
            r#"{{"type":"assistant","message":{{"content":[{{"type":"text","text":"key is {AGENT_API_KEY}, service token {SECRET_SERVICE_TOKEN}"}}]}}}}"#
        )],
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_CLAUDE_BIN", cli.to_str().unwrap()),
            ("AGENT_REPO_URL_TEMPLATE", "http://127.0.0.1:1/{repo}.git"),
            (
                "DATABASE_URL",
                "postgres://postgres:pw-very-secret@127.0.0.1/agw",
            ),
        ],
    )
    .await;
    let mut task = envelope(Command::Ask, Priority::Normal);
    task.source.repo = None;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;

    let env: HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(ctx.path("env.json")).unwrap()).unwrap();
    let mut names: Vec<&str> = env
        .keys()
        .map(String::as_str)
        .filter(|n| *n != "LC_CTYPE")
        .collect();
    names.sort();
    assert_eq!(names, ["ANTHROPIC_API_KEY", "HOME", "PATH"]);
    assert_eq!(env["ANTHROPIC_API_KEY"], AGENT_API_KEY);
    assert!(
        env["HOME"].ends_with(&task.task_id.to_string()),
        "HOME is the workspace"
    );
    for value in env.values() {
        for secret in [
            SECRET_GITHUB_TOKEN,
            SECRET_SERVICE_TOKEN,
            REDIS_URL,
            "pw-very-secret",
            &ctx.prefix,
        ] {
            assert!(!value.contains(secret), "the agent got {secret}");
        }
    }
    let output =
        std::fs::read_to_string(ctx.logs.path(&task.task_id, LogFile::AgentOutput)).unwrap();
    assert!(
        !output.contains(AGENT_API_KEY) && !output.contains(SECRET_SERVICE_TOKEN),
        "{output}"
    );
    let message: Value = output
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["type"] == "message")
        .unwrap();
    assert_eq!(
        message["text"],
        "key is [REDACTED], service token [REDACTED]"
    );
}

#[tokio::test]
async fn a_repository_task_gets_only_its_repository_url() {
    let ctx = TestContext::new().await;
    let git = crate::helpers::GitServer::start("octo/repo", &[("README.md", "hello\n")]).await;
    let cli = FakeCli {
        env_file: Some(ctx.path("env.json")),
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let template = git.url_template();
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_CLAUDE_BIN", cli.to_str().unwrap()),
            ("AGENT_REPO_URL_TEMPLATE", &template),
        ],
    )
    .await;
    let task = envelope(Command::Review, Priority::Normal);
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;
    let env: HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(ctx.path("env.json")).unwrap()).unwrap();
    assert_eq!(env["REPO_URL"], template.replace("{repo}", "octo/repo"));
    assert!(
        ctx.final_result(&task.task_id).unwrap().changes.is_none(),
        "nothing changed"
    );
}
