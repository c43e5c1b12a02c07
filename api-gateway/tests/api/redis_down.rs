//! Redis unreachable: 503 with Retry-After and nothing left behind; back again: the next request succeeds.

use service_kit::testing::{OwnRedis, free_port};

use crate::helpers::{github_comment, github_delivery, spawn_app_on};

#[tokio::test]
async fn redis_down_answers_503_and_leaves_nothing_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let redis = OwnRedis::start(port, dir.path()).await;
    let url = format!("redis://127.0.0.1:{port}");
    let app = spawn_app_on(&url, |_| {}).await;
    let first = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix", "OWNER", "ada", "User"),
        ))
        .await;
    assert_eq!(first.status, 202, "{}", first.body);

    redis.stop();
    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix", "OWNER", "ada", "User"),
        ))
        .await;
    answer.assert_error(503, "queue_unavailable");
    assert_eq!(answer.headers["retry-after"], "5");
    assert_eq!(
        app.task_dirs(),
        vec![first.task_id().to_string()],
        "no directory may claim an unqueued task"
    );
    let (status, _) = app.get("/ready").await;
    assert_eq!(status, 503);

    let _redis = OwnRedis::start(port, dir.path()).await;
    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent fix", "OWNER", "ada", "User"),
        ))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    app.assert_task_logged(&answer.task_id());
    let (status, _) = app.get("/ready").await;
    assert_eq!(status, 200);
}
