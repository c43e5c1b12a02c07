use reqwest::Method;
use serde_json::json;

use crate::helpers::{git, json, spawn_app, spawn_app_in};

/// A real `git clone` over smart HTTP, a refused anonymous push, a push with credentials through the CGI
/// adapter, then the REST API sees the branch: ref, pull request, diff and files.
#[tokio::test]
async fn clone_push_a_branch_and_open_a_pull_request() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let clone_url = app.git_url("demo/sample-repo");

    let (cloned, _, stderr) = git(work.path(), &["clone", "--quiet", &clone_url, "sample"]).await;
    assert!(cloned, "clone failed: {stderr}");
    let checkout = work.path().join("sample");
    let main_rs = std::fs::read_to_string(checkout.join("src/main.rs")).unwrap();
    assert!(main_rs.contains("a - b"), "the sample has the bug to fix");
    assert!(checkout.join("Cargo.toml").exists() && checkout.join("README.md").exists());
    let (_, branch, _) = git(&checkout, &["rev-parse", "--abbrev-ref", "HEAD"]).await;
    assert_eq!(branch.trim(), "main");

    std::fs::write(
        checkout.join("src/main.rs"),
        main_rs.replace("a - b", "a + b"),
    )
    .unwrap();
    assert!(
        git(&checkout, &["checkout", "--quiet", "-b", "agent/fix-add"])
            .await
            .0
    );
    assert!(
        git(&checkout, &["commit", "--quiet", "-am", "Fix add"])
            .await
            .0
    );
    let (_, head, _) = git(&checkout, &["rev-parse", "HEAD"]).await;
    let head = head.trim().to_owned();

    let (anonymous_push, _, _) =
        git(&checkout, &["push", "--quiet", &clone_url, "agent/fix-add"]).await;
    assert!(!anonymous_push, "a push without credentials is refused");

    let authenticated = clone_url.replacen("http://", "http://x-access-token:secret-token@", 1);
    let (pushed, _, stderr) = git(
        &checkout,
        &["push", "--quiet", &authenticated, "agent/fix-add"],
    )
    .await;
    assert!(pushed, "push failed: {stderr}");

    let pushes = app
        .recorded(&[
            ("provider", "git"),
            ("method", "POST"),
            ("path_contains", "git-receive-pack"),
        ])
        .await;
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0]["status"], 200);
    assert!(
        pushes[0]["headers"]["authorization"]
            .as_str()
            .unwrap()
            .starts_with("Basic ")
    );
    let challenges = app.recorded(&[("provider", "git")]).await;
    assert!(
        challenges.iter().any(|r| r["status"] == 401),
        "the anonymous push got a challenge"
    );

    let reference = json(
        app.github(
            Method::GET,
            "/repos/demo/sample-repo/git/ref/heads/agent/fix-add",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(reference["object"]["sha"], head.as_str());

    let created = app
        .github(Method::POST, "/repos/demo/sample-repo/pulls")
        .json(&json!({"title": "Fix add", "head": "demo:agent/fix-add", "base": "main", "body": "Fixes #2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let pull = json(created).await;
    let number = pull["number"].as_u64().unwrap();
    assert_eq!(number, 3, "pull requests share numbers with issues");
    assert_eq!(pull["head"]["ref"], "agent/fix-add");
    assert_eq!(pull["head"]["sha"], head.as_str());
    assert_eq!(pull["base"]["ref"], "main");
    assert_eq!(pull["state"], "open");
    assert_eq!(pull["changed_files"], 1);
    assert_eq!(
        pull["html_url"],
        app.url(&format!("/github/demo/sample-repo/pull/{number}"))
    );

    let duplicate = app
        .github(Method::POST, "/repos/demo/sample-repo/pulls")
        .json(&json!({"title": "Again", "head": "agent/fix-add", "base": "main"}))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 422);

    let diff = app
        .github(
            Method::GET,
            &format!("/repos/demo/sample-repo/pulls/{number}"),
        )
        .header("Accept", "application/vnd.github.diff")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        diff.starts_with("diff --git a/src/main.rs b/src/main.rs"),
        "{diff}"
    );
    assert!(diff.contains("-    a - b\n+    a + b"));

    let files = json(
        app.github(
            Method::GET,
            &format!("/repos/demo/sample-repo/pulls/{number}/files"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(files[0]["filename"], "src/main.rs");
    assert_eq!(files[0]["status"], "modified");
    assert_eq!(files[0]["additions"], 1);
    assert_eq!(files[0]["deletions"], 1);
    assert!(files[0]["patch"].as_str().unwrap().starts_with("@@ "));

    let as_issue = json(
        app.github(
            Method::GET,
            &format!("/repos/demo/sample-repo/issues/{number}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(as_issue["pull_request"]["url"].is_string());
    let listed = json(
        app.github(Method::GET, "/repos/demo/sample-repo/pulls")
            .query(&[("head", "demo:agent/fix-add")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let page = app
        .client
        .get(app.url(&format!("/github/demo/sample-repo/pull/{number}")))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("agent/fix-add → main"));
}

#[tokio::test]
async fn unknown_repositories_and_paths_are_not_found() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let (cloned, _, _) = git(
        work.path(),
        &["clone", "--quiet", &app.git_url("demo/missing"), "missing"],
    )
    .await;
    assert!(!cloned);
    let recorded = app
        .recorded(&[("provider", "git"), ("path_contains", "demo/missing")])
        .await;
    assert_eq!(recorded[0]["status"], 404);
}

/// A pack above git's 1 MiB post buffer is sent chunked, without `Content-Length`: the adapter streams it
/// into `git http-backend` until the body ends.
#[tokio::test]
async fn a_large_chunked_push_streams_through() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let authenticated = app.git_url("demo/sample-repo").replacen(
        "http://",
        "http://x-access-token:secret-token@",
        1,
    );
    assert!(
        git(work.path(), &["clone", "--quiet", &authenticated, "sample"])
            .await
            .0
    );
    let checkout = work.path().join("sample");
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let noise: Vec<u8> = (0..3_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    std::fs::write(checkout.join("large.bin"), noise).unwrap();
    assert!(git(&checkout, &["add", "large.bin"]).await.0);
    assert!(
        git(&checkout, &["commit", "--quiet", "-m", "A large file"])
            .await
            .0
    );
    let (pushed, _, stderr) = git(
        &checkout,
        &["push", "--quiet", "origin", "HEAD:refs/heads/large"],
    )
    .await;
    assert!(pushed, "push failed: {stderr}");

    let pushes = app
        .recorded(&[("method", "POST"), ("path_contains", "git-receive-pack")])
        .await;
    assert_eq!(
        pushes.last().unwrap()["headers"]["transfer-encoding"],
        "chunked"
    );
    let reference = app
        .github(Method::GET, "/repos/demo/sample-repo/git/ref/heads/large")
        .send()
        .await
        .unwrap();
    assert_eq!(reference.status(), 200);
}

#[tokio::test]
async fn a_data_directory_keeps_the_repositories_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let first = spawn_app_in(data.path()).await;
    let main = json(
        first
            .github(Method::GET, "/repos/demo/sample-repo/git/ref/heads/main")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let sha = main["object"]["sha"].as_str().unwrap().to_owned();
    let created = first
        .github(Method::POST, "/repos/demo/sample-repo/git/refs")
        .json(&serde_json::json!({"ref": "refs/heads/kept", "sha": sha}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    drop(first);

    let second = spawn_app_in(data.path()).await;
    let kept = second
        .github(Method::GET, "/repos/demo/sample-repo/git/ref/heads/kept")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 200);
    assert_eq!(json(kept).await["object"]["sha"], sha.as_str());
    assert!(data.path().join("repos/demo/sample-repo.git/HEAD").exists());
}

#[tokio::test]
async fn a_sample_repository_left_without_its_branch_is_completed_at_start() {
    let data = tempfile::tempdir().unwrap();
    let bare = data.path().join("repos/demo/sample-repo.git");
    std::fs::create_dir_all(&bare).unwrap();
    assert!(git(&bare, &["init", "--quiet", "--bare"]).await.0);

    let app = spawn_app_in(data.path()).await;
    let main = app
        .github(Method::GET, "/repos/demo/sample-repo/git/ref/heads/main")
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 200);
    let work = tempfile::tempdir().unwrap();
    let (cloned, _, stderr) = git(
        work.path(),
        &["clone", "--quiet", &app.git_url("demo/sample-repo"), "c"],
    )
    .await;
    assert!(cloned, "{stderr}");
    assert!(stderr.is_empty(), "the clone checks out main: {stderr}");
    assert!(work.path().join("c/src/main.rs").exists());
}
