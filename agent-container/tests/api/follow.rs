//! Closing the loop from the worker's side: the provider services (wiremock, answering in our services'
//! documented shapes) see exactly the calls the worker makes for the tracking message, the context, git access,
//! the pull request and the final answer.

use std::time::Duration;

use base64::Engine;
use contracts::github::{GitAccess, GithubUser, Issue, IssueComment, IssueWithComments};
use contracts::jira::{JiraComment, JiraIssue, JiraStatus};
use contracts::sentry::{SentryEvent, SentryException, SentryFrame, SentryIssue};
use contracts::slack::{MessageRef, SlackMessage, ThreadReplies};
use contracts::task_log::LogFile;
use contracts::tracking::TrackingMessage;
use contracts::{Command, Priority, Provider, SourceRef, TaskEnvelope};
use deadpool_redis::redis::AsyncCommands;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{
    FakeCli, GitServer, TestContext, WorkerProcess, claude_result, claude_transcript, envelope,
    process_alive, wait_for,
};

const SERVICE_TOKEN: &str = "svc-agent-token-for-tests-7c1d";
const DASHBOARD: &str = "https://dash.example.test";
/// A token-shaped string an agent echoes: never shown to people.
const LEAKY_TOKEN: &str = "ghp_LeakyTokenInAMessage0123456789abcd";

/// The four provider services, all answered by one wiremock server (their paths do not overlap).
async fn services() -> MockServer {
    MockServer::start().await
}

async fn spawn_worker(
    ctx: &TestContext,
    services: &MockServer,
    cli: &std::path::Path,
    extra: &[(&str, &str)],
) -> WorkerProcess {
    let uri = services.uri();
    let mut env = vec![
        ("AGENT_FOLLOW_UP", "true"),
        ("AGENT_CLAUDE_BIN", cli.to_str().unwrap()),
        ("GITHUB_SERVICE_URL", uri.as_str()),
        ("SLACK_SERVICE_URL", uri.as_str()),
        ("JIRA_SERVICE_URL", uri.as_str()),
        ("SENTRY_SERVICE_URL", uri.as_str()),
        ("SERVICE_TOKEN", SERVICE_TOKEN),
        ("DASHBOARD_PUBLIC_URL", DASHBOARD),
    ];
    env.extend_from_slice(extra);
    WorkerProcess::spawn(ctx, &env).await
}

fn slack_envelope(command: Command) -> TaskEnvelope {
    let mut envelope = envelope(command, Priority::Normal);
    envelope.provider = Provider::Slack;
    envelope.event = "app_mention".into();
    envelope.source = SourceRef {
        slack_team: Some("T1".into()),
        slack_channel: Some("C42".into()),
        slack_thread_ts: Some("1700000000.000100".into()),
        slack_message_ts: Some("1700000000.000200".into()),
        ..Default::default()
    };
    envelope.conversation_key = TaskEnvelope::slack_conversation("T1", "C42", "1700000000.000100");
    envelope
}

fn jira_envelope() -> TaskEnvelope {
    let mut envelope = envelope(Command::Investigate, Priority::Normal);
    envelope.provider = Provider::Jira;
    envelope.event = "comment_created".into();
    envelope.source = SourceRef {
        jira_site: Some("https://example.atlassian.net".into()),
        jira_issue_key: Some("OPS-7".into()),
        ..Default::default()
    };
    envelope.conversation_key =
        TaskEnvelope::jira_conversation("https://example.atlassian.net", "OPS-7");
    envelope
}

fn sentry_envelope() -> TaskEnvelope {
    let mut envelope = envelope(Command::Investigate, Priority::Normal);
    envelope.provider = Provider::Sentry;
    envelope.event = "issue.created".into();
    envelope.source = SourceRef {
        sentry_org: Some("acme".into()),
        sentry_issue_id: Some("99".into()),
        ..Default::default()
    };
    envelope.conversation_key = TaskEnvelope::sentry_conversation("acme", "99");
    envelope
}

fn cli(ctx: &TestContext, name: &str, fake: FakeCli) -> std::path::PathBuf {
    fake.write(&ctx.path(name))
}

fn succeeding(ctx: &TestContext) -> FakeCli {
    FakeCli {
        lines: claude_transcript(),
        final_lines: vec![claude_result("success", false)],
        argv_file: Some(ctx.path("argv.json")),
        ..Default::default()
    }
}

/// The prompt the fake CLI got (`claude -p <prompt> …`).
fn prompt(ctx: &TestContext) -> String {
    let argv: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(ctx.path("argv.json")).unwrap()).unwrap();
    let at = argv.iter().position(|a| a == "-p").unwrap();
    argv[at + 1].clone()
}

async fn requests(services: &MockServer) -> Vec<Request> {
    services.received_requests().await.unwrap_or_default()
}

fn header_of(request: &Request, name: &str) -> Option<String> {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

/// Every call names the task, carries the service token, an idempotency key of this task and a traceparent.
fn assert_task_call(request: &Request, envelope: &TaskEnvelope) {
    let id = envelope.task_id.to_string();
    assert_eq!(
        header_of(request, "authorization").as_deref(),
        Some(format!("Bearer {SERVICE_TOKEN}").as_str()),
        "{} {}",
        request.method,
        request.url
    );
    assert_eq!(
        header_of(request, "x-task-id").as_deref(),
        Some(id.as_str())
    );
    let key = header_of(request, "idempotency-key").expect("an Idempotency-Key");
    assert!(key.starts_with(&format!("{id}:")), "{key}");
    assert!(header_of(request, "traceparent").is_some());
}

fn user(login: &str) -> GithubUser {
    GithubUser {
        login: login.into(),
        id: 583231,
        account_type: "User".into(),
    }
}

#[tokio::test]
async fn tracking_message_follows_the_task_and_the_answer_is_posted_once() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = slack_envelope(Command::Ask);
    Mock::given(method("POST"))
        .and(path("/api/v1/slack/messages"))
        .respond_with(ResponseTemplate::new(201).set_body_json(MessageRef {
            channel: "C42".into(),
            ts: "1700000001.000300".into(),
            thread_ts: Some("1700000000.000100".into()),
        }))
        .mount(&services)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/slack/messages/C42/1700000001.000300"))
        .respond_with(ResponseTemplate::new(200).set_body_json(MessageRef {
            channel: "C42".into(),
            ts: "1700000001.000300".into(),
            thread_ts: Some("1700000000.000100".into()),
        }))
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/slack/threads/C42/1700000000.000100/replies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ThreadReplies {
            channel: "C42".into(),
            thread_ts: "1700000000.000100".into(),
            messages: vec![SlackMessage {
                ts: "1700000000.000100".into(),
                thread_ts: Some("1700000000.000100".into()),
                user: Some("U7".into()),
                bot_id: None,
                subtype: None,
                text: "the nightly export job dies with OOM since Tuesday".into(),
                reply_count: Some(1),
                edited_ts: None,
            }],
            next_cursor: None,
        }))
        .mount(&services)
        .await;
    let cli = cli(&ctx, "claude", succeeding(&ctx));
    let _worker = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;

    let seen = requests(&services).await;
    for request in &seen {
        assert_task_call(request, &task);
    }
    let posts: Vec<&Request> = seen
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 1, "one tracking message: {seen:?}");
    let id = task.task_id.to_string();
    assert_eq!(
        header_of(posts[0], "idempotency-key").unwrap(),
        format!("{id}:0:tracking-post")
    );
    let post = body(posts[0]);
    assert_eq!(post["channel"], "C42");
    assert_eq!(post["thread_ts"], "1700000000.000100");
    assert!(
        post["text"].as_str().unwrap().contains("Working on"),
        "{post}"
    );
    assert!(
        post["text"]
            .as_str()
            .unwrap()
            .contains(&format!("{DASHBOARD}/tasks/{id}"))
    );
    let updates: Vec<&Request> = seen.iter().filter(|r| r.method.as_str() == "PUT").collect();
    let finals: Vec<&Request> = updates
        .iter()
        .copied()
        .filter(|r| header_of(r, "idempotency-key").unwrap() == format!("{id}:1:tracking-final"))
        .collect();
    assert_eq!(finals.len(), 1, "the final answer once: {updates:?}");
    let text = body(finals[0])["text"].as_str().unwrap().to_owned();
    for expected in [
        "✅ Done",
        "Fixed: the test now freezes the clock.",
        "$0.0421",
        // 100 input + 20 cache-creation + 30 cache-read.
        "150 input / 50 output tokens",
        &format!("{DASHBOARD}/tasks/{id}"),
    ] {
        assert!(text.contains(expected), "`{expected}` missing from: {text}");
    }
    assert_eq!(
        updates
            .last()
            .map(|r| header_of(r, "idempotency-key").unwrap()),
        Some(format!("{id}:1:tracking-final")),
        "nothing after the final answer"
    );
    let prompt = prompt(&ctx);
    assert!(
        prompt.contains("the nightly export job dies with OOM since Tuesday"),
        "{prompt}"
    );
    assert!(
        ctx.types(&task.task_id, LogFile::MicroservicesFlow)
            .contains(&"answer_posted".to_owned())
    );
}

#[tokio::test]
async fn a_failure_is_answered_in_plain_words_with_the_jira_issue_in_the_prompt() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = jira_envelope();
    Mock::given(method("GET"))
        .and(path("/api/v1/jira/issues/OPS-7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(JiraIssue {
            id: "10002".into(),
            key: "OPS-7".into(),
            url: "https://example.atlassian.net/browse/OPS-7".into(),
            summary: "Checkout times out".into(),
            description: Some("Payments hang for 30 s after the upgrade.".into()),
            status: JiraStatus {
                id: None,
                name: "In Progress".into(),
                category: None,
            },
            issue_type: None,
            project_key: Some("OPS".into()),
            priority: None,
            labels: vec![],
            assignee: None,
            reporter: None,
            created: None,
            updated: None,
            comments: vec![JiraComment {
                id: "10000".into(),
                body: "Only with the EU gateway.".into(),
                author: None,
                created: None,
                updated: None,
            }],
        }))
        .mount(&services)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/jira/issues/OPS-7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "10100", "body": "…"})))
        .mount(&services)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/jira/issues/OPS-7/comments/10100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "10100", "body": "…"})))
        .mount(&services)
        .await;
    let fake = FakeCli {
        final_lines: vec![claude_result("error_max_turns", true)],
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    let _worker = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "failed", Duration::from_secs(20))
        .await;

    let seen = requests(&services).await;
    let id = task.task_id.to_string();
    let failed: Vec<&Request> = seen
        .iter()
        .filter(|r| header_of(r, "idempotency-key").unwrap() == format!("{id}:1:tracking-failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{seen:?}");
    assert_eq!(failed[0].method.as_str(), "PUT");
    let text = body(failed[0])["body"].as_str().unwrap().to_owned();
    assert!(text.contains("did not finish"), "{text}");
    assert!(text.contains("the agent reported an error"), "{text}");
    assert!(text.contains(&format!("{DASHBOARD}/tasks/{id}")), "{text}");
    assert!(!text.contains("✅"), "{text}");
    let prompt = prompt(&ctx);
    assert!(
        prompt.contains("Payments hang for 30 s after the upgrade."),
        "{prompt}"
    );
    assert!(prompt.contains("Only with the EU gateway."), "{prompt}");
}

#[tokio::test]
async fn progress_updates_are_rate_limited_and_the_sentry_trace_is_in_the_prompt() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = sentry_envelope();
    Mock::given(method("GET"))
        .and(path("/api/v1/sentry/issues/99"))
        .respond_with(ResponseTemplate::new(200).set_body_json(SentryIssue {
            id: "99".into(),
            short_id: "BACKEND-1A".into(),
            title: "ZeroDivisionError: division by zero".into(),
            culprit: Some("billing.invoice.total".into()),
            level: Some("error".into()),
            status: "unresolved".into(),
            substatus: None,
            platform: Some("python".into()),
            permalink: None,
            project: None,
            first_seen: None,
            last_seen: None,
            count: Some(12),
            user_count: None,
            assigned_to: None,
        }))
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/sentry/issues/99/events/latest"))
        .respond_with(ResponseTemplate::new(200).set_body_json(SentryEvent {
            event_id: "a".repeat(32),
            issue_id: Some("99".into()),
            title: "ZeroDivisionError: division by zero".into(),
            message: None,
            platform: Some("python".into()),
            date_created: None,
            tags: vec![],
            exceptions: vec![SentryException {
                kind: Some("ZeroDivisionError".into()),
                value: Some("division by zero".into()),
                module: None,
                frames: vec![SentryFrame {
                    filename: Some("billing/invoice.py".into()),
                    abs_path: None,
                    function: Some("total".into()),
                    module: None,
                    line_number: Some(42),
                    column_number: None,
                    in_app: Some(true),
                    context_line: Some("    return amount / count".into()),
                }],
            }],
            breadcrumbs: vec![],
        }))
        .mount(&services)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/sentry/issues/99/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "c1", "text": "…"})))
        .mount(&services)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/sentry/issues/99/comments/c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "c1", "text": "…"})))
        .mount(&services)
        .await;
    let chatty: Vec<String> = (0..30)
        .map(|n| {
            json!({"type": "assistant", "message": {"id": format!("m{n}"), "type": "message", "role": "assistant", "content": [{"type": "text", "text": format!("step {n} of the investigation with {LEAKY_TOKEN}")}]}, "session_id": "s"}).to_string()
        })
        .collect();
    let fake = FakeCli {
        lines: chatty,
        line_delay_ms: 100,
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    let _worker = spawn_worker(&ctx, &services, &cli, &[("AGENT_PROGRESS_INTERVAL", "1s")]).await;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;

    let id = task.task_id.to_string();
    let progress: Vec<Request> = requests(&services)
        .await
        .into_iter()
        .filter(|r| {
            header_of(r, "idempotency-key")
                .is_some_and(|k| k.starts_with(&format!("{id}:1:tracking-progress-")))
        })
        .collect();
    // 30 messages over about 3 s, at most one update a second.
    assert!(
        (1..=4).contains(&progress.len()),
        "{} progress updates",
        progress.len()
    );
    let first = body(&progress[0])["text"].as_str().unwrap().to_owned();
    assert!(first.contains("Now: step"), "{first}");
    for update in &progress {
        let text = body(update)["text"].as_str().unwrap().to_owned();
        assert!(
            !text.contains(LEAKY_TOKEN) && text.contains("[REDACTED]"),
            "{text}"
        );
    }
    let prompt = prompt(&ctx);
    assert!(
        prompt.contains("billing/invoice.py:42 in total"),
        "{prompt}"
    );
    assert!(prompt.contains("return amount / count"), "{prompt}");
}

#[tokio::test]
async fn a_fix_with_changes_is_pushed_through_git_access_and_proposed_as_a_pull_request() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let token = "agwgit_0123456789abcdef0123456789abcdef";
    let git = GitServer::start_with_password(
        "octo/repo",
        &[("README.md", "hello\n")],
        Some(token.to_owned()),
    )
    .await;
    let task = envelope(Command::Fix, Priority::Normal);
    let id = task.task_id.to_string();
    Mock::given(method("POST"))
        .and(path("/api/v1/github/repos/octo/repo/git-access"))
        .respond_with(ResponseTemplate::new(201).set_body_json(GitAccess {
            token: token.into(),
            clone_url: format!("http://127.0.0.1:{}/octo/repo.git", git.port),
            expires_at: chrono::Utc::now() + chrono::Duration::hours(2),
            default_branch: "main".into(),
        }))
        .expect(1)
        .mount(&services)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/github/repos/octo/repo/git-access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"revoked": 1})))
        .expect(1)
        .mount(&services)
        .await;
    let now = chrono::Utc::now();
    Mock::given(method("GET"))
        .and(path("/api/v1/github/repos/octo/repo/issues/12"))
        .respond_with(ResponseTemplate::new(200).set_body_json(IssueWithComments {
            issue: Issue {
                number: 12,
                title: "Flaky clock test".into(),
                body: Some("tests/test_clock.py fails around midnight".into()),
                state: "open".into(),
                html_url: "https://github.com/octo/repo/issues/12".into(),
                user: user("octocat"),
                labels: vec![],
                is_pull_request: false,
                comments: 1,
                created_at: now,
                updated_at: now,
            },
            comments: vec![IssueComment {
                id: 1001,
                body: "@agent fix make it deterministic".into(),
                user: user("octocat"),
                html_url: "https://github.com/octo/repo/issues/12#issuecomment-1001".into(),
                created_at: now,
                updated_at: now,
            }],
            comments_truncated: false,
        }))
        .mount(&services)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/github/repos/octo/repo/issues/12/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 555, "body": "…", "html_url": "https://github.com/octo/repo/issues/12#issuecomment-555"})))
        .mount(&services)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/github/repos/octo/repo/issues/comments/555"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 555, "body": "…"})))
        .mount(&services)
        .await;
    let pr_url = "https://github.com/octo/repo/pull/13";
    Mock::given(method("POST"))
        .and(path("/api/v1/github/repos/octo/repo/pulls"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "number": 13, "title": "agent fix", "body": null, "state": "open", "draft": false, "merged": false,
            "html_url": pr_url, "user": {"login": "agent-app[bot]", "id": 9, "type": "Bot"},
            "head": {"branch": "agent/fix", "sha": "abc", "repository": "octo/repo"},
            "base": {"branch": "main", "sha": "def", "repository": "octo/repo"},
            "created_at": now, "updated_at": now,
        })))
        .expect(1)
        .mount(&services)
        .await;
    let fake = FakeCli {
        write_files: [("CLOCK_FIX.md".to_owned(), "frozen clock\n".to_owned())].into(),
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    let _worker = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(30))
        .await;

    let branch = format!("agent/fix-{}", &id[id.len() - 8..]);
    assert!(
        git.branches("octo/repo").contains(&branch),
        "{:?}",
        git.branches("octo/repo")
    );
    assert_eq!(
        git.show("octo/repo", &branch, "CLOCK_FIX.md").as_deref(),
        Some("frozen clock\n")
    );
    assert!(
        git.show("octo/repo", "main", "CLOCK_FIX.md").is_none(),
        "main untouched"
    );
    let seen = requests(&services).await;
    for request in &seen {
        assert_task_call(request, &task);
    }
    let pull = seen
        .iter()
        .find(|r| r.url.path().ends_with("/pulls"))
        .unwrap();
    let pull = body(pull);
    assert_eq!(pull["head"], branch.as_str());
    assert_eq!(pull["base"], "main");
    let pr_body = pull["body"].as_str().unwrap();
    assert!(pr_body.starts_with("Fixes #12"), "{pr_body}");
    assert!(
        pr_body.contains(&format!("{DASHBOARD}/tasks/{id}")),
        "{pr_body}"
    );
    let last = seen
        .iter()
        .rev()
        .find(|r| r.method.as_str() == "PATCH")
        .unwrap();
    let answer = body(last)["body"].as_str().unwrap().to_owned();
    assert!(
        answer.contains(&format!("Pull request: {pr_url}")),
        "{answer}"
    );
    let final_result = ctx.final_result(&task.task_id).unwrap();
    assert_eq!(final_result.links, vec![pr_url.to_owned()]);
    // The git-access DELETE came after the push, and the token is nowhere in the task's log.
    let revoke_at = seen
        .iter()
        .position(|r| r.method.as_str() == "DELETE")
        .unwrap();
    let pull_at = seen
        .iter()
        .position(|r| r.url.path().ends_with("/pulls"))
        .unwrap();
    assert!(revoke_at > pull_at);
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
    for entry in std::fs::read_dir(ctx.logs.task_dir(&task.task_id)).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(token) && !text.contains(&encoded));
    }
    assert!(prompt(&ctx).contains("tests/test_clock.py fails around midnight"));
    services.verify().await;
}

#[tokio::test]
async fn cancel_mid_run_kills_the_group_and_the_tracking_message_says_so() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = slack_envelope(Command::Investigate);
    Mock::given(method("POST"))
        .and(path("/api/v1/slack/messages"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"channel": "C42", "ts": "1.5"})),
        )
        .mount(&services)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/slack/messages/C42/1.5"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"channel": "C42", "ts": "1.5"})),
        )
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/slack/threads/C42/1700000000.000100/replies"))
        .respond_with(ResponseTemplate::new(503).set_body_json(
            json!({"code": "upstream_unavailable", "message": "Slack is down", "details": null}),
        ))
        .mount(&services)
        .await;
    let grandchild = ctx.path("grandchild.pid");
    let fake = FakeCli {
        grandchild_pid_file: Some(grandchild.clone()),
        pause_ms: 60_000,
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    let _worker = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.enqueue(&task).await;
    let pid: i32 = wait_for(Duration::from_secs(20), || {
        std::fs::read_to_string(&grandchild)
            .ok()
            .and_then(|t| t.trim().parse().ok())
    })
    .await
    .expect("the agent started its grandchild");
    ctx.queue
        .request_cancel(&task.task_id, "test")
        .await
        .unwrap();
    ctx.wait_for_status(&task.task_id, "cancelled", Duration::from_secs(10))
        .await;
    assert!(
        wait_for(Duration::from_secs(5), || (!process_alive(pid))
            .then_some(()))
        .await
        .is_some(),
        "the agent's grandchild outlived the cancel"
    );
    let id = task.task_id.to_string();
    let seen = requests(&services).await;
    let cancelled = seen
        .iter()
        .find(|r| header_of(r, "idempotency-key").unwrap() == format!("{id}:1:tracking-cancelled"))
        .expect("the tracking message was updated");
    let text = body(cancelled)["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Cancelled"), "{text}");
    // The thread could not be read: logged, and the task ran anyway.
    assert!(
        ctx.types(&task.task_id, LogFile::MicroservicesFlow)
            .contains(&"context_unavailable".to_owned())
    );
}

#[tokio::test]
async fn a_second_task_of_a_conversation_waits_for_the_first() {
    let ctx = TestContext::new().await;
    let services = services().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/slack/messages"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"channel": "C42", "ts": "1.5"})),
        )
        .mount(&services)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/slack/messages/C42/1.5"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"channel": "C42", "ts": "1.5"})),
        )
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "not_found", "message": "no", "details": null})),
        )
        .mount(&services)
        .await;
    let fake = FakeCli {
        pause_ms: 2_000,
        completion_file: Some(ctx.path("completions")),
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    let _worker = spawn_worker(
        &ctx,
        &services,
        &cli,
        &[
            ("AGENT_CONCURRENCY", "2"),
            ("AGENT_CONVERSATION_RECHECK", "300ms"),
        ],
    )
    .await;
    let first = slack_envelope(Command::Ask);
    let second = slack_envelope(Command::Explain);
    ctx.enqueue(&first).await;
    wait_for(Duration::from_secs(10), || {
        ctx.types(&first.task_id, LogFile::QueueFlow)
            .contains(&"worker_assigned".to_owned())
            .then_some(())
    })
    .await
    .expect("the first task started");
    ctx.enqueue(&second).await;
    ctx.wait_for_status(&second.task_id, "succeeded", Duration::from_secs(30))
        .await;

    let waiting = ctx
        .lines(&second.task_id, LogFile::QueueFlow)
        .into_iter()
        .find(|l| l["type"] == "waiting")
        .expect("the second task waited");
    assert_eq!(waiting["behind"], first.task_id.to_string());
    let first_done = ctx.final_result(&first.task_id).unwrap().finished_at;
    let second_started = ctx
        .lines(&second.task_id, LogFile::QueueFlow)
        .into_iter()
        .find(|l| l["type"] == "worker_assigned")
        .unwrap();
    let started_at: chrono::DateTime<chrono::Utc> =
        second_started["ts"].as_str().unwrap().parse().unwrap();
    assert!(started_at >= first_done, "ran alongside the first task");
    assert_eq!(second_started["attempt"], 1, "waiting consumed no attempt");
    let id = second.task_id.to_string();
    let waiting_post = requests(&services)
        .await
        .into_iter()
        .find(|r| {
            header_of(r, "x-task-id").as_deref() == Some(id.as_str()) && r.method.as_str() == "POST"
        })
        .expect("the second task's tracking message");
    let text = body(&waiting_post)["text"].as_str().unwrap().to_owned();
    assert!(
        text.contains("waiting for the task already running"),
        "{text}"
    );
    let mut redis = ctx.redis().await;
    let active: Option<String> = redis
        .hget(ctx.keys.conversation(&second.conversation_key), "active")
        .await
        .unwrap();
    assert_eq!(active, None, "the conversation is free again");
}

#[tokio::test]
async fn the_answer_is_retried_while_the_service_is_down_and_posted_once() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = slack_envelope(Command::Ask);
    // The gateway posted the tracking message already.
    let mut redis = ctx.redis().await;
    let message = TrackingMessage::Slack {
        channel: "C42".into(),
        ts: "1.9".into(),
    };
    let _: () = redis
        .set(
            ctx.keys.tracking_message(&task.task_id),
            serde_json::to_string(&message).unwrap(),
        )
        .await
        .unwrap();
    Mock::given(method("PUT"))
        .and(path("/api/v1/slack/messages/C42/1.9"))
        .and(body_string_contains("Done"))
        .respond_with(ResponseTemplate::new(503).set_body_json(
            json!({"code": "upstream_unavailable", "message": "Slack is down", "details": null}),
        ))
        .up_to_n_times(4)
        .with_priority(1)
        .mount(&services)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/slack/messages/C42/1.9"))
        .and(header(
            "authorization",
            format!("Bearer {SERVICE_TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"channel": "C42", "ts": "1.9"})),
        )
        .with_priority(2)
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "not_found", "message": "no", "details": null})),
        )
        .mount(&services)
        .await;
    let cli = cli(&ctx, "claude", succeeding(&ctx));
    let _worker = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(30))
        .await;

    let id = task.task_id.to_string();
    let seen = requests(&services).await;
    assert!(
        seen.iter().all(|r| r.method.as_str() != "POST"),
        "no second tracking message"
    );
    let finals: Vec<&Request> = seen
        .iter()
        .filter(|r| header_of(r, "idempotency-key").unwrap() == format!("{id}:1:tracking-final"))
        .collect();
    // Four refused (503), then the one that went through; nothing after it.
    assert_eq!(finals.len(), 5, "{finals:?}");
    assert!(std::ptr::eq(
        *finals.last().unwrap(),
        seen.iter()
            .rev()
            .find(|r| r.method.as_str() == "PUT")
            .unwrap()
    ));
    for file in [LogFile::QueueFlow, LogFile::MicroservicesFlow] {
        assert!(
            ctx.types(&task.task_id, file)
                .contains(&"answer_pending".to_owned()),
            "{file:?}"
        );
    }
    let posted = ctx
        .lines(&task.task_id, LogFile::MicroservicesFlow)
        .into_iter()
        .find(|l| l["type"] == "answer_posted")
        .unwrap();
    assert_eq!(posted["tries"], 2);
    assert_eq!(posted["new_message"], false);
}

#[tokio::test]
async fn a_task_cancelled_while_queued_is_skipped_and_the_tracking_message_says_so() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = slack_envelope(Command::Ask);
    Mock::given(method("POST"))
        .and(path("/api/v1/slack/messages"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"channel": "C42", "ts": "2.5"})),
        )
        .mount(&services)
        .await;
    let fake = FakeCli {
        completion_file: Some(ctx.path("completions")),
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    ctx.queue
        .request_cancel(&task.task_id, "test")
        .await
        .unwrap();
    ctx.enqueue(&task).await;
    let _worker = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.wait_for_status(&task.task_id, "cancelled", Duration::from_secs(20))
        .await;

    assert!(!ctx.path("completions").exists(), "the agent never ran");
    let seen = requests(&services).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_task_call(&seen[0], &task);
    let text = body(&seen[0])["text"].as_str().unwrap().to_owned();
    assert!(text.contains("🛑 Cancelled"), "{text}");
}

#[tokio::test]
async fn a_pull_request_review_gets_its_diff_and_runs_without_a_clone_when_git_access_is_refused() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let mut task = envelope(Command::Review, Priority::Normal);
    task.source.number = Some(14);
    task.source.is_pull_request = Some(true);
    task.conversation_key = TaskEnvelope::github_conversation("octo/repo", 14);
    let now = chrono::Utc::now();
    Mock::given(method("POST"))
        .and(path("/api/v1/github/repos/octo/repo/git-access"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"code": "not_found", "message": "the App is not installed on octo/repo", "details": null})))
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/github/repos/octo/repo/issues/14"))
        .respond_with(ResponseTemplate::new(200).set_body_json(IssueWithComments {
            issue: Issue {
                number: 14,
                title: "Retry the upload".into(),
                body: Some("Adds a retry around the S3 upload.".into()),
                state: "open".into(),
                html_url: "https://github.com/octo/repo/pull/14".into(),
                user: user("octocat"),
                labels: vec![],
                is_pull_request: true,
                comments: 0,
                created_at: now,
                updated_at: now,
            },
            comments: vec![],
            comments_truncated: false,
        }))
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/github/repos/octo/repo/pulls/14/diff"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"diff": "diff --git a/upload.py b/upload.py\n+    for attempt in range(3):\n"}),
        ))
        .mount(&services)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/github/repos/octo/repo/issues/14/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 777, "body": "…"})))
        .mount(&services)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/github/repos/octo/repo/issues/comments/777"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 777, "body": "…"})))
        .mount(&services)
        .await;
    let cli = cli(&ctx, "claude", succeeding(&ctx));
    let _worker = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(20))
        .await;

    let prompt = prompt(&ctx);
    assert!(prompt.contains("+    for attempt in range(3):"), "{prompt}");
    assert!(
        prompt.contains("Adds a retry around the S3 upload."),
        "{prompt}"
    );
    assert!(prompt.contains("not cloned"), "{prompt}");
    let seen = requests(&services).await;
    for request in &seen {
        assert_task_call(request, &task);
    }
    assert!(
        seen.iter().all(|r| r.method.as_str() != "DELETE"),
        "no token was issued, none is revoked"
    );
    assert!(
        ctx.types(&task.task_id, LogFile::MicroservicesFlow)
            .contains(&"git_access_unavailable".to_owned())
    );
}

#[tokio::test]
async fn a_task_that_keeps_crashing_is_answered_with_how_often() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = slack_envelope(Command::Ask);
    Mock::given(method("POST"))
        .and(path("/api/v1/slack/messages"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"channel": "C42", "ts": "3.5"})),
        )
        .mount(&services)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/slack/messages/C42/3.5"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"channel": "C42", "ts": "3.5"})),
        )
        .mount(&services)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "not_found", "message": "no", "details": null})),
        )
        .mount(&services)
        .await;
    // The stream stops short: the process crashed, worth another attempt each time.
    let fake = FakeCli {
        final_lines: vec![],
        exit_code: 137,
        stderr: "Segmentation fault".into(),
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    let _worker = spawn_worker(&ctx, &services, &cli, &[("MAX_ATTEMPTS", "2")]).await;
    ctx.enqueue(&task).await;
    ctx.wait_for_status(&task.task_id, "dead_lettered", Duration::from_secs(30))
        .await;

    let id = task.task_id.to_string();
    let seen = requests(&services).await;
    let failed: Vec<&Request> = seen
        .iter()
        .filter(|r| header_of(r, "idempotency-key").unwrap() == format!("{id}:1:tracking-failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{seen:?}");
    let text = body(failed[0])["text"].as_str().unwrap().to_owned();
    assert!(
        text.contains("it crashed 2 times and was given up"),
        "{text}"
    );
    let posts = seen.iter().filter(|r| r.method.as_str() == "POST").count();
    assert_eq!(posts, 1, "one tracking message across both attempts");
    assert!(
        seen.iter().any(|r| header_of(r, "idempotency-key").unwrap()
            == format!("{id}:1:tracking-started-attempt-2")),
        "the second attempt shows itself as a new step"
    );
}

#[tokio::test]
async fn a_worker_killed_while_its_answer_is_pending_is_resumed_without_running_the_agent_again() {
    let ctx = TestContext::new().await;
    let services = services().await;
    let task = slack_envelope(Command::Ask);
    let message = TrackingMessage::Slack {
        channel: "C42".into(),
        ts: "4.5".into(),
    };
    let mut redis = ctx.redis().await;
    let _: () = redis
        .set(
            ctx.keys.tracking_message(&task.task_id),
            serde_json::to_string(&message).unwrap(),
        )
        .await
        .unwrap();
    let slack_down = || {
        Mock::given(method("PUT"))
            .and(path("/api/v1/slack/messages/C42/4.5"))
            .and(body_string_contains("Done"))
            .respond_with(ResponseTemplate::new(503).set_body_json(json!({"code": "upstream_unavailable", "message": "Slack is down", "details": null})))
            .with_priority(1)
    };
    let slack_up = || {
        Mock::given(method("PUT"))
            .and(path("/api/v1/slack/messages/C42/4.5"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"channel": "C42", "ts": "4.5"})),
            )
            .with_priority(2)
    };
    let not_found = || {
        Mock::given(method("GET")).respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "not_found", "message": "no", "details": null})),
        )
    };
    slack_down().mount(&services).await;
    slack_up().mount(&services).await;
    not_found().mount(&services).await;
    let fake = FakeCli {
        completion_file: Some(ctx.path("completions")),
        ..succeeding(&ctx)
    };
    let cli = cli(&ctx, "claude", fake);
    let mut first = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.enqueue(&task).await;
    wait_for(Duration::from_secs(20), || {
        ctx.types(&task.task_id, LogFile::QueueFlow)
            .contains(&"answer_pending".to_owned())
            .then_some(())
    })
    .await
    .expect("the answer was pending");
    first.sigkill().await;
    let refused_key = requests(&services)
        .await
        .iter()
        .filter(|r| body(r)["text"].as_str().unwrap_or("").contains("Done"))
        .map(|r| header_of(r, "idempotency-key").unwrap())
        .next_back()
        .expect("the first worker tried to answer");
    services.reset().await;
    slack_up().mount(&services).await;
    not_found().mount(&services).await;
    let _second = spawn_worker(&ctx, &services, &cli, &[]).await;
    ctx.wait_for_status(&task.task_id, "succeeded", Duration::from_secs(30))
        .await;

    assert_eq!(
        std::fs::read_to_string(ctx.path("completions")).unwrap(),
        "completed\n",
        "the agent ran once"
    );
    assert!(
        ctx.types(&task.task_id, LogFile::QueueFlow)
            .contains(&"resumed".to_owned())
    );
    let id = task.task_id.to_string();
    let seen = requests(&services).await;
    let finals: Vec<&Request> = seen
        .iter()
        .filter(|r| {
            r.method.as_str() == "PUT" && body(r)["text"].as_str().unwrap_or("").contains("Done")
        })
        .collect();
    assert_eq!(finals.len(), 1, "{finals:?}");
    assert_eq!(
        header_of(finals[0], "idempotency-key").unwrap(),
        refused_key,
        "the same key the first worker used"
    );
    assert_eq!(refused_key, format!("{id}:1:tracking-final"));
    assert!(seen.iter().all(|r| r.method.as_str() != "POST"));
}
