use std::time::Duration;

use contracts::task_log::LogFile;
use contracts::{Command, Priority};
use serde_json::json;

use crate::helpers::{FakeCli, TestContext, WorkerProcess, envelope};

/// A `codex exec --json` transcript in the documented event shapes.
fn codex_transcript() -> Vec<String> {
    [
        json!({"type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"}),
        json!({"type": "turn.started"}),
        json!({"type": "item.completed", "item": {"id": "item_0", "type": "reasoning", "text": "**Looking at the clock test**"}}),
        json!({"type": "item.started", "item": {"id": "item_1", "type": "command_execution", "command": "bash -lc ls", "aggregated_output": "", "exit_code": null, "status": "in_progress"}}),
        json!({"type": "item.completed", "item": {"id": "item_1", "type": "command_execution", "command": "bash -lc ls", "aggregated_output": "README.md\ntests\n", "exit_code": 0, "status": "completed"}}),
        json!({"type": "item.completed", "item": {"id": "item_2", "type": "file_change", "changes": [{"path": "tests/test_clock.py", "kind": "update"}], "status": "completed"}}),
        json!({"type": "item.started", "item": {"id": "item_3", "type": "mcp_tool_call", "server": "docs", "tool": "search", "arguments": {"q": "freezegun"}, "status": "in_progress"}}),
        json!({"type": "item.completed", "item": {"id": "item_3", "type": "mcp_tool_call", "server": "docs", "tool": "search", "arguments": {"q": "freezegun"}, "result": {"content": []}, "status": "completed"}}),
        json!({"type": "item.completed", "item": {"id": "item_4", "type": "todo_list", "items": []}}),
        json!({"type": "item.completed", "item": {"id": "item_5", "type": "agent_message", "text": "The clock is frozen in the test now."}}),
        json!({"type": "turn.completed", "usage": {"input_tokens": 24763, "cached_input_tokens": 24448, "output_tokens": 122}}),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect()
}

#[tokio::test]
async fn the_codex_runner_parses_its_jsonl_events() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        lines: codex_transcript(),
        argv_file: Some(ctx.path("argv.json")),
        stdin_file: Some(ctx.path("stdin.txt")),
        env_file: Some(ctx.path("env.json")),
        ..Default::default()
    }
    .write(&ctx.path("codex"));
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_RUNNER", "codex"),
            ("AGENT_CODEX_BIN", cli.to_str().unwrap()),
            ("OPENAI_API_KEY", "sk-proj-openai-key-for-the-agent-0123"),
        ],
    )
    .await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;

    let argv: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(ctx.path("argv.json")).unwrap()).unwrap();
    assert_eq!(argv[..2], ["exec", "--json"]);
    assert_eq!(argv.last().unwrap(), "-");
    assert!(
        std::fs::read_to_string(ctx.path("stdin.txt"))
            .unwrap()
            .contains("make the flaky test")
    );
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ctx.path("env.json")).unwrap()).unwrap();
    assert_eq!(
        env["OPENAI_API_KEY"],
        "sk-proj-openai-key-for-the-agent-0123"
    );

    let kinds = ctx.types(&task.task_id, LogFile::AgentOutput);
    assert_eq!(
        kinds,
        [
            "session_started",
            "thinking",
            "tool_call",
            "tool_result",
            "tool_result",
            "tool_call",
            "tool_result",
            "message",
            "result",
            "process_exited"
        ]
    );
    let result = ctx.final_result(&task.task_id).unwrap();
    assert!(result.success);
    assert_eq!(result.runner, "codex");
    assert_eq!(result.cost_usd, None, "codex reports no cost");
    assert_eq!((result.input_tokens, result.output_tokens), (24763, 122));
    assert_eq!(
        result.result_text.as_deref(),
        Some("The clock is frozen in the test now.")
    );
    assert_eq!(
        result.session_id.as_deref(),
        Some("0199a213-81c0-7800-8aa1-bbab2a035a53")
    );
}

#[tokio::test]
async fn a_failed_codex_turn_fails_the_task_with_its_message() {
    let ctx = TestContext::new().await;
    let mut lines = codex_transcript();
    lines.truncate(2);
    lines.push(json!({"type": "turn.failed", "error": {"message": "stream disconnected before completion"}}).to_string());
    let cli = FakeCli {
        lines,
        exit_code: 1,
        ..Default::default()
    }
    .write(&ctx.path("codex"));
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_RUNNER", "codex"),
            ("AGENT_CODEX_BIN", cli.to_str().unwrap()),
        ],
    )
    .await;
    let task = envelope(Command::Fix, Priority::Normal);
    ctx.enqueue(&task).await;
    let metadata = ctx
        .wait_for_status(&task.task_id, "failed", Duration::from_secs(20))
        .await;
    assert!(
        metadata
            .last_error
            .unwrap()
            .contains("stream disconnected before completion")
    );
}

#[tokio::test]
async fn the_command_runner_takes_the_prompt_on_stdin_and_reads_plain_or_json_lines() {
    let ctx = TestContext::new().await;
    let cli = FakeCli {
        lines: vec![
            "Looking at the repository".into(),
            json!({"type": "tool_call", "name": "grep", "input": {"pattern": "sleep"}}).to_string(),
            json!({"type": "result", "result": "Use a fake clock.", "cost_usd": 0.01, "input_tokens": 7, "output_tokens": 3}).to_string(),
        ],
        stdin_file: Some(ctx.path("stdin.txt")),
        ..Default::default()
    }
    .write(&ctx.path("agent"));
    let _worker = WorkerProcess::spawn(
        &ctx,
        &[
            ("AGENT_RUNNER", "command"),
            ("AGENT_COMMAND", cli.to_str().unwrap()),
            ("AGENT_COMMAND_ARGS", "--fast,--quiet"),
        ],
    )
    .await;
    let task = envelope(Command::Explain, Priority::Normal);
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;
    assert!(
        std::fs::read_to_string(ctx.path("stdin.txt"))
            .unwrap()
            .contains("make the flaky test")
    );
    let output = ctx.lines(&task.task_id, LogFile::AgentOutput);
    let kinds: Vec<&str> = output.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "session_started",
            "message",
            "tool_call",
            "result",
            "process_exited"
        ]
    );
    assert_eq!(output[1]["text"], "Looking at the repository");
    assert_eq!(output[2]["name"], "grep");
    let result = ctx.final_result(&task.task_id).unwrap();
    assert_eq!(result.result_text.as_deref(), Some("Use a fake clock."));
    assert_eq!(result.cost_usd, Some(0.01));
    assert_eq!((result.input_tokens, result.output_tokens), (7, 3));

    let failing = FakeCli {
        lines: vec!["cannot do that".into()],
        stderr: "boom\n".into(),
        exit_code: 3,
        ..Default::default()
    };
    failing.write(&ctx.path("agent"));
    let task = envelope(Command::Explain, Priority::Normal);
    ctx.enqueue(&task).await;
    let metadata = ctx
        .wait_for_status(&task.task_id, "dead_lettered", Duration::from_secs(20))
        .await;
    let error = metadata.last_error.unwrap();
    assert!(
        error.contains("exit code 3") && error.contains("boom"),
        "{error}"
    );
}
