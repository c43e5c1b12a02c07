//! Deliveries that must not become tasks, and answers for bad requests.

use serde_json::json;

use crate::helpers::{
    github_comment, github_delivery, github_raw, jira_raw, sentry_delivery, sentry_issue_created,
    sentry_raw, slack_raw, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn malformed_bodies_get_400() {
    let app = spawn_app().await;
    app.send(&github_raw(
        "issue_comment",
        b"{not json".to_vec(),
        "application/json",
    ))
    .await
    .assert_error(400, "malformed_body");
    app.send(&github_raw(
        "issue_comment",
        b"a=b".to_vec(),
        "application/x-www-form-urlencoded",
    ))
    .await
    .assert_error(400, "malformed_body");
    app.send(&github_raw(
        "issue_comment",
        b"{\"action\": \"created\"}".to_vec(),
        "application/json",
    ))
    .await
    .assert_error(400, "malformed_body");
    app.send(&slack_raw(
        b"[1,2".to_vec(),
        "application/json",
        chrono::Utc::now().timestamp(),
    ))
    .await
    .assert_error(400, "malformed_body");
    app.send(&jira_raw(b"{\"webhookEvent\": 5}".to_vec()))
        .await
        .assert_error(400, "malformed_body");
    app.send(&sentry_raw("issue", b"<xml/>".to_vec()))
        .await
        .assert_error(400, "malformed_body");
    assert!(app.task_dirs().is_empty());
}

#[tokio::test]
async fn a_payload_that_is_not_a_json_object_is_named_as_such() {
    let app = spawn_app().await;
    let not_objects = [
        github_raw("issue_comment", b"[1, 2, 3]".to_vec(), "application/json"),
        github_raw("issue_comment", b" null".to_vec(), "application/json"),
        slack_raw(
            b"\"url_verification\"".to_vec(),
            "application/json",
            chrono::Utc::now().timestamp(),
        ),
        jira_raw(b"[{\"webhookEvent\": \"comment_created\"}]".to_vec()),
        sentry_raw("issue", b"42".to_vec()),
    ];
    for delivery in &not_objects {
        let answer = app.send(delivery).await;
        answer.assert_error(400, "malformed_body");
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains("not a JSON object"), "{message}");
    }
    assert!(app.task_dirs().is_empty());
}

#[tokio::test]
async fn missing_headers_get_400() {
    let app = spawn_app().await;
    let payload = github_comment("@agent fix", "OWNER", "ada", "User");
    let answer = app
        .send(&github_delivery("issue_comment", &payload).without("x-github-event"))
        .await;
    answer.assert_error(400, "missing_header");
    assert_eq!(answer.body["details"]["header"], "x-github-event");
    app.send(&github_delivery("issue_comment", &payload).without("x-github-delivery"))
        .await
        .assert_error(400, "missing_header");
    app.send(&sentry_delivery("issue", &sentry_issue_created()).without("sentry-hook-resource"))
        .await
        .assert_error(400, "missing_header");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = spawn_app_with(|s| s.max_body_bytes = 10_000).await;
    let mut payload = github_comment("@agent fix", "OWNER", "ada", "User");
    payload["issue"]["body"] = json!("x".repeat(20_000));
    let answer = app.send(&github_delivery("issue_comment", &payload)).await;
    answer.assert_error(413, "payload_too_large");
    assert_eq!(answer.body["details"]["limit_bytes"], 10_000);
    assert!(app.task_dirs().is_empty());
}

#[tokio::test]
async fn unsupported_content_types_get_415() {
    let app = spawn_app().await;
    let payload = github_comment("@agent fix", "OWNER", "ada", "User")
        .to_string()
        .into_bytes();
    app.send(&github_raw("issue_comment", payload.clone(), "text/plain"))
        .await
        .assert_error(415, "unsupported_media_type");
    app.send(
        &github_raw("issue_comment", payload.clone(), "application/json").without("content-type"),
    )
    .await
    .assert_error(415, "unsupported_media_type");
    app.send(&slack_raw(
        payload,
        "text/xml",
        chrono::Utc::now().timestamp(),
    ))
    .await
    .assert_error(415, "unsupported_media_type");
}

#[tokio::test]
async fn a_sequential_duplicate_gets_the_original_task_id() {
    let app = spawn_app().await;
    let delivery = github_delivery(
        "issue_comment",
        &github_comment("@agent fix", "OWNER", "ada", "User"),
    );
    let first = app.send(&delivery).await;
    let second = app.send(&delivery).await;
    assert_eq!(first.status, 202);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        second.body,
        json!({"status": "duplicate", "task_id": first.task_id().to_string()})
    );
    assert_eq!(app.queued_envelopes().len(), 1);
    assert_eq!(app.task_dirs(), vec![first.task_id().to_string()]);

    let slack = slack_raw(
        crate::helpers::slack_app_mention("<@UBOT1> fix it", "U1", "EvSame")
            .to_string()
            .into_bytes(),
        "application/json",
        chrono::Utc::now().timestamp(),
    );
    let first = app.send(&slack).await;
    let retry = app
        .send(
            &slack
                .header("x-slack-retry-num", "1")
                .header("x-slack-retry-reason", "http_timeout"),
        )
        .await;
    assert_eq!(retry.body["status"], "duplicate");
    assert_eq!(retry.task_id(), first.task_id());
}

#[tokio::test]
async fn twenty_concurrent_duplicates_make_one_task() {
    let app = spawn_app().await;
    let delivery = github_delivery(
        "issue_comment",
        &github_comment("@agent fix", "OWNER", "ada", "User"),
    );
    let answers = futures::future::join_all((0..20).map(|_| app.send(&delivery))).await;

    let queued: Vec<_> = answers.iter().filter(|a| a.status == 202).collect();
    assert_eq!(
        queued.len(),
        1,
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let original = queued[0].task_id();
    for answer in answers.iter().filter(|a| a.status != 202) {
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["status"], "duplicate");
        assert_eq!(answer.task_id(), original);
    }
    assert_eq!(app.queued_envelopes().len(), 1);
    assert_eq!(app.task_dirs(), vec![original.to_string()]);
    assert_eq!(app.task_events().len(), 1);
}

/// With the rate limit off there is no pre-check round trip: the enqueue script alone finds duplicates, and
/// the directories the losers wrote are removed again.
#[tokio::test]
async fn duplicates_without_the_rate_limit_make_one_task_and_one_directory() {
    let app = spawn_app_with(|s| s.actor_rate_limit_per_minute = 0).await;
    let delivery = github_delivery(
        "issue_comment",
        &github_comment("@agent fix", "OWNER", "ada", "User"),
    );
    let mut answers = futures::future::join_all((0..10).map(|_| app.send(&delivery))).await;
    answers.push(app.send(&delivery).await);

    let queued: Vec<_> = answers.iter().filter(|a| a.status == 202).collect();
    assert_eq!(queued.len(), 1);
    let original = queued[0].task_id();
    for answer in answers.iter().filter(|a| a.status != 202) {
        assert_eq!(answer.body["status"], "duplicate", "{}", answer.body);
        assert_eq!(answer.task_id(), original);
    }
    assert_eq!(app.queued_envelopes().len(), 1);
    assert_eq!(app.task_dirs(), vec![original.to_string()]);
    app.assert_task_logged(&original);
}

#[tokio::test]
async fn untrusted_and_bot_actors_are_ignored() {
    let app = spawn_app().await;
    for association in ["NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR"] {
        let payload = github_comment("@agent fix", association, "stranger", "User");
        app.send(&github_delivery("issue_comment", &payload))
            .await
            .assert_ignored("untrusted_actor");
    }
    let bot = github_comment("@agent fix", "MEMBER", "dependabot[bot]", "Bot");
    app.send(&github_delivery("issue_comment", &bot))
        .await
        .assert_ignored("bot_actor");
    assert!(app.task_dirs().is_empty());
    assert!(app.queued_envelopes().is_empty());
}

#[tokio::test]
async fn allow_deny_and_scope_lists_apply() {
    let app = spawn_app_with(|s| {
        s.github.rules.denied_actors = ["eve".to_owned()].into();
        s.github.rules.allowed_scopes = ["octo/repo".to_owned()].into();
        s.github.rules.agent_accounts = ["agent-bot".to_owned()].into();
    })
    .await;
    let denied = github_comment("@agent fix", "OWNER", "eve", "User");
    app.send(&github_delivery("issue_comment", &denied))
        .await
        .assert_ignored("denied_actor");
    let own = github_comment("@agent fix", "OWNER", "agent-bot", "User");
    app.send(&github_delivery("issue_comment", &own))
        .await
        .assert_ignored("bot_actor");
    let mut elsewhere = github_comment("@agent fix", "OWNER", "ada", "User");
    elsewhere["repository"]["full_name"] = json!("octo/other");
    app.send(&github_delivery("issue_comment", &elsewhere))
        .await
        .assert_ignored("scope_not_allowed");

    let listed =
        spawn_app_with(|s| s.github.rules.allowed_actors = ["outside-helper".to_owned()].into())
            .await;
    let helper = github_comment("@agent fix", "NONE", "outside-helper", "User");
    assert_eq!(
        listed
            .send(&github_delivery("issue_comment", &helper))
            .await
            .status,
        202
    );
    let owner = github_comment("@agent fix", "OWNER", "ada", "User");
    listed
        .send(&github_delivery("issue_comment", &owner))
        .await
        .assert_ignored("untrusted_actor");
}

#[tokio::test]
async fn mention_near_misses_are_not_commands() {
    let app = spawn_app().await;
    for body in [
        "@agentic fix it",
        "ping bob@agent.io about it",
        "use `@agent fix` to ask",
        "```\n@agent fix\n```",
        "@agent-smith fix",
        "agent fix",
    ] {
        let payload = github_comment(body, "OWNER", "ada", "User");
        app.send(&github_delivery("issue_comment", &payload))
            .await
            .assert_ignored("not_a_command");
    }
    let custom = spawn_app_with(|s| s.agent_trigger = "@helper".to_owned()).await;
    let payload = github_comment("@HELPER explain", "OWNER", "ada", "User");
    assert_eq!(
        custom
            .send(&github_delivery("issue_comment", &payload))
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn one_actor_is_rate_limited() {
    let app = spawn_app_with(|s| s.actor_rate_limit_per_minute = 2).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let payload = github_comment("@agent fix", "OWNER", "ada", "User");
        statuses.push(app.send(&github_delivery("issue_comment", &payload)).await);
    }
    assert_eq!(statuses[0].status, 202);
    assert_eq!(statuses[1].status, 202);
    statuses[2].assert_ignored("rate_limited");
    let other = github_comment("@agent fix", "OWNER", "bob", "User");
    let mut other = other;
    other["sender"]["id"] = json!(6000);
    assert_eq!(
        app.send(&github_delivery("issue_comment", &other))
            .await
            .status,
        202
    );
    assert_eq!(app.queued_envelopes().len(), 3);
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let app = spawn_app().await;
    let answer = app
        .send_to(&github_delivery("ping", &json!({})), "/webhooks/gitlab")
        .await;
    answer.assert_error(404, "not_found");
}

#[tokio::test]
async fn a_webhook_path_asked_with_another_method_gets_a_json_405() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/webhooks/github", app.address))
        .send()
        .await
        .unwrap();
    service_kit::testing::assert_method_not_allowed(response, "POST").await;
}
