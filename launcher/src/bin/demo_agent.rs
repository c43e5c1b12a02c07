//! DEMO AGENT — not an AI. A scripted stand-in for the Claude Code CLI so the local system runs with
//! no API key: it accepts Claude Code's flags, reads the prompt, looks at the workspace, and answers
//! in Claude Code's documented `stream-json` format (system/init, assistant thinking + tool_use, user
//! tool_result, assistant text, result).
//!
//! Asked to `fix` a workspace holding fake-providers' sample repository, it makes the one scripted fix
//! (`add` subtracts: `a - b` becomes `a + b` in `src/main.rs`), so the local system shows the whole
//! `fix` trip: the worker commits, pushes a branch and opens a pull request on the fake GitHub.
//!
//! A prompt containing `[demo-pace-ms=N]` makes it wait N milliseconds between lines (default 300),
//! so a demo or a test can watch a task run for a while.

use std::io::Write;
use std::time::Instant;

use serde_json::json;

fn main() {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let prompt = flag("-p").or_else(|| flag("--print")).unwrap_or_default();
    let model = flag("--model").unwrap_or_else(|| "demo-agent".to_owned());
    let session_id = uuid::Uuid::now_v7().to_string();
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let listing: Vec<String> = std::fs::read_dir(".")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    // The worker's prompt carries the user's words on its `Request: ...` line.
    let request = prompt
        .lines()
        .find(|l| l.starts_with("Request:"))
        .or_else(|| prompt.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("(empty prompt)")
        .trim_start_matches("Request:")
        .trim();
    let fixed = request
        .starts_with("`@agent fix`")
        .then(fix_sample_bug)
        .flatten();
    let outcome = match &fixed {
        Some(edit) => format!(
            "Fixed `add` in `{}`: {}, so `cargo test` passes. This is the one fix the demo knows: configure \
             `AGENT_RUNNER=claude` with a real Claude Code CLI and `ANTHROPIC_API_KEY` for real work.",
            edit.file_path, edit.summary,
        ),
        None => format!(
            "The workspace holds {} entries{}. Configure `AGENT_RUNNER=claude` with a real Claude Code CLI \
             and `ANTHROPIC_API_KEY` to get a real answer.",
            listing.len(),
            if listing.is_empty() {
                String::new()
            } else {
                format!(": {}", listing.join(", "))
            }
        ),
    };
    let answer = format!(
        "**Demo agent** (scripted, no AI model was called).\n\nI received this request: \"{}\".\n\n{outcome}",
        request.chars().take(200).collect::<String>(),
    );
    let mut lines = vec![
        json!({"type": "system", "subtype": "init", "session_id": session_id, "model": model, "cwd": cwd,
               "tools": ["Read", "Glob", "Edit"], "permissionMode": "default"}),
        json!({"type": "assistant", "session_id": session_id, "message": {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "This is the demo agent: I will list the workspace and summarise the request."},
            {"type": "tool_use", "id": "toolu_demo_1", "name": "Glob", "input": {"pattern": "*"}}
        ]}}),
        json!({"type": "user", "session_id": session_id, "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_demo_1", "content": listing.join("\n")}
        ]}}),
    ];
    if let Some(edit) = &fixed {
        lines.push(json!({"type": "assistant", "session_id": session_id, "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_demo_2", "name": "Edit", "input": {
                "file_path": edit.file_path, "old_string": edit.old_string, "new_string": edit.new_string}}
        ]}}));
        lines.push(json!({"type": "user", "session_id": session_id, "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_demo_2",
             "content": format!("The file {} has been updated.", edit.file_path)}
        ]}}));
    }
    lines.push(json!({"type": "assistant", "session_id": session_id, "message": {"role": "assistant", "content": [
        {"type": "text", "text": answer}
    ]}}));
    lines.push(
        json!({"type": "result", "subtype": "success", "is_error": false, "result": answer,
           "session_id": session_id, "num_turns": lines.len() / 2, "total_cost_usd": 0.0,
           "duration_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
           "usage": {"input_tokens": prompt.len() / 4, "output_tokens": answer.len() / 4}}),
    );
    let pace = demo_pace(&prompt);
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        std::thread::sleep(pace);
    }
}

/// An edit the demo made, in the shape of Claude Code's `Edit` tool input.
struct Edit {
    file_path: &'static str,
    old_string: &'static str,
    new_string: &'static str,
    summary: &'static str,
}

/// The sample repository's bug (see fake-providers' `repository.rs`), fixed in place when the workspace
/// holds it; `None` when there is nothing the demo knows how to fix.
fn fix_sample_bug() -> Option<Edit> {
    let edit = Edit {
        file_path: "src/main.rs",
        old_string: "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}",
        new_string: "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}",
        summary: "it subtracted (`a - b`) and now adds (`a + b`)",
    };
    let source = std::fs::read_to_string(edit.file_path).ok()?;
    if !source.contains(edit.old_string) {
        return None;
    }
    std::fs::write(
        edit.file_path,
        source.replacen(edit.old_string, edit.new_string, 1),
    )
    .ok()?;
    Some(edit)
}

fn demo_pace(prompt: &str) -> std::time::Duration {
    let millis = prompt
        .split("[demo-pace-ms=")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(300);
    std::time::Duration::from_millis(millis)
}
