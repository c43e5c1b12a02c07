//! Removes task logs and index rows older than `TASK_LOGS_RETENTION_DAYS`. A task's age is its last
//! update: `metadata.json`'s `updated_at`, or the directory's modification time when that is unreadable.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::TaskId;
use tokio_util::sync::CancellationToken;

use crate::index::TaskIndex;
use crate::logs::TaskLogs;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub log_dirs_removed: usize,
    pub index_rows_removed: u64,
}

/// One pass: every task last updated before `cutoff` loses its directory and its row.
pub async fn remove_older_than(
    logs: &TaskLogs,
    index: &TaskIndex,
    cutoff: DateTime<Utc>,
) -> anyhow::Result<RetentionReport> {
    let root = logs.root().to_owned();
    let removed = tokio::task::spawn_blocking(move || remove_old_dirs(&root, cutoff)).await??;
    for task_id in &removed {
        index.delete(task_id).await?;
    }
    let rows = index.delete_updated_before(cutoff).await?;
    Ok(RetentionReport {
        log_dirs_removed: removed.len(),
        index_rows_removed: rows + removed.len() as u64,
    })
}

fn remove_old_dirs(root: &Path, cutoff: DateTime<Utc>) -> std::io::Result<Vec<TaskId>> {
    let entries = match std::fs::read_dir(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other?,
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(task_id) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<TaskId>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        if last_update(&dir).is_some_and(|updated| updated < cutoff) {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => removed.push(task_id),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(task_id = %task_id, error = %e, "could not remove an expired task log")
                }
            }
        }
    }
    Ok(removed)
}

fn last_update(dir: &Path) -> Option<DateTime<Utc>> {
    let metadata = std::fs::read(dir.join(contracts::LogFile::Metadata.file_name()))
        .ok()
        .and_then(|raw| serde_json::from_slice::<contracts::TaskMetadata>(&raw).ok());
    match metadata {
        Some(metadata) => Some(metadata.updated_at),
        None => std::fs::metadata(dir)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from),
    }
}

/// Runs a pass at start and every `interval` until `shutdown`.
pub async fn run_periodically(
    logs: TaskLogs,
    index: TaskIndex,
    retention_days: u32,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        let cutoff = Utc::now() - chrono::Duration::days(i64::from(retention_days));
        match remove_older_than(&logs, &index, cutoff).await {
            Ok(report) if report != RetentionReport::default() => tracing::info!(
                log_dirs_removed = report.log_dirs_removed,
                index_rows_removed = report.index_rows_removed,
                %cutoff,
                "retention removed expired tasks"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention pass failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
