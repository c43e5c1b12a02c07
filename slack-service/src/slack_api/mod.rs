//! Slack's Web API, called through service-kit's retrying client with the bot token.
//!
//! Every method's answer passes through [`SlackApi::answer`]: an `ok: false` answer (Slack's HTTP 200 error)
//! becomes the [`UpstreamError`] its code means, so it reaches the caller as the same answer a real HTTP
//! error would (404, 502 `upstream_unauthorized`, 503, 422 `upstream_rejected`).

pub mod wire;

use axum::http::{HeaderValue, Method, header};
use contracts::slack::{
    AddReactionRequest, DirectMessageChannel, MessageRef, OpenDirectMessageRequest,
    PostMessageRequest, ReactionAdded, ThreadReplies, UpdateMessageRequest,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use service_kit::call_log::CallContext;
use service_kit::http_client::{
    Idempotence, UpstreamClient, UpstreamError, UpstreamErrorKind, UpstreamResponse,
};

use self::wire::{FailureKind, SlackAnswer};

/// The provider's name in errors, logs and metrics.
pub const PROVIDER: &str = "Slack";

/// How long to wait when Slack says `ratelimited` in a body without a `Retry-After`.
const DEFAULT_RATE_LIMIT_SECONDS: u64 = 1;

/// `conversations.replies` page size when the caller does not choose one.
pub const DEFAULT_REPLIES_LIMIT: u32 = 200;

#[derive(Debug, Clone)]
pub struct SlackApi {
    http: UpstreamClient,
    base_url: String,
}

impl SlackApi {
    pub fn new(http: UpstreamClient, base_url: &str) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    fn url(&self, method: &str) -> String {
        format!("{}/{method}", self.base_url)
    }

    async fn post_json<B: Serialize>(
        &self,
        method: &str,
        body: &B,
        token: &SecretString,
        idempotence: Idempotence,
        context: &CallContext,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let body = serde_json::to_vec(body).map_err(|e| {
            UpstreamError::new(
                PROVIDER,
                UpstreamErrorKind::InvalidRequest {
                    reason: e.to_string(),
                },
            )
        })?;
        let request = self
            .http
            .request(Method::POST, &self.url(method))
            .bearer_auth(token.expose_secret())
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )
            .body(body);
        self.http.send(request, idempotence, context).await
    }

    /// The method's result, or the error an `ok: false` answer's code means.
    fn answer<T: DeserializeOwned>(&self, response: &UpstreamResponse) -> Result<T, UpstreamError> {
        self.check(response, &[])?;
        response.json()
    }

    /// `Ok(None)` for `ok: true`; `Ok(Some(code))` for an `ok: false` whose code is in `accepted`; otherwise
    /// the error the code means.
    fn check(
        &self,
        response: &UpstreamResponse,
        accepted: &[&str],
    ) -> Result<Option<String>, UpstreamError> {
        let envelope: SlackAnswer = response.json()?;
        if envelope.ok {
            return Ok(None);
        }
        let code = envelope.error.unwrap_or_else(|| "unknown_error".to_owned());
        if accepted.contains(&code.as_str()) {
            return Ok(Some(code));
        }
        let details: Vec<String> = envelope
            .response_metadata
            .map(|m| m.messages)
            .unwrap_or_default();
        let message = if details.is_empty() {
            code.clone()
        } else {
            format!("{code}: {}", details.join("; "))
        };
        let status = response.status.as_u16();
        let kind = match wire::classify(&code) {
            FailureKind::NotFound => UpstreamErrorKind::NotFound { message },
            FailureKind::Unauthorized => UpstreamErrorKind::Unauthorized { status, message },
            FailureKind::RateLimited => UpstreamErrorKind::RateLimited {
                retry_after_seconds: response
                    .headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(DEFAULT_RATE_LIMIT_SECONDS),
            },
            FailureKind::Unavailable => UpstreamErrorKind::ServerError { status, message },
            FailureKind::Rejected => UpstreamErrorKind::Rejected {
                status,
                message,
                body: serde_json::from_slice(&response.body).ok(),
            },
        };
        Err(UpstreamError::new(PROVIDER, kind))
    }

    /// `chat.postMessage`. Retried only when Slack surely did not post it (no connection, rate limit).
    pub async fn post_message(
        &self,
        request: &PostMessageRequest,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<MessageRef, UpstreamError> {
        let body = wire::PostMessage {
            channel: &request.channel,
            text: &request.text,
            thread_ts: request.thread_ts.as_deref(),
            reply_broadcast: request.reply_broadcast,
            blocks: request.blocks.as_deref(),
        };
        let response = self
            .post_json(
                "chat.postMessage",
                &body,
                token,
                Idempotence::Creates,
                context,
            )
            .await?;
        let posted: wire::MessagePosted = self.answer(&response)?;
        Ok(MessageRef {
            thread_ts: posted
                .message
                .and_then(|m| m.thread_ts)
                .or_else(|| request.thread_ts.clone()),
            channel: posted.channel,
            ts: posted.ts,
        })
    }

    /// `chat.update`.
    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        request: &UpdateMessageRequest,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<MessageRef, UpstreamError> {
        let body = wire::UpdateMessage {
            channel,
            ts,
            text: &request.text,
            blocks: request.blocks.as_deref(),
        };
        let response = self
            .post_json(
                "chat.update",
                &body,
                token,
                Idempotence::Idempotent,
                context,
            )
            .await?;
        let updated: wire::MessagePosted = self.answer(&response)?;
        Ok(MessageRef {
            thread_ts: updated.message.and_then(|m| m.thread_ts),
            channel: updated.channel,
            ts: updated.ts,
        })
    }

    /// `reactions.add`; `already_reacted` is success (adding a reaction twice changes nothing).
    pub async fn add_reaction(
        &self,
        request: &AddReactionRequest,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<ReactionAdded, UpstreamError> {
        let body = wire::AddReaction {
            channel: &request.channel,
            timestamp: &request.timestamp,
            name: &request.name,
        };
        let response = self
            .post_json(
                "reactions.add",
                &body,
                token,
                Idempotence::Idempotent,
                context,
            )
            .await?;
        let refusal = self.check(&response, &["already_reacted"])?;
        Ok(ReactionAdded {
            channel: request.channel.clone(),
            timestamp: request.timestamp.clone(),
            name: request.name.clone(),
            already_reacted: refusal.is_some(),
        })
    }

    /// `conversations.replies`: one page of a thread.
    pub async fn thread_replies(
        &self,
        channel: &str,
        thread_ts: &str,
        limit: u32,
        cursor: Option<&str>,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<ThreadReplies, UpstreamError> {
        let limit = limit.to_string();
        let mut query = vec![
            ("channel", channel),
            ("ts", thread_ts),
            ("limit", limit.as_str()),
        ];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let request = self
            .http
            .request(Method::GET, &self.url("conversations.replies"))
            .bearer_auth(token.expose_secret())
            .query(&query);
        let response = self
            .http
            .send(request, Idempotence::Idempotent, context)
            .await?;
        let replies: wire::Replies = self.answer(&response)?;
        Ok(ThreadReplies {
            channel: channel.to_owned(),
            thread_ts: thread_ts.to_owned(),
            messages: replies.messages.into_iter().map(Into::into).collect(),
            next_cursor: replies
                .response_metadata
                .and_then(|m| m.next_cursor)
                .filter(|c| !c.is_empty()),
        })
    }

    /// `conversations.open`: opening an open conversation returns it again.
    pub async fn open_direct_message(
        &self,
        request: &OpenDirectMessageRequest,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<DirectMessageChannel, UpstreamError> {
        let body = wire::OpenConversation {
            users: request.users.join(","),
        };
        let response = self
            .post_json(
                "conversations.open",
                &body,
                token,
                Idempotence::Idempotent,
                context,
            )
            .await?;
        let opened: wire::ConversationOpened = self.answer(&response)?;
        Ok(DirectMessageChannel {
            channel: opened.channel.id,
            already_open: opened.already_open,
        })
    }
}
