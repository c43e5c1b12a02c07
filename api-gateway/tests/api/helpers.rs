//! Spawning the real gateway on a free port against the real Redis, with its own key prefix and log dir,
//! and playing each provider: building, signing and sending deliveries.

use std::net::SocketAddr;
use std::path::PathBuf;

use api_gateway::configuration::Settings;
use api_gateway::signature::hmac_sha256_hex;
use api_gateway::startup::Application;
use contracts::{LogFile, RedisKeys, TaskEnvelope, TaskEvent, TaskId, TaskLogWriter};
use deadpool_redis::redis::{self, Commands};
use secrecy::SecretString;
use serde_json::{Value, json};
use service_kit::service_client::ServiceUrls;
use wiremock::MockServer;

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const GITHUB_SECRET: &str = "github-test-secret";
pub const SLACK_SECRET: &str = "slack-test-secret";
pub const JIRA_SECRET: &str = "jira-test-secret";
pub const JIRA_TOKEN: &str = "jira-server-token";
pub const SENTRY_SECRET: &str = "sentry-test-secret";
pub const SLACK_BOT_USER: &str = "UBOT1";
pub const JIRA_AGENT_ACCOUNT: &str = "agent-account-1";
/// The gateway's bearer token at the provider services.
pub const SERVICE_TOKEN: &str = "gateway-token-0123456789";
pub const DASHBOARD_URL: &str = "http://dashboard.example";
/// Nothing listens there (the discard port): a provider service that is down.
pub const DOWN_SERVICE_URL: &str = "http://127.0.0.1:9";

pub struct TestApp {
    pub address: String,
    pub keys: RedisKeys,
    pub logs: tempfile::TempDir,
    pub client: reqwest::Client,
    redis_url: String,
}

fn secrets(list: &[&str]) -> Vec<SecretString> {
    list.iter()
        .map(|s| SecretString::from((*s).to_owned()))
        .collect()
}

/// Settings every test starts from: all four providers configured, an isolated prefix, port 0.
pub fn test_settings(redis_url: &str, logs: &std::path::Path) -> Settings {
    let mut settings = Settings::from_env().expect("the default settings are valid");
    settings.common.bind_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.common.redis_url = redis_url.to_owned();
    settings.common.redis_key_prefix = format!("test:{}:", uuid::Uuid::new_v4());
    settings.common.task_logs_dir = logs.to_path_buf();
    settings.github.secrets = secrets(&[GITHUB_SECRET]);
    settings.slack.secrets = secrets(&[SLACK_SECRET]);
    settings.jira.secrets = secrets(&[JIRA_SECRET]);
    settings.jira.query_tokens = secrets(&[JIRA_TOKEN]);
    settings.sentry.secrets = secrets(&[SENTRY_SECRET]);
    settings.slack.rules.agent_accounts = [SLACK_BOT_USER.to_lowercase()].into();
    settings.jira.rules.agent_accounts = [JIRA_AGENT_ACCOUNT.to_lowercase()].into();
    settings.queue_metrics_interval_seconds = 1;
    settings.service_urls = ServiceUrls {
        github: DOWN_SERVICE_URL.to_owned(),
        jira: DOWN_SERVICE_URL.to_owned(),
        slack: DOWN_SERVICE_URL.to_owned(),
        sentry: DOWN_SERVICE_URL.to_owned(),
    };
    settings.service_token = Some(SecretString::from(SERVICE_TOKEN.to_owned()));
    settings.service_call_attempts = 1;
    settings.dashboard_public_url = DASHBOARD_URL.to_owned();
    settings
}

/// Fake provider services (github-, slack-, jira-, sentry-service), answering in our services' shapes.
pub struct ProviderServices {
    pub github: MockServer,
    pub slack: MockServer,
    pub jira: MockServer,
    pub sentry: MockServer,
}

impl ProviderServices {
    pub async fn start() -> Self {
        Self {
            github: MockServer::start().await,
            slack: MockServer::start().await,
            jira: MockServer::start().await,
            sentry: MockServer::start().await,
        }
    }

    pub fn urls(&self) -> ServiceUrls {
        ServiceUrls {
            github: self.github.uri(),
            slack: self.slack.uri(),
            jira: self.jira.uri(),
            sentry: self.sentry.uri(),
        }
    }
}

/// The app with its provider services played by wiremock servers.
pub async fn spawn_app_with_services(
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, ProviderServices) {
    let services = ProviderServices::start().await;
    let urls = services.urls();
    let app = spawn_app_with(|settings| {
        settings.service_urls = urls;
        configure(settings);
    })
    .await;
    (app, services)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(REDIS_URL, configure).await
}

pub async fn spawn_app_on(redis_url: &str, configure: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        service_kit::telemetry::init_tracing("api-gateway-test").keep_for_process();
    }
    let logs = tempfile::tempdir().unwrap();
    let mut settings = test_settings(redis_url, logs.path());
    configure(&mut settings);
    let keys = RedisKeys::new(settings.common.redis_key_prefix.clone());
    let application = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        keys,
        logs,
        client: reqwest::Client::new(),
        redis_url: redis_url.to_owned(),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let pattern = format!("{}*", self.keys.prefix());
        if let Ok(mut connection) =
            redis::Client::open(self.redis_url.as_str()).and_then(|c| c.get_connection())
        {
            let doomed: Vec<String> = connection
                .scan_match::<_, String>(&pattern)
                .map(|keys| keys.filter_map(Result::ok).collect())
                .unwrap_or_default();
            if !doomed.is_empty() {
                let _: redis::RedisResult<()> = connection.del(doomed);
            }
        }
    }
}

/// A delivery about to be sent: path, headers and the exact body bytes.
pub struct Delivery {
    pub path: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }
}

pub fn github_delivery(event: &str, payload: &Value) -> Delivery {
    github_raw(event, payload.to_string().into_bytes(), "application/json")
}

pub fn github_raw(event: &str, body: Vec<u8>, content_type: &str) -> Delivery {
    let signature = format!("sha256={}", hmac_sha256_hex(GITHUB_SECRET, &[&body]));
    Delivery {
        path: "/webhooks/github",
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-github-event".into(), event.into()),
            ("x-github-delivery".into(), uuid::Uuid::new_v4().to_string()),
            ("x-github-hook-id".into(), "4242".into()),
            ("x-hub-signature-256".into(), signature),
            ("user-agent".into(), "GitHub-Hookshot/test".into()),
        ],
        body,
    }
}

pub fn slack_raw(body: Vec<u8>, content_type: &str, timestamp: i64) -> Delivery {
    let ts = timestamp.to_string();
    let signature = format!(
        "v0={}",
        hmac_sha256_hex(SLACK_SECRET, &[b"v0:", ts.as_bytes(), b":", &body])
    );
    Delivery {
        path: "/webhooks/slack",
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-slack-request-timestamp".into(), ts),
            ("x-slack-signature".into(), signature),
        ],
        body,
    }
}

pub fn slack_delivery(payload: &Value) -> Delivery {
    slack_raw(
        payload.to_string().into_bytes(),
        "application/json",
        chrono::Utc::now().timestamp(),
    )
}

/// A Slack slash command (`/agent <text>`) in the form Slack posts it.
pub fn slack_slash_command(channel: &str, user: &str, text: &str, trigger_id: &str) -> Delivery {
    let form = serde_urlencoded::to_string([
        ("token", "x"),
        ("team_id", "T1"),
        ("team_domain", "t"),
        ("channel_id", channel),
        ("channel_name", "dev"),
        ("user_id", user),
        ("user_name", "ada"),
        ("command", "/agent"),
        ("text", text),
        ("response_url", "https://hooks.slack.com/commands/1"),
        ("trigger_id", trigger_id),
    ])
    .unwrap();
    slack_raw(
        form.into_bytes(),
        "application/x-www-form-urlencoded",
        chrono::Utc::now().timestamp(),
    )
}

pub fn jira_raw(body: Vec<u8>) -> Delivery {
    let signature = format!("sha256={}", hmac_sha256_hex(JIRA_SECRET, &[&body]));
    Delivery {
        path: "/webhooks/jira",
        headers: vec![
            (
                "content-type".into(),
                "application/json; charset=UTF-8".into(),
            ),
            (
                "x-atlassian-webhook-identifier".into(),
                uuid::Uuid::new_v4().to_string(),
            ),
            ("x-hub-signature".into(), signature),
        ],
        body,
    }
}

pub fn jira_delivery(payload: &Value) -> Delivery {
    jira_raw(payload.to_string().into_bytes())
}

pub fn sentry_raw(resource: &str, body: Vec<u8>) -> Delivery {
    let signature = hmac_sha256_hex(SENTRY_SECRET, &[&body]);
    Delivery {
        path: "/webhooks/sentry",
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("sentry-hook-resource".into(), resource.into()),
            (
                "sentry-hook-timestamp".into(),
                chrono::Utc::now().timestamp().to_string(),
            ),
            ("request-id".into(), uuid::Uuid::new_v4().to_string()),
            ("sentry-hook-signature".into(), signature),
        ],
        body,
    }
}

pub fn sentry_delivery(resource: &str, payload: &Value) -> Delivery {
    sentry_raw(resource, payload.to_string().into_bytes())
}

/// The answer: status, headers and the JSON body (or the text wrapped as a JSON string).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn task_id(&self) -> TaskId {
        self.body["task_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no task_id in {}", self.body))
            .parse()
            .unwrap()
    }

    pub fn assert_ignored(&self, reason: &str) {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.body, json!({"status": "ignored", "reason": reason}));
    }

    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert!(self.body["message"].is_string(), "{}", self.body);
    }
}

impl TestApp {
    pub async fn send(&self, delivery: &Delivery) -> Answer {
        self.send_to(delivery, delivery.path).await
    }

    pub async fn send_to(&self, delivery: &Delivery, path: &str) -> Answer {
        let mut request = self.client.post(format!("{}{}", self.address, path));
        for (name, value) in &delivery.headers {
            request = request.header(name, value);
        }
        let response = request
            .body(delivery.body.clone())
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub fn redis(&self) -> redis::Connection {
        redis::Client::open(self.redis_url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// Every envelope on every task stream.
    pub fn queued_envelopes(&self) -> Vec<TaskEnvelope> {
        let mut connection = self.redis();
        let mut envelopes = Vec::new();
        for stream in self.keys.task_streams() {
            let reply: redis::streams::StreamRangeReply = connection.xrange_all(&stream).unwrap();
            for entry in reply.ids {
                let raw: String = entry.get("envelope").expect("an envelope field");
                envelopes.push(TaskEnvelope::decode(raw.as_bytes()).expect("a readable envelope"));
            }
        }
        envelopes
    }

    pub fn envelope(&self, task_id: &TaskId) -> TaskEnvelope {
        self.queued_envelopes()
            .into_iter()
            .find(|e| &e.task_id == task_id)
            .unwrap_or_else(|| panic!("{task_id} is not on a task stream"))
    }

    pub fn task_events(&self) -> Vec<TaskEvent> {
        let mut connection = self.redis();
        let reply: redis::streams::StreamRangeReply =
            connection.xrange_all(self.keys.task_events()).unwrap();
        reply
            .ids
            .into_iter()
            .map(|entry| {
                let raw: String = entry.get("event").unwrap();
                serde_json::from_str(&raw).unwrap()
            })
            .collect()
    }

    pub fn task_dir(&self, task_id: &TaskId) -> PathBuf {
        self.logs.path().join(task_id.to_string())
    }

    /// The names of the task directories under the log root.
    pub fn task_dirs(&self) -> Vec<String> {
        std::fs::read_dir(self.logs.path())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn log_lines(&self, task_id: &TaskId, file: LogFile) -> Vec<Value> {
        std::fs::read_to_string(self.task_dir(task_id).join(file.file_name()))
            .unwrap_or_else(|e| panic!("{}: {e}", file.file_name()))
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    pub fn log_json(&self, task_id: &TaskId, file: LogFile) -> Value {
        let raw = std::fs::read_to_string(self.task_dir(task_id).join(file.file_name())).unwrap();
        serde_json::from_str(&raw).unwrap()
    }

    /// Checks the whole log directory of a queued task: metadata, input, every webhook stage in order,
    /// and `queued` in the queue flow.
    pub fn assert_task_logged(&self, task_id: &TaskId) {
        let metadata = self.log_json(task_id, LogFile::Metadata);
        assert_eq!(metadata["task_id"], task_id.to_string());
        assert_eq!(metadata["status"], "queued");
        assert_eq!(metadata["envelope"]["task_id"], task_id.to_string());
        let input = self.log_json(task_id, LogFile::Input);
        assert_eq!(input["task_id"], task_id.to_string());
        assert!(input["request"]["command"].is_string());
        let stages: Vec<String> = self
            .log_lines(task_id, LogFile::WebhookFlow)
            .iter()
            // The acknowledgement runs after the answer and may or may not have logged yet.
            .filter(|line| line["stage"] != "immediate_response")
            .map(|line| {
                assert_eq!(line["task_id"], task_id.to_string());
                assert_eq!(line["service"], "api-gateway");
                line["stage"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(
            stages,
            [
                "received",
                "validation",
                "parsing",
                "command_matching",
                "task_created",
                "queue_push"
            ]
        );
        let times: Vec<String> = self
            .log_lines(task_id, LogFile::WebhookFlow)
            .iter()
            .map(|l| l["ts"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "stages out of order: {times:?}"
        );
        let queue = self.log_lines(task_id, LogFile::QueueFlow);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0]["type"], "queued");
    }

    /// Waits (up to 10 s) for the first line of `kind` in one of the task's JSONL files.
    pub async fn wait_for_line(&self, task_id: &TaskId, file: LogFile, kind: &str) -> Value {
        let field = file.kind_field();
        for _ in 0..200 {
            let path = self.task_dir(task_id).join(file.file_name());
            let found = std::fs::read_to_string(&path).ok().and_then(|text| {
                text.lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .find(|l| l[field] == kind)
            });
            if let Some(line) = found {
                return line;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no `{kind}` in {} of {task_id}", file.file_name())
    }

    /// A Redis string, if set.
    pub fn redis_get(&self, key: &str) -> Option<String> {
        self.redis().get(key).unwrap()
    }

    /// The task log as a worker writes it (another component's writer, same files).
    pub fn worker_log(&self) -> TaskLogWriter {
        TaskLogWriter::new(self.logs.path(), "agent-container")
    }

    /// Plays the worker that ended the task's run with `status`.
    pub fn finish_task(&self, task_id: &TaskId, status: contracts::TaskStatus) {
        let writer = self.worker_log();
        let mut metadata = writer.read_metadata(task_id).unwrap();
        metadata.status = status;
        metadata.updated_at = chrono::Utc::now();
        writer
            .write_json(task_id, LogFile::Metadata, &metadata)
            .unwrap();
    }

    pub fn assert_queued_event(&self, task_id: &TaskId) {
        let events = self.task_events();
        let event = events
            .iter()
            .find(|e| &e.task_id == task_id)
            .unwrap_or_else(|| panic!("no task event for {task_id}"));
        assert_eq!(event.status, contracts::TaskStatus::Queued);
    }
}

/// A GitHub `issue_comment` payload in the shape of GitHub's docs.
pub fn github_comment(body: &str, association: &str, login: &str, sender_type: &str) -> Value {
    json!({
        "action": "created",
        "issue": {
            "number": 12,
            "title": "Flaky test",
            "html_url": "https://github.com/octo/repo/issues/12",
            "user": {"login": "octocat", "id": 1, "type": "User"},
            "author_association": "OWNER",
            "body": "the issue body"
        },
        "comment": {
            "id": 987654,
            "html_url": "https://github.com/octo/repo/issues/12#issuecomment-987654",
            "body": body,
            "author_association": association,
            "user": {"login": login, "id": 5150, "type": sender_type}
        },
        "repository": {"id": 1296269, "full_name": "octo/repo", "name": "repo", "owner": {"login": "octo", "id": 1}},
        "sender": {"login": login, "id": 5150, "type": sender_type}
    })
}

/// A Slack `app_mention` Events API body.
pub fn slack_app_mention(text: &str, user: &str, event_id: &str) -> Value {
    json!({
        "token": "legacy",
        "team_id": "T123",
        "api_app_id": "A123",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_700_000_000,
        "event": {
            "type": "app_mention",
            "text": text,
            "user": user,
            "ts": "1700000000.000100",
            "channel": "C123",
            "team": "T123",
            "event_ts": "1700000000.000100"
        }
    })
}

/// A Jira Cloud `comment_created` body.
pub fn jira_comment(body: &str, account_id: &str) -> Value {
    json!({
        "timestamp": 1_700_000_000_000_i64,
        "webhookEvent": "comment_created",
        "comment": {
            "self": "https://example.atlassian.net/rest/api/2/issue/10040/comment/10019",
            "id": "10019",
            "author": {"accountId": account_id, "displayName": "Ada", "active": true, "accountType": "atlassian"},
            "updateAuthor": {"accountId": account_id, "displayName": "Ada", "active": true, "accountType": "atlassian"},
            "body": body,
            "created": "2024-02-15T19:11:18.321-0800",
            "updated": "2024-02-15T19:11:18.321-0800"
        },
        "issue": {
            "id": "10040",
            "self": "https://example.atlassian.net/rest/api/2/issue/10040",
            "key": "TES-41",
            "fields": {"summary": "Checkout fails", "project": {"key": "TES", "name": "Test"}}
        }
    })
}

/// A Sentry `issue.created` body as Sentry sends it.
pub fn sentry_issue_created() -> Value {
    json!({
        "action": "created",
        "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},
        "data": {"issue": {
            "id": "1170820242",
            "shortId": "FRONT-END-9",
            "title": "ReferenceError: blooopy is not defined",
            "culprit": "?(runner)",
            "web_url": "https://sentry.io/organizations/test-org/issues/1170820242/",
            "project": {"id": "1", "name": "front-end", "slug": "front-end"}
        }},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"}
    })
}
