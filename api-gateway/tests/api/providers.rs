//! End to end for Slack, Jira and Sentry (GitHub has its own file).

use contracts::{Command, Priority, Provider};
use serde_json::json;

use crate::helpers::{
    JIRA_AGENT_ACCOUNT, JIRA_TOKEN, SLACK_BOT_USER, jira_comment, jira_delivery, jira_raw,
    sentry_delivery, sentry_issue_created, slack_app_mention, slack_delivery, slack_raw,
    slack_slash_command, spawn_app,
};

#[tokio::test]
async fn a_slack_app_mention_becomes_a_task() {
    let app = spawn_app().await;
    let mention = slack_app_mention(
        &format!("<@{SLACK_BOT_USER}> review the deploy script"),
        "U234",
        "Ev01",
    );

    let answer = app.send(&slack_delivery(&mention)).await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    let task_id = answer.task_id();
    let envelope = app.envelope(&task_id);
    assert_eq!(envelope.provider, Provider::Slack);
    assert_eq!(envelope.event, "app_mention");
    assert_eq!(
        (envelope.command, envelope.instruction.as_str()),
        (Command::Review, "the deploy script")
    );
    assert_eq!(envelope.actor.id, "U234");
    assert_eq!(envelope.source.slack_team.as_deref(), Some("T123"));
    assert_eq!(envelope.source.slack_channel.as_deref(), Some("C123"));
    assert_eq!(
        envelope.source.slack_thread_ts.as_deref(),
        Some("1700000000.000100")
    );
    assert_eq!(
        envelope.conversation_key,
        "slack:T123/C123/1700000000.000100"
    );
    app.assert_task_logged(&task_id);
    app.assert_queued_event(&task_id);
}

#[tokio::test]
async fn slack_url_verification_answers_the_challenge() {
    let app = spawn_app().await;
    let body = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
    let answer = app.send(&slack_delivery(&body)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
}

#[tokio::test]
async fn the_slack_slash_command_and_direct_messages_start_tasks() {
    let app = spawn_app().await;
    let answer = app
        .send(&slack_slash_command(
            "C9",
            "U7",
            "explain the retry policy",
            "13345224609.738474920.8088930838d88f008e0",
        ))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let envelope = app.envelope(&answer.task_id());
    assert_eq!(
        (envelope.command, envelope.instruction.as_str()),
        (Command::Explain, "the retry policy")
    );
    assert_eq!(envelope.event, "slash_command");

    let dm = json!({
        "type": "event_callback", "team_id": "T1", "event_id": "EvDM1",
        "event": {"type": "message", "channel_type": "im", "text": "fix the login page", "user": "U7",
                  "ts": "1700000001.000200", "channel": "D1"}
    });
    let answer = app.send(&slack_delivery(&dm)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(app.envelope(&answer.task_id()).command, Command::Fix);

    let interaction = format!(
        "payload={}",
        serde_urlencoded::to_string([("p", r#"{"type":"block_actions"}"#)])
            .unwrap()
            .trim_start_matches("p=")
    );
    app.send(&slack_raw(
        interaction.into_bytes(),
        "application/x-www-form-urlencoded",
        chrono::Utc::now().timestamp(),
    ))
    .await
    .assert_ignored("unsupported_interaction");
}

#[tokio::test]
async fn slack_bot_messages_never_start_tasks() {
    let app = spawn_app().await;
    let mut mention = slack_app_mention(&format!("<@{SLACK_BOT_USER}> fix it"), "U234", "Ev02");
    mention["event"]["bot_id"] = json!("B1");
    app.send(&slack_delivery(&mention))
        .await
        .assert_ignored("bot_actor");
    let own = slack_app_mention(
        &format!("<@{SLACK_BOT_USER}> fix it"),
        SLACK_BOT_USER,
        "Ev03",
    );
    app.send(&slack_delivery(&own))
        .await
        .assert_ignored("bot_actor");
    assert!(app.task_dirs().is_empty());
}

#[tokio::test]
async fn a_jira_cloud_comment_becomes_a_task() {
    let app = spawn_app().await;
    let comment = jira_comment(
        "@agent investigate why checkout times out",
        "5c5f880629be9642ba529340",
    );

    let answer = app.send(&jira_delivery(&comment)).await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    let task_id = answer.task_id();
    let envelope = app.envelope(&task_id);
    assert_eq!(envelope.provider, Provider::Jira);
    assert_eq!(envelope.event, "comment_created");
    assert_eq!(envelope.command, Command::Investigate);
    assert_eq!(envelope.priority, Priority::High);
    assert_eq!(
        envelope.source.jira_site.as_deref(),
        Some("https://example.atlassian.net")
    );
    assert_eq!(envelope.source.jira_issue_key.as_deref(), Some("TES-41"));
    assert_eq!(envelope.source.comment_id.as_deref(), Some("10019"));
    assert_eq!(
        envelope.conversation_key,
        "jira:https://example.atlassian.net/TES-41"
    );
    assert_eq!(envelope.actor.id, "5c5f880629be9642ba529340");
    app.assert_task_logged(&task_id);
    app.assert_queued_event(&task_id);
}

#[tokio::test]
async fn a_jira_account_mention_addresses_the_agent() {
    let app = spawn_app().await;
    let comment = jira_comment(
        &format!("[~accountid:{JIRA_AGENT_ACCOUNT}] explain the workflow"),
        "u1",
    );
    let answer = app.send(&jira_delivery(&comment)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(app.envelope(&answer.task_id()).command, Command::Explain);
    let own = jira_comment("@agent fix it", JIRA_AGENT_ACCOUNT);
    app.send(&jira_delivery(&own))
        .await
        .assert_ignored("bot_actor");
}

#[tokio::test]
async fn jira_server_sends_a_comment_twice_and_gets_one_task() {
    let app = spawn_app().await;
    let site = "http://jira.example.com:8080";
    let comment = json!({
        "self": format!("{site}/rest/api/2/issue/10013/comment/10082"),
        "id": "10082",
        "author": {"name": "lev", "key": "lev", "displayName": "Lev"},
        "body": "@agent fix the board filter",
        "created": "2019-06-04T00:15:17.234+0000",
        "updated": "2019-06-04T00:15:17.234+0000"
    });
    let created = json!({"timestamp": 1, "webhookEvent": "comment_created", "comment": comment});
    let updated = json!({
        "timestamp": 2, "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_commented",
        "user": {"name": "lev", "key": "lev"},
        "issue": {"id": "10013", "self": format!("{site}/rest/api/2/issue/10013"), "key": "PRJX-14",
                  "fields": {"summary": "Quick filters", "project": {"key": "PRJX"}}},
        "comment": comment
    });
    let token_url = format!("/webhooks/jira?token={JIRA_TOKEN}");
    let server = |payload: &serde_json::Value| {
        jira_raw(payload.to_string().into_bytes())
            .without("x-hub-signature")
            .without("x-atlassian-webhook-identifier")
    };

    let first = app.send_to(&server(&created), &token_url).await;
    let second = app.send_to(&server(&updated), &token_url).await;

    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["status"], "duplicate");
    assert_eq!(second.task_id(), first.task_id());
    assert_eq!(app.queued_envelopes().len(), 1);
    assert_eq!(app.task_dirs(), vec![first.task_id().to_string()]);
    let envelope = app.envelope(&first.task_id());
    assert_eq!(envelope.source.jira_issue_key.as_deref(), Some("10013"));

    let wrong = app
        .send_to(&server(&created), "/webhooks/jira?token=guess")
        .await;
    wrong.assert_error(401, "invalid_signature");
}

#[tokio::test]
async fn a_sentry_issue_created_starts_an_investigation() {
    let app = spawn_app().await;

    let answer = app
        .send(&sentry_delivery("issue", &sentry_issue_created()))
        .await;

    assert_eq!(answer.status, 202, "{}", answer.body);
    let task_id = answer.task_id();
    let envelope = app.envelope(&task_id);
    assert_eq!(envelope.provider, Provider::Sentry);
    assert_eq!(envelope.event, "issue.created");
    assert_eq!(envelope.command, Command::Investigate);
    assert!(
        envelope
            .instruction
            .contains("ReferenceError: blooopy is not defined"),
        "{}",
        envelope.instruction
    );
    assert_eq!(envelope.actor.kind, "application");
    assert_eq!(envelope.source.sentry_org.as_deref(), Some("test-org"));
    assert_eq!(
        envelope.source.sentry_issue_id.as_deref(),
        Some("1170820242")
    );
    assert_eq!(envelope.conversation_key, "sentry:test-org/1170820242");
    app.assert_task_logged(&task_id);
    app.assert_queued_event(&task_id);
}

#[tokio::test]
async fn sentry_rules_decide_which_resources_start_tasks() {
    let app = spawn_app().await;
    let alert = json!({
        "action": "triggered",
        "installation": {"uuid": "i"},
        "data": {"event": {"issue_id": "1117540176", "title": "ReferenceError: heck is not defined",
                           "web_url": "https://sentry.io/organizations/test-org/issues/1117540176/events/e48/"},
                 "triggered_rule": "Very Important Alert Rule!"},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}
    });
    let answer = app.send(&sentry_delivery("event_alert", &alert)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);

    let mut resolved = sentry_issue_created();
    resolved["action"] = json!("resolved");
    app.send(&sentry_delivery("issue", &resolved))
        .await
        .assert_ignored("unsupported_event");
    let install = json!({"action": "created", "installation": {"uuid": "i"}, "data": {}, "actor": {"type": "user", "id": 1}});
    app.send(&sentry_delivery("installation", &install))
        .await
        .assert_ignored("unsupported_event");

    let comment = json!({
        "action": "created", "installation": {"uuid": "i"},
        "data": {"comment": "@agent explain this stack trace", "comment_id": 1234, "issue_id": 100, "project_slug": "web"},
        "actor": {"type": "user", "id": 1, "name": "colleen"}
    });
    let answer = app.send(&sentry_delivery("comment", &comment)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(app.envelope(&answer.task_id()).command, Command::Explain);
}
