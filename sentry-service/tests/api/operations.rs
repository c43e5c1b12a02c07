//! Each operation against a fake Sentry: the exact request sent and the answer returned.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    AGENT_TOKEN, AUTH_TOKEN, DASHBOARD_TOKEN, GATEWAY_TOKEN, header, json_body, sentry_issue,
    spawn_app, status_and_json,
};

const ISSUE_PATH: &str = "/api/0/organizations/acme/issues/1234567890/";

#[tokio::test]
async fn reads_an_issue() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(ISSUE_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sentry_issue("unresolved", json!(null))),
        )
        .expect(1)
        .mount(&app.sentry)
        .await;

    let (status, body) = status_and_json(
        app.get("/api/v1/sentry/issues/1234567890", DASHBOARD_TOKEN)
            .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "id": "1234567890",
            "short_id": "BACKEND-1A",
            "title": "ZeroDivisionError: division by zero",
            "culprit": "raven.scripts.runner in main",
            "level": "error",
            "status": "unresolved",
            "substatus": "ongoing",
            "platform": "python",
            "permalink": "https://acme.sentry.io/issues/1234567890/",
            "project": {"id": "2", "slug": "backend", "name": "Backend"},
            "first_seen": "2024-03-01T09:00:00.000000Z",
            "last_seen": "2024-03-01T10:15:30.000000Z",
            "count": 150,
            "user_count": 12
        })
    );
    let sent = &app.sentry_requests().await[0];
    assert_eq!(sent.method.as_str(), "GET");
    assert_eq!(
        header(sent, "authorization"),
        format!("Bearer {AUTH_TOKEN}")
    );
}

#[tokio::test]
async fn reads_the_latest_event_with_stack_trace_tags_and_breadcrumbs() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/1234567890/events/latest/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "9fac2ceed9344f2bbfdd1fdacb0ed9b1",
            "eventID": "9fac2ceed9344f2bbfdd1fdacb0ed9b1",
            "groupID": "1234567890",
            "title": "ZeroDivisionError: division by zero",
            "message": "",
            "platform": "python",
            "dateCreated": "2024-03-01T10:15:30Z",
            "dateReceived": "2024-03-01T10:15:31Z",
            "type": "error",
            "tags": [{"key": "environment", "value": "production"}, {"key": "level", "value": "error"}],
            "user": null,
            "contexts": {},
            "entries": [
                {"type": "exception", "data": {"values": [{
                    "type": "ZeroDivisionError",
                    "value": "division by zero",
                    "module": null,
                    "mechanism": {"type": "generic", "handled": false},
                    "stacktrace": {"frames": [
                        {"filename": "app/main.py", "absPath": "/srv/app/main.py", "function": "main", "module": "app.main",
                         "lineNo": 10, "colNo": null, "inApp": true, "context": [[9, "def main():"], [10, "    run()"]], "vars": {}},
                        {"filename": "app/run.py", "absPath": "/srv/app/run.py", "function": "run", "module": "app.run",
                         "lineNo": 3, "colNo": null, "inApp": true, "context": [[3, "    return 1 / 0"]], "vars": {}}
                    ], "framesOmitted": null, "registers": null, "hasSystemFrames": false},
                    "rawStacktrace": null
                }], "hasSystemFrames": false, "excOmitted": null}},
                {"type": "breadcrumbs", "data": {"values": [
                    {"type": "http", "category": "httplib", "level": "info", "message": null,
                     "timestamp": "2024-03-01T10:15:29.000000Z", "event_id": null,
                     "data": {"method": "GET", "url": "https://api.example.com/", "status_code": 200}}
                ]}},
                {"type": "request", "data": {"method": "GET", "url": "https://example.com/"}}
            ]
        })))
        .expect(1)
        .mount(&app.sentry)
        .await;

    let (status, body) = status_and_json(
        app.get(
            "/api/v1/sentry/issues/1234567890/events/latest",
            AGENT_TOKEN,
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "event_id": "9fac2ceed9344f2bbfdd1fdacb0ed9b1",
            "issue_id": "1234567890",
            "title": "ZeroDivisionError: division by zero",
            "platform": "python",
            "date_created": "2024-03-01T10:15:30Z",
            "tags": [{"key": "environment", "value": "production"}, {"key": "level", "value": "error"}],
            "exceptions": [{
                "kind": "ZeroDivisionError",
                "value": "division by zero",
                "frames": [
                    {"filename": "app/main.py", "abs_path": "/srv/app/main.py", "function": "main", "module": "app.main",
                     "line_number": 10, "in_app": true, "context_line": "    run()"},
                    {"filename": "app/run.py", "abs_path": "/srv/app/run.py", "function": "run", "module": "app.run",
                     "line_number": 3, "in_app": true, "context_line": "    return 1 / 0"}
                ]
            }],
            "breadcrumbs": [{
                "timestamp": "2024-03-01T10:15:29.000000Z", "kind": "http", "category": "httplib", "level": "info",
                "data": {"method": "GET", "url": "https://api.example.com/", "status_code": 200}
            }]
        })
    );
    assert_eq!(
        header(&app.sentry_requests().await[0], "authorization"),
        format!("Bearer {AUTH_TOKEN}")
    );
}

#[tokio::test]
async fn resolves_an_issue() {
    let app = spawn_app().await;
    Mock::given(method("PUT"))
        .and(path(ISSUE_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sentry_issue("resolved", json!(null))),
        )
        .expect(1)
        .mount(&app.sentry)
        .await;

    let (status, body) = status_and_json(
        app.put(
            "/api/v1/sentry/issues/1234567890/status",
            AGENT_TOKEN,
            &json!({"status": "resolved_in_next_release"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "resolved");
    let sent = &app.sentry_requests().await[0];
    assert_eq!(sent.method.as_str(), "PUT");
    assert_eq!(
        header(sent, "authorization"),
        format!("Bearer {AUTH_TOKEN}")
    );
    assert_eq!(json_body(sent), json!({"status": "resolvedInNextRelease"}));
}

#[tokio::test]
async fn assigns_and_unassigns_an_issue() {
    let app = spawn_app().await;
    Mock::given(method("PUT"))
        .and(path(ISSUE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(sentry_issue(
            "unresolved",
            json!({"type": "user", "id": "12345", "name": "Jane Doe", "email": "jane@example.com"}),
        )))
        .up_to_n_times(1)
        .mount(&app.sentry)
        .await;
    Mock::given(method("PUT"))
        .and(path(ISSUE_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sentry_issue("unresolved", json!(null))),
        )
        .mount(&app.sentry)
        .await;

    let (status, assigned) = status_and_json(
        app.put(
            "/api/v1/sentry/issues/1234567890/assignee",
            AGENT_TOKEN,
            &json!({"assignee": "user:12345"}),
        )
        .await,
    )
    .await;
    let (status_after, unassigned) = status_and_json(
        app.put(
            "/api/v1/sentry/issues/1234567890/assignee",
            AGENT_TOKEN,
            &json!({"assignee": null}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{assigned}");
    assert_eq!(
        assigned["assigned_to"],
        json!({"kind": "user", "id": "12345", "name": "Jane Doe", "email": "jane@example.com"})
    );
    assert_eq!(status_after, 200, "{unassigned}");
    assert!(unassigned.get("assigned_to").is_none());
    let requests = app.sentry_requests().await;
    assert_eq!(json_body(&requests[0]), json!({"assignedTo": "user:12345"}));
    assert_eq!(json_body(&requests[1]), json!({"assignedTo": ""}));
}

#[tokio::test]
async fn adds_a_comment() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(
            "/api/0/organizations/acme/issues/1234567890/comments/",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "4567",
            "user": {"id": "1", "name": "Agent Integration", "email": "agent@example.com"},
            "type": "note",
            "data": {"text": "Root cause: fix in PR #12"},
            "dateCreated": "2024-03-01T11:00:00.000000Z"
        })))
        .expect(1)
        .mount(&app.sentry)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/sentry/issues/1234567890/comments",
            GATEWAY_TOKEN,
            &json!({"text": "Root cause: fix in PR #12"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({"id": "4567", "text": "Root cause: fix in PR #12", "date_created": "2024-03-01T11:00:00.000000Z",
               "author": "Agent Integration"})
    );
    let sent = &app.sentry_requests().await[0];
    assert_eq!(sent.method.as_str(), "POST");
    assert_eq!(
        header(sent, "authorization"),
        format!("Bearer {AUTH_TOKEN}")
    );
    assert_eq!(
        json_body(sent),
        json!({"text": "Root cause: fix in PR #12"})
    );
}

#[tokio::test]
async fn updates_a_comment() {
    let app = spawn_app().await;
    Mock::given(method("PUT"))
        .and(path(
            "/api/0/organizations/acme/issues/1234567890/comments/4567/",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "4567",
            "user": {"id": "1", "name": "Agent Integration", "email": "agent@example.com"},
            "type": "note",
            "data": {"text": "Fixed in PR #12"},
            "dateCreated": "2024-03-01T11:00:00.000000Z"
        })))
        .expect(1)
        .mount(&app.sentry)
        .await;

    let (status, body) = status_and_json(
        app.put(
            "/api/v1/sentry/issues/1234567890/comments/4567",
            GATEWAY_TOKEN,
            &json!({"text": "Fixed in PR #12"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["text"], "Fixed in PR #12");
    let sent = &app.sentry_requests().await[0];
    assert_eq!(sent.method.as_str(), "PUT");
    assert_eq!(
        header(sent, "authorization"),
        format!("Bearer {AUTH_TOKEN}")
    );
    assert_eq!(json_body(sent), json!({"text": "Fixed in PR #12"}));
}
