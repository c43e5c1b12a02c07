use std::collections::HashSet;

use chrono::{Duration, TimeZone, Utc};
use contracts::task_log::LogFile;
use contracts::{Command, Provider, TaskEvent, TaskLogWriter, TaskMetadata, TaskStatus};
use serde_json::Value;

use contracts::TaskId;
use dashboard_api::index::{TaskFilter, TaskIndex, TaskSummary};

use crate::helpers::{AppOptions, Db, TestApp, envelope, final_result, spawn_app, spawn_app_with};

pub struct Produced {
    pub task_id: String,
    pub provider: Provider,
    pub command: Command,
    pub status: TaskStatus,
    pub actor: String,
    pub instruction: String,
    pub created_at: chrono::DateTime<Utc>,
}

/// `count` tasks written as the gateway and the workers write them, each announced on `task-events`.
pub async fn produce_many(app: &TestApp, count: usize) -> Vec<Produced> {
    let gateway = app.writer("api-gateway");
    let worker = app.writer("agent-container");
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut produced = Vec::new();
    for i in 0..count {
        let provider = Provider::ALL[i % 4];
        let command = [Command::Fix, Command::Review, Command::Ask][i % 3];
        let status = [
            TaskStatus::Succeeded,
            TaskStatus::Failed,
            TaskStatus::Running,
            TaskStatus::Queued,
            TaskStatus::Succeeded,
        ][i % 5];
        let instruction = if i % 10 == 0 {
            format!("fix the FLAKY test number {i}")
        } else {
            format!("please look at 50%_off item {i}")
        };
        let created_at = start + Duration::minutes(i as i64 * 7);
        let envelope = envelope(provider, command, &instruction, created_at);
        write_task(&gateway, &worker, &envelope, status);
        let event = TaskEvent::for_envelope(&envelope, status);
        app.queue.publish_event(&event).await.unwrap();
        produced.push(Produced {
            task_id: envelope.task_id.to_string(),
            provider,
            command,
            status,
            actor: envelope.actor.login.clone().unwrap(),
            instruction,
            created_at,
        });
    }
    produced
}

pub fn write_task(
    gateway: &TaskLogWriter,
    worker: &TaskLogWriter,
    envelope: &contracts::TaskEnvelope,
    status: TaskStatus,
) {
    let id = envelope.task_id;
    gateway.create_task_dir(&id).unwrap();
    let mut metadata = TaskMetadata::queued(envelope);
    gateway
        .write_json(
            &id,
            LogFile::Input,
            &serde_json::json!({"instruction": envelope.instruction}),
        )
        .unwrap();
    gateway
        .append(&id, LogFile::QueueFlow, "queued", serde_json::json!({}))
        .unwrap();
    if status != TaskStatus::Queued {
        metadata.status = status;
        metadata.worker = Some("worker-1".into());
    }
    if status.is_terminal() {
        worker
            .write_json(
                &id,
                LogFile::FinalResult,
                &final_result(envelope, status, 0.25, 60_000),
            )
            .unwrap();
    }
    worker
        .write_json(&id, LogFile::Metadata, &metadata)
        .unwrap();
}

pub async fn wait_for_index(app: &TestApp, count: usize) {
    let index = app.index().await;
    app.eventually("the consumer to index every task", || {
        let index = index.clone();
        async move {
            index
                .all()
                .await
                .map(|all| all.len() == count)
                .unwrap_or(false)
        }
    })
    .await;
}

/// Follows `next_cursor` through every page of `query`, returning the task ids in order.
pub async fn all_pages(app: &TestApp, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/tasks?limit=200&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get_json(&path).await;
        ids.extend(
            page["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["task_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

fn expected(produced: &[Produced], keep: impl Fn(&Produced) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = produced
        .iter()
        .filter(|p| keep(p))
        .map(|p| p.task_id.clone())
        .collect();
    ids.sort();
    ids.reverse();
    ids
}

pub async fn listing_and_filtering_over_thousands_of_tasks(db: Db) {
    let app = spawn_app_with(AppOptions {
        db,
        ..Default::default()
    })
    .await;
    let produced = produce_many(&app, 2000).await;
    wait_for_index(&app, produced.len()).await;

    let everything = all_pages(&app, "").await;
    assert_eq!(
        everything,
        expected(&produced, |_| true),
        "every task, newest first, each once"
    );
    assert_eq!(everything.iter().collect::<HashSet<_>>().len(), 2000);

    assert_eq!(
        all_pages(&app, "provider=slack").await,
        expected(&produced, |p| p.provider == Provider::Slack)
    );
    assert_eq!(
        all_pages(&app, "status=failed").await,
        expected(&produced, |p| p.status == TaskStatus::Failed)
    );
    assert_eq!(
        all_pages(&app, "command=review&provider=github").await,
        expected(&produced, |p| p.command == Command::Review
            && p.provider == Provider::Github)
    );
    assert_eq!(
        all_pages(&app, "repository=octo/repo").await,
        expected(&produced, |p| p.provider == Provider::Github)
    );
    assert_eq!(
        all_pages(&app, "channel=C42").await,
        expected(&produced, |p| p.provider == Provider::Slack)
    );
    assert_eq!(
        all_pages(&app, "project=OPS").await,
        expected(&produced, |p| p.provider == Provider::Jira)
    );
    assert_eq!(
        all_pages(&app, "actor=jdoe").await,
        expected(&produced, |p| p.actor == "jdoe")
    );
    assert_eq!(
        all_pages(&app, "actor=id-jdoe").await,
        expected(&produced, |p| p.actor == "jdoe")
    );
    assert_eq!(
        all_pages(&app, "q=flaky").await,
        expected(&produced, |p| p
            .instruction
            .to_lowercase()
            .contains("flaky"))
    );
    // LIKE wildcards in the text are taken literally.
    assert_eq!(
        all_pages(&app, "q=50%25_off").await,
        expected(&produced, |p| p.instruction.contains("50%_off"))
    );
    assert!(all_pages(&app, "q=50%25x").await.is_empty());
    let since = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
    let until = Utc.with_ymd_and_hms(2026, 1, 3, 12, 0, 0).unwrap();
    let range = format!(
        "since={}&until={}",
        since.to_rfc3339().replace('+', "%2B"),
        until.to_rfc3339().replace('+', "%2B")
    );
    let in_range = expected(&produced, |p| p.created_at >= since && p.created_at < until);
    assert!(!in_range.is_empty());
    assert_eq!(all_pages(&app, &range).await, in_range);

    let page = app
        .get_json("/api/v1/tasks?limit=3&status=succeeded&provider=jira")
        .await;
    let task = &page["tasks"][0];
    assert_eq!(task["status"], "succeeded");
    assert_eq!(task["scope"], "OPS");
    assert_eq!(task["cost_usd"], 0.25);
    assert_eq!(task["duration_ms"], 60_000);
    assert_eq!(task["success"], true);
}

/// Every page of `filter`, read straight from the index: the ids, newest first.
async fn text_matches(index: &TaskIndex, text: &str) -> Vec<String> {
    let mut filter = TaskFilter {
        text: Some(text.to_owned()),
        ..Default::default()
    };
    let mut ids = Vec::new();
    loop {
        let page = index.list(&filter, 50).await.unwrap();
        ids.extend(page.tasks.into_iter().map(|t| t.task_id));
        match page.next_cursor {
            Some(cursor) => filter.before = Some(cursor.parse().unwrap()),
            None => return ids,
        }
    }
}

/// Text filters read the rows that contain the text from the trigram index when they are few, scan when they
/// are many or the text is shorter than a trigram, and see inserts, deletes and an index made before the text
/// index existed.
pub async fn text_filters_follow_the_rows(db: Db) {
    let app = spawn_app_with(AppOptions {
        db,
        ..Default::default()
    })
    .await;
    produce_many(&app, 1).await;
    wait_for_index(&app, 1).await;
    let index = app.index().await;
    let template = index.all().await.unwrap().remove(0);
    // More rows than the text index sorts (10,000) contain "chore"; four contain "Flaky Login".
    let rows: Vec<TaskSummary> = (0..10_100)
        .map(|i| TaskSummary {
            task_id: TaskId::new().to_string(),
            instruction: if i % 3_000 == 0 {
                format!("Fix the Flaky Login, take {i}")
            } else {
                format!("routine chore {i}")
            },
            ..template.clone()
        })
        .collect();
    index.insert_new(&rows).await.unwrap();
    let mut all = rows.clone();
    all.push(template);
    let expected = |all: &[TaskSummary], text: &str| {
        let mut ids: Vec<String> = all
            .iter()
            .filter(|t| t.instruction.to_lowercase().contains(&text.to_lowercase()))
            .map(|t| t.task_id.clone())
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids
    };
    for text in [
        "flaky LOGIN",
        "CHORE",
        "chore 20",
        "take 6000",
        "e 1",
        "no such text",
        "\"quoted\"",
    ] {
        assert_eq!(
            text_matches(&index, text).await,
            expected(&all, text),
            "{text}"
        );
    }
    assert_eq!(text_matches(&index, "flaky login").await.len(), 4);

    let gone = &rows[3_000];
    index.delete(&gone.task_id.parse().unwrap()).await.unwrap();
    all.retain(|t| t.task_id != gone.task_id);
    assert_eq!(
        text_matches(&index, "flaky login").await,
        expected(&all, "flaky login")
    );
    assert_eq!(text_matches(&index, "flaky login").await.len(), 3);

    if db == Db::Sqlite {
        for statement in [
            "DROP TRIGGER tasks_text_insert",
            "DROP TRIGGER tasks_text_delete",
            "DROP TRIGGER tasks_text_update",
            "DROP TABLE tasks_text",
        ] {
            sqlx::query(statement).execute(index.pool()).await.unwrap();
        }
        index.ensure_schema().await.unwrap();
        assert_eq!(
            text_matches(&index, "flaky login").await,
            expected(&all, "flaky login")
        );
    }
}

#[tokio::test]
async fn text_filters_follow_the_rows_on_sqlite() {
    text_filters_follow_the_rows(Db::Sqlite).await;
}

#[tokio::test]
async fn lists_and_filters_thousands_of_tasks_on_sqlite() {
    listing_and_filtering_over_thousands_of_tasks(Db::Sqlite).await;
}

#[tokio::test]
async fn bad_filters_get_a_clear_400() {
    let app = spawn_app().await;
    for query in [
        "provider=myspace",
        "status=done",
        "limit=0",
        "limit=501",
        "cursor=../../etc",
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "limit=abc",
        "limit=99999999999999999999",
        "command=dance",
    ] {
        let response = app.get(&format!("/api/v1/tasks?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_query", "{query}");
        let parameter = query.split('=').next().unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(parameter), "{query}: {message}");
    }
}

#[tokio::test]
async fn the_summary_holds_metadata_input_and_final_result() {
    let app = spawn_app().await;
    let envelope = envelope(Provider::Github, Command::Fix, "the flaky test", Utc::now());
    app.gateway_accepts(&envelope).await;
    app.worker_starts(&envelope).await;
    app.agent_works(&envelope);
    app.worker_finishes(&envelope, TaskStatus::Succeeded, 0.42, 90_000)
        .await;
    let path = format!("/api/v1/tasks/{}", envelope.task_id);
    // The index converges on the event published after metadata.json and 06-final-result.json are written.
    // Asked of the index itself: until it has a row, the API answers from the log directory, which can be
    // final while the consumer is still indexing an earlier event.
    let index = app.index().await;
    app.eventually(
        "the task to be indexed as succeeded with its result",
        || async {
            index
                .get(&envelope.task_id)
                .await
                .ok()
                .flatten()
                .is_some_and(|task| task.status == "succeeded" && task.cost_usd.is_some())
        },
    )
    .await;
    let summary = app.get_json(&path).await;
    assert_eq!(summary["task"]["instruction"], "the flaky test");
    assert_eq!(summary["task"]["scope"], "octo/repo");
    assert_eq!(summary["task"]["actor"], "octocat");
    assert_eq!(summary["task"]["cost_usd"], 0.42);
    assert_eq!(summary["metadata"]["status"], "succeeded");
    assert_eq!(
        summary["metadata"]["envelope"]["task_id"],
        envelope.task_id.to_string()
    );
    assert_eq!(summary["input"]["instruction"], "the flaky test");
    assert_eq!(summary["final_result"]["cost_usd"], 0.42);

    let unknown = app
        .get(&format!("/api/v1/tasks/{}", contracts::TaskId::new()))
        .await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn a_path_asked_with_another_method_gets_a_json_405() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(app.url("/api/v1/tasks"))
        .send()
        .await
        .unwrap();
    service_kit::testing::assert_method_not_allowed(response, "GET").await;
}
