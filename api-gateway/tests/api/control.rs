//! `@agent cancel` and `@agent retry` act on the conversation's tasks (`conv:{conversation_key}`).

use contracts::{LogFile, TaskStatus};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    Answer, SLACK_BOT_USER, TestApp, github_comment, github_delivery, slack_app_mention,
    slack_delivery, slack_slash_command, spawn_app, spawn_app_with_services,
};

async fn comment(app: &TestApp, text: &str, login: &str, id: u64, association: &str) -> Answer {
    let mut payload = github_comment(text, association, login, "User");
    payload["sender"]["id"] = json!(id);
    app.send(&github_delivery("issue_comment", &payload)).await
}

async fn ada(app: &TestApp, text: &str) -> Answer {
    comment(app, text, "ada", 5150, "OWNER").await
}

#[tokio::test]
async fn the_requester_cancels_the_conversations_queued_task() {
    let app = spawn_app().await;
    let task = ada(&app, "@agent fix the flaky test").await;
    let task_id = task.task_id();
    let conversation = app.keys.conversation("github:octo/repo#12");
    assert_eq!(
        deadpool_redis::redis::Commands::hget::<_, _, Option<String>>(
            &mut app.redis(),
            &conversation,
            "latest"
        )
        .unwrap(),
        Some(task_id.to_string())
    );

    let answer = ada(&app, "@agent cancel").await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"status": "cancel_requested", "task_id": task_id.to_string()})
    );
    assert_eq!(
        app.redis_get(&app.keys.cancel(&task_id)).as_deref(),
        Some("github:ada")
    );
    let line = app
        .wait_for_line(&task_id, LogFile::QueueFlow, "cancel_requested")
        .await;
    assert_eq!(line["requested_by"], "github:ada");
    assert_eq!(line["status"], "queued");
    assert_eq!(line["service"], "api-gateway");
    assert_eq!(app.queued_envelopes().len(), 1, "cancel starts no task");
}

#[tokio::test]
async fn a_stranger_may_not_cancel_but_a_trusted_actor_may() {
    let (app, services) = spawn_app_with_services(|s| s.acknowledge_tasks = false).await;
    Mock::given(method("GET"))
        .and(path(
            "/api/v1/github/repos/octo/repo/collaborators/mallory/permission",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "username": "mallory", "permission": "read", "role_name": "read", "can_write": false
        })))
        .mount(&services.github)
        .await;
    let task_id = ada(&app, "@agent fix it").await.task_id();

    comment(&app, "@agent cancel", "mallory", 666, "NONE")
        .await
        .assert_ignored("not_allowed");
    assert_eq!(app.redis_get(&app.keys.cancel(&task_id)), None);

    let answer = comment(&app, "@agent cancel", "bob", 777, "MEMBER").await;
    assert_eq!(answer.body["status"], "cancel_requested", "{}", answer.body);
    assert_eq!(
        app.redis_get(&app.keys.cancel(&task_id)).as_deref(),
        Some("github:bob")
    );
}

#[tokio::test]
async fn on_slack_only_the_requester_cancels() {
    let app = spawn_app().await;
    let mention = |text: &str, user: &str, event: &str| {
        slack_delivery(&slack_app_mention(
            &format!("<@{SLACK_BOT_USER}> {text}"),
            user,
            event,
        ))
    };
    let task_id = app
        .send(&mention("investigate the outage", "U234", "EvC1"))
        .await
        .task_id();

    app.send(&mention("cancel", "U999", "EvC2"))
        .await
        .assert_ignored("not_allowed");
    let answer = app.send(&mention("cancel", "U234", "EvC3")).await;

    assert_eq!(
        answer.body,
        json!({"status": "cancel_requested", "task_id": task_id.to_string()})
    );
}

#[tokio::test]
async fn slash_commands_cancel_and_retry_the_tasks_of_their_channels_slash_commands() {
    let app = spawn_app().await;
    let first = app
        .send(&slack_slash_command(
            "C9",
            "U7",
            "fix the login page",
            "1.1.a",
        ))
        .await
        .task_id();
    let second = app
        .send(&slack_slash_command(
            "C9",
            "U7",
            "explain the cache",
            "1.2.b",
        ))
        .await
        .task_id();
    assert_ne!(
        app.envelope(&first).conversation_key,
        app.envelope(&second).conversation_key,
        "each slash command has its own conversation"
    );
    app.finish_task(&second, TaskStatus::Succeeded);

    app.send(&slack_slash_command("C1", "U7", "cancel", "1.3.c"))
        .await
        .assert_ignored("nothing_to_cancel");
    app.send(&slack_slash_command("C9", "U8", "cancel", "1.4.d"))
        .await
        .assert_ignored("not_allowed");
    let answer = app
        .send(&slack_slash_command("C9", "U7", "cancel", "1.5.e"))
        .await;
    assert_eq!(
        answer.body,
        json!({"status": "cancel_requested", "task_id": first.to_string()}),
        "the newest slash-command task of the channel that has not ended"
    );
    assert_eq!(
        app.redis_get(&app.keys.cancel(&first)).as_deref(),
        Some("slack:ada")
    );

    app.finish_task(&first, TaskStatus::Failed);
    let answer = app
        .send(&slack_slash_command("C9", "U7", "retry", "1.6.f"))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"status": "requeued", "task_id": first.to_string()})
    );
}

#[tokio::test]
async fn nothing_to_cancel_when_the_conversation_has_no_running_task() {
    let app = spawn_app().await;
    ada(&app, "@agent cancel")
        .await
        .assert_ignored("nothing_to_cancel");

    let task_id = ada(&app, "@agent explain the cache").await.task_id();
    app.finish_task(&task_id, TaskStatus::Succeeded);
    ada(&app, "@agent cancel")
        .await
        .assert_ignored("nothing_to_cancel");
    assert_eq!(app.redis_get(&app.keys.cancel(&task_id)), None);
}

#[tokio::test]
async fn retry_requeues_the_failed_task_with_its_next_run() {
    let app = spawn_app().await;
    let task_id = ada(&app, "@agent fix the login page").await.task_id();
    ada(&app, "@agent retry")
        .await
        .assert_ignored("nothing_to_retry");
    app.finish_task(&task_id, TaskStatus::Failed);

    let delivery = github_delivery(
        "issue_comment",
        &github_comment("@agent retry", "OWNER", "ada", "User"),
    );
    let answer = app.send(&delivery).await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"status": "requeued", "task_id": task_id.to_string()})
    );
    let runs: Vec<(u32, u32)> = app
        .queued_envelopes()
        .into_iter()
        .filter(|e| e.task_id == task_id)
        .map(|e| (e.run, e.attempt))
        .collect();
    assert_eq!(runs, [(1, 1), (2, 1)]);
    let metadata = app.log_json(&task_id, LogFile::Metadata);
    assert_eq!(
        (metadata["status"].clone(), metadata["run"].clone()),
        (json!("queued"), json!(2))
    );
    let kinds: Vec<Value> = app
        .log_lines(&task_id, LogFile::QueueFlow)
        .into_iter()
        .map(|l| json!([l["type"], l["requested_by"]]))
        .collect();
    assert_eq!(
        kinds,
        [
            json!(["queued", null]),
            json!(["requeued", "github:ada"]),
            json!(["queued", null])
        ]
    );
    let queued_events = app
        .task_events()
        .into_iter()
        .filter(|e| e.task_id == task_id && e.status == TaskStatus::Queued)
        .count();
    assert_eq!(queued_events, 2);

    let again = app.send(&delivery).await;
    assert_eq!(
        again.body,
        json!({"status": "duplicate", "task_id": task_id.to_string()}),
        "a redelivered retry re-queues nothing"
    );
    assert_eq!(app.queued_envelopes().len(), 2);
}

#[tokio::test]
async fn retry_picks_the_newest_failed_task_of_the_conversation() {
    let app = spawn_app().await;
    let failed = ada(&app, "@agent fix A").await.task_id();
    app.finish_task(&failed, TaskStatus::DeadLettered);
    let done = ada(&app, "@agent explain B").await.task_id();
    app.finish_task(&done, TaskStatus::Succeeded);

    let answer = ada(&app, "@agent retry").await;

    assert_eq!(
        answer.body,
        json!({"status": "requeued", "task_id": failed.to_string()})
    );
}
