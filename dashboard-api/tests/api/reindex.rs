use chrono::Utc;
use contracts::{Command, Provider, TaskStatus};
use dashboard_api::index::TaskIndex;

use crate::helpers::{AppOptions, Db, TestDatabase, envelope, spawn_app_with};
use crate::tasks::{produce_many, wait_for_index};

pub async fn reindex_rebuilds_the_same_index(db: Db) {
    let app = spawn_app_with(AppOptions {
        db,
        ..Default::default()
    })
    .await;
    produce_many(&app, 300).await;
    let live = envelope(Provider::Github, Command::Fix, "live one", Utc::now());
    app.gateway_accepts(&live).await;
    app.worker_starts(&live).await;
    app.agent_works(&live);
    app.worker_finishes(&live, TaskStatus::Succeeded, 1.5, 4200)
        .await;
    wait_for_index(&app, 301).await;
    let index = app.index().await;
    app.eventually("the live task's final status", || {
        let index = index.clone();
        async move {
            index
                .get(&live.task_id)
                .await
                .ok()
                .flatten()
                .is_some_and(|t| t.status == "succeeded")
        }
    })
    .await;
    let fed_by_events = index.all().await.unwrap();

    // A fresh database, filled only by the command from the log directory.
    let fresh = TestDatabase::create(db).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard-api"))
        .arg("reindex")
        .env("DATABASE_URL", &fresh.url)
        .env("TASK_LOGS_DIR", app.logs_dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("indexed 301 tasks"));
    let rebuilt = TaskIndex::connect_lazy(&fresh.url)
        .unwrap()
        .all()
        .await
        .unwrap();
    assert_eq!(rebuilt.len(), 301);
    assert_eq!(rebuilt, fed_by_events);

    // Reindexing over an index with stale rows replaces them.
    std::fs::remove_dir_all(app.logs_dir.path().join(live.task_id.to_string())).unwrap();
    dashboard_api::index::reindex(&index, app.logs_dir.path())
        .await
        .unwrap();
    assert_eq!(index.all().await.unwrap().len(), 300);
    assert!(index.get(&live.task_id).await.unwrap().is_none());
}

#[tokio::test]
async fn reindex_rebuilds_the_same_index_on_sqlite() {
    reindex_rebuilds_the_same_index(Db::Sqlite).await;
}
