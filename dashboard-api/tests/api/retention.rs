use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use contracts::task_log::LogFile;
use contracts::{Command, Provider, TaskEvent, TaskMetadata, TaskStatus};
use dashboard_api::index::TaskSummary;

use crate::helpers::{AppOptions, Db, envelope, final_result, spawn_app_with};

pub async fn retention_removes_exactly_the_old_ones(db: Db) {
    let app = spawn_app_with(AppOptions {
        db,
        retention_days: 30,
        ..Default::default()
    })
    .await;
    let writer = app.writer("agent-container");
    let now = Utc::now();
    let mut kept = BTreeSet::new();
    let mut expired = BTreeSet::new();
    // (created days ago, last updated days ago): age is the last update.
    for (created, updated) in [
        (40, 40),
        (45, 31),
        (31, 30),
        (60, 1),
        (10, 10),
        (29, 29),
        (2, 0),
    ] {
        let envelope = envelope(
            Provider::Github,
            Command::Fix,
            "old or new",
            now - Duration::days(created) - Duration::minutes(1),
        );
        let id = envelope.task_id;
        writer.create_task_dir(&id).unwrap();
        let mut metadata = TaskMetadata::queued(&envelope);
        metadata.status = TaskStatus::Succeeded;
        metadata.updated_at = now - Duration::days(updated) - Duration::minutes(1);
        writer
            .write_json(
                &id,
                LogFile::FinalResult,
                &final_result(&envelope, TaskStatus::Succeeded, 0.1, 10),
            )
            .unwrap();
        writer
            .write_json(&id, LogFile::Metadata, &metadata)
            .unwrap();
        let mut event = TaskEvent::for_envelope(&envelope, TaskStatus::Succeeded);
        event.timestamp = metadata.updated_at;
        app.queue.publish_event(&event).await.unwrap();
        if updated >= 30 {
            expired.insert(id.to_string());
        } else {
            kept.insert(id.to_string());
        }
    }
    // A row whose directory is already gone, and a directory that is not a task's.
    let index = app.index().await;
    let orphan = envelope(
        Provider::Slack,
        Command::Ask,
        "orphan",
        now - Duration::days(50),
    );
    let mut orphan_metadata = TaskMetadata::queued(&orphan);
    orphan_metadata.updated_at = now - Duration::days(50);
    index
        .upsert(&TaskSummary::from_parts(&orphan_metadata, None))
        .await
        .unwrap();
    let stranger = app.logs_dir.path().join("lost+found");
    std::fs::create_dir(&stranger).unwrap();

    let dirs = || -> BTreeSet<String> {
        std::fs::read_dir(app.logs_dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("task-"))
            .collect()
    };
    app.eventually("retention to remove exactly the expired tasks", || {
        let index = index.clone();
        let kept = kept.clone();
        let on_disk = dirs();
        async move {
            let rows: BTreeSet<String> = index
                .all()
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.task_id)
                .collect();
            rows == kept && on_disk == kept
        }
    })
    .await;
    assert!(
        stranger.is_dir(),
        "a directory that is not a task's is left alone"
    );
    assert_eq!(expired.len(), 3);
}

#[tokio::test]
async fn retention_removes_exactly_the_old_tasks_on_sqlite() {
    retention_removes_exactly_the_old_ones(Db::Sqlite).await;
}
