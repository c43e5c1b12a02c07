//! How the gateway and the workers call the provider services (github-, jira-, slack-, sentry-service).
//!
//! Every call carries the caller's bearer `SERVICE_TOKEN`, `X-Task-Id` when there is a task, a child
//! `traceparent`, and an `Idempotency-Key` when the caller gives one (derive it with [`idempotency_key`]
//! from the task, its run and the step, so a reclaimed worker repeats a call harmlessly and a retry run never
//! gets the failed run's answer). Calls that got no answer (connection refused or reset, timeout) and
//! answers 502/503/504 are retried with backoff; without a key only calls that never reached the service
//! are. A call that got no answer at all is recorded as `service_error` in the task's
//! `05-microservices-flow.jsonl` by the caller: the service itself logs every call it answered.

use std::time::Duration;

use contracts::headers::{IDEMPOTENCY_KEY, TASK_ID, TRACEPARENT};
use contracts::{ErrorBody, LogFile, Provider, TaskId, TaskLogWriter};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::configuration::{self, ConfigError, HumanDuration, parse_or};
use crate::trace_context::TraceContext;

/// The provider services' base URLs, from `<PROVIDER>_SERVICE_URL`.
#[derive(Debug, Clone)]
pub struct ServiceUrls {
    pub github: String,
    pub jira: String,
    pub slack: String,
    pub sentry: String,
}

impl ServiceUrls {
    /// `GITHUB_SERVICE_URL` (default `http://127.0.0.1:8081`), `JIRA_SERVICE_URL` (8082),
    /// `SLACK_SERVICE_URL` (8083), `SENTRY_SERVICE_URL` (8084).
    pub fn from_env() -> Self {
        let url = |name: &str, port: u16| {
            configuration::var(name)
                .unwrap_or_else(|| format!("http://127.0.0.1:{port}"))
                .trim_end_matches('/')
                .to_owned()
        };
        Self {
            github: url("GITHUB_SERVICE_URL", 8081),
            jira: url("JIRA_SERVICE_URL", 8082),
            slack: url("SLACK_SERVICE_URL", 8083),
            sentry: url("SENTRY_SERVICE_URL", 8084),
        }
    }

    pub fn of(&self, provider: Provider) -> &str {
        match provider {
            Provider::Github => &self.github,
            Provider::Jira => &self.jira,
            Provider::Slack => &self.slack,
            Provider::Sentry => &self.sentry,
        }
    }
}

/// `{task_id}:{run}:{step}`: the same for a repeat of one step of one run, different for a retry run.
pub fn idempotency_key(task_id: &TaskId, run: u32, step: &str) -> String {
    format!("{task_id}:{run}:{step}")
}

/// One call to a provider service.
#[derive(Debug, Clone)]
pub struct ServiceCall {
    pub provider: Provider,
    pub method: Method,
    /// The path under the service, e.g. `/api/v1/github/repos/o/r/issues/1/comments`.
    pub path: String,
    pub body: Option<Value>,
    pub task_id: Option<TaskId>,
    pub idempotency_key: Option<String>,
}

impl ServiceCall {
    pub fn new(provider: Provider, method: Method, path: impl Into<String>) -> Self {
        Self {
            provider,
            method,
            path: path.into(),
            body: None,
            task_id: None,
            idempotency_key: None,
        }
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Ties the call to a task: `X-Task-Id`, and `Idempotency-Key` = [`idempotency_key`]`(task, run, step)`.
    pub fn for_task(mut self, task_id: TaskId, run: u32, step: &str) -> Self {
        self.task_id = Some(task_id);
        self.idempotency_key = Some(idempotency_key(&task_id, run, step));
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceCallError {
    #[error("{service} gave no answer: {error}")]
    NoAnswer { service: String, error: String },
    #[error("{service} answered {status}: {} ({})", body.message, body.code)]
    Refused {
        service: String,
        status: StatusCode,
        body: ErrorBody,
    },
    #[error("{service} answered something unreadable: {error}")]
    Malformed { service: String, error: String },
}

impl ServiceCallError {
    /// Worth trying again later (the service was down or overloaded), as opposed to a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::NoAnswer { .. } => true,
            Self::Refused { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::Malformed { .. } => false,
        }
    }
}

/// Calls the provider services on behalf of one component.
#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    urls: ServiceUrls,
    token: Option<SecretString>,
    logs: TaskLogWriter,
    max_attempts: u32,
    backoff: Duration,
}

impl ServiceClient {
    /// `SERVICE_TOKEN` (the caller's bearer token), `<PROVIDER>_SERVICE_URL`, `SERVICE_CALL_TIMEOUT`
    /// (default `10s` per attempt), `SERVICE_CALL_ATTEMPTS` (default 3). `logs` writes `service_error` lines
    /// as the calling component.
    pub fn from_env(logs: TaskLogWriter) -> Result<Self, ConfigError> {
        let timeout = parse_or(
            "SERVICE_CALL_TIMEOUT",
            HumanDuration(Duration::from_secs(10)),
        )?
        .0;
        let max_attempts: u32 = parse_or("SERVICE_CALL_ATTEMPTS", 3)?;
        let token = configuration::secret("SERVICE_TOKEN")?.map(SecretString::from);
        Ok(Self::new(
            ServiceUrls::from_env(),
            token,
            logs,
            timeout,
            max_attempts.max(1),
        ))
    }

    pub fn new(
        urls: ServiceUrls,
        token: Option<SecretString>,
        logs: TaskLogWriter,
        timeout: Duration,
        max_attempts: u32,
    ) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2).min(timeout))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .expect("a client without custom TLS roots always builds");
        Self {
            http,
            urls,
            token,
            logs,
            max_attempts,
            backoff: Duration::from_millis(250),
        }
    }

    pub fn urls(&self) -> &ServiceUrls {
        &self.urls
    }

    /// Sends `call`, retrying as the module doc says, and decodes the answer.
    pub async fn send<T: DeserializeOwned>(
        &self,
        call: &ServiceCall,
        trace: &TraceContext,
    ) -> Result<T, ServiceCallError> {
        let service = format!("{}-service", call.provider);
        let url = format!("{}{}", self.urls.of(call.provider), call.path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(call.method.clone(), &url)
                .header(TRACEPARENT, trace.child().to_string());
            if let Some(token) = &self.token {
                request = request.bearer_auth(token.expose_secret());
            }
            if let Some(task_id) = &call.task_id {
                request = request.header(TASK_ID, task_id.to_string());
            }
            if let Some(key) = &call.idempotency_key {
                request = request.header(IDEMPOTENCY_KEY, key);
            }
            if let Some(body) = &call.body {
                request = request.json(body);
            }
            let outcome = request.send().await;
            let retryable = match &outcome {
                Err(e) => call.idempotency_key.is_some() || e.is_connect(),
                Ok(response) => {
                    call.idempotency_key.is_some()
                        && matches!(
                            response.status(),
                            StatusCode::BAD_GATEWAY
                                | StatusCode::SERVICE_UNAVAILABLE
                                | StatusCode::GATEWAY_TIMEOUT
                        )
                }
            };
            if retryable && attempt < self.max_attempts {
                tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
                continue;
            }
            return match outcome {
                Err(error) => {
                    let error = error.to_string();
                    self.record_no_answer(call, &service, &error, attempt);
                    Err(ServiceCallError::NoAnswer { service, error })
                }
                Ok(response) => decode(service, response).await,
            };
        }
    }

    fn record_no_answer(&self, call: &ServiceCall, service: &str, error: &str, attempts: u32) {
        let Some(task_id) = &call.task_id else { return };
        let line = json!({
            "target": service, "method": call.method.as_str(), "path": call.path,
            "error": error, "attempts": attempts,
        });
        if let Err(e) = self
            .logs
            .append(task_id, LogFile::MicroservicesFlow, "service_error", line)
        {
            tracing::warn!(error = %e, %task_id, "could not write service_error to the task log");
        }
    }
}

async fn decode<T: DeserializeOwned>(
    service: String,
    response: reqwest::Response,
) -> Result<T, ServiceCallError> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ServiceCallError::NoAnswer {
            service: service.clone(),
            error: e.to_string(),
        })?;
    if !status.is_success() {
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| {
            ErrorBody::new(
                "unexpected_answer",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(500)
                    .collect::<String>(),
            )
        });
        return Err(ServiceCallError::Refused {
            service,
            status,
            body,
        });
    }
    let bytes = if bytes.is_empty() {
        &b"null"[..]
    } else {
        &bytes[..]
    };
    serde_json::from_slice(bytes).map_err(|e| ServiceCallError::Malformed {
        service,
        error: e.to_string(),
    })
}
