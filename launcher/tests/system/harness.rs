//! Starts the whole system as separate processes of the built binaries — fake providers, the four
//! provider services, the gateway, agent workers and the dashboard — against the real Redis (a unique
//! key prefix) and real PostgreSQL (fresh databases), and speaks to it over HTTP.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use launcher::local::{self, DATA_OWNING_SERVICES, Databases, Ports, Topology};
use launcher::up::{self, Running};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

pub struct System {
    pub topology: Topology,
    pub running: Vec<Running>,
    pub http: reqwest::Client,
    pg_prefix: String,
    _data: tempfile::TempDir,
}

/// Ports handed to the systems of this test process. The kernel may give a port that was free a moment
/// ago to the next `bind(0)`: two systems on one port would talk to each other's services.
static GIVEN_PORTS: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// Claims `port` for this process's systems; false when one of them has it already.
fn claim(port: u16) -> bool {
    GIVEN_PORTS.lock().expect("port registry").insert(port)
}

fn free_port() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        if claim(port) {
            return port;
        }
    }
}

fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_agw"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    for name in [
        "fake-providers",
        "github-service",
        "jira-service",
        "slack-service",
        "sentry-service",
        "api-gateway",
        "agent-container",
        "dashboard-api",
    ] {
        assert!(
            dir.join(name).exists(),
            "{name} is not built in {}: run the tests with `cargo test --workspace` (it builds every binary)",
            dir.display()
        );
    }
    dir
}

impl System {
    /// Starts everything with `agent_replicas` workers; `agent_env` is added to every worker's environment.
    pub async fn start(agent_replicas: usize, agent_env: Vec<(&'static str, String)>) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let unique = uuid::Uuid::now_v7().simple().to_string();
        let pg_prefix = format!("e2e_{}", &unique[unique.len() - 12..]);
        let mut admin = sqlx::PgConnection::connect(&format!("{POSTGRES}/postgres"))
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)");
        for service in DATA_OWNING_SERVICES {
            let name = local::database_name(&pg_prefix, service);
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create database");
        }
        let ports = Ports {
            gateway: free_port(),
            github: free_port(),
            jira: free_port(),
            slack: free_port(),
            sentry: free_port(),
            agent: free_port(),
            dashboard: free_port(),
            fake_providers: free_port(),
        };
        let mut agent_ports = ports;
        // Replicas listen on consecutive ports: find a base whose neighbours are free too.
        agent_ports.agent = loop {
            let base = free_port();
            let all_free = (1..agent_replicas).all(|n| {
                let port = base + u16::try_from(n).unwrap_or(0);
                std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() && claim(port)
            });
            if all_free {
                break base;
            }
        };
        let topology = Topology {
            data_dir: data.path().to_path_buf(),
            bin_dir: bin_dir(),
            ports: agent_ports,
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_key_prefix: format!("e2e:{unique}:"),
            databases: Databases::Postgres {
                base: POSTGRES.to_owned(),
                name_prefix: pg_prefix.clone(),
            },
            agent_replicas,
            agent_env,
        };
        let log_dir = data.path().join("service-logs");
        std::fs::create_dir_all(&log_dir).expect("log dir");
        let services = topology.services();
        let mut running = Vec::new();
        for spec in &services {
            running.push(up::start(spec, &topology.bin_dir, &log_dir).expect("start a service"));
        }
        let system = Self {
            topology,
            running,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            pg_prefix,
            _data: data,
        };
        if let Err(e) = up::wait_healthy(&services).await {
            panic!("{e}\n{}", system.service_logs());
        }
        system
    }

    pub fn url(&self, port: u16) -> String {
        self.topology.url(port)
    }

    pub fn gateway(&self) -> String {
        self.url(self.topology.ports.gateway)
    }

    pub fn dashboard(&self) -> String {
        self.url(self.topology.ports.dashboard)
    }

    pub fn fake_providers(&self) -> String {
        self.topology.fake_providers_url()
    }

    pub fn task_dir(&self, task_id: &str) -> PathBuf {
        self.topology.data_dir.join("logs/tasks").join(task_id)
    }

    /// Sends a signed sample webhook; returns the gateway's status and answer.
    pub async fn send(&self, provider: &str, sample: &str, text: &str) -> (StatusCode, Value) {
        let unique = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or_default()
            % 1_000_000_000;
        let built =
            launcher::samples::build(provider, sample, text, unique).expect("a known sample");
        let body = serde_json::to_vec(&built.body).expect("json");
        let headers = launcher::send::signed_headers(
            provider,
            built.event,
            &body,
            local::WEBHOOK_SECRET,
            chrono::Utc::now().timestamp(),
        );
        let response = self
            .http
            .post(format!("{}/webhooks/{provider}", self.gateway()))
            .headers(headers)
            .body(body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }

    /// GET on the dashboard API with its service token.
    pub async fn dashboard_get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.dashboard()))
            .send()
            .await
            .expect("the dashboard answers");
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }

    /// The fake providers' recorded requests of one provider, oldest first.
    pub async fn recorded_requests(&self, provider: &str) -> Vec<Value> {
        self.http
            .get(format!(
                "{}/_fake/requests?provider={provider}",
                self.fake_providers()
            ))
            .send()
            .await
            .expect("fake providers answer")
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| {
                v.as_array()
                    .cloned()
                    .or_else(|| v["requests"].as_array().cloned())
            })
            .unwrap_or_default()
    }

    /// SIGKILL one agent replica (`index` 0 is the first).
    pub fn kill_agent(&mut self, index: usize) {
        let name = if index == 0 {
            "agent-container".to_owned()
        } else {
            format!("agent-container-{}", index + 1)
        };
        let process = self
            .running
            .iter()
            .find(|r| r.name == name)
            .expect("that replica runs");
        let pid = process
            .child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .expect("a pid");
        kill(Pid::from_raw(pid), Signal::SIGKILL).expect("SIGKILL");
    }

    /// Every service's log, for a failing test's message.
    pub fn service_logs(&self) -> String {
        let dir = self.topology.data_dir.join("service-logs");
        let mut out = String::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                out.push_str(&format!(
                    "\n--- {} ---\n",
                    entry.file_name().to_string_lossy()
                ));
                for line in tail.into_iter().rev() {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Stops every process and drops the databases.
    pub async fn stop(self) {
        let pg_prefix = self.pg_prefix.clone();
        up::stop_all(self.running).await;
        if let Ok(mut admin) = sqlx::PgConnection::connect(&format!("{POSTGRES}/postgres")).await {
            for service in DATA_OWNING_SERVICES {
                let name = local::database_name(&pg_prefix, service);
                let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }
}

/// Polls `probe` every 200 ms until it returns `Some`, or panics after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
