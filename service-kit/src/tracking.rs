//! The tracking-message protocol shared by the gateway (acknowledges and posts first) and the workers
//! (update the message as the task moves, and post it themselves when the gateway could not).
//!
//! Exactly one tracking message per task: the poster claims `tracking:{task_id}` with `SET NX` (a
//! short-lived claim), posts, then stores the [`TrackingMessage`] there; anyone who finds a claim waits
//! for the message, taking the claim over only when it expires (its holder died). Every post and update
//! goes through the provider's service with an `Idempotency-Key` from the task, so a repeat never posts
//! twice.

use std::time::Duration;

use crate::redis::Pool;
use contracts::tracking::{TrackingMessage, fit_to_limit, message_limit};
use contracts::{Provider, TaskEnvelope, TaskId};
use deadpool_redis::redis::AsyncCommands;
use reqwest::Method;
use serde_json::{Value, json};

use crate::service_client::{ServiceCall, ServiceCallError, ServiceClient};
use crate::trace_context::TraceContext;
use contracts::RedisKeys;

const CLAIM_PREFIX: &str = "claimed-by:";
/// How long a claim holds before another poster may take it over.
const CLAIM_TTL_SECONDS: u64 = 30;
/// How long the tracking message's location is kept.
const MESSAGE_TTL_SECONDS: u64 = 30 * 24 * 60 * 60;
const WAIT_FOR_CLAIM: Duration = Duration::from_secs(35);

#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error(transparent)]
    Call(#[from] ServiceCallError),
    #[error("redis: {0}")]
    Redis(String),
    #[error("the task's source names no place to answer ({0})")]
    NoPlace(&'static str),
    #[error("the provider service's answer lacks the message id")]
    NoMessageId,
}

impl From<deadpool_redis::redis::RedisError> for TrackingError {
    fn from(e: deadpool_redis::redis::RedisError) -> Self {
        Self::Redis(e.to_string())
    }
}

impl From<crate::redis::PoolError> for TrackingError {
    fn from(e: crate::redis::PoolError) -> Self {
        Self::Redis(e.to_string())
    }
}

#[derive(Clone)]
pub struct Tracker {
    client: ServiceClient,
    pool: Pool,
    keys: RedisKeys,
    dashboard_url: String,
}

impl Tracker {
    /// `dashboard_url` is `DASHBOARD_PUBLIC_URL`, for links to a task's page.
    pub fn new(
        client: ServiceClient,
        pool: Pool,
        keys: RedisKeys,
        dashboard_url: impl Into<String>,
    ) -> Self {
        Self {
            client,
            pool,
            keys,
            dashboard_url: dashboard_url.into().trim_end_matches('/').to_owned(),
        }
    }

    pub fn client(&self) -> &ServiceClient {
        &self.client
    }

    /// `{DASHBOARD_PUBLIC_URL}/tasks/{task_id}`.
    pub fn task_link(&self, task_id: &TaskId) -> String {
        format!("{}/tasks/{task_id}", self.dashboard_url)
    }

    /// The 👀 reaction on what carried the command (GitHub comment or issue/PR, Slack message); Jira and
    /// Sentry have none, their acknowledgement is the tracking comment.
    pub async fn react(
        &self,
        envelope: &TaskEnvelope,
        trace: &TraceContext,
    ) -> Result<bool, TrackingError> {
        let source = &envelope.source;
        let call = match envelope.provider {
            Provider::Github => {
                let repo = source
                    .repo
                    .as_deref()
                    .ok_or(TrackingError::NoPlace("repo"))?;
                let path = match (source.comment_kind.as_deref(), source.comment_id.as_deref()) {
                    (Some("issue_comment"), Some(id)) => {
                        format!("/api/v1/github/repos/{repo}/issues/comments/{id}/reactions")
                    }
                    (Some("pull_request_review_comment"), Some(id)) => {
                        format!("/api/v1/github/repos/{repo}/pulls/comments/{id}/reactions")
                    }
                    _ => {
                        let number = source
                            .number
                            .ok_or(TrackingError::NoPlace("issue number"))?;
                        format!("/api/v1/github/repos/{repo}/issues/{number}/reactions")
                    }
                };
                ServiceCall::new(Provider::Github, Method::POST, path)
                    .json(json!({"content": "eyes"}))
            }
            Provider::Slack => {
                let (Some(channel), Some(ts)) = (
                    source.slack_channel.as_deref(),
                    source.slack_message_ts.as_deref(),
                ) else {
                    return Err(TrackingError::NoPlace("slack channel and message"));
                };
                ServiceCall::new(Provider::Slack, Method::POST, "/api/v1/slack/reactions")
                    .json(json!({"channel": channel, "timestamp": ts, "name": "eyes"}))
            }
            Provider::Jira | Provider::Sentry => return Ok(false),
        };
        let call = call.for_task(envelope.task_id, envelope.run, "acknowledge-reaction");
        self.client.send::<Value>(&call, trace).await?;
        Ok(true)
    }

    /// Where the task's tracking message is, once posted.
    pub async fn current(
        &self,
        task_id: &TaskId,
    ) -> Result<Option<TrackingMessage>, TrackingError> {
        let mut connection = self.pool.get().await?;
        let value: Option<String> = connection.get(self.keys.tracking_message(task_id)).await?;
        Ok(value.and_then(|v| serde_json::from_str(&v).ok()))
    }

    /// Shows `text` in the task's tracking message: updates it when it exists, else claims and posts it.
    /// `step` names this change for its idempotency key (e.g. `started`, `progress-3`, `final`).
    /// Returns the message and whether this call posted it.
    pub async fn show(
        &self,
        envelope: &TaskEnvelope,
        text: &str,
        step: &str,
        poster: &str,
        trace: &TraceContext,
    ) -> Result<(TrackingMessage, bool), TrackingError> {
        let text = fit_to_limit(
            text,
            message_limit(envelope.provider),
            &self.task_link(&envelope.task_id),
        );
        let key = self.keys.tracking_message(&envelope.task_id);
        let deadline = tokio::time::Instant::now() + WAIT_FOR_CLAIM;
        loop {
            let mut connection = self.pool.get().await?;
            let claimed: bool = deadpool_redis::redis::cmd("SET")
                .arg(&key)
                .arg(format!("{CLAIM_PREFIX}{poster}"))
                .arg("NX")
                .arg("EX")
                .arg(CLAIM_TTL_SECONDS)
                .query_async::<Option<String>>(&mut connection)
                .await?
                .is_some();
            if claimed {
                // The post may take seconds of retries: holding a pooled connection through it would
                // starve everything else that shares the pool (the gateway's enqueues among them).
                drop(connection);
                let posted = self.post(envelope, &text, trace).await;
                let mut connection = self.pool.get().await?;
                return match posted {
                    Ok(message) => {
                        let stored =
                            serde_json::to_string(&message).expect("a tracking message serializes");
                        let _: () = connection.set_ex(&key, stored, MESSAGE_TTL_SECONDS).await?;
                        Ok((message, true))
                    }
                    Err(e) => {
                        let _: () = connection.del(&key).await?;
                        Err(e)
                    }
                };
            }
            let value: Option<String> = connection.get(&key).await?;
            drop(connection);
            match value
                .as_deref()
                .map(serde_json::from_str::<TrackingMessage>)
            {
                Some(Ok(message)) => {
                    self.update(envelope, &message, &text, step, trace).await?;
                    return Ok((message, false));
                }
                _ if tokio::time::Instant::now() > deadline => {
                    return Err(TrackingError::Redis(
                        "another poster holds the tracking claim".into(),
                    ));
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn post(
        &self,
        envelope: &TaskEnvelope,
        text: &str,
        trace: &TraceContext,
    ) -> Result<TrackingMessage, TrackingError> {
        let source = &envelope.source;
        let call = match envelope.provider {
            Provider::Github => {
                let repo = source
                    .repo
                    .as_deref()
                    .ok_or(TrackingError::NoPlace("repo"))?;
                let number = source
                    .number
                    .ok_or(TrackingError::NoPlace("issue number"))?;
                ServiceCall::new(
                    Provider::Github,
                    Method::POST,
                    format!("/api/v1/github/repos/{repo}/issues/{number}/comments"),
                )
                .json(json!({"body": text}))
            }
            Provider::Slack => {
                let channel = source
                    .slack_channel
                    .as_deref()
                    .ok_or(TrackingError::NoPlace("slack channel"))?;
                let mut body = json!({"channel": channel, "text": text});
                if let Some(thread) = source
                    .slack_thread_ts
                    .as_deref()
                    .or(source.slack_message_ts.as_deref())
                {
                    body["thread_ts"] = json!(thread);
                }
                ServiceCall::new(Provider::Slack, Method::POST, "/api/v1/slack/messages").json(body)
            }
            Provider::Jira => {
                let key = source
                    .jira_issue_key
                    .as_deref()
                    .ok_or(TrackingError::NoPlace("jira issue"))?;
                ServiceCall::new(
                    Provider::Jira,
                    Method::POST,
                    format!("/api/v1/jira/issues/{key}/comments"),
                )
                .json(json!({"body": text}))
            }
            Provider::Sentry => {
                let issue = source
                    .sentry_issue_id
                    .as_deref()
                    .ok_or(TrackingError::NoPlace("sentry issue"))?;
                ServiceCall::new(
                    Provider::Sentry,
                    Method::POST,
                    format!("/api/v1/sentry/issues/{issue}/comments"),
                )
                .json(json!({"text": text}))
            }
        };
        // One tracking message per task, whatever the run: the post's key does not change with the run.
        let call = call.for_task(envelope.task_id, 0, "tracking-post");
        let answer: Value = self.client.send(&call, trace).await?;
        let id_text = |field: &str| {
            answer[field]
                .as_str()
                .map(str::to_owned)
                .or_else(|| answer[field].as_u64().map(|n| n.to_string()))
        };
        let message = match envelope.provider {
            Provider::Github => TrackingMessage::Github {
                repo: source.repo.clone().unwrap_or_default(),
                comment_id: answer["id"].as_u64().ok_or(TrackingError::NoMessageId)?,
            },
            Provider::Slack => TrackingMessage::Slack {
                channel: id_text("channel").ok_or(TrackingError::NoMessageId)?,
                ts: id_text("ts").ok_or(TrackingError::NoMessageId)?,
            },
            Provider::Jira => TrackingMessage::Jira {
                issue_key: source.jira_issue_key.clone().unwrap_or_default(),
                comment_id: id_text("id").ok_or(TrackingError::NoMessageId)?,
            },
            Provider::Sentry => TrackingMessage::Sentry {
                issue_id: source.sentry_issue_id.clone().unwrap_or_default(),
                comment_id: id_text("id").ok_or(TrackingError::NoMessageId)?,
            },
        };
        Ok(message)
    }

    async fn update(
        &self,
        envelope: &TaskEnvelope,
        message: &TrackingMessage,
        text: &str,
        step: &str,
        trace: &TraceContext,
    ) -> Result<(), TrackingError> {
        let call = match message {
            TrackingMessage::Github { repo, comment_id } => ServiceCall::new(
                Provider::Github,
                Method::PATCH,
                format!("/api/v1/github/repos/{repo}/issues/comments/{comment_id}"),
            )
            .json(json!({"body": text})),
            TrackingMessage::Slack { channel, ts } => ServiceCall::new(
                Provider::Slack,
                Method::PUT,
                format!("/api/v1/slack/messages/{channel}/{ts}"),
            )
            .json(json!({"text": text})),
            TrackingMessage::Jira {
                issue_key,
                comment_id,
            } => ServiceCall::new(
                Provider::Jira,
                Method::PUT,
                format!("/api/v1/jira/issues/{issue_key}/comments/{comment_id}"),
            )
            .json(json!({"body": text})),
            TrackingMessage::Sentry {
                issue_id,
                comment_id,
            } => ServiceCall::new(
                Provider::Sentry,
                Method::PUT,
                format!("/api/v1/sentry/issues/{issue_id}/comments/{comment_id}"),
            )
            .json(json!({"text": text})),
        };
        let call = call.for_task(envelope.task_id, envelope.run, &format!("tracking-{step}"));
        self.client.send::<Value>(&call, trace).await?;
        Ok(())
    }
}
