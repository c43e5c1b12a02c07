//! The request's closing log line, in a binary of its own: the test installs the process's subscriber (a
//! subscriber set for one thread misses lines while other tests register the same call sites at once).

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::sync::{Arc, Mutex};

use serde_json::Value;

use helpers::{github_comment, github_delivery, spawn_app};

/// Lines the bunyan subscriber wrote, kept in memory.
#[derive(Clone, Default)]
struct CapturedLines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLines {
    fn json(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn a_queued_delivery_closes_with_one_line_naming_its_command_priority_and_conversation() {
    let captured = CapturedLines::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(service_kit::telemetry::subscriber(
        "api-gateway-test",
        move || writer.clone(),
    ))
    .expect("this binary's only test installs the only subscriber");
    let app = spawn_app().await;
    let answer = app
        .send(&github_delivery(
            "issue_comment",
            &github_comment("@agent review the parser", "OWNER", "ada", "User"),
        ))
        .await;
    assert_eq!(answer.status, 202);
    let task_id = answer.task_id().to_string();

    let request_lines: Vec<Value> = captured
        .json()
        .into_iter()
        .filter(|line| line["task_id"] == task_id.as_str() && line["path"] == "/webhooks/github")
        .collect();
    assert_eq!(request_lines.len(), 1, "{request_lines:#?}");
    let line = &request_lines[0];
    assert_eq!(line["msg"], "[HTTP_REQUEST - END]");
    assert_eq!(line["outcome"], "queued");
    assert_eq!(line["status"], 202);
    assert_eq!(line["command"], "review");
    assert_eq!(
        line["priority"],
        app.envelope(&answer.task_id()).priority.as_str()
    );
    assert_eq!(
        line["conversation_key"],
        app.envelope(&answer.task_id()).conversation_key.as_str()
    );
}
