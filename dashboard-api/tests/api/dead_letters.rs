use chrono::Utc;
use contracts::task_log::LogFile;
use contracts::{Command, Provider, TaskStatus};
use deadpool_redis::redis::{self, AsyncCommands};
use serde_json::{Value, json};

use crate::helpers::{TestApp, envelope, spawn_app};

/// What a worker does when a task fails its last attempt.
async fn dead_letter(app: &TestApp, envelope: &contracts::TaskEnvelope) {
    let writer = app.writer("agent-container");
    let id = envelope.task_id;
    let mut metadata = writer.read_metadata(&id).unwrap();
    metadata.status = TaskStatus::DeadLettered;
    metadata.attempt = 3;
    metadata.last_error = Some("the agent crashed".into());
    metadata.updated_at = Utc::now();
    writer
        .write_json(&id, LogFile::Metadata, &metadata)
        .unwrap();
    writer
        .append(
            &id,
            LogFile::QueueFlow,
            "dead_lettered",
            json!({"attempts": 3, "error": "the agent crashed"}),
        )
        .unwrap();
    let mut connection = app.queue.pool().get().await.unwrap();
    let _: String = connection
        .xadd(
            app.queue.keys().dead_letter_stream(),
            "*",
            &[
                ("envelope", envelope.encode()),
                ("error", "the agent crashed".to_owned()),
                ("task_id", id.to_string()),
                ("failed_at", Utc::now().to_rfc3339()),
                ("attempts", "3".to_owned()),
            ],
        )
        .await
        .unwrap();
    let event = contracts::TaskEvent::for_envelope(envelope, TaskStatus::DeadLettered);
    app.queue.publish_event(&event).await.unwrap();
}

#[tokio::test]
async fn dead_letters_are_listed_and_requeued_like_agent_retry() {
    let app = spawn_app().await;
    let envelope = envelope(Provider::Github, Command::Fix, "the flaky test", Utc::now());
    app.gateway_accepts(&envelope).await;
    app.worker_starts(&envelope).await;
    dead_letter(&app, &envelope).await;
    let id = envelope.task_id;

    let listed = app.get_json("/api/v1/dead-letters").await;
    let entries = listed["dead_letters"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["task_id"], id.to_string());
    assert_eq!(entries[0]["error"], "the agent crashed");
    assert_eq!(entries[0]["attempts"], 3);
    assert_eq!(entries[0]["envelope"]["task_id"], id.to_string());

    let requeue = app.url(&format!("/api/v1/dead-letters/{id}/requeue"));
    let answer = app
        .client
        .post(&requeue)
        .json(&json!({"requested_by": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["run"], 2);
    assert_eq!(body["requested_by"], "dashboard:alice");

    let queue_flow: Vec<Value> =
        std::fs::read_to_string(app.writer("x").path(&id, LogFile::QueueFlow))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let requeued = queue_flow
        .iter()
        .find(|l| l["type"] == "requeued")
        .expect("a requeued line");
    assert_eq!(requeued["requested_by"], "dashboard:alice");
    assert_eq!(requeued["service"], "dashboard-api");
    assert_eq!(queue_flow.last().unwrap()["type"], "queued");
    let metadata = app.writer("x").read_metadata(&id).unwrap();
    assert_eq!(metadata.status, TaskStatus::Queued);
    assert_eq!(metadata.run, 2);
    assert_eq!(metadata.attempt, 1);

    let mut connection = app.queue.pool().get().await.unwrap();
    let events: redis::streams::StreamRangeReply = connection
        .xrange_all(app.queue.keys().task_events())
        .await
        .unwrap();
    let last: contracts::TaskEvent =
        serde_json::from_str(&events.ids.last().unwrap().get::<String>("event").unwrap()).unwrap();
    assert_eq!(
        (last.task_id, last.status, last.run),
        (id, TaskStatus::Queued, Some(2))
    );
    let waiting: u64 = connection
        .xlen(app.queue.keys().task_stream(contracts::Priority::Normal))
        .await
        .unwrap();
    assert_eq!(waiting, 2, "the first run's entry and the re-queued one");
    assert_eq!(
        app.get_json("/api/v1/dead-letters").await["dead_letters"],
        json!([])
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/tasks/{id}")).await["task"]["status"],
        "queued"
    );

    let again = app.client.post(&requeue).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let unknown = app
        .client
        .post(app.url(&format!(
            "/api/v1/dead-letters/{}/requeue",
            contracts::TaskId::new()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let invalid = app
        .client
        .post(app.url("/api/v1/dead-letters/nope/requeue"))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    let bad_body = app
        .client
        .post(&requeue)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_body.status(), 400);
}
