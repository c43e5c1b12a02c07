//! Keeps the index current from the `task-events` stream, through the dashboard's own consumer group.
//! Each event only says "look again": the row is derived from the task's log directory, exactly as
//! `dashboard-api reindex` derives it, so nothing depends on an event having been seen live.

use std::time::Duration;

use contracts::keys::EVENT_FIELD;
use contracts::{RedisKeys, TaskEvent};
use deadpool_redis::redis::streams::{StreamReadOptions, StreamReadReply};
use deadpool_redis::redis::{self, AsyncCommands};
use tokio_util::sync::CancellationToken;

use crate::index::{IndexUpdate, TaskIndex, TaskSummary};
use crate::logs::TaskLogs;

const BLOCK: Duration = Duration::from_secs(2);
const RETRY_DELAY: Duration = Duration::from_secs(1);

pub struct EventConsumer {
    pub redis_url: String,
    pub keys: RedisKeys,
    pub group: String,
    pub consumer: String,
    pub index: TaskIndex,
    pub logs: TaskLogs,
}

impl EventConsumer {
    /// Reads until `shutdown`; reconnects after Redis or database failures.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let outcome = tokio::select! {
                () = shutdown.cancelled() => return,
                outcome = self.consume(&shutdown) => outcome,
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "task-events consumer stopped; retrying");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(RETRY_DELAY) => {}
            }
        }
    }

    async fn consume(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let mut connection =
            service_kit::redis::dedicated_connection(&self.redis_url, BLOCK).await?;
        let stream = self.keys.task_events();
        let created: redis::RedisResult<()> = connection
            .xgroup_create_mkstream(&stream, &self.group, "0")
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            other => other?,
        }
        // First whatever this consumer was given and never acknowledged, then new events.
        let mut position = "0".to_owned();
        while !shutdown.is_cancelled() {
            let options = StreamReadOptions::default()
                .group(&self.group, &self.consumer)
                .count(100)
                .block(BLOCK.as_millis() as usize);
            let reply: Option<StreamReadReply> = connection
                .xread_options(&[&stream], &[&position], &options)
                .await?;
            let entries: Vec<_> = reply
                .into_iter()
                .flat_map(|r| r.keys)
                .flat_map(|k| k.ids)
                .collect();
            if entries.is_empty() && position == "0" {
                position = ">".to_owned();
                continue;
            }
            let mut events = Vec::with_capacity(entries.len());
            for entry in &entries {
                match entry
                    .get::<String>(EVENT_FIELD)
                    .map(|raw| serde_json::from_str::<TaskEvent>(&raw))
                {
                    Some(Ok(event)) => events.push(event),
                    Some(Err(e)) => {
                        tracing::warn!(entry = %entry.id, error = %e, "skipping an unreadable task event")
                    }
                    None => {
                        tracing::warn!(entry = %entry.id, "skipping a task event without an `event` field")
                    }
                }
            }
            self.apply(&events).await?;
            let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
            if !ids.is_empty() {
                let _: usize = connection.xack(&stream, &self.group, &ids).await?;
            }
        }
        Ok(())
    }

    /// Brings the rows of the tasks these events are about up to date with their log directories,
    /// in one transaction.
    pub async fn apply(&self, events: &[TaskEvent]) -> Result<(), sqlx::Error> {
        // The newest event per task is enough: the row comes from the files.
        let mut latest: Vec<TaskEvent> = Vec::new();
        for event in events {
            match latest.iter_mut().find(|e| e.task_id == event.task_id) {
                Some(seen) if seen.timestamp <= event.timestamp => *seen = event.clone(),
                Some(_) => {}
                None => latest.push(event.clone()),
            }
        }
        let logs = self.logs.clone();
        let rows = tokio::task::spawn_blocking(move || {
            latest
                .into_iter()
                .map(|event| {
                    let from_files = TaskSummary::from_log_dir(&logs.task_dir(&event.task_id));
                    (event, from_files)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut updates = Vec::with_capacity(rows.len());
        for (event, from_files) in rows {
            updates.push(match from_files {
                Some(mut task) => {
                    // A worker may publish a status a moment before it rewrites metadata.json.
                    if event.timestamp > task.updated_at && event.status.as_str() != task.status {
                        task.status = event.status.as_str().to_owned();
                        task.updated_at = event.timestamp;
                    }
                    IndexUpdate::Row(task)
                }
                None => IndexUpdate::StatusOnly(TaskSummary::from_event(&event)),
            });
        }
        self.index.apply_updates(&updates).await
    }
}
