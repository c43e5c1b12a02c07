//! Every operation: the exact request GitHub receives (method, path, auth header, body) and the answer.

use reqwest::Method as M;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

fn github(verb: &str, route: &str) -> wiremock::MockBuilder {
    Mock::given(method(verb))
        .and(path(route))
        .and(header(
            "authorization",
            format!("Bearer {GITHUB_TOKEN}").as_str(),
        ))
        .and(header("x-github-api-version", "2022-11-28"))
}

#[tokio::test]
async fn gets_an_issue_with_its_comments() {
    let app = spawn_app().await;
    github("GET", &format!("{REPO}/issues/7"))
        .and(header("accept", "application/vnd.github+json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(issue(7, 2)))
        .expect(1)
        .mount(&app.github)
        .await;
    github("GET", &format!("{REPO}/issues/7/comments"))
        .and(query_param("per_page", "100"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([comment(1, "first"), comment(2, "second")])),
        )
        .expect(1)
        .mount(&app.github)
        .await;
    let (status, body) =
        status_and_json(app.get(&format!("{API_REPO}/issues/7"), AGENT_TOKEN).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issue"]["number"], 7);
    assert_eq!(body["issue"]["title"], "Found a bug");
    assert_eq!(body["issue"]["labels"], json!(["bug"]));
    assert_eq!(body["issue"]["is_pull_request"], false);
    assert_eq!(body["issue"]["user"]["login"], "octocat");
    assert_eq!(body["comments"][1]["body"], "second");
    assert_eq!(body["comments_truncated"], false);
    app.github.verify().await;
}

#[tokio::test]
async fn gets_a_pull_request_its_diff_and_its_files() {
    let app = spawn_app().await;
    github("GET", &format!("{REPO}/pulls/42"))
        .and(header("accept", "application/vnd.github+json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(42)))
        .expect(1)
        .mount(&app.github)
        .await;
    let diff = "diff --git a/README.md b/README.md\nindex 1..2 100644\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-old\n+new\n";
    github("GET", &format!("{REPO}/pulls/42"))
        .and(header("accept", "application/vnd.github.diff"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(diff, "text/plain; charset=utf-8"))
        .expect(1)
        .mount(&app.github)
        .await;
    github("GET", &format!("{REPO}/pulls/42/files"))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "sha": "bbcd538c8e72b8c175046e27cc8f907076331401", "filename": "file1.txt", "status": "added",
            "additions": 103, "deletions": 21, "changes": 124,
            "blob_url": "https://github.com/octo-org/hello-world/blob/6dcb09b/file1.txt",
            "raw_url": "https://github.com/octo-org/hello-world/raw/6dcb09b/file1.txt",
            "contents_url": "https://api.github.com/repos/octo-org/hello-world/contents/file1.txt?ref=6dcb09b",
            "patch": "@@ -132,7 +132,7 @@ module Test @@ -1000,7 +1000,7 @@ module Test"
        }])))
        .expect(1)
        .mount(&app.github)
        .await;

    let (status, pull) = status_and_json(
        app.get(&format!("{API_REPO}/pulls/42"), DASHBOARD_TOKEN)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{pull}");
    assert_eq!(
        pull["head"],
        json!({"branch": "new-topic", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "repository": "octo-org/hello-world"})
    );
    assert_eq!(pull["base"]["branch"], "main");
    assert_eq!(pull["merged"], false);
    let (status, body) = status_and_json(
        app.get(&format!("{API_REPO}/pulls/42/diff"), AGENT_TOKEN)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["diff"], diff);
    let (status, body) = status_and_json(
        app.get(&format!("{API_REPO}/pulls/42/files"), AGENT_TOKEN)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["files"][0]["filename"], "file1.txt");
    assert_eq!(body["files"][0]["changes"], 124);
    assert_eq!(body["truncated"], false);
    app.github.verify().await;
}

#[tokio::test]
async fn posts_updates_and_deletes_a_comment() {
    let app = spawn_app().await;
    github("POST", &format!("{REPO}/issues/1347/comments"))
        .and(body_json(json!({"body": "Working on it :eyes:"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(11, "Working on it :eyes:")))
        .expect(1)
        .mount(&app.github)
        .await;
    github("PATCH", &format!("{REPO}/issues/comments/11"))
        .and(body_json(json!({"body": "Done"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment(11, "Done")))
        .expect(1)
        .mount(&app.github)
        .await;
    github("DELETE", &format!("{REPO}/issues/comments/11"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&app.github)
        .await;

    let (status, posted) = status_and_json(
        app.post(
            &format!("{API_REPO}/issues/1347/comments"),
            GATEWAY_TOKEN,
            &json!({"body": "Working on it :eyes:"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["id"], 11);
    assert_eq!(posted["user"]["login"], "agent-bot[bot]");
    let (status, updated) = status_and_json(
        app.send(
            M::PATCH,
            &format!("{API_REPO}/issues/comments/11"),
            GATEWAY_TOKEN,
            Some(&json!({"body": "Done"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(updated["body"], "Done");
    let deleted = app
        .send(
            M::DELETE,
            &format!("{API_REPO}/issues/comments/11"),
            AGENT_TOKEN,
            None,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    app.github.verify().await;
}

#[tokio::test]
async fn adds_reactions_to_an_issue_a_comment_and_a_review_comment() {
    let app = spawn_app().await;
    for (route, status) in [
        (format!("{REPO}/issues/5/reactions"), 201),
        (format!("{REPO}/issues/comments/6/reactions"), 200),
        (format!("{REPO}/pulls/comments/7/reactions"), 201),
    ] {
        github("POST", &route)
            .and(body_json(json!({"content": "eyes"})))
            .respond_with(ResponseTemplate::new(status).set_body_json(reaction(1, "eyes")))
            .expect(1)
            .mount(&app.github)
            .await;
    }
    for (route, expected, created) in [
        ("issues/5/reactions", 201, true),
        ("issues/comments/6/reactions", 200, false),
        ("pulls/comments/7/reactions", 201, true),
    ] {
        let (status, body) = status_and_json(
            app.post(
                &format!("{API_REPO}/{route}"),
                GATEWAY_TOKEN,
                &json!({"content": "eyes"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, expected, "{route}: {body}");
        assert_eq!(body["content"], "eyes");
        assert_eq!(body["created"], created);
    }
    app.github.verify().await;
}

#[tokio::test]
async fn creates_a_branch_from_the_default_branch_or_a_given_commit() {
    let app = spawn_app().await;
    github("GET", REPO)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1296269, "name": "hello-world", "full_name": "octo-org/hello-world", "default_branch": "main"})))
        .expect(1)
        .mount(&app.github)
        .await;
    let sha = "aa218f56b14c9653891f9e74264a383fa43fefbd";
    github("GET", &format!("{REPO}/git/ref/heads/main"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ref": "refs/heads/main", "node_id": "MDM6UmVmcmVmcy9oZWFkcy9mZWF0dXJlQQ==",
            "url": "https://api.github.com/repos/octo-org/hello-world/git/refs/heads/main",
            "object": {"type": "commit", "sha": sha, "url": "https://api.github.com/repos/octo-org/hello-world/git/commits/aa218f56"}
        })))
        .expect(1)
        .mount(&app.github)
        .await;
    for (branch, at) in [
        ("agent/fix-1", sha),
        ("agent/fix-2", "bb218f56b14c9653891f9e74264a383fa43fefbd"),
    ] {
        github("POST", &format!("{REPO}/git/refs"))
            .and(body_json(json!({"ref": format!("refs/heads/{branch}"), "sha": at})))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "ref": format!("refs/heads/{branch}"), "node_id": "x",
                "url": format!("https://api.github.com/repos/octo-org/hello-world/git/refs/heads/{branch}"),
                "object": {"type": "commit", "sha": at, "url": "https://api.github.com/x"}
            })))
            .expect(1)
            .mount(&app.github)
            .await;
    }
    let (status, body) = status_and_json(
        app.post(
            &format!("{API_REPO}/branches"),
            AGENT_TOKEN,
            &json!({"name": "agent/fix-1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, json!({"name": "agent/fix-1", "sha": sha}));
    let (status, body) = status_and_json(
        app.post(
            &format!("{API_REPO}/branches"),
            AGENT_TOKEN,
            &json!({"name": "agent/fix-2", "sha": "bb218f56b14c9653891f9e74264a383fa43fefbd"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    app.github.verify().await;
}

#[tokio::test]
async fn opens_a_pull_request() {
    let app = spawn_app().await;
    github("POST", &format!("{REPO}/pulls"))
        .and(body_json(json!({"title": "Amazing new feature", "head": "new-topic", "base": "main", "draft": false, "body": "Please pull"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(pull_request(43)))
        .expect(1)
        .mount(&app.github)
        .await;
    let (status, body) = status_and_json(
        app.post(
            &format!("{API_REPO}/pulls"),
            AGENT_TOKEN,
            &json!({"title": "Amazing new feature", "head": "new-topic", "base": "main", "body": "Please pull"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["number"], 43);
    assert_eq!(
        body["html_url"],
        "https://github.com/octo-org/hello-world/pull/43"
    );
    app.github.verify().await;
}

#[tokio::test]
async fn checks_a_users_permission() {
    let app = spawn_app().await;
    github("GET", &format!("{REPO}/collaborators/octocat/permission"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"permission": "write", "role_name": "maintain", "user": user("octocat", 1)}),
        ))
        .expect(1)
        .mount(&app.github)
        .await;
    let (status, body) = status_and_json(
        app.get(
            &format!("{API_REPO}/collaborators/octocat/permission"),
            GATEWAY_TOKEN,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"username": "octocat", "permission": "write", "role_name": "maintain", "can_write": true})
    );
    app.github.verify().await;
}

#[tokio::test]
async fn maps_githubs_refusals() {
    let app = spawn_app().await;
    github("GET", &format!("{REPO}/pulls/404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        ))
        .mount(&app.github)
        .await;
    github("POST", &format!("{REPO}/pulls"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Validation Failed",
            "errors": [{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for octo-org:new-topic."}],
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
        })))
        .mount(&app.github)
        .await;
    github("GET", &format!("{REPO}/pulls/401"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})),
        )
        .mount(&app.github)
        .await;

    let (status, body) =
        status_and_json(app.get(&format!("{API_REPO}/pulls/404"), AGENT_TOKEN).await).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = status_and_json(
        app.post(
            &format!("{API_REPO}/pulls"),
            AGENT_TOKEN,
            &json!({"title": "t", "head": "new-topic", "base": "main"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("upstream_rejected"))
    );
    assert_eq!(
        body["message"],
        "Validation Failed; A pull request already exists for octo-org:new-topic."
    );
    let (status, body) =
        status_and_json(app.get(&format!("{API_REPO}/pulls/401"), AGENT_TOKEN).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("upstream_unauthorized"))
    );
    assert!(!body.to_string().contains(GITHUB_TOKEN));
}
