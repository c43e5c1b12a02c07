use chrono::{Duration, Utc};
use contracts::{Command, Provider, TaskEvent, TaskStatus};

use crate::helpers::{AppOptions, Db, envelope, spawn_app_with};
use crate::tasks::{wait_for_index, write_task};

pub async fn analytics_add_up(db: Db) {
    let app = spawn_app_with(AppOptions {
        db,
        ..Default::default()
    })
    .await;
    let gateway = app.writer("api-gateway");
    let worker = app.writer("agent-container");
    let now = Utc::now();
    // 20 finished tasks (15 succeeded, 5 failed) lasting 1..=20 s and costing 0.5 each, plus 4 running.
    for i in 1..=24u64 {
        let provider = if i % 2 == 0 {
            Provider::Github
        } else {
            Provider::Slack
        };
        let envelope = envelope(provider, Command::Fix, "x", now - Duration::hours(i as i64));
        let status = match i {
            1..=15 => TaskStatus::Succeeded,
            16..=20 => TaskStatus::Failed,
            _ => TaskStatus::Running,
        };
        write_task(&gateway, &worker, &envelope, status);
        if status.is_terminal() {
            let result = crate::helpers::final_result(&envelope, status, 0.5, i * 1000);
            worker
                .write_json(&envelope.task_id, contracts::LogFile::FinalResult, &result)
                .unwrap();
        }
        app.queue
            .publish_event(&TaskEvent::for_envelope(&envelope, status))
            .await
            .unwrap();
    }
    wait_for_index(&app, 24).await;

    let figures = app.get_json("/api/v1/analytics").await;
    assert_eq!(figures["total"], 24);
    assert_eq!(figures["by_status"]["succeeded"], 15);
    assert_eq!(figures["by_status"]["failed"], 5);
    assert_eq!(figures["by_status"]["running"], 4);
    assert_eq!(figures["by_provider"]["github"], 12);
    assert_eq!(figures["success_rate"], 0.75);
    assert_eq!(figures["duration"]["count"], 20);
    assert_eq!(figures["duration"]["p50_ms"], 10_000);
    assert_eq!(figures["duration"]["p95_ms"], 19_000);
    assert!((figures["total_cost_usd"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    assert_eq!(figures["total_input_tokens"], 20 * 1000);
    let hourly: i64 = figures["counts_per_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum();
    assert_eq!(hourly, 24);
    assert!(figures["counts_per_hour"].as_array().unwrap().len() >= 24);
    let cost_rows = figures["cost_per_day"].as_array().unwrap();
    assert!(
        cost_rows
            .iter()
            .all(|r| r["scope"] == "octo/repo" || r["scope"] == "C42")
    );
    assert_eq!(figures["queue"]["in_flight"], 0);
    assert_eq!(figures["queue"]["dead_lettered"], 0);
    assert!(figures["queue"]["waiting"]["normal"].is_number());

    let narrow = app
        .get_json(&format!(
            "/api/v1/analytics?since={}",
            (now - Duration::minutes(150))
                .to_rfc3339()
                .replace('+', "%2B")
        ))
        .await;
    assert_eq!(narrow["total"], 2);
    let empty = app
        .get_json(&format!(
            "/api/v1/analytics?until={}",
            (now - Duration::days(400)).to_rfc3339().replace('+', "%2B")
        ))
        .await;
    assert_eq!(empty["total"], 0);
    let no_cost = empty["total_cost_usd"].as_f64().unwrap();
    assert!(no_cost == 0.0 && no_cost.is_sign_positive(), "{no_cost}");
    let bad = app
        .get("/api/v1/analytics?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z")
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn analytics_add_up_on_sqlite() {
    analytics_add_up(Db::Sqlite).await;
}
