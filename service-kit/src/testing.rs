//! What the services' integration tests share (feature `testing`, which they enable in their
//! dev-dependencies): the callers' and admin tokens, isolated [`ProviderSettings`], an HTTP client for the
//! spawned app, and readers of what a wiremock provider received.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::caller_auth::CallerTokens;
use crate::configuration::CommonSettings;
use crate::http_client::UpstreamSettings;
use crate::provider_service::ProviderSettings;
use crate::vault::{EncryptionKey, KeyRing};

pub const GATEWAY_TOKEN: &str = "gateway-token-0123456789";
pub const AGENT_TOKEN: &str = "agent-token-0123456789";
pub const DASHBOARD_TOKEN: &str = "dashboard-token-0123456789";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";
pub const CALLER_TOKENS: &str = "gateway:gateway-token-0123456789,agent:agent-token-0123456789,dashboard:dashboard-token-0123456789";

/// Settings for one test of `service`: port 0, its own Redis key prefix and credentials key, task logs
/// and the SQLite database ([`database_path`]) in `dir`, retries fast.
pub fn provider_settings(service: &str, dir: &Path) -> ProviderSettings {
    ProviderSettings {
        common: CommonSettings {
            bind_addr: "127.0.0.1:0".parse().expect("a socket address"),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_key_prefix: format!("test:{:032x}:", rand::random::<u128>()),
            task_logs_dir: dir.join("logs"),
        },
        caller_tokens: CallerTokens::parse("CALLER_TOKENS", CALLER_TOKENS)
            .expect("the test tokens parse"),
        admin_token: Some(ADMIN_TOKEN.to_owned()),
        credentials_keys: KeyRing::new(
            EncryptionKey::from_bytes(&rand::random::<[u8; 32]>()),
            vec![],
        ),
        database_url: format!("sqlite://{}", database_path(service, dir).display()),
        upstream: UpstreamSettings {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            max_attempts: 4,
            backoff: Duration::from_millis(20),
        },
        call_deadline: Duration::from_secs(10),
        idempotency_ttl: Duration::from_secs(600),
    }
}

/// Where [`provider_settings`] puts `service`'s credential database.
pub fn database_path(service: &str, dir: &Path) -> PathBuf {
    dir.join(format!("{service}.db"))
}

/// Speaks HTTP to the app a test spawned.
pub struct TestClient {
    pub address: String,
    pub http: reqwest::Client,
}

impl TestClient {
    /// A client of the app listening on `port` of 127.0.0.1.
    pub fn new(port: u16) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("the app answers")
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("the app answers")
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the app answers")
    }

    /// The served `/openapi.json`.
    pub async fn openapi(&self) -> Value {
        self.http
            .get(self.url("/openapi.json"))
            .send()
            .await
            .expect("the app answers")
            .json()
            .await
            .expect("the OpenAPI document is JSON")
    }

    /// Every operation of the served OpenAPI document as `method path`, sorted.
    pub async fn openapi_operations(&self) -> Vec<String> {
        let spec = self.openapi().await;
        let mut operations: Vec<String> = spec["paths"]
            .as_object()
            .expect("the document has paths")
            .iter()
            .flat_map(|(path, methods)| {
                methods
                    .as_object()
                    .expect("a path's operations")
                    .keys()
                    .map(move |method| format!("{method} {path}"))
            })
            .collect();
        operations.sort();
        operations
    }

    /// The API contract as served equals `tests/api/openapi.snapshot.json` under `manifest_dir`, so that a
    /// change to it must be deliberate (`UPDATE_SNAPSHOTS=1` rewrites the snapshot).
    pub async fn assert_openapi_matches_snapshot(&self, manifest_dir: &str) {
        let served = serde_json::to_string_pretty(&self.openapi().await)
            .expect("the document serialises")
            + "\n";
        let snapshot_path = Path::new(manifest_dir).join("tests/api/openapi.snapshot.json");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&snapshot_path, &served).expect("the snapshot is written");
        }
        let snapshot = std::fs::read_to_string(&snapshot_path)
            .expect("the snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
        assert!(
            snapshot == served,
            "the OpenAPI document changed; if that is deliberate, rerun with UPDATE_SNAPSHOTS=1 and commit the snapshot"
        );
    }
}

/// An answer's status and JSON body, for one-line assertions.
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Asserts a 405 with the common JSON error body and an `Allow` header that names `allowed`.
pub async fn assert_method_not_allowed(response: reqwest::Response, allowed: &str) {
    let allow = response
        .headers()
        .get(reqwest::header::ALLOW)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["code"], "method_not_allowed", "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(
        allow.split(',').any(|method| method.trim() == allowed),
        "Allow: {allow:?}"
    );
}

/// The header the provider saw on a request.
pub fn header(request: &wiremock::Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().expect("a text header").to_owned())
        .unwrap_or_default()
}

/// The JSON body the provider received.
pub fn json_body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

/// A `redis-server` of the test's own on `port` (never the shared one), to stop and start again.
pub struct OwnRedis {
    child: std::process::Child,
}

impl OwnRedis {
    /// Starts it without persistence, keeping its files in `dir`, and waits until it accepts connections.
    pub async fn start(port: u16, dir: &Path) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child }
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("a bound address")
        .port()
}
