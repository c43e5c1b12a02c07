use std::collections::HashMap;
use std::time::Duration;

use contracts::events::TaskStatus;
use contracts::task_log::LogFile;
use contracts::{Command, Priority};

use crate::helpers::{
    AGENT_API_KEY, FakeCli, GitServer, SECRET_GITHUB_TOKEN, TestContext, WorkerProcess,
    claude_result, claude_transcript, envelope,
};

#[tokio::test]
async fn a_task_flows_from_the_queue_to_its_final_result_with_every_stage_logged() {
    let ctx = TestContext::new().await;
    let git = GitServer::start(
        "octo/repo",
        &[
            ("tests/test_clock.py", "import time\n"),
            ("README.md", "hi\n"),
        ],
    )
    .await;
    let cli = FakeCli {
        lines: claude_transcript(),
        final_lines: vec![claude_result("success", false)],
        write_files: HashMap::from([(
            "tests/test_clock.py".into(),
            "import time\nFROZEN = 0\n".into(),
        )]),
        argv_file: Some(ctx.path("argv.json")),
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

    let task = envelope(Command::Fix, Priority::High);
    ctx.enqueue(&task).await;
    let metadata = ctx
        .wait_for_status(&task.task_id, "succeeded", Duration::from_secs(30))
        .await;
    assert_eq!(metadata.attempt, 1);
    assert_eq!(
        metadata.worker, None,
        "a finished task is held by no worker"
    );

    let queue_flow = ctx.types(&task.task_id, LogFile::QueueFlow);
    assert_eq!(queue_flow, ["queued", "dequeued", "worker_assigned"]);
    let assigned = &ctx.lines(&task.task_id, LogFile::QueueFlow)[2];
    assert!(assigned["worker"].as_str().unwrap().starts_with("worker-"));
    assert_eq!(assigned["attempt"], 1);
    assert_eq!(assigned["service"], "agent-container");

    let output = ctx.lines(&task.task_id, LogFile::AgentOutput);
    let kinds: Vec<&str> = output.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "session_started",
            "thinking",
            "message",
            "tool_call",
            "tool_result",
            "message",
            "result",
            "process_exited"
        ]
    );
    assert_eq!(output[0]["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(output[3]["name"], "Bash");
    assert_eq!(output[3]["input"]["command"], "cat tests/test_clock.py");
    let tool_result = output[4]["content"].as_str().unwrap();
    assert!(!tool_result.contains(SECRET_GITHUB_TOKEN), "{tool_result}");
    assert!(
        !tool_result.contains("ghp_SomeOtherLeakedToken"),
        "{tool_result}"
    );
    assert!(tool_result.contains("[REDACTED]"));
    assert_eq!(output[7]["exit_code"], 0);

    let result = ctx
        .final_result(&task.task_id)
        .expect("06-final-result.json");
    assert!(result.success);
    assert_eq!(result.status, TaskStatus::Succeeded);
    assert_eq!(
        result.result_text.as_deref(),
        Some("Fixed: the test now freezes the clock.")
    );
    assert_eq!(result.cost_usd, Some(0.0421));
    assert_eq!((result.input_tokens, result.output_tokens), (150, 50));
    assert_eq!(result.attempts, 1);
    assert_eq!(result.runner, "claude");
    assert_eq!(result.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(result.session_id.as_deref(), Some("0c1d2e3f-sess"));
    let changes = result.changes.expect("the agent changed a file");
    assert_eq!(changes.changed_files, ["tests/test_clock.py"]);
    assert!(
        changes.diff_stat.contains("1 file changed"),
        "{}",
        changes.diff_stat
    );

    // metadata.json says `succeeded` a moment before the settling script publishes the event.
    ctx.wait_for_last_event(&task.task_id, TaskStatus::Succeeded, Duration::from_secs(5))
        .await;
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
            TaskStatus::Succeeded
        ]
    );

    let argv: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(ctx.path("argv.json")).unwrap()).unwrap();
    assert_eq!(argv[0], "-p");
    assert!(argv[1].contains("make the flaky test"), "{}", argv[1]);
    assert!(argv[1].contains("octo/repo"));
    for flag in [
        "--output-format",
        "--verbose",
        "--max-turns",
        "--max-budget-usd",
        "--allowedTools",
        "--append-system-prompt",
        "--permission-mode",
    ] {
        assert!(
            argv.iter().any(|a| a == flag),
            "{flag} missing from {argv:?}"
        );
    }
    let after = |flag: &str| argv[argv.iter().position(|a| a == flag).unwrap() + 1].clone();
    assert_eq!(after("--output-format"), "stream-json");
    assert_eq!(after("--max-budget-usd"), "5");
    assert_eq!(after("--permission-mode"), "acceptEdits");
    assert!(
        !ctx.workdir().join(task.task_id.to_string()).exists(),
        "the workspace is removed"
    );
    let _ = AGENT_API_KEY;
}
