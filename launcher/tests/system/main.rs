//! The whole trip across separate processes: signed webhook → gateway → Redis → agent worker →
//! provider services → task log (all seven files) → dashboard, for every provider; and a worker killed mid-task.

mod close_the_loop;
mod harness;

use std::time::Duration;

use harness::{System, eventually};
use reqwest::StatusCode;
use serde_json::Value;

const TRIP_TIMEOUT: Duration = Duration::from_secs(90);

pub const SAMPLES: [(&str, &str); 4] = [
    ("github", "issue-comment"),
    ("slack", "app-mention"),
    ("jira", "comment-created"),
    ("sentry", "issue-created"),
];

fn read_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn kinds(lines: &[Value], field: &str) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l[field].as_str().map(str::to_owned))
        .collect()
}

/// `expected` appear in `actual` in this order (other entries may come between them).
fn in_order(actual: &[String], expected: &[&str]) -> bool {
    let mut rest = actual.iter();
    expected.iter().all(|want| rest.any(|got| got == want))
}

pub async fn wait_for_status(system: &System, task_id: &str, wanted: &str) -> Value {
    eventually(
        TRIP_TIMEOUT,
        &format!("{task_id} to be {wanted}"),
        || async {
            let (status, body) = system
                .dashboard_get(&format!("/api/v1/tasks/{task_id}"))
                .await;
            let current = body["status"]
                .as_str()
                .or_else(|| body["summary"]["status"].as_str())
                .or_else(|| body["metadata"]["status"].as_str());
            (status == StatusCode::OK && current == Some(wanted)).then_some(body)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_provider_trip_ends_succeeded_in_the_dashboard_with_its_whole_trail() {
    let system = System::start(2, Vec::new()).await;
    let mut task_ids = Vec::new();
    for (provider, sample) in SAMPLES {
        let (status, answer) = system
            .send(provider, sample, "@agent explain src/main.rs")
            .await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "{provider}: {answer}\n{}",
            system.service_logs()
        );
        let task_id = answer["task_id"].as_str().expect("a task id").to_owned();
        task_ids.push((provider, task_id));
    }
    for (provider, task_id) in &task_ids {
        wait_for_status(&system, task_id, "succeeded").await;
        let dir = system.task_dir(task_id);
        for file in [
            "metadata.json",
            "01-input.json",
            "02-webhook-flow.jsonl",
            "03-queue-flow.jsonl",
            "04-agent-output.jsonl",
            "05-microservices-flow.jsonl",
            "06-final-result.json",
        ] {
            assert!(
                dir.join(file).exists(),
                "{provider}: {file} missing in {}",
                dir.display()
            );
        }
        let webhook = kinds(&read_lines(&dir.join("02-webhook-flow.jsonl")), "stage");
        assert!(
            in_order(
                &webhook,
                &[
                    "received",
                    "validation",
                    "parsing",
                    "command_matching",
                    "task_created",
                    "queue_push"
                ]
            ),
            "{provider}: webhook stages {webhook:?}"
        );
        let queue = kinds(&read_lines(&dir.join("03-queue-flow.jsonl")), "type");
        assert!(
            in_order(&queue, &["queued", "dequeued", "worker_assigned"]),
            "{provider}: queue events {queue:?}"
        );
        let agent = kinds(&read_lines(&dir.join("04-agent-output.jsonl")), "type");
        assert!(
            agent.iter().any(|t| t == "message"),
            "{provider}: agent output {agent:?}"
        );
        let result: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("06-final-result.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(result["success"], true, "{provider}: {result}");

        let (status, combined) = system
            .dashboard_get(&format!("/api/v1/tasks/{task_id}/logs"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let served = combined.to_string();
        for line in read_lines(&dir.join("04-agent-output.jsonl")) {
            assert!(
                served.contains(&line["ts"].as_str().unwrap_or_default().to_string()),
                "{provider}: the dashboard's trail lacks {line}"
            );
        }
    }
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_whose_worker_is_killed_finishes_once_on_the_other_worker() {
    let mut system = System::start(2, vec![("AGENT_LEASE", "2s".to_owned())]).await;
    let (status, answer) = system
        .send(
            "github",
            "issue-comment",
            "@agent explain slowly [demo-pace-ms=1500]",
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let task_id = answer["task_id"].as_str().expect("a task id").to_owned();
    let dir = system.task_dir(&task_id);

    let first_worker = eventually(TRIP_TIMEOUT, "a worker to take the task", || async {
        let metadata: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("metadata.json")).ok()?).ok()?;
        (metadata["status"] == "running")
            .then(|| metadata["worker"].as_str().map(str::to_owned))
            .flatten()
    })
    .await;
    let index = usize::from(first_worker != "agent-container");
    system.kill_agent(index);

    wait_for_status(&system, &task_id, "succeeded").await;
    let queue = read_lines(&dir.join("03-queue-flow.jsonl"));
    let types = kinds(&queue, "type");
    assert!(
        types.iter().any(|t| t == "reclaimed"),
        "no reclaim in {types:?}"
    );
    let assigned: Vec<&Value> = queue
        .iter()
        .filter(|l| l["type"] == "worker_assigned")
        .collect();
    assert!(assigned.len() >= 2, "{types:?}");
    assert_ne!(assigned.last().unwrap()["worker"], first_worker.as_str());
    let results = read_lines(&dir.join("04-agent-output.jsonl"))
        .into_iter()
        .filter(|l| l["type"] == "result")
        .count();
    assert!(
        results <= 1,
        "the agent finished more than once: {results} results"
    );
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("06-final-result.json")).unwrap())
            .unwrap();
    assert_eq!(result["success"], true);
    assert!(result["attempts"].as_u64().unwrap_or(0) >= 2, "{result}");
    system.stop().await;
}
