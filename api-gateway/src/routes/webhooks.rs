//! `POST /webhooks/{github,slack,jira,sentry}`: verify, read, and queue or answer.

use std::time::Instant;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use contracts::webhook::WebhookAnswer;
use contracts::{ErrorBody, Provider, TaskId};
use serde_json::json;
use service_kit::trace_context::{RequestContext, TraceContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::control;
use crate::delivery::{StageTimes, TaskRequest, Triage, Trust, VerifiedDelivery, reason};
use crate::error::WebhookError;
use crate::intake::{self, ReceivedRequest};
use crate::providers;
use crate::signature::SignedRequest;
use crate::state::AppState;
use crate::telemetry;

pub const TAG: &str = "webhooks";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(github))
        .routes(routes!(slack))
        .routes(routes!(jira))
        .routes(routes!(sentry))
}

/// Receive a GitHub webhook delivery.
///
/// Subscribe to issue comments, issues, pull requests, pull request reviews and review comments.
/// `@agent <command> <text>` from an OWNER, MEMBER or COLLABORATOR becomes a task.
#[utoipa::path(
    post,
    path = "/webhooks/github",
    tag = TAG,
    params(
        ("X-Hub-Signature-256" = String, Header, description = "`sha256=` + hex HMAC-SHA256 of the raw body with `GITHUB_WEBHOOK_SECRET`"),
        ("X-GitHub-Event" = String, Header, description = "Event name, e.g. `issue_comment`, `ping`"),
        ("X-GitHub-Delivery" = String, Header, description = "Delivery GUID (kept by redeliveries); deduplicates with X-GitHub-Hook-ID"),
        ("X-GitHub-Hook-ID" = Option<String>, Header, description = "The webhook's id"),
    ),
    request_body(description = "The event payload, as JSON or as a form with a `payload` field", content(
        ("application/json"),
        ("application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 202, description = "A task was queued, or `@agent retry` re-queued one (`requeued`)", body = WebhookAnswer, example = json!({"status": "queued", "task_id": "task-01934f5e-8c7a-7b3e-9c1d-2f4a5b6c7d8e"})),
        (status = 200, description = "A duplicate (with the original task id), `cancel_requested` for `@agent cancel`, or an ignored delivery (`ping`, not a command, untrusted actor, bot, rate limited, nothing to cancel, ...)", body = WebhookAnswer),
        (status = 400, description = "Malformed body or a missing header", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature, or the provider is not configured", body = ErrorBody),
        (status = 413, description = "Body over `MAX_BODY_BYTES`", body = ErrorBody),
        (status = 415, description = "Content type other than JSON or form", body = ErrorBody),
        (status = 503, description = "Redis is unreachable; redeliver after `Retry-After` seconds", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    context: Option<Extension<RequestContext>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    receive(state, Provider::Github, headers, query, context, body).await
}

/// Receive a Slack Events API request, slash command or interactive payload.
///
/// `url_verification` is answered with its challenge. `app_mention`, direct messages to the bot and the
/// slash command (`SLACK_SLASH_COMMAND`) become tasks.
#[utoipa::path(
    post,
    path = "/webhooks/slack",
    tag = TAG,
    params(
        ("X-Slack-Signature" = String, Header, description = "`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` with `SLACK_SIGNING_SECRET`"),
        ("X-Slack-Request-Timestamp" = String, Header, description = "Unix seconds; more than 5 minutes from now is refused"),
        ("X-Slack-Retry-Num" = Option<String>, Header, description = "Set on Slack's retries; deduplicated by `event_id`"),
    ),
    request_body(description = "Events API JSON, or a form (slash command, `payload=` interaction)", content(
        ("application/json"),
        ("application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 202, description = "A task was queued, or `@agent retry` re-queued one (`requeued`)", body = WebhookAnswer),
        (status = 200, description = "`{\"challenge\": …}` for url_verification, a duplicate, `cancel_requested`, or an ignored delivery", body = WebhookAnswer),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature, stale or future timestamp, or not configured", body = ErrorBody),
        (status = 413, description = "Body over `MAX_BODY_BYTES`", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody, headers(("Retry-After" = u64))),
    )
)]
async fn slack(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    context: Option<Extension<RequestContext>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    receive(state, Provider::Slack, headers, query, context, body).await
}

/// Receive a Jira webhook.
///
/// Jira Cloud signs with `X-Hub-Signature: sha256=…` (`JIRA_WEBHOOK_SECRET`); Jira Server/Data Center sends
/// `?token=…` in the URL instead (`JIRA_WEBHOOK_TOKEN`). Comments created/updated and issues created that
/// mention the agent become tasks.
#[utoipa::path(
    post,
    path = "/webhooks/jira",
    tag = TAG,
    params(
        ("X-Hub-Signature" = Option<String>, Header, description = "Jira Cloud: `sha256=` + hex HMAC-SHA256 of the raw body"),
        ("X-Atlassian-Webhook-Identifier" = Option<String>, Header, description = "Delivery id, kept by retries; deduplicates"),
        ("token" = Option<String>, Query, description = "Jira Server/Data Center shared token"),
    ),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses(
        (status = 202, description = "A task was queued, or `@agent retry` re-queued one (`requeued`)", body = WebhookAnswer),
        (status = 200, description = "A duplicate, an ignored delivery, or `cancel_requested` for `@agent cancel`", body = WebhookAnswer),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature or token, or not configured", body = ErrorBody),
        (status = 413, description = "Body over `MAX_BODY_BYTES`", body = ErrorBody),
        (status = 415, description = "Content type other than JSON", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody, headers(("Retry-After" = u64))),
    )
)]
async fn jira(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    context: Option<Extension<RequestContext>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    receive(state, Provider::Jira, headers, query, context, body).await
}

/// Receive a Sentry integration-platform webhook.
///
/// `SENTRY_TRIGGER_RULES` (default `issue.created` and `event_alert.triggered`) start `investigate` tasks;
/// an issue comment mentioning the agent starts the command it names.
#[utoipa::path(
    post,
    path = "/webhooks/sentry",
    tag = TAG,
    params(
        ("Sentry-Hook-Signature" = String, Header, description = "Bare hex HMAC-SHA256 of the raw body with `SENTRY_CLIENT_SECRET`"),
        ("Sentry-Hook-Resource" = String, Header, description = "`issue`, `event_alert`, `comment`, `installation`, …"),
        ("Request-ID" = Option<String>, Header, description = "Delivery id; deduplicates"),
    ),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses(
        (status = 202, description = "A task was queued, or `@agent retry` re-queued one (`requeued`)", body = WebhookAnswer),
        (status = 200, description = "A duplicate, an ignored delivery, or `cancel_requested` for `@agent cancel`", body = WebhookAnswer),
        (status = 400, description = "Malformed body or missing `Sentry-Hook-Resource`", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature, or not configured", body = ErrorBody),
        (status = 413, description = "Body over `MAX_BODY_BYTES`", body = ErrorBody),
        (status = 415, description = "Content type other than JSON", body = ErrorBody),
        (status = 503, description = "Redis is unreachable", body = ErrorBody, headers(("Retry-After" = u64))),
    )
)]
async fn sentry(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    context: Option<Extension<RequestContext>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    receive(state, Provider::Sentry, headers, query, context, body).await
}

/// The one path every provider's delivery takes.
async fn receive(
    state: AppState,
    provider: Provider,
    headers: HeaderMap,
    query: Option<String>,
    context: Option<Extension<RequestContext>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let task_id = TaskId::new();
    tracing::Span::current().record("task_id", tracing::field::display(&task_id));
    let trace = context.map_or_else(TraceContext::new_root, |Extension(c)| c.trace);
    let result = handle(
        &state,
        provider,
        task_id,
        &headers,
        query.as_deref(),
        body,
        &trace,
    )
    .await;
    let (outcome, response) = match result {
        Ok(Handled::Answer(answer)) => {
            let (status, outcome) = match &answer {
                WebhookAnswer::Queued { .. } => (StatusCode::ACCEPTED, "queued"),
                WebhookAnswer::Duplicate { task_id } => {
                    tracing::info!(original_task_id = %task_id, "duplicate delivery");
                    (StatusCode::OK, "duplicate")
                }
                WebhookAnswer::Ignored { reason } => {
                    // The request's one log line (its span's) carries the reason.
                    tracing::Span::current().record("reason", reason.as_str());
                    (StatusCode::OK, "ignored")
                }
                WebhookAnswer::CancelRequested { .. } => (StatusCode::OK, "cancel_requested"),
                WebhookAnswer::Requeued { .. } => (StatusCode::ACCEPTED, "requeued"),
            };
            (outcome, (status, Json(answer)).into_response())
        }
        Ok(Handled::Challenge(challenge)) => (
            "challenge",
            Json(json!({ "challenge": challenge })).into_response(),
        ),
        Err(error) => {
            tracing::warn!(%error, "webhook refused");
            (error.outcome(), error.into_response())
        }
    };
    tracing::Span::current().record("outcome", outcome);
    telemetry::record_webhook(provider, outcome, started.elapsed());
    response
}

enum Handled {
    Answer(WebhookAnswer),
    Challenge(String),
}

async fn handle(
    state: &AppState,
    provider: Provider,
    task_id: TaskId,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Result<Bytes, BytesRejection>,
    trace: &TraceContext,
) -> Result<Handled, WebhookError> {
    let received = Utc::now();
    if !state.settings.is_configured(provider) {
        return Err(WebhookError::NotConfigured(provider));
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebhookError::PayloadTooLarge {
                limit: state.settings.max_body_bytes,
            }
        } else {
            WebhookError::UnreadableBody(rejection.body_text())
        }
    })?;
    state.verifier(provider).verify(&SignedRequest {
        headers,
        query,
        body: &body,
    })?;
    let validated = Utc::now();
    let mut parsed = validated;
    let delivery = VerifiedDelivery {
        headers,
        body: &body,
    };
    let triage = providers::triage(provider, &state.settings, delivery, &mut parsed)?;
    let matched = Utc::now();
    match triage {
        Triage::Challenge(challenge) => Ok(Handled::Challenge(challenge)),
        Triage::Ignored(reason) => {
            telemetry::record_ignored(provider, reason);
            Ok(Handled::Answer(WebhookAnswer::Ignored {
                reason: reason.to_owned(),
            }))
        }
        Triage::Task(mut request) => {
            request.trust = resolve_trust(state, &request, trace).await;
            if request.command.is_control() {
                let trusted = request.trust == Trust::Trusted;
                return control::handle(state, *request, trusted, trace)
                    .await
                    .map(Handled::Answer);
            }
            if !request.trust.may_start_tasks() {
                telemetry::record_ignored(provider, reason::UNTRUSTED_ACTOR);
                tracing::Span::current().record("actor", request.actor.id.as_str());
                return Ok(Handled::Answer(WebhookAnswer::Ignored {
                    reason: reason::UNTRUSTED_ACTOR.to_owned(),
                }));
            }
            let times = StageTimes {
                received,
                validated,
                parsed,
                matched,
            };
            let seen = ReceivedRequest::new(headers, query, body.len());
            intake::create_task(state, task_id, *request, times, seen, trace)
                .await
                .map(Handled::Answer)
        }
    }
}

/// Settles trust that needs the provider: a GitHub actor without a trusted `author_association` is trusted
/// when github-service says they may write to the repository.
async fn resolve_trust(state: &AppState, request: &TaskRequest, trace: &TraceContext) -> Trust {
    if request.trust != Trust::AskRepositoryPermission {
        return request.trust;
    }
    let (Some(repo), Some(login)) = (
        request.source.repo.as_deref(),
        request.actor.login.as_deref(),
    ) else {
        return Trust::Untrusted;
    };
    if state.permissions.can_write(repo, login, trace).await {
        Trust::Trusted
    } else {
        Trust::Untrusted
    }
}
