//! Close the loop, across processes: the person who wrote "@agent" sees the acknowledgement, one tracking
//! message that follows the task, and the final answer — each exactly once, in the right place — as
//! recorded by the fake providers.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::System;
use crate::{SAMPLES, wait_for_status};

/// The recorded requests of `provider` with `method` whose path contains `path`.
async fn calls(system: &System, provider: &str, method: &str, path: &str) -> Vec<Value> {
    system
        .recorded_requests(provider)
        .await
        .into_iter()
        .filter(|r| r["method"] == method && r["path"].as_str().is_some_and(|p| p.contains(path)))
        .collect()
}

fn text_of(request: &Value) -> String {
    let body = &request["body"];
    ["body", "text"]
        .iter()
        .find_map(|field| {
            body[field]
                .as_str()
                .map(str::to_owned)
                .or_else(|| body[field].as_object().map(|_| body[field].to_string()))
        })
        .unwrap_or_else(|| body.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_provider_sees_one_acknowledgement_one_tracking_message_and_the_answer() {
    let system = System::start(2, Vec::new()).await;
    for (provider, sample) in SAMPLES {
        let (status, answer) = system
            .send(provider, sample, "@agent explain src/main.rs")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{provider}: {answer}");
        let task_id = answer["task_id"].as_str().expect("a task id").to_owned();
        wait_for_status(&system, &task_id, "succeeded").await;
        let link = format!("/tasks/{task_id}");
        // The final update is written after the status: give it a moment to land.
        let (posts, updates) = crate::harness::eventually(
            std::time::Duration::from_secs(30),
            &format!("{provider}: the final answer"),
            || async {
                let (post_method, post_path, update_method, update_path) = match provider {
                    "github" => ("POST", "/issues/1/comments", "PATCH", "/issues/comments/"),
                    "slack" => ("POST", "/chat.postMessage", "POST", "/chat.update"),
                    "jira" => (
                        "POST",
                        "/issue/DEMO-1/comment",
                        "PUT",
                        "/issue/DEMO-1/comment/",
                    ),
                    _ => ("POST", "/comments", "PUT", "/comments/"),
                };
                let posts = calls(&system, provider, post_method, post_path).await;
                let updates = calls(&system, provider, update_method, update_path).await;
                let answered = updates.last().is_some_and(|u| {
                    text_of(u).contains(&link) && text_of(u).contains("Demo agent")
                });
                answered.then_some((posts, updates))
            },
        )
        .await;
        let own_posts: Vec<&Value> = posts
            .iter()
            .filter(|p| text_of(p).contains(&link))
            .collect();
        assert_eq!(
            own_posts.len(),
            1,
            "{provider}: tracking message posted {} times: {own_posts:?}",
            own_posts.len()
        );
        assert!(
            !updates.is_empty(),
            "{provider}: the tracking message was never updated"
        );
        // One task per provider in this test: exactly one acknowledgement reaction where the provider has them.
        let reactions = match provider {
            "github" => calls(&system, "github", "POST", "/reactions").await.len(),
            "slack" => calls(&system, "slack", "POST", "/reactions.add")
                .await
                .len(),
            _ => 1,
        };
        assert_eq!(reactions, 1, "{provider}: acknowledgement reactions");
        let dir = system.task_dir(&task_id);
        assert!(
            dir.join("05-microservices-flow.jsonl").exists(),
            "{provider}: no provider calls in the task log"
        );
        let webhook =
            std::fs::read_to_string(dir.join("02-webhook-flow.jsonl")).unwrap_or_default();
        assert!(
            webhook.contains("immediate_response"),
            "{provider}: no immediate_response in {webhook}"
        );
    }
    system.stop().await;
}

/// `@agent fix` on the sample issue: the demo agent fixes `add`, the worker commits and pushes a branch
/// through github-service's git access and opens a pull request on the fake GitHub, and the task's final
/// answer links it. The pushed branch holds the fix.
#[tokio::test(flavor = "multi_thread")]
async fn a_fix_of_the_sample_repository_ends_in_a_pull_request_with_the_fix() {
    let system = System::start(1, Vec::new()).await;
    let (status, answer) = system
        .send("github", "issue-comment", "@agent fix add subtracts")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let task_id = answer["task_id"].as_str().expect("a task id").to_owned();
    let detail = wait_for_status(&system, &task_id, "succeeded").await;

    let result = &detail["final_result"];
    let service_calls = std::fs::read_to_string(
        system
            .task_dir(&task_id)
            .join("05-microservices-flow.jsonl"),
    )
    .unwrap_or_default();
    assert_eq!(
        result["changes"]["changed_files"],
        serde_json::json!(["src/main.rs"]),
        "{result}\n{service_calls}"
    );
    let pull_url = result["links"][0].as_str().expect("a pull request link");
    let pulls = calls(&system, "github", "POST", "/repos/demo/sample-repo/pulls").await;
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let head = pulls[0]["body"]["head"].as_str().expect("a head branch");
    assert!(head.starts_with("agent/fix-"), "{head}");
    assert_eq!(pulls[0]["body"]["base"], "main");
    assert!(text_of(&pulls[0]).contains(&format!("/tasks/{task_id}")));

    let clone = tempfile::tempdir().expect("temp dir");
    let cloned = std::process::Command::new("git")
        .args(["clone", "--quiet", "--branch", head])
        .arg(format!(
            "{}/github/git/demo/sample-repo.git",
            system.fake_providers()
        ))
        .arg(clone.path())
        .output()
        .expect("git runs");
    assert!(cloned.status.success(), "{cloned:?}");
    let source = std::fs::read_to_string(clone.path().join("src/main.rs")).unwrap();
    assert!(source.contains("    a + b\n"), "{source}");

    let (posts, updates) = (
        calls(&system, "github", "POST", "/issues/1/comments").await,
        calls(&system, "github", "PATCH", "/issues/comments/").await,
    );
    let shown: Vec<String> = posts.iter().chain(&updates).map(text_of).collect();
    assert!(
        shown.iter().any(|text| text.contains(pull_url)),
        "the answer links the pull request {pull_url}: {shown:?}"
    );
    system.stop().await;
}
