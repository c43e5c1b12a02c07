use std::time::Duration;

use contracts::agent::{SlotState, WorkerStatus};
use contracts::task_log::LogFile;
use contracts::{Command, Priority};
use deadpool_redis::redis::AsyncCommands;

use crate::helpers::{
    FakeCli, TestContext, WorkerProcess, claude_result, claude_transcript, envelope,
};

#[tokio::test]
async fn ops_endpoints_and_status_show_what_each_slot_does() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        lines: claude_transcript(),
        pause_ms: 3000,
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_CLAUDE_BIN", cli.to_str().unwrap()),
            ("AGENT_CONCURRENCY", "3"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    for path in ["/health", "/ready", "/docs/", "/openapi.json", "/metrics"] {
        let response = client.get(worker.url(path)).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }
    let wrong_method = client.post(worker.url("/status")).send().await.unwrap();
    service_kit::testing::assert_method_not_allowed(wrong_method, "GET").await;
    let spec: serde_json::Value = client
        .get(worker.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/status"]["get"].is_object());

    let task = envelope(Command::Fix, Priority::High);
    ctx.enqueue(&task).await;
    let status = loop {
        let status: WorkerStatus = client
            .get(worker.url("/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status.slots.iter().any(|s| s.task_id.is_some()) {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.worker_id, worker.id);
    assert_eq!(status.runner, "claude");
    assert!(status.accepting);
    assert_eq!(status.slots.len(), 3);
    let busy: Vec<_> = status
        .slots
        .iter()
        .filter(|s| s.state == SlotState::Running)
        .collect();
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0].task_id, Some(task.task_id));
    assert_eq!(busy[0].attempt, Some(1));
    let metrics = client
        .get(worker.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("agent_tasks_in_flight 1"), "{metrics}");

    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = client
            .get(worker.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains(r#"agent_tasks_total{outcome="succeeded"} 1"#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        metrics.contains(r#"agent_tasks_total{outcome="succeeded"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("agent_task_duration_seconds"));
    assert!(metrics.contains("agent_cost_usd_total 0.0421"), "{metrics}");
    assert!(metrics.contains("agent_tasks_in_flight 0"));
}

#[tokio::test]
async fn a_task_over_its_daily_repository_budget_is_refused_with_the_reason() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        argv_file: Some(ctx.path("argv.json")),
        final_lines: vec![claude_result("success", false)],
        ..Default::default()
    }
    .write(&ctx.path("claude"));
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_CLAUDE_BIN", cli.to_str().unwrap()),
            ("AGENT_DAILY_BUDGET_REPO_USD", "8"),
        ],
    )
    .await;
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let spent_key = ctx.keys.daily_budget("repo:octo/repo", &day);

    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;
    let spent: f64 = ctx.redis().await.get(&spent_key).await.unwrap();
    assert!(
        (spent - 0.0421).abs() < 1e-9,
        "the reservation is replaced by the cost: {spent}"
    );

    let _: () = ctx.redis().await.set(&spent_key, 4.0).await.unwrap();
    std::fs::remove_file(ctx.path("argv.json")).unwrap();
    let refused = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&refused).await;
    let metadata = ctx
        .wait_for_status(&refused.task_id, "failed", Duration::from_secs(20))
        .await;
    let reason = metadata.last_error.unwrap();
    assert!(
        reason.contains("daily budget of $8.00 for repository octo/repo"),
        "{reason}"
    );
    assert!(!ctx.path("argv.json").exists(), "the agent never ran");
    let result = ctx.final_result(&refused.task_id).unwrap();
    assert_eq!(result.error.as_deref(), Some(reason.as_str()));
    assert!(
        ctx.types(&refused.task_id, LogFile::AgentOutput)
            .contains(&"error".to_owned())
    );

    let mut elsewhere = envelope(Command::Fix, Priority::Normal);
    elsewhere.source.repo = Some("octo/other".into());
    ctx.enqueue(&elsewhere).await;
    ctx.wait_for_status(&elsewhere.task_id, "succeeded", Duration::from_secs(20))
        .await;
}
