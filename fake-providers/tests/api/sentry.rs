use reqwest::Method;
use serde_json::json;

use crate::helpers::{json, spawn_app};

const ISSUE: &str = "/api/0/organizations/demo-org/issues/4000123/";

#[tokio::test]
async fn issue_is_read_and_updated() {
    let app = spawn_app().await;

    let issue = json(app.sentry(Method::GET, ISSUE).send().await.unwrap()).await;
    assert_eq!(issue["id"], "4000123");
    assert_eq!(issue["status"], "unresolved");
    assert_eq!(issue["project"]["slug"], "demo");
    assert!(issue["shortId"].as_str().unwrap().starts_with("DEMO-"));
    assert!(issue["assignedTo"].is_null());

    let resolved = app
        .sentry(Method::PUT, ISSUE)
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), 200);
    assert_eq!(json(resolved).await["status"], "resolved");

    let assigned = json(
        app.sentry(Method::PUT, ISSUE)
            .json(&json!({"assignedTo": "user:2"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(assigned["assignedTo"]["type"], "user");
    assert_eq!(assigned["assignedTo"]["email"], "person@example.com");

    let unscoped = json(
        app.sentry(Method::GET, "/api/0/issues/4000123/")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(unscoped["status"], "resolved", "both paths reach one issue");
    assert_eq!(unscoped["assignedTo"]["id"], "2");

    let cleared = json(
        app.sentry(Method::PUT, ISSUE)
            .json(&json!({"assignedTo": ""}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(cleared["assignedTo"].is_null());

    let invalid = app
        .sentry(Method::PUT, ISSUE)
        .json(&json!({"status": "bogus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(
        json(invalid).await["status"][0],
        "\"bogus\" is not a valid choice."
    );
}

#[tokio::test]
async fn latest_event_has_a_stack_trace_tags_and_breadcrumbs() {
    let app = spawn_app().await;
    let event = json(
        app.sentry(Method::GET, &format!("{ISSUE}events/latest/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(event["groupID"], "4000123");
    assert_eq!(event["eventID"].as_str().unwrap().len(), 32);
    assert!(
        event["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["key"] == "environment")
    );
    let entries = event["entries"].as_array().unwrap();
    let exception = entries.iter().find(|e| e["type"] == "exception").unwrap();
    let frames = exception["data"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap();
    let innermost = frames.last().unwrap();
    assert_eq!(innermost["filename"], "src/main.rs");
    assert_eq!(innermost["lineNo"], 3);
    assert_eq!(innermost["inApp"], true);
    assert!(
        innermost["context"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line[1] == "    a - b")
    );
    let breadcrumbs = entries.iter().find(|e| e["type"] == "breadcrumbs").unwrap();
    assert_eq!(breadcrumbs["data"]["values"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn notes_are_added_and_listed() {
    let app = spawn_app().await;
    let added = app
        .sentry(Method::POST, &format!("{ISSUE}comments/"))
        .json(&json!({"text": "Looking into it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let note = json(added).await;
    assert_eq!(note["data"]["text"], "Looking into it");
    assert_eq!(note["type"], "note");
    assert!(note["id"].is_string());

    app.sentry(Method::POST, "/api/0/issues/4000123/notes/")
        .json(&json!({"text": "Second"}))
        .send()
        .await
        .unwrap();
    let listed = json(
        app.sentry(Method::GET, &format!("{ISSUE}comments/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let texts: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["data"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Second", "Looking into it"], "newest first");
    let issue = json(app.sentry(Method::GET, ISSUE).send().await.unwrap()).await;
    assert_eq!(issue["numComments"], 2);

    let note_id = note["id"].as_str().unwrap();
    let updated = app
        .sentry(Method::PUT, &format!("{ISSUE}comments/{note_id}/"))
        .json(&json!({"text": "Fixed in #3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    assert_eq!(json(updated).await["data"]["text"], "Fixed in #3");
    let missing = app
        .sentry(Method::PUT, &format!("{ISSUE}comments/1/"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let deleted = app
        .sentry(
            Method::DELETE,
            &format!("/api/0/issues/4000123/notes/{note_id}/"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let remaining = json(
        app.sentry(Method::GET, &format!("{ISSUE}comments/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(remaining.as_array().unwrap().len(), 1);

    let blank = app
        .sentry(Method::POST, &format!("{ISSUE}comments/"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(blank.status(), 400);
    assert_eq!(json(blank).await["text"][0], "This field is required.");
}

#[tokio::test]
async fn unknown_organizations_and_missing_credentials_are_refused() {
    let app = spawn_app().await;
    let other = app
        .sentry(Method::GET, "/api/0/organizations/other-org/issues/1/")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    assert_eq!(
        json(other).await["detail"],
        "The requested resource does not exist"
    );
    let not_numeric = app
        .sentry(Method::GET, "/api/0/issues/abc/")
        .send()
        .await
        .unwrap();
    assert_eq!(not_numeric.status(), 404);
    let anonymous = app
        .client
        .get(app.url(&format!("/sentry{ISSUE}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
