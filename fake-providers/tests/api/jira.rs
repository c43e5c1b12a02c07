use reqwest::Method;
use serde_json::json;

use crate::helpers::{json, spawn_app};

fn document(text: &str) -> serde_json::Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

#[tokio::test]
async fn issue_with_fields_and_comments_in_both_api_versions() {
    let app = spawn_app().await;

    let issue = json(
        app.jira(Method::GET, "/rest/api/3/issue/DEMO-1")
            .query(&[("fields", "summary,status,comment,description")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(issue["key"], "DEMO-1");
    assert_eq!(issue["id"], "10001");
    assert_eq!(issue["self"], app.url("/jira/rest/api/3/issue/10001"));
    assert_eq!(issue["fields"]["summary"], "Explain the sample service");
    assert_eq!(issue["fields"]["status"]["name"], "To Do");
    assert_eq!(issue["fields"]["status"]["statusCategory"]["key"], "new");
    assert_eq!(
        issue["fields"]["description"]["type"], "doc",
        "v3 rich text is ADF"
    );
    assert!(
        issue["fields"].get("reporter").is_none(),
        "only the asked fields"
    );

    let added = app
        .jira(Method::POST, "/rest/api/3/issue/DEMO-1/comment")
        .json(&json!({"body": document("Working on it")}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let comment = json(added).await;
    let id = comment["id"].as_str().unwrap().to_owned();
    assert_eq!(comment["body"], document("Working on it"));
    assert_eq!(comment["author"]["displayName"], "Agent Gateway");

    let through_v2 = app
        .jira(Method::POST, "/rest/api/2/issue/DEMO-1/comment")
        .bearer_auth("a-personal-access-token")
        .json(&json!({"body": "*Done*: see the PR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(through_v2.status(), 201);
    let second_id: u64 = json(through_v2).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(second_id, id.parse::<u64>().unwrap() + 1);

    let updated = app
        .jira(
            Method::PUT,
            &format!("/rest/api/3/issue/DEMO-1/comment/{id}"),
        )
        .json(&json!({"body": document("Finished")}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);

    let v2 = json(
        app.jira(Method::GET, "/rest/api/2/issue/DEMO-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let comments = v2["fields"]["comment"]["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(
        comments[0]["body"], "Finished",
        "v2 reads an ADF comment as text"
    );
    assert_eq!(comments[1]["body"], "*Done*: see the PR");
    assert_eq!(v2["fields"]["comment"]["total"], 2);
    assert!(
        v2["fields"]["description"].is_string(),
        "v2 rich text is a string"
    );

    let listed = json(
        app.jira(Method::GET, "/rest/api/3/issue/DEMO-1/comment")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        listed["comments"][1]["body"]["type"], "doc",
        "v3 reads a wiki comment as ADF"
    );
}

#[tokio::test]
async fn transitions_are_listed_and_applied() {
    let app = spawn_app().await;

    let listed = json(
        app.jira(Method::GET, "/rest/api/3/issue/DEMO-2/transitions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let names: Vec<&str> = listed["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["In Progress", "Done"]);
    assert_eq!(
        listed["transitions"][0]["to"]["statusCategory"]["key"],
        "indeterminate"
    );

    let applied = app
        .jira(Method::POST, "/rest/api/3/issue/DEMO-2/transitions")
        .json(&json!({"transition": {"id": "21"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(applied.status(), 204);
    let issue = json(
        app.jira(Method::GET, "/rest/api/2/issue/DEMO-2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(issue["fields"]["status"]["name"], "In Progress");

    let invalid = app
        .jira(Method::POST, "/rest/api/3/issue/DEMO-2/transitions")
        .json(&json!({"transition": {"id": "21"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400, "already in that status");
    assert_eq!(
        json(invalid).await["errorMessages"][0],
        "Transition id '21' is not valid for this issue."
    );
}

#[tokio::test]
async fn bad_requests_get_jiras_errors() {
    let app = spawn_app().await;

    let anonymous = app
        .client
        .get(app.url("/jira/rest/api/3/issue/DEMO-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let other_project = app
        .jira(Method::GET, "/rest/api/3/issue/OTHER-1")
        .send()
        .await
        .unwrap();
    assert_eq!(other_project.status(), 404);
    assert_eq!(
        json(other_project).await["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );

    let string_on_v3 = app
        .jira(Method::POST, "/rest/api/3/issue/DEMO-1/comment")
        .json(&json!({"body": "plain"}))
        .send()
        .await
        .unwrap();
    assert_eq!(string_on_v3.status(), 400);
    assert!(
        json(string_on_v3).await["errors"]["comment"]
            .as_str()
            .unwrap()
            .contains("Atlassian Document")
    );

    let document_on_v2 = app
        .jira(Method::POST, "/rest/api/2/issue/DEMO-1/comment")
        .json(&json!({"body": document("x")}))
        .send()
        .await
        .unwrap();
    assert_eq!(document_on_v2.status(), 400);

    let empty = app
        .jira(Method::POST, "/rest/api/2/issue/DEMO-1/comment")
        .json(&json!({"body": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);

    let missing_comment = app
        .jira(Method::PUT, "/rest/api/3/issue/DEMO-1/comment/1")
        .json(&json!({"body": document("x")}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_comment.status(), 404);
}
