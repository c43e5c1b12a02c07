//! Each operation against a fake Jira Cloud (v3, ADF, Basic) and Server (v2, wiki markup, Bearer PAT):
//! the exact request sent and the answer returned.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    AGENT_TOKEN, API_TOKEN, DASHBOARD_TOKEN, GATEWAY_TOKEN, PAT, cloud_authorization,
    cloud_comment, header, json_body, spawn_app, spawn_server_app, status_and_json,
};

fn cloud_issue() -> serde_json::Value {
    json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": "10002",
        "self": "https://example.atlassian.net/rest/api/3/issue/10002",
        "key": "PROJ-42",
        "fields": {
            "summary": "Login fails with a 500",
            "description": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Steps:"}]},
                {"type": "orderedList", "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "open /login"}]}]}
                ]}
            ]},
            "status": {"self": "https://example.atlassian.net/rest/api/3/status/3", "id": "3", "name": "In Progress",
                       "statusCategory": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}},
            "issuetype": {"id": "10004", "name": "Bug", "subtask": false},
            "project": {"id": "10000", "key": "PROJ", "name": "Project"},
            "priority": {"id": "3", "name": "Medium"},
            "labels": ["backend"],
            "assignee": null,
            "reporter": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Mia Krystof", "active": true},
            "created": "2024-03-01T09:00:00.000+0000",
            "updated": "2024-03-01T10:15:30.000+0000",
            "comment": {"comments": [cloud_comment("10000", "@agent fix this")], "maxResults": 1, "total": 1, "startAt": 0}
        }
    })
}

#[tokio::test]
async fn reads_a_cloud_issue_as_plain_text() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(cloud_issue()))
        .expect(1)
        .mount(&app.jira)
        .await;

    let (status, body) =
        status_and_json(app.get("/api/v1/jira/issues/PROJ-42", AGENT_TOKEN).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "id": "10002",
            "key": "PROJ-42",
            "url": format!("{}/browse/PROJ-42", app.jira.uri()),
            "summary": "Login fails with a 500",
            "description": "Steps:\n\n- open /login",
            "status": {"id": "3", "name": "In Progress", "category": "indeterminate"},
            "issue_type": "Bug",
            "project_key": "PROJ",
            "priority": "Medium",
            "labels": ["backend"],
            "reporter": {"account_id": "5b10ac8d82e05b22cc7d4ef5", "display_name": "Mia Krystof"},
            "created": "2024-03-01T09:00:00.000+0000",
            "updated": "2024-03-01T10:15:30.000+0000",
            "comments": [{
                "id": "10000",
                "body": "@agent fix this",
                "author": {"account_id": "5b10a2844c20165700ede21g", "display_name": "Agent Bot"},
                "created": "2024-03-01T10:15:30.000+0000",
                "updated": "2024-03-01T10:15:30.000+0000"
            }]
        })
    );
    let sent = &app.jira_requests().await[0];
    assert_eq!(sent.method.as_str(), "GET");
    assert_eq!(
        header(sent, "authorization"),
        cloud_authorization(API_TOKEN)
    );
    assert_eq!(
        sent.url.query(),
        Some(
            "fields=summary%2Cdescription%2Cstatus%2Cissuetype%2Cproject%2Cpriority%2Clabels%2Cassignee%2Creporter%2Ccreated%2Cupdated%2Ccomment"
        )
    );
}

#[tokio::test]
async fn reads_a_server_issue_with_a_bearer_token() {
    let app = spawn_server_app().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/OPS-7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "20001",
            "key": "OPS-7",
            "self": "https://jira.example.com/rest/api/2/issue/20001",
            "fields": {
                "summary": "Disk full on build agent",
                "description": "h2. Context\n*Urgent*: builds fail.",
                "status": {"id": "1", "name": "Open", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
                "issuetype": {"name": "Task"},
                "project": {"key": "OPS"},
                "labels": [],
                "assignee": {"name": "jdoe", "key": "JIRAUSER10100", "displayName": "Jane Doe"},
                "comment": {"comments": [{"id": "30000", "body": "@agent please look", "author": {"name": "jdoe", "displayName": "Jane Doe"},
                                          "created": "2024-03-02T08:00:00.000+0000", "updated": "2024-03-02T08:00:00.000+0000"}],
                            "maxResults": 1, "total": 1, "startAt": 0}
            }
        })))
        .expect(1)
        .mount(&app.jira)
        .await;

    let (status, body) =
        status_and_json(app.get("/api/v1/jira/issues/OPS-7", DASHBOARD_TOKEN).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["description"], "h2. Context\n*Urgent*: builds fail.");
    assert_eq!(
        body["assignee"],
        json!({"name": "jdoe", "display_name": "Jane Doe"})
    );
    assert_eq!(body["comments"][0]["body"], "@agent please look");
    assert_eq!(
        header(&app.jira_requests().await[0], "authorization"),
        format!("Bearer {PAT}")
    );
}

#[tokio::test]
async fn adds_a_cloud_comment_in_adf() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/comment"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(cloud_comment("10010", "Fixed in PR #12")),
        )
        .expect(1)
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/jira/issues/PROJ-42/comments",
            GATEWAY_TOKEN,
            &json!({"body": "Fixed in **PR #12**\n- see `main.rs`"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], "10010");
    assert_eq!(body["body"], "Fixed in PR #12");
    let sent = &app.jira_requests().await[0];
    assert_eq!(sent.method.as_str(), "POST");
    assert_eq!(
        header(sent, "authorization"),
        cloud_authorization(API_TOKEN)
    );
    assert_eq!(
        json_body(sent),
        json!({"body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Fixed in "},
                {"type": "text", "text": "PR #12", "marks": [{"type": "strong"}]}
            ]},
            {"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "see "},
                    {"type": "text", "text": "main.rs", "marks": [{"type": "code"}]}
                ]}]}
            ]}
        ]}})
    );
}

#[tokio::test]
async fn adds_a_server_comment_in_wiki_markup() {
    let app = spawn_server_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue/OPS-7/comment"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "self": "https://jira.example.com/rest/api/2/issue/20001/comment/30010",
            "id": "30010",
            "author": {"name": "agent-bot", "displayName": "Agent Bot"},
            "body": "Fixed in *PR #12*",
            "created": "2024-03-02T09:00:00.000+0000",
            "updated": "2024-03-02T09:00:00.000+0000"
        })))
        .expect(1)
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/jira/issues/OPS-7/comments",
            AGENT_TOKEN,
            &json!({"body": "Fixed in **PR #12**"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["author"],
        json!({"name": "agent-bot", "display_name": "Agent Bot"})
    );
    let sent = &app.jira_requests().await[0];
    assert_eq!(header(sent, "authorization"), format!("Bearer {PAT}"));
    assert_eq!(json_body(sent), json!({"body": "Fixed in *PR #12*"}));
}

#[tokio::test]
async fn updates_a_comment() {
    let app = spawn_app().await;
    Mock::given(method("PUT"))
        .and(path("/rest/api/3/issue/PROJ-42/comment/10010"))
        .respond_with(ResponseTemplate::new(200).set_body_json(cloud_comment("10010", "Done")))
        .expect(1)
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.put(
            "/api/v1/jira/issues/PROJ-42/comments/10010",
            AGENT_TOKEN,
            &json!({"body": "Done"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["body"], "Done");
    let sent = &app.jira_requests().await[0];
    assert_eq!(sent.method.as_str(), "PUT");
    assert_eq!(
        header(sent, "authorization"),
        cloud_authorization(API_TOKEN)
    );
    assert_eq!(
        json_body(sent),
        json!({"body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Done"}]}
        ]}})
    );
}

fn transitions() -> serde_json::Value {
    json!({
        "expand": "transitions",
        "transitions": [
            {"id": "21", "name": "In Progress", "hasScreen": false, "isGlobal": true, "isInitial": false,
             "isAvailable": true, "isConditional": false, "isLooped": false,
             "to": {"self": "https://example.atlassian.net/rest/api/3/status/3", "id": "3", "name": "In Progress",
                    "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}}},
            {"id": "31", "name": "Done", "hasScreen": false, "isGlobal": true, "isInitial": false,
             "isAvailable": true, "isConditional": false, "isLooped": false,
             "to": {"self": "https://example.atlassian.net/rest/api/3/status/10001", "id": "10001", "name": "Done",
                    "statusCategory": {"id": 3, "key": "done", "name": "Done"}}}
        ]
    })
}

#[tokio::test]
async fn lists_transitions() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42/transitions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(transitions()))
        .expect(1)
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.get("/api/v1/jira/issues/PROJ-42/transitions", AGENT_TOKEN)
            .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"issue_key": "PROJ-42", "transitions": [
            {"id": "21", "name": "In Progress", "to_status": {"id": "3", "name": "In Progress", "category": "indeterminate"}},
            {"id": "31", "name": "Done", "to_status": {"id": "10001", "name": "Done", "category": "done"}}
        ]})
    );
    assert_eq!(
        header(&app.jira_requests().await[0], "authorization"),
        cloud_authorization(API_TOKEN)
    );
}

#[tokio::test]
async fn applies_a_transition_named_by_name() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/PROJ-42/transitions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(transitions()))
        .mount(&app.jira)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/PROJ-42/transitions"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/jira/issues/PROJ-42/transitions",
            AGENT_TOKEN,
            &json!({"transition_name": "done"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["transition"]["id"], "31");
    let requests = app.jira_requests().await;
    assert_eq!(requests.len(), 2);
    let sent = &requests[1];
    assert_eq!(sent.method.as_str(), "POST");
    assert_eq!(
        header(sent, "authorization"),
        cloud_authorization(API_TOKEN)
    );
    assert_eq!(json_body(sent), json!({"transition": {"id": "31"}}));
}

#[tokio::test]
async fn a_transition_the_issue_cannot_take_is_a_422_listing_the_ones_it_can() {
    let app = spawn_server_app().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/OPS-7/transitions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(transitions()))
        .mount(&app.jira)
        .await;

    let (status, body) = status_and_json(
        app.post(
            "/api/v1/jira/issues/OPS-7/transitions",
            AGENT_TOKEN,
            &json!({"transition_id": "99"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "transition_unavailable");
    assert_eq!(
        body["details"]["available"],
        json!(["In Progress (21)", "Done (31)"])
    );
    assert_eq!(app.jira_requests().await.len(), 1, "nothing was applied");
}
