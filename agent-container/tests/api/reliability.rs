use std::time::Duration;

use contracts::events::TaskStatus;
use contracts::task_log::LogFile;
use contracts::{Command, Priority};
use deadpool_redis::redis::AsyncCommands;

use crate::helpers::{
    FakeCli, TestContext, WorkerProcess, claude_result, claude_transcript, envelope, wait_for,
};

fn slow_cli(ctx: &TestContext, pause_ms: u64) -> String {
    FakeCli {
        lines: claude_transcript(),
        pause_ms,
        completion_file: Some(ctx.path("completions")),
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"))
    .display()
    .to_string()
}

fn completions(ctx: &TestContext) -> usize {
    std::fs::read_to_string(ctx.path("completions")).map_or(0, |t| t.lines().count())
}

/// Waits until `worker` has taken the task and the agent is running.
async fn wait_until_running(
    ctx: &TestContext,
    task: &contracts::TaskEnvelope,
    worker: &WorkerProcess,
) {
    wait_for(Duration::from_secs(20), || {
        let assigned = ctx
            .lines(&task.task_id, LogFile::QueueFlow)
            .iter()
            .any(|l| l["type"] == "worker_assigned" && l["worker"] == worker.id.as_str());
        let agent_started = ctx
            .types(&task.task_id, LogFile::AgentOutput)
            .iter()
            .any(|t| t == "session_started");
        (assigned && agent_started).then_some(())
    })
    .await
    .expect("the first worker starts the task");
}

#[tokio::test]
async fn a_task_whose_worker_is_killed_is_reclaimed_and_completed_exactly_once() {
    let ctx = TestContext::new().await;
    let cli = slow_cli(&ctx, 3000);
    let env = [("AGENT_CLAUDE_BIN", cli.as_str())];
    let mut first = WorkerProcess::spawn(&ctx, &env).await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    wait_until_running(&ctx, &task, &first).await;

    let second = WorkerProcess::spawn(&ctx, &env).await;
    first.sigkill().await;

    let metadata = ctx
        .wait_for_status(&task.task_id, "succeeded", Duration::from_secs(30))
        .await;
    assert_eq!(metadata.attempt, 2);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        completions(&ctx),
        1,
        "the agent ran to completion exactly once"
    );

    let flow = ctx.lines(&task.task_id, LogFile::QueueFlow);
    let kinds: Vec<&str> = flow.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "queued",
            "dequeued",
            "worker_assigned",
            "reclaimed",
            "dequeued",
            "worker_assigned"
        ]
    );
    assert_eq!(flow[3]["worker"], second.id.as_str());
    assert_eq!(flow[3]["delivery_count"], 2);
    assert_eq!(flow[5]["worker"], second.id.as_str());
    assert_eq!(flow[5]["attempt"], 2);
    let result = ctx.final_result(&task.task_id).unwrap();
    assert!(result.success);
    assert_eq!(result.attempts, 2);
    let statuses: Vec<TaskStatus> = ctx
        .events(&task.task_id)
        .await
        .iter()
        .map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        [
            TaskStatus::Queued,
            TaskStatus::Running,
            TaskStatus::Running,
            TaskStatus::Succeeded
        ]
    );
}

#[tokio::test]
async fn a_task_that_always_fails_is_dead_lettered_after_max_attempts_with_its_error() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        lines: vec![claude_transcript()[0].clone()],
        stderr: "fatal: upstream model overloaded\n".into(),
        exit_code: 1,
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let _worker = WorkerProcess::spawn(&ctx, &[("AGENT_CLAUDE_BIN", cli.to_str().unwrap())]).await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;

    let metadata = ctx
        .wait_for_status(&task.task_id, "dead_lettered", Duration::from_secs(30))
        .await;
    assert_eq!(metadata.attempt, 3);
    assert!(
        metadata
            .last_error
            .unwrap()
            .contains("upstream model overloaded")
    );

    let dead = ctx.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["task_id"], task.task_id.to_string());
    assert_eq!(dead[0]["attempts"], "3");
    assert!(
        dead[0]["error"].contains("exit code 1"),
        "{}",
        dead[0]["error"]
    );
    assert!(dead[0]["error"].contains("upstream model overloaded"));
    assert!(!dead[0]["failed_at"].is_empty());
    let parked: contracts::TaskEnvelope = serde_json::from_str(&dead[0]["envelope"]).unwrap();
    assert_eq!(parked.task_id, task.task_id);

    let kinds = ctx.types(&task.task_id, LogFile::QueueFlow);
    assert_eq!(kinds.iter().filter(|k| *k == "worker_assigned").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "retry_scheduled").count(), 2);
    assert_eq!(kinds.last().unwrap(), "dead_lettered");
    let attempts: Vec<u64> = ctx
        .lines(&task.task_id, LogFile::QueueFlow)
        .iter()
        .filter(|l| l["type"] == "worker_assigned")
        .map(|l| l["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    let result = ctx.final_result(&task.task_id).unwrap();
    assert_eq!(result.status, TaskStatus::DeadLettered);
    assert!(!result.success);
    assert_eq!(
        ctx.events(&task.task_id).await.last().unwrap().status,
        TaskStatus::DeadLettered
    );
    let delayed: u64 = ctx
        .redis()
        .await
        .zcard(ctx.keys.delayed_tasks())
        .await
        .unwrap();
    assert_eq!(delayed, 0);
}

#[tokio::test]
async fn sigterm_releases_a_running_task_and_another_worker_completes_it() {
    let ctx = TestContext::new().await;
    let cli = slow_cli(&ctx, 4000);
    let env = [("AGENT_CLAUDE_BIN", cli.as_str()), ("AGENT_LEASE", "30s")];
    let mut first = WorkerProcess::spawn(&ctx, &env).await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    wait_until_running(&ctx, &task, &first).await;
    let second = WorkerProcess::spawn(&ctx, &env).await;

    first.sigterm();
    let status = first.wait_exit(Duration::from_secs(10)).await;
    assert!(
        status.success(),
        "a SIGTERM'd worker exits cleanly: {status:?}"
    );

    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(30))
        .await;
    let flow = ctx.lines(&task.task_id, LogFile::QueueFlow);
    let kinds: Vec<&str> = flow.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "queued",
            "dequeued",
            "worker_assigned",
            "released",
            "dequeued",
            "worker_assigned"
        ]
    );
    assert_eq!(flow[3]["worker"], first.id.as_str());
    assert_eq!(flow[5]["worker"], second.id.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(completions(&ctx), 1);
    let statuses: Vec<TaskStatus> = ctx
        .events(&task.task_id)
        .await
        .iter()
        .map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        [
            TaskStatus::Queued,
            TaskStatus::Running,
            TaskStatus::Queued,
            TaskStatus::Running,
            TaskStatus::Succeeded
        ]
    );
}

#[tokio::test]
async fn unreadable_and_unknown_version_envelopes_are_dead_lettered_not_dropped() {
    let ctx = TestContext::new().await;
    let _worker = WorkerProcess::spawn(&ctx, &[("AGENT_RUNNER", "noop")]).await;
    let mut future = serde_json::to_value(envelope(Command::Ask, Priority::Low)).unwrap();
    future["schema_version"] = 99.into();
    let stream = ctx.keys.task_stream(Priority::Normal);
    let mut redis = ctx.redis().await;
    let _: String = redis
        .xadd(&stream, "*", &[("envelope", "{not json")])
        .await
        .unwrap();
    let _: String = redis
        .xadd(&stream, "*", &[("envelope", future.to_string())])
        .await
        .unwrap();
    let _: String = redis
        .xadd(&stream, "*", &[("something", "else")])
        .await
        .unwrap();

    let mut letters = Vec::new();
    for _ in 0..200 {
        letters = ctx.dead_letters().await;
        if letters.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(letters.len(), 3, "{letters:?}");
    // Slots work in parallel, so the letters may arrive in any order.
    let letter_with = |needle: &str| {
        letters
            .iter()
            .find(|l| l["error"].contains(needle))
            .unwrap_or_else(|| panic!("no dead letter says {needle:?}: {letters:?}"))
    };
    assert_eq!(letter_with("not valid")["envelope"], "{not json");
    assert_eq!(
        letter_with("schema_version 99")["task_id"],
        future["task_id"].as_str().unwrap()
    );
    letter_with("no `envelope` field");
}

#[tokio::test]
async fn higher_priorities_go_first_without_starving_the_lower_ones() {
    let ctx = TestContext::new().await;
    let mut low = Vec::new();
    let mut high = Vec::new();
    for _ in 0..6 {
        let task = envelope(Command::Ask, Priority::Low);
        ctx.enqueue(&task).await;
        low.push(task);
    }
    for _ in 0..12 {
        let task = envelope(Command::Ask, Priority::High);
        ctx.enqueue(&task).await;
        high.push(task);
    }
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[("AGENT_RUNNER", "noop"), ("AGENT_CONCURRENCY", "1")],
    )
    .await;
    for task in high.iter().chain(&low) {
        ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
            .await;
    }
    let started = |task: &contracts::TaskEnvelope| {
        ctx.lines(&task.task_id, LogFile::QueueFlow)
            .iter()
            .find(|l| l["type"] == "worker_assigned")
            .map(|l| l["ts"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let mut order: Vec<(String, Priority)> = high
        .iter()
        .chain(&low)
        .map(|t| (started(t), t.priority))
        .collect();
    order.sort();
    let priorities: Vec<Priority> = order.iter().map(|(_, p)| *p).collect();
    assert_eq!(priorities[0], Priority::High, "{priorities:?}");
    let first_low = priorities.iter().position(|p| *p == Priority::Low).unwrap();
    assert!(
        first_low < 12,
        "a low task ran before every high one was done: {priorities:?}"
    );
    assert!(priorities[..first_low].iter().all(|p| *p == Priority::High));
}

#[tokio::test]
async fn a_running_task_keeps_its_lease_and_is_never_handed_out_twice() {
    let ctx = TestContext::new().await;
    let cli = slow_cli(&ctx, 4000);
    let env = [("AGENT_CLAUDE_BIN", cli.as_str()), ("AGENT_LEASE", "1s")];
    let first = WorkerProcess::spawn(&ctx, &env).await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    wait_until_running(&ctx, &task, &first).await;
    let _second = WorkerProcess::spawn(&ctx, &env).await;

    let metadata = ctx
        .wait_for_status(&task.task_id, "succeeded", Duration::from_secs(30))
        .await;
    assert_eq!(metadata.attempt, 1);
    assert_eq!(completions(&ctx), 1);
    assert_eq!(
        ctx.types(&task.task_id, LogFile::QueueFlow),
        ["queued", "dequeued", "worker_assigned"]
    );
}
