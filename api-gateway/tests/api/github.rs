use contracts::{Command, Priority, Provider};
use serde_json::json;

use crate::helpers::{github_comment, github_delivery, github_raw, spawn_app};

#[tokio::test]
async fn a_trusted_comment_becomes_a_queued_task_with_its_log() {
    let app = spawn_app().await;
    let payload = github_comment(
        "Thanks! @agent fix the flaky test in `ci.yml`",
        "MEMBER",
        "ada",
        "User",
    );

    let answer = app.send(&github_delivery("issue_comment", &payload)).await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["status"], "queued");
    let task_id = answer.task_id();
    let envelope = app.envelope(&task_id);
    assert_eq!(envelope.provider, Provider::Github);
    assert_eq!(envelope.event, "issue_comment.created");
    assert_eq!(envelope.command, Command::Fix);
    assert_eq!(envelope.instruction, "the flaky test in `ci.yml`");
    assert_eq!(envelope.priority, Priority::High);
    assert_eq!(envelope.source.repo.as_deref(), Some("octo/repo"));
    assert_eq!(envelope.source.number, Some(12));
    assert_eq!(envelope.source.is_pull_request, Some(false));
    assert_eq!(envelope.source.comment_id.as_deref(), Some("987654"));
    assert_eq!(envelope.actor.login.as_deref(), Some("ada"));
    assert_eq!(envelope.actor.id, "5150");
    assert_eq!((envelope.attempt, envelope.run), (1, 1));
    assert_eq!(envelope.conversation_key, "github:octo/repo#12");
    app.assert_task_logged(&task_id);
    app.assert_queued_event(&task_id);

    let input = app.log_json(&task_id, contracts::LogFile::Input);
    assert_eq!(input["headers"]["x-hub-signature-256"], "[redacted]");
    assert_eq!(input["headers"]["x-github-event"], "issue_comment");
}

#[tokio::test]
async fn form_encoded_deliveries_are_read_from_their_payload_field() {
    let app = spawn_app().await;
    let payload = github_comment("@agent review please", "OWNER", "ada", "User");
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();

    let answer = app
        .send(&github_raw(
            "issue_comment",
            body.into_bytes(),
            "application/x-www-form-urlencoded",
        ))
        .await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(app.envelope(&answer.task_id()).command, Command::Review);
}

#[tokio::test]
async fn ping_is_answered_200() {
    let app = spawn_app().await;
    let answer = app
        .send(&github_delivery(
            "ping",
            &json!({"zen": "Keep it logically awesome.", "hook_id": 4242}),
        ))
        .await;
    answer.assert_ignored("ping");
    assert!(app.task_dirs().is_empty());
}

#[tokio::test]
async fn an_unknown_first_word_asks_with_the_whole_text() {
    let app = spawn_app().await;
    let payload = github_comment(
        "@agent why does this fail on Tuesdays?",
        "COLLABORATOR",
        "ada",
        "User",
    );
    let answer = app.send(&github_delivery("issue_comment", &payload)).await;
    let envelope = app.envelope(&answer.task_id());
    assert_eq!(envelope.command, Command::Ask);
    assert_eq!(envelope.instruction, "why does this fail on Tuesdays?");
}

#[tokio::test]
async fn issues_and_pull_requests_opened_with_the_mention_start_tasks() {
    let app = spawn_app().await;
    let issue = json!({
        "action": "opened",
        "issue": {"number": 3, "body": "@agent explain the cache layer", "author_association": "OWNER",
                  "html_url": "https://github.com/octo/repo/issues/3"},
        "repository": {"full_name": "octo/repo"},
        "sender": {"login": "ada", "id": 5150, "type": "User"}
    });
    let answer = app.send(&github_delivery("issues", &issue)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let envelope = app.envelope(&answer.task_id());
    assert_eq!(
        (envelope.command, envelope.source.comment_kind.as_deref()),
        (Command::Explain, Some("issue"))
    );

    let pull = json!({
        "action": "opened",
        "number": 8,
        "pull_request": {"number": 8, "body": null, "author_association": "MEMBER"},
        "repository": {"full_name": "octo/repo"},
        "sender": {"login": "ada", "id": 5150, "type": "User"}
    });
    app.send(&github_delivery("pull_request", &pull))
        .await
        .assert_ignored("not_a_command");

    let review_comment = json!({
        "action": "created",
        "comment": {"id": 77, "body": "@agent fix this off-by-one", "author_association": "MEMBER"},
        "pull_request": {"number": 8, "body": "", "author_association": "MEMBER"},
        "repository": {"full_name": "octo/repo"},
        "sender": {"login": "ada", "id": 5150, "type": "User"}
    });
    let answer = app
        .send(&github_delivery(
            "pull_request_review_comment",
            &review_comment,
        ))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let envelope = app.envelope(&answer.task_id());
    assert_eq!(envelope.source.is_pull_request, Some(true));
    assert_eq!(envelope.conversation_key, "github:octo/repo#8");
}

#[tokio::test]
async fn an_edit_starts_a_task_only_when_it_adds_the_mention() {
    let app = spawn_app().await;
    let mut payload = github_comment("@agent fix the typo", "OWNER", "ada", "User");
    payload["action"] = json!("edited");
    payload["changes"] = json!({"body": {"from": "@agent fix the typos"}});
    app.send(&github_delivery("issue_comment", &payload))
        .await
        .assert_ignored("edit_without_new_mention");

    payload["changes"] = json!({"body": {"from": "fix the typo"}});
    let answer = app.send(&github_delivery("issue_comment", &payload)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
}
