//! The fake's objects carry every field the providers' own payloads carry (the webhook fixtures in
//! `../shared/fixtures`, which embed the same issue, comment, user, repository and pull-request objects the
//! REST APIs answer). Skips with a message when the fixtures are absent.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, git, json, spawn_app};

fn fixture(name: &str) -> Option<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/webhooks");
    if !dir.is_dir() {
        eprintln!(
            "skipping: the provider fixtures are not at {}",
            dir.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(dir.join(name)).expect("the fixture is readable");
    Some(serde_json::from_str(&text).expect("the fixture is JSON"))
}

/// The fields of `real` that `fake` lacks, as `what.field`, ignoring fields `skip` accepts.
fn missing(what: &str, real: &Value, fake: &Value, skip: impl Fn(&str) -> bool) -> Vec<String> {
    let fake = fake.as_object().expect("the fake answers an object");
    real.as_object()
        .expect("the fixture holds an object")
        .keys()
        .filter(|key| !fake.contains_key(*key) && !skip(key))
        .map(|key| format!("{what}.{key}"))
        .collect()
}

fn nothing(_: &str) -> bool {
    false
}

async fn open_pull_request(app: &TestApp) -> Value {
    let work = tempfile::tempdir().unwrap();
    let url = app
        .git_url("demo/sample-repo")
        .replacen("http://", "http://x-access-token:t@", 1);
    assert!(git(work.path(), &["clone", "--quiet", &url, "c"]).await.0);
    let checkout = work.path().join("c");
    std::fs::write(checkout.join("NOTES.md"), "notes\n").unwrap();
    assert!(git(&checkout, &["add", "NOTES.md"]).await.0);
    assert!(
        git(&checkout, &["commit", "--quiet", "-m", "Notes"])
            .await
            .0
    );
    assert!(
        git(
            &checkout,
            &["push", "--quiet", "origin", "HEAD:refs/heads/notes"]
        )
        .await
        .0
    );
    json(
        app.github(Method::POST, "/repos/demo/sample-repo/pulls")
            .json(&json!({"title": "Notes", "head": "notes", "base": "main"}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn github_objects_have_every_field_githubs_have() {
    let (Some(comment_event), Some(pull_event)) = (
        fixture("github__issue_comment__created.json"),
        fixture("github__pull_request__opened.json"),
    ) else {
        return;
    };
    let app = spawn_app().await;
    let issue = json(
        app.github(Method::GET, "/repos/demo/sample-repo/issues/1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let comment = json(
        app.github(Method::POST, "/repos/demo/sample-repo/issues/1/comments")
            .json(&json!({"body": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let repository = json(
        app.github(Method::GET, "/repos/demo/sample-repo")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let pull = open_pull_request(&app).await;

    let real_pull = &pull_event["pull_request"];
    let mut gaps = missing("issue", &comment_event["issue"], &issue, nothing);
    gaps.extend(missing(
        "comment",
        &comment_event["comment"],
        &comment,
        nothing,
    ));
    gaps.extend(missing(
        "user",
        &comment_event["sender"],
        &issue["user"],
        nothing,
    ));
    gaps.extend(missing(
        "repository",
        &comment_event["repository"],
        &repository,
        nothing,
    ));
    gaps.extend(missing("pull_request", real_pull, &pull, nothing));
    gaps.extend(missing(
        "pull_request.head",
        &real_pull["head"],
        &pull["head"],
        nothing,
    ));
    assert!(gaps.is_empty(), "the fake lacks {gaps:?}");
}

#[tokio::test]
async fn jira_issue_and_comments_have_every_field_jiras_have() {
    let (Some(created), Some(server_comment), Some(cloud_comment)) = (
        fixture("jira__jira-issue_created__issue_created.json"),
        fixture("jira__comment_created__none.server.json"),
        fixture("jira__comment_created__none.cloud.json"),
    ) else {
        return;
    };
    let app = spawn_app().await;
    let issue = json(
        app.jira(Method::GET, "/rest/api/2/issue/DEMO-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let v2_comment = json(
        app.jira(Method::POST, "/rest/api/2/issue/DEMO-1/comment")
            .json(&json!({"body": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let document = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]});
    let v3_comment = json(
        app.jira(Method::POST, "/rest/api/3/issue/DEMO-1/comment")
            .json(&json!({"body": document}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Custom fields differ per site.
    let custom = |key: &str| key.starts_with("customfield_");
    let mut gaps = missing("issue", &created["issue"], &issue, nothing);
    gaps.extend(missing(
        "issue.fields",
        &created["issue"]["fields"],
        &issue["fields"],
        custom,
    ));
    gaps.extend(missing(
        "v2 comment",
        &server_comment["comment"],
        &v2_comment,
        nothing,
    ));
    gaps.extend(missing(
        "v2 comment.author",
        &server_comment["comment"]["author"],
        &v2_comment["author"],
        nothing,
    ));
    gaps.extend(missing(
        "v3 comment",
        &cloud_comment["comment"],
        &v3_comment,
        nothing,
    ));
    assert!(gaps.is_empty(), "the fake lacks {gaps:?}");
}

#[tokio::test]
async fn sentry_issue_has_every_field_sentrys_has() {
    let Some(created) = fixture("sentry__issue__created.json") else {
        return;
    };
    let app = spawn_app().await;
    let issue = json(
        app.sentry(Method::GET, "/api/0/organizations/demo-org/issues/42/")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let gaps = missing("issue", &created["data"]["issue"], &issue, nothing);
    assert!(gaps.is_empty(), "the fake lacks {gaps:?}");
}
