//! The page in a real headless Chromium, driven through chromedriver's WebDriver protocol with reqwest.
//! Every request the browser makes is read from Chrome's performance log: one that leaves the page's
//! origin fails the test. Screenshots go to `target/test-artifacts/dashboard-api/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use contracts::task_log::LogFile;
use contracts::{Command, Provider, TaskStatus};
use serde_json::{Value, json};

use crate::helpers::{TestApp, envelope, spawn_app};
use crate::tasks::{produce_many, wait_for_index};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/dashboard-api");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Browser {
    driver: tokio::process::Child,
    http: reqwest::Client,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// `None` (and a message saying why) when Chromium or chromedriver is not installed.
    async fn start() -> Option<Self> {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            eprintln!(
                "SKIPPED: browser tests need Debian's chromium and chromium-driver \
                 (apt-get install -y chromium chromium-driver); {CHROMIUM} or {CHROMEDRIVER} is missing"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                    "--window-size=1440,1800", format!("--user-data-dir={}", profile.path().display()),
                ],
            },
            "goog:loggingPrefs": {"performance": "ALL", "browser": "ALL"},
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        Some(Self {
            driver,
            http,
            base,
            session,
            _profile: profile,
        })
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if answer["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn eval(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Polls `script` (returning a boolean) for up to 15 s.
    async fn wait_for(&self, what: &str, script: &str) {
        for _ in 0..150 {
            if self.eval(script).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.screenshot(&format!("failed-{}", what.replace(' ', "-")))
            .await;
        panic!("timed out waiting for {what}");
    }

    async fn screenshot(&self, name: &str) {
        let data = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::write(artifacts_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Every URL the browser requested since the last call.
    async fn requested_urls(&self) -> Vec<String> {
        let entries = self
            .command(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "performance"})),
            )
            .await;
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|entry| serde_json::from_str::<Value>(entry["message"].as_str()?).ok())
            .filter(|message| message["message"]["method"] == "Network.requestWillBeSent")
            .filter_map(|message| {
                message["message"]["params"]["request"]["url"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Fails on any request that left `origin`, and on any Content-Security-Policy refusal.
    async fn assert_stayed_on(&self, origin: &str) {
        let urls = self.requested_urls().await;
        assert!(
            !urls.is_empty(),
            "the performance log recorded no request at all"
        );
        let foreign: Vec<&String> = urls
            .iter()
            .filter(|url| {
                !url.starts_with(&format!("{origin}/"))
                    && !url.starts_with("data:")
                    && !url.starts_with("blob:")
            })
            .collect();
        assert!(
            foreign.is_empty(),
            "requests left the page's origin {origin}: {foreign:?}"
        );
        let console = self
            .command(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        let refused: Vec<&Value> = console
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["message"].as_str().is_some_and(|m| {
                    m.contains("Content Security Policy") || m.contains("Refused to")
                })
            })
            .collect();
        assert!(
            refused.is_empty(),
            "the page tried something its CSP refused: {refused:?}"
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.start_kill();
    }
}

async fn full_task(app: &TestApp) -> contracts::TaskEnvelope {
    let envelope = envelope(
        Provider::Github,
        Command::Fix,
        "the flaky login test",
        Utc::now(),
    );
    app.gateway_accepts(&envelope).await;
    app.worker_starts(&envelope).await;
    app.agent_works(&envelope);
    app.writer("agent-container")
        .append(
            &envelope.task_id,
            LogFile::AgentOutput,
            "error",
            json!({"error": "rate limited, retrying"}),
        )
        .unwrap();
    app.worker_finishes(&envelope, TaskStatus::Succeeded, 0.37, 84_000)
        .await;
    envelope
}

#[tokio::test]
async fn the_page_in_headless_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let origin = app.address.clone();

    // The origin check itself must be able to fail.
    browser
        .open("data:text/html,<img src='http://127.0.0.1:9/probe.png'>")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        browser
            .requested_urls()
            .await
            .iter()
            .any(|u| u.starts_with("http://127.0.0.1:9/"))
    );

    // The list loads, newest first, and filters.
    produce_many(&app, 40).await;
    let finished = full_task(&app).await;
    wait_for_index(&app, 41).await;
    browser.open(&app.url("/")).await;
    browser
        .wait_for(
            "the task list",
            "return document.querySelectorAll('#rows tr').length === 41",
        )
        .await;
    let first = browser
        .eval("return document.querySelector('#rows tr').dataset.taskId")
        .await;
    assert_eq!(first, finished.task_id.to_string());
    browser.screenshot("task-list").await;
    browser
        .open(&app.url("/?provider=slack&status=failed"))
        .await;
    browser
        .wait_for("the filtered list", "return document.querySelectorAll('#rows tr').length === 2 && [...document.querySelectorAll('#rows tr')].every(r => r.dataset.status === 'failed')")
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('select[name=provider]').value")
            .await,
        "slack"
    );
    browser.assert_stayed_on(&origin).await;

    // A task's timeline shows every stage, readable lines, collapsible tool input and output, errors marked.
    browser
        .open(&app.url(&format!("/tasks/{}", finished.task_id)))
        .await;
    browser
        .wait_for("every stage", "return document.querySelectorAll('.stage').length === 5 && document.querySelectorAll('.stage.missing').length === 0")
        .await;
    let lines = std::fs::read_dir(app.logs_dir.path().join(finished.task_id.to_string()))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
        .sum::<usize>();
    browser
        .wait_for(
            "every line",
            &format!("return document.querySelectorAll('.timeline .entry').length === {lines}"),
        )
        .await;
    for stream in [
        "webhook_flow",
        "queue_flow",
        "agent_output",
        "microservices_flow",
    ] {
        let count = browser
            .eval(&format!(
                "return document.querySelectorAll('.entry[data-stream={stream}]').length"
            ))
            .await;
        assert!(count.as_u64().unwrap() > 0, "{stream} on the timeline");
    }
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('.entry[data-kind=tool_call] details').length")
            .await,
        1
    );
    assert_eq!(
        browser
            .eval("return document.querySelector('.entry[data-kind=tool_result] details').open")
            .await,
        false
    );
    assert_eq!(browser.eval("return document.querySelector('.entry[data-kind=error]').classList.contains('error')").await, true);
    assert_eq!(
        browser
            .eval("return document.querySelector('#status .badge').dataset.status")
            .await,
        "succeeded"
    );
    let facts = browser
        .eval("return document.getElementById('facts').textContent")
        .await;
    let facts = facts.as_str().unwrap();
    assert!(facts.contains("$0.3700"), "{facts}");
    assert!(
        facts.contains("worker-1"),
        "a finished task names the worker that ran it: {facts}"
    );
    browser
        .eval("document.getElementById('expand').click(); return true")
        .await;
    browser.screenshot("task-timeline").await;
    browser.assert_stayed_on(&origin).await;

    // A running task updates live.
    let running = envelope(
        Provider::Slack,
        Command::Ask,
        "why is the build slow",
        Utc::now(),
    );
    app.gateway_accepts(&running).await;
    app.worker_starts(&running).await;
    browser
        .open(&app.url(&format!("/tasks/{}", running.task_id)))
        .await;
    browser
        .wait_for(
            "the live stream",
            "return document.getElementById('live').textContent === 'live'",
        )
        .await;
    browser
        .wait_for(
            "the running badge",
            "return document.querySelector('#status .badge').dataset.status === 'running'",
        )
        .await;
    let before = browser
        .eval("return document.querySelectorAll('.timeline .entry').length")
        .await
        .as_u64()
        .unwrap();
    app.agent_works(&running);
    browser
        .wait_for(
            "lines appended while watching",
            &format!(
                "return document.querySelectorAll('.timeline .entry').length === {}",
                before + 6
            ),
        )
        .await;
    browser.screenshot("task-live-running").await;
    app.worker_finishes(&running, TaskStatus::Failed, 0.05, 5_000)
        .await;
    browser
        .wait_for(
            "the final status",
            "return document.querySelector('#status .badge').dataset.status === 'failed'",
        )
        .await;
    browser
        .wait_for(
            "the end of the stream",
            "return document.getElementById('live').textContent === 'failed'",
        )
        .await;
    browser
        .wait_for(
            "the failed result stage",
            "return document.querySelector('.stage.result.failed') !== null",
        )
        .await;
    browser.screenshot("task-live-finished").await;
    browser.assert_stayed_on(&origin).await;

    // The overview draws its charts.
    browser.open(&app.url("/overview")).await;
    browser.wait_for("the charts", "return document.querySelectorAll('#chart-tasks svg rect').length > 0 && document.querySelectorAll('#cards .card').length === 7").await;
    browser.screenshot("overview").await;
    browser.assert_stayed_on(&origin).await;
}
