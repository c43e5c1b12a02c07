//! The tracking-message protocol against real Redis and a wiremock provider service.

use std::time::Duration;

use chrono::Utc;
use contracts::envelope::SCHEMA_VERSION;
use contracts::tracking::TrackingMessage;
use contracts::{
    Actor, Command, Priority, Provider, RedisKeys, SourceRef, TaskEnvelope, TaskId, TaskLogWriter,
};
use serde_json::json;
use service_kit::service_client::{ServiceClient, ServiceUrls};
use service_kit::trace_context::TraceContext;
use service_kit::tracking::Tracker;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn github_envelope() -> TaskEnvelope {
    TaskEnvelope {
        schema_version: SCHEMA_VERSION,
        task_id: TaskId::new(),
        provider: Provider::Github,
        event: "issue_comment.created".into(),
        command: Command::Fix,
        instruction: "the flaky test".into(),
        source: SourceRef {
            repo: Some("octo/repo".into()),
            number: Some(12),
            ..Default::default()
        },
        actor: Actor {
            id: "1".into(),
            login: Some("octocat".into()),
            display_name: None,
            kind: "user".into(),
        },
        priority: Priority::High,
        attempt: 1,
        run: 1,
        created_at: Utc::now(),
        conversation_key: TaskEnvelope::github_conversation("octo/repo", 12),
    }
}

/// A slow provider service must not hold the one pooled Redis connection while the post waits: the
/// gateway shares its pool with the enqueue, and a held connection would stall every webhook.
#[tokio::test]
async fn a_slow_post_does_not_hold_a_redis_connection() {
    let github_service = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/github/repos/octo/repo/issues/12/comments"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": 4242}))
                .set_delay(Duration::from_millis(1500)),
        )
        .expect(1)
        .mount(&github_service)
        .await;
    let logs_dir = tempfile::tempdir().unwrap();
    let urls = ServiceUrls {
        github: github_service.uri(),
        jira: github_service.uri(),
        slack: github_service.uri(),
        sentry: github_service.uri(),
    };
    let client = ServiceClient::new(
        urls,
        None,
        TaskLogWriter::new(logs_dir.path(), "plumbing-tests"),
        Duration::from_secs(5),
        1,
    );
    let pool = service_kit::redis::pool("redis://127.0.0.1:6379", 1).unwrap();
    let keys = RedisKeys::new(format!("test:{}:", uuid::Uuid::now_v7().simple()));
    let tracker = Tracker::new(client, pool.clone(), keys.clone(), "http://dashboard.test");
    let envelope = github_envelope();
    let tracking_key = keys.tracking_message(&envelope.task_id);

    let showing = {
        let tracker = tracker.clone();
        let envelope = envelope.clone();
        tokio::spawn(async move {
            tracker
                .show(
                    &envelope,
                    "working on it",
                    "acknowledged",
                    "gateway",
                    &TraceContext::new_root(),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let connection = tokio::time::timeout(Duration::from_millis(500), pool.get()).await;
    assert!(
        matches!(connection, Ok(Ok(_))),
        "the pool's only connection stayed taken while the post was in flight"
    );
    drop(connection);

    let (message, posted) = showing.await.unwrap().unwrap();
    assert!(posted);
    assert_eq!(
        message,
        TrackingMessage::Github {
            repo: "octo/repo".into(),
            comment_id: 4242
        }
    );
    assert_eq!(
        tracker.current(&envelope.task_id).await.unwrap(),
        Some(message)
    );
    let _: () =
        deadpool_redis::redis::AsyncCommands::del(&mut pool.get().await.unwrap(), tracking_key)
            .await
            .unwrap();
}
