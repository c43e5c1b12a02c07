//! The acknowledgement: right after the enqueue, the reaction and the tracking message reach the provider
//! services with the gateway's token, the task id and the idempotency keys; `immediate_response` says how.

use std::time::Duration;

use contracts::{LogFile, TaskId};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    DASHBOARD_URL, SERVICE_TOKEN, SLACK_BOT_USER, TestApp, github_comment, github_delivery,
    jira_comment, jira_delivery, sentry_delivery, sentry_issue_created, slack_app_mention,
    slack_delivery, spawn_app, spawn_app_with_services,
};

fn github_user() -> Value {
    json!({"login": "agent-gateway[bot]", "id": 9001, "type": "Bot"})
}

/// Mounts `method path` answering `status` with `body`, expected exactly `times` times, with the gateway's token.
async fn expect_call(
    server: &MockServer,
    verb: &str,
    at: &str,
    status: u16,
    body: Value,
    times: u64,
) {
    Mock::given(method(verb))
        .and(path(at))
        .and(header("authorization", format!("Bearer {SERVICE_TOKEN}")))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(times)
        .mount(server)
        .await;
}

/// The one request `server` got at `at`, checked for the task's headers; its JSON body.
async fn the_request(server: &MockServer, at: &str, task_id: &TaskId, idempotency: &str) -> Value {
    let requests: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .collect();
    assert_eq!(requests.len(), 1, "calls to {at}");
    let request = &requests[0];
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("x-task-id"), Some(task_id.to_string()));
    assert_eq!(
        header("idempotency-key"),
        Some(format!("{task_id}:{idempotency}"))
    );
    assert!(
        header("traceparent").is_some_and(|t| t.starts_with("00-")),
        "no traceparent"
    );
    serde_json::from_slice(&request.body).unwrap()
}

fn assert_tracking_text(text: &str, task_id: &TaskId) {
    assert!(text.contains("Working on it"), "{text}");
    assert!(
        text.contains(&format!("{DASHBOARD_URL}/tasks/{task_id}")),
        "{text}"
    );
}

async fn immediate_response(app: &TestApp, task_id: &TaskId) -> Value {
    app.wait_for_line(task_id, LogFile::WebhookFlow, "immediate_response")
        .await
}

#[tokio::test]
async fn a_github_task_gets_eyes_and_one_tracking_comment() {
    let (app, services) = spawn_app_with_services(|_| {}).await;
    let reactions = "/api/v1/github/repos/octo/repo/issues/comments/987654/reactions";
    let comments = "/api/v1/github/repos/octo/repo/issues/12/comments";
    expect_call(
        &services.github,
        "POST",
        reactions,
        201,
        json!({"id": 1, "content": "eyes", "user": github_user(), "created": true}),
        1,
    )
    .await;
    expect_call(
        &services.github,
        "POST",
        comments,
        201,
        json!({"id": 555, "body": "…", "user": github_user(),
               "html_url": "https://github.com/octo/repo/issues/12#issuecomment-555",
               "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}),
        1,
    )
    .await;

    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix the test", "MEMBER", "ada", "User"),
        ))
        .await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    let task_id = answer.task_id();
    let logged = immediate_response(&app, &task_id).await;
    assert_eq!(logged["reaction"]["outcome"], "done", "{logged}");
    assert_eq!(logged["tracking_message"]["outcome"], "done", "{logged}");
    assert_eq!(logged["tracking_message"]["posted"], true);
    assert_eq!(
        logged["tracking_message"]["message"],
        json!({"provider": "github", "repo": "octo/repo", "comment_id": 555})
    );
    let reaction = the_request(
        &services.github,
        reactions,
        &task_id,
        "1:acknowledge-reaction",
    )
    .await;
    assert_eq!(reaction, json!({"content": "eyes"}));
    let comment = the_request(&services.github, comments, &task_id, "0:tracking-post").await;
    assert_tracking_text(comment["body"].as_str().unwrap(), &task_id);
    assert!(comment["body"].as_str().unwrap().contains("fix for @ada"));
    let stored = app
        .redis_get(&app.keys.tracking_message(&task_id))
        .expect("the tracking message is kept for the worker");
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap()["comment_id"],
        555
    );
}

#[tokio::test]
async fn a_slack_task_gets_a_reaction_and_a_reply_in_the_thread() {
    let (app, services) = spawn_app_with_services(|_| {}).await;
    expect_call(
        &services.slack,
        "POST",
        "/api/v1/slack/reactions",
        200,
        json!({"channel": "C123", "timestamp": "1700000000.000100", "name": "eyes", "already_reacted": false}),
        1,
    )
    .await;
    expect_call(
        &services.slack,
        "POST",
        "/api/v1/slack/messages",
        201,
        json!({"channel": "C123", "ts": "1700000001.000200", "thread_ts": "1700000000.000100"}),
        1,
    )
    .await;

    let answer = app
        .send(&slack_delivery(&slack_app_mention(
            &format!("<@{SLACK_BOT_USER}> explain the deploy"),
            "U234",
            "EvAck1",
        )))
        .await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    let task_id = answer.task_id();
    let logged = immediate_response(&app, &task_id).await;
    assert_eq!(logged["reaction"]["outcome"], "done", "{logged}");
    assert_eq!(
        logged["tracking_message"]["message"],
        json!({"provider": "slack", "channel": "C123", "ts": "1700000001.000200"})
    );
    let reaction = the_request(
        &services.slack,
        "/api/v1/slack/reactions",
        &task_id,
        "1:acknowledge-reaction",
    )
    .await;
    assert_eq!(
        reaction,
        json!({"channel": "C123", "timestamp": "1700000000.000100", "name": "eyes"})
    );
    let message = the_request(
        &services.slack,
        "/api/v1/slack/messages",
        &task_id,
        "0:tracking-post",
    )
    .await;
    assert_eq!(message["channel"], "C123");
    assert_eq!(message["thread_ts"], "1700000000.000100");
    assert_tracking_text(message["text"].as_str().unwrap(), &task_id);
}

#[tokio::test]
async fn jira_and_sentry_tasks_get_a_comment() {
    let (app, services) = spawn_app_with_services(|_| {}).await;
    let jira_comments = "/api/v1/jira/issues/TES-41/comments";
    let sentry_comments = "/api/v1/sentry/issues/1170820242/comments";
    expect_call(
        &services.jira,
        "POST",
        jira_comments,
        201,
        json!({"id": "10100", "body": "…", "created": "2026-01-01T00:00:00.000+0000"}),
        1,
    )
    .await;
    expect_call(
        &services.sentry,
        "POST",
        sentry_comments,
        201,
        json!({"id": "4242", "text": "…", "date_created": "2026-01-01T00:00:00Z"}),
        1,
    )
    .await;

    let jira = app
        .send(&jira_delivery(&jira_comment(
            "@agent investigate the timeout",
            "5c5f880629be9642ba529340",
        )))
        .await;
    let sentry = app
        .send(&sentry_delivery("issue", &sentry_issue_created()))
        .await;

    for (answer, message, server, at) in [
        (
            &jira,
            json!({"provider": "jira", "issue_key": "TES-41", "comment_id": "10100"}),
            &services.jira,
            jira_comments,
        ),
        (
            &sentry,
            json!({"provider": "sentry", "issue_id": "1170820242", "comment_id": "4242"}),
            &services.sentry,
            sentry_comments,
        ),
    ] {
        assert_eq!(answer.status, 202, "{}", answer.body);
        let task_id = answer.task_id();
        let logged = immediate_response(&app, &task_id).await;
        assert_eq!(logged["reaction"]["outcome"], "not_applicable", "{logged}");
        assert_eq!(logged["tracking_message"]["message"], message, "{logged}");
        let body = the_request(server, at, &task_id, "0:tracking-post").await;
        let text = body.get("body").or(body.get("text")).unwrap();
        assert_tracking_text(text.as_str().unwrap(), &task_id);
    }
}

#[tokio::test]
async fn a_provider_service_that_is_down_loses_no_task() {
    // Every provider service URL points at a closed port.
    let app = spawn_app().await;

    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix it", "OWNER", "ada", "User"),
        ))
        .await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    let task_id = answer.task_id();
    app.envelope(&task_id);
    let logged = immediate_response(&app, &task_id).await;
    assert_eq!(logged["reaction"]["outcome"], "failed", "{logged}");
    assert_eq!(logged["tracking_message"]["outcome"], "failed", "{logged}");
    assert!(
        logged["tracking_message"]["error"]
            .as_str()
            .unwrap()
            .contains("github-service gave no answer"),
        "{logged}"
    );
    let errors = app.log_lines(&task_id, LogFile::MicroservicesFlow);
    assert!(
        errors
            .iter()
            .any(|l| l["type"] == "service_error" && l["target"] == "github-service"),
        "{errors:?}"
    );
    assert_eq!(
        app.redis_get(&app.keys.tracking_message(&task_id)),
        None,
        "a failed post leaves the claim free for the worker"
    );
    app.assert_task_logged(&task_id);
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("gateway_acknowledgements_total{provider=\"github\",part=\"tracking_message\",outcome=\"failed\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_duplicate_delivery_is_acknowledged_once() {
    let (app, services) = spawn_app_with_services(|_| {}).await;
    expect_call(
        &services.github,
        "POST",
        "/api/v1/github/repos/octo/repo/issues/comments/987654/reactions",
        201,
        json!({"id": 1, "content": "eyes", "user": github_user(), "created": true}),
        1,
    )
    .await;
    expect_call(
        &services.github,
        "POST",
        "/api/v1/github/repos/octo/repo/issues/12/comments",
        201,
        json!({"id": 556, "body": "…", "user": github_user(), "html_url": "https://github.com/octo/repo/issues/12#issuecomment-556",
               "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}),
        1,
    )
    .await;
    let delivery = github_delivery(
        "issue_comment",
        &github_comment("@agent review", "OWNER", "ada", "User"),
    );

    let first = app.send(&delivery).await;
    let second = app.send(&delivery).await;

    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(second.body["status"], "duplicate");
    immediate_response(&app, &first.task_id()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    services.github.verify().await;
}

#[tokio::test]
async fn queued_is_logged_before_a_worker_can_take_the_task() {
    let app = spawn_app().await;
    let mut worker = app.redis();
    for stream in app.keys.task_streams() {
        let _: Result<(), _> = deadpool_redis::redis::Commands::xgroup_create_mkstream(
            &mut worker,
            &stream,
            "workers",
            "$",
        );
    }
    let streams = app.keys.task_streams();
    let writer = app.worker_log();
    // A worker blocked on the streams appends `dequeued` the moment an entry arrives.
    let blocked = std::thread::spawn(move || {
        let options = deadpool_redis::redis::streams::StreamReadOptions::default()
            .group("workers", "w1")
            .block(10_000)
            .count(1);
        let reply: deadpool_redis::redis::streams::StreamReadReply =
            deadpool_redis::redis::Commands::xread_options(
                &mut worker,
                &streams,
                &[">", ">", ">"],
                &options,
            )
            .unwrap();
        let entry = &reply.keys[0].ids[0];
        let raw: String = entry.get("envelope").unwrap();
        let envelope = contracts::TaskEnvelope::decode(raw.as_bytes()).unwrap();
        let seen_at_dequeue = std::fs::read_to_string(
            writer
                .task_dir(&envelope.task_id)
                .join(LogFile::QueueFlow.file_name()),
        )
        .unwrap_or_default();
        writer
            .append(
                &envelope.task_id,
                LogFile::QueueFlow,
                "dequeued",
                json!({"worker": "w1"}),
            )
            .unwrap();
        (envelope.task_id, seen_at_dequeue)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix", "OWNER", "ada", "User"),
        ))
        .await;

    let task_id = answer.task_id();
    let (dequeued, seen_at_dequeue) = blocked.join().unwrap();
    assert_eq!(dequeued, task_id);
    assert!(
        seen_at_dequeue.contains("\"queued\""),
        "the worker took the task before `queued` was logged"
    );
    let kinds: Vec<Value> = app
        .log_lines(&task_id, LogFile::QueueFlow)
        .into_iter()
        .map(|l| l["type"].clone())
        .collect();
    assert_eq!(kinds, [json!("queued"), json!("dequeued")]);
}

#[tokio::test]
async fn a_slack_slash_command_gets_a_message_in_its_channel_and_no_reaction() {
    let (app, services) = spawn_app_with_services(|_| {}).await;
    expect_call(
        &services.slack,
        "POST",
        "/api/v1/slack/reactions",
        200,
        json!({}),
        0,
    )
    .await;
    expect_call(
        &services.slack,
        "POST",
        "/api/v1/slack/messages",
        201,
        json!({"channel": "C9", "ts": "1700000002.000300"}),
        1,
    )
    .await;
    let form = "team_id=T1&channel_id=C9&user_id=U7&user_name=ada&command=%2Fagent\
                &text=ask+what+changed&trigger_id=1334.7384.8088";

    let answer = app
        .send(&crate::helpers::slack_raw(
            form.as_bytes().to_vec(),
            "application/x-www-form-urlencoded",
            chrono::Utc::now().timestamp(),
        ))
        .await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    let task_id = answer.task_id();
    let logged = immediate_response(&app, &task_id).await;
    assert_eq!(logged["reaction"]["outcome"], "not_applicable", "{logged}");
    let message = the_request(
        &services.slack,
        "/api/v1/slack/messages",
        &task_id,
        "0:tracking-post",
    )
    .await;
    assert_eq!(message["channel"], "C9");
    assert!(message.get("thread_ts").is_none(), "{message}");
    services.slack.verify().await;
}
