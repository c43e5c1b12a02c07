use reqwest::Method;
use serde_json::json;

use crate::helpers::{json, spawn_app};

const REPO: &str = "/repos/demo/sample-repo";

#[tokio::test]
async fn repository_and_seeded_issue_have_github_shapes() {
    let app = spawn_app().await;

    let repository = json(app.github(Method::GET, REPO).send().await.unwrap()).await;
    assert_eq!(repository["full_name"], "demo/sample-repo");
    assert_eq!(repository["default_branch"], "main");
    assert_eq!(repository["clone_url"], app.git_url("demo/sample-repo"));

    let response = app
        .github(Method::GET, &format!("{REPO}/issues/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let issue = json(response).await;
    assert_eq!(issue["number"], 1);
    assert_eq!(issue["title"], "Explain the sample repository");
    assert_eq!(issue["state"], "open");
    assert_eq!(issue["user"]["login"], "octocat");
    assert_eq!(issue["author_association"], "OWNER");
    assert_eq!(
        issue["html_url"],
        app.url("/github/demo/sample-repo/issues/1")
    );
    assert!(issue.get("pull_request").is_none());

    let unknown = app
        .github(Method::GET, "/repos/demo/elsewhere/issues/1")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(json(unknown).await["message"], "Not Found");
}

#[tokio::test]
async fn comments_are_created_listed_updated_and_deleted() {
    let app = spawn_app().await;
    let comments = format!("{REPO}/issues/1/comments");

    let first = app
        .github(Method::POST, &comments)
        .json(&json!({"body": "working on it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let first = json(first).await;
    let id = first["id"].as_u64().unwrap();
    assert_eq!(location, first["url"]);
    assert_eq!(first["body"], "working on it");
    assert_eq!(first["user"]["login"], "agent-gateway[bot]");
    assert_eq!(first["user"]["type"], "Bot");
    assert_eq!(
        first["html_url"],
        app.url(&format!(
            "/github/demo/sample-repo/issues/1#issuecomment-{id}"
        ))
    );

    let second = json(
        app.github(Method::POST, &comments)
            .json(&json!({"body": "second"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        second["id"].as_u64().unwrap(),
        id + 1,
        "comment ids increase by one"
    );

    let listed = json(app.github(Method::GET, &comments).send().await.unwrap()).await;
    let bodies: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["working on it", "second"]);
    let issue = json(
        app.github(Method::GET, &format!("{REPO}/issues/1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(issue["comments"], 2);

    let page = app
        .github(Method::GET, &comments)
        .query(&[("per_page", "1"), ("page", "1")])
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"next\"")
    );
    assert_eq!(json(page).await.as_array().unwrap().len(), 1);

    let single = format!("{REPO}/issues/comments/{id}");
    let updated = app
        .github(Method::PATCH, &single)
        .json(&json!({"body": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    assert_eq!(json(updated).await["body"], "done");

    let deleted = app.github(Method::DELETE, &single).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.github(Method::GET, &single)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.github(Method::PATCH, &single)
            .json(&json!({"body": "x"}))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn bad_comment_requests_get_githubs_errors() {
    let app = spawn_app().await;
    let comments = app.url(&format!("/github/api{REPO}/issues/1/comments"));

    let anonymous = app
        .client
        .post(&comments)
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(json(anonymous).await["message"], "Requires authentication");

    let no_body = app
        .github(Method::POST, &format!("{REPO}/issues/1/comments"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_body.status(), 422);

    let malformed = app
        .github(Method::POST, &format!("{REPO}/issues/1/comments"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(json(malformed).await["message"], "Problems parsing JSON");

    let too_long = app
        .github(Method::POST, &format!("{REPO}/issues/1/comments"))
        .json(&json!({"body": "x".repeat(65_537)}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 422);
    assert_eq!(
        json(too_long).await["errors"][0]["message"],
        "Body is too long (maximum is 65536 characters)"
    );
}

#[tokio::test]
async fn reactions_are_created_once_per_content() {
    let app = spawn_app().await;

    let on_issue = app
        .github(Method::POST, &format!("{REPO}/issues/1/reactions"))
        .json(&json!({"content": "eyes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(on_issue.status(), 201);
    let reaction = json(on_issue).await;
    assert_eq!(reaction["content"], "eyes");
    assert_eq!(reaction["user"]["login"], "agent-gateway[bot]");

    let again = app
        .github(Method::POST, &format!("{REPO}/issues/1/reactions"))
        .json(&json!({"content": "eyes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "an existing reaction answers 200");
    assert_eq!(json(again).await["id"], reaction["id"]);

    let issue = json(
        app.github(Method::GET, &format!("{REPO}/issues/1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(issue["reactions"]["eyes"], 1);

    for path in [
        format!("{REPO}/issues/comments/2000123/reactions"),
        format!("{REPO}/pulls/comments/3000123/reactions"),
    ] {
        let response = app
            .github(Method::POST, &path)
            .json(&json!({"content": "+1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{path}");
    }

    let invalid = app
        .github(Method::POST, &format!("{REPO}/issues/1/reactions"))
        .json(&json!({"content": "party"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
}

#[tokio::test]
async fn refs_are_read_and_created_in_the_bare_repository() {
    let app = spawn_app().await;

    let main = json(
        app.github(Method::GET, &format!("{REPO}/git/ref/heads/main"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(main["ref"], "refs/heads/main");
    let sha = main["object"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 40);
    assert_eq!(main["object"]["type"], "commit");

    let created = app
        .github(Method::POST, &format!("{REPO}/git/refs"))
        .json(&json!({"ref": "refs/heads/agent/task-1", "sha": sha}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(json(created).await["ref"], "refs/heads/agent/task-1");

    let branch = json(
        app.github(Method::GET, &format!("{REPO}/git/ref/heads/agent/task-1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(branch["object"]["sha"], sha);
    let legacy = json(
        app.github(Method::GET, &format!("{REPO}/git/refs/heads/agent/task-1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(legacy["object"]["sha"], sha);
    let by_branch = json(
        app.github(Method::GET, &format!("{REPO}/branches/agent/task-1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(by_branch["commit"]["sha"], sha);

    let duplicate = app
        .github(Method::POST, &format!("{REPO}/git/refs"))
        .json(&json!({"ref": "refs/heads/agent/task-1", "sha": sha}))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 422);
    assert_eq!(json(duplicate).await["message"], "Reference already exists");

    let unknown_object = app
        .github(Method::POST, &format!("{REPO}/git/refs"))
        .json(
            &json!({"ref": "refs/heads/other", "sha": "0123456789012345678901234567890123456789"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_object.status(), 422);
    assert_eq!(
        json(unknown_object).await["message"],
        "Object does not exist"
    );

    let bad_name = app
        .github(Method::POST, &format!("{REPO}/git/refs"))
        .json(&json!({"ref": "main", "sha": sha}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_name.status(), 422);

    assert_eq!(
        app.github(Method::GET, &format!("{REPO}/git/ref/heads/missing"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let empty_pull = app
        .github(Method::POST, &format!("{REPO}/pulls"))
        .json(&json!({"title": "Nothing", "head": "agent/task-1", "base": "main"}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty_pull.status(), 422);
    assert!(
        json(empty_pull).await["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("No commits between")
    );
}

#[tokio::test]
async fn permissions_and_app_installation_tokens() {
    let app = spawn_app().await;
    for (user, permission) in [
        ("octocat", "admin"),
        ("hubot", "write"),
        ("someone", "read"),
    ] {
        let answer = json(
            app.github(
                Method::GET,
                &format!("{REPO}/collaborators/{user}/permission"),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(answer["permission"], permission, "{user}");
        assert_eq!(answer["user"]["login"], user);
    }

    let installation = json(
        app.github(Method::GET, &format!("{REPO}/installation"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = installation["id"].as_u64().unwrap();

    let token = app
        .client
        .post(app.url(&format!("/github/api/app/installations/{id}/access_tokens")))
        .bearer_auth("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 201);
    let token = json(token).await;
    assert!(token["token"].as_str().unwrap().starts_with("ghs_"));
    assert!(token["expires_at"].as_str().unwrap().ends_with('Z'));

    let not_a_jwt = app
        .client
        .post(app.url(&format!("/github/api/app/installations/{id}/access_tokens")))
        .bearer_auth("not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_jwt.status(), 401);

    let recorded = app.recorded(&[("path_contains", "access_tokens")]).await;
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        recorded[0]["headers"]["authorization"],
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl"
    );
}
