//! Every real provider payload in ../shared/fixtures/webhooks/, signed here over the exact bytes sent,
//! through the running server. Skipped, with a message, where that folder is absent (a user's clone).

use std::path::{Path, PathBuf};

use crate::helpers::{
    Answer, Delivery, TestApp, github_raw, jira_raw, sentry_raw, slack_raw, spawn_app,
};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/webhooks")
}

/// `provider__event__action[.variant].ext` → a signed delivery the way that provider sends it.
fn delivery_for(path: &Path) -> Delivery {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut parts = name.split("__");
    let provider = parts.next().unwrap();
    let event = parts.next().unwrap().to_owned();
    let body = std::fs::read(path).unwrap();
    let now = chrono::Utc::now().timestamp();
    match provider {
        "github" => github_raw(&event, body, "application/json"),
        "slack" if name.ends_with(".txt") => {
            slack_raw(body, "application/x-www-form-urlencoded", now)
        }
        // Interactive payloads arrive as a form with one `payload` field.
        "slack" if event == "block_actions" => {
            let form = serde_urlencoded::to_string([("payload", String::from_utf8(body).unwrap())])
                .unwrap();
            slack_raw(form.into_bytes(), "application/x-www-form-urlencoded", now)
        }
        "slack" => slack_raw(body, "application/json", now),
        "jira" => jira_raw(body),
        "sentry" => sentry_raw(&event, body),
        other => panic!("unknown provider {other} in {name}"),
    }
}

/// What a fixture must get, where the payload decides it.
fn expected(name: &str) -> Option<&'static str> {
    Some(match name {
        n if n.starts_with("github__ping") => "ignored:ping",
        n if n.starts_with("slack__url_verification") => "challenge",
        n if n.starts_with("slack__event_callback__app_mention.from-bot") => "ignored:bot_actor",
        n if n.starts_with("slack__event_callback__app_mention") => "queued",
        n if n.starts_with("slack__event_callback__message.thread-reply-from-bot") => {
            "ignored:bot_actor"
        }
        n if n.starts_with("slack__block_actions") => "ignored:unsupported_interaction",
        n if n.starts_with("sentry__issue__created") => "queued",
        n if n.starts_with("sentry__event_alert__triggered") => "queued",
        n if n.starts_with("sentry__installation") => "ignored:unsupported_event",
        n if n.starts_with("github__push") || n.starts_with("github__workflow_run") => {
            "ignored:unsupported_event"
        }
        _ => return None,
    })
}

fn summary(answer: &Answer) -> String {
    match (answer.status, &answer.body) {
        (202, body) if body["status"] == "queued" => "queued".to_owned(),
        (200, body) if body.get("challenge").is_some() => "challenge".to_owned(),
        (200, body) if body["status"] == "ignored" => {
            format!("ignored:{}", body["reason"].as_str().unwrap_or(""))
        }
        (200, body) if body["status"] == "duplicate" => "duplicate".to_owned(),
        (status, body) => format!("{status} {body}"),
    }
}

async fn check(app: &TestApp, path: &Path) -> Result<String, String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let answer = app.send(&delivery_for(path)).await;
    let got = summary(&answer);
    if let Some(want) = expected(&name)
        && got != want
    {
        return Err(format!("{name}: expected {want}, got {got}"));
    }
    let sensible = got == "queued" || got == "challenge" || got.starts_with("ignored:");
    if !sensible {
        return Err(format!("{name}: {got}"));
    }
    if got == "queued" {
        let task_id = answer.task_id();
        app.assert_task_logged(&task_id);
        let envelope = app.envelope(&task_id);
        assert!(!envelope.conversation_key.is_empty(), "{name}");
    }
    Ok(format!("{name}: {got}"))
}

#[tokio::test]
async fn every_fixture_payload_gets_a_sensible_answer() {
    let dir = fixtures_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "conformance skipped: {} is absent (the fixtures live beside the repository)",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "txt")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no payloads", dir.display());
    let app = spawn_app().await;
    let mut failures = Vec::new();
    for path in &files {
        match check(&app, path).await {
            Ok(line) => eprintln!("{line}"),
            Err(problem) => failures.push(problem),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// The same real payloads with a trusted `@agent fix …` written into the text that carries commands:
/// each becomes a task (or, for Jira Server's second copy of a comment, a duplicate of it).
#[tokio::test]
async fn real_payloads_carrying_a_command_become_tasks() {
    let dir = fixtures_dir();
    if !dir.is_dir() {
        eprintln!("conformance skipped: {} is absent", dir.display());
        return;
    }
    let app = spawn_app().await;
    let command = "@agent fix the failing build";
    let cases: [(&str, &[&str]); 11] = [
        ("github__issue_comment__created.json", &["/comment"]),
        ("github__issue_comment__edited.json", &["/comment"]),
        ("github__issues__opened.json", &["/issue"]),
        ("github__pull_request__opened.json", &["/pull_request"]),
        ("github__pull_request_review__submitted.json", &["/review"]),
        (
            "github__pull_request_review_comment__created.json",
            &["/comment"],
        ),
        ("jira__comment_created__none.cloud.json", &["/comment"]),
        ("jira__comment_updated__none.cloud.json", &["/comment"]),
        ("jira__comment_created__none.server.json", &["/comment"]),
        (
            "jira__jira-issue_updated__issue_commented.server-mention.json",
            &["/comment"],
        ),
        (
            "jira__jira-issue_created__issue_created.json",
            &["/issue/fields"],
        ),
    ];
    let mut failures = Vec::new();
    let mut first_server_task = None;
    for (name, pointers) in cases {
        let path = dir.join(name);
        let mut payload: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for pointer in pointers {
            let target = payload
                .pointer_mut(pointer)
                .unwrap_or_else(|| panic!("{name} has no {pointer}"));
            let field = if name.contains("issue_created") {
                "description"
            } else {
                "body"
            };
            target[field] = serde_json::json!(command);
            if name.starts_with("github") {
                target["author_association"] = serde_json::json!("OWNER");
            }
        }
        let body = serde_json::to_vec(&payload).unwrap();
        let delivery = match name.split("__").next().unwrap() {
            "github" => {
                let event = name.split("__").nth(1).unwrap();
                github_raw(event, body, "application/json")
            }
            _ => jira_raw(body),
        };
        let answer = app.send(&delivery).await;
        let got = summary(&answer);
        let server_copy = name.contains("server");
        match (got.as_str(), server_copy, first_server_task) {
            ("queued", true, None) => first_server_task = Some(answer.task_id()),
            ("duplicate", true, Some(first)) if answer.task_id() == first => {}
            ("queued", false, _) => {
                let envelope = app.envelope(&answer.task_id());
                if envelope.instruction != "the failing build" {
                    failures.push(format!("{name}: instruction {:?}", envelope.instruction));
                }
                app.assert_task_logged(&answer.task_id());
            }
            _ => failures.push(format!("{name}: {got}")),
        }
        eprintln!("{name} with a command: {got}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
