//! GitHub deliveries: comments, reviews, and issues/PRs opened with the mention in their body.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use contracts::{Actor, Provider, SourceRef, TaskEnvelope};
use serde::Deserialize;

use crate::configuration::Settings;
use crate::delivery::{
    self, FORM, JSON, Standing, TaskRequest, Triage, Trust, VerifiedDelivery, reason,
};
use crate::error::WebhookError;
use crate::mention;

pub const EVENT_HEADER: &str = "x-github-event";
pub const DELIVERY_HEADER: &str = "x-github-delivery";
pub const HOOK_ID_HEADER: &str = "x-github-hook-id";

/// Events that can carry a command; every other event is ignored before its body is parsed.
const COMMAND_EVENTS: [&str; 5] = [
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review_comment",
    "pull_request_review",
];

/// Texts are borrowed from the body where they hold no escapes: an issue or pull request's body (often the
/// larger part of a 10–25 KB delivery) is not copied just to be looked at once.
#[derive(Debug, Deserialize)]
struct Payload<'a> {
    action: Option<String>,
    sender: Option<User>,
    repository: Option<Repository>,
    #[serde(borrow)]
    issue: Option<Item<'a>>,
    #[serde(borrow)]
    pull_request: Option<Item<'a>>,
    #[serde(borrow)]
    comment: Option<Item<'a>>,
    #[serde(borrow)]
    review: Option<Item<'a>>,
    #[serde(borrow)]
    changes: Option<Changes<'a>>,
}

#[derive(Debug, Deserialize)]
struct User {
    login: String,
    id: u64,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Repository {
    full_name: String,
}

/// An issue, pull request, comment or review: the fields they share.
#[derive(Debug, Deserialize)]
struct Item<'a> {
    id: Option<u64>,
    number: Option<u64>,
    #[serde(borrow)]
    body: Option<Cow<'a, str>>,
    html_url: Option<String>,
    author_association: Option<String>,
    /// Present on issues that are pull requests.
    pull_request: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct Changes<'a> {
    #[serde(borrow)]
    body: Option<ChangedText<'a>>,
}

#[derive(Debug, Deserialize)]
struct ChangedText<'a> {
    #[serde(borrow)]
    from: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct FormBody {
    payload: String,
}

pub fn triage(
    settings: &Settings,
    delivery: VerifiedDelivery<'_>,
    parsed_at: &mut DateTime<Utc>,
) -> Result<Triage, WebhookError> {
    let media_type = delivery.media_type();
    if media_type != JSON && media_type != FORM {
        return Err(WebhookError::UnsupportedMediaType(media_type));
    }
    let event = delivery.required_header(EVENT_HEADER)?;
    let delivery_id = delivery.required_header(DELIVERY_HEADER)?;
    if event == "ping" {
        return Ok(Triage::Ignored(reason::PING));
    }
    if !COMMAND_EVENTS.contains(&event) {
        return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT));
    }
    let form: FormBody;
    let json = if media_type == FORM {
        form = serde_urlencoded::from_bytes(delivery.body).map_err(|e| {
            WebhookError::MalformedBody(format!("form body without `payload`: {e}"))
        })?;
        form.payload.as_bytes()
    } else {
        delivery.body
    };
    let payload: Payload<'_> = delivery::parse_payload(json)?;
    *parsed_at = Utc::now();

    let action = payload.action.as_deref().unwrap_or("");
    let (item, kind) = match (event, action) {
        ("issue_comment", "created" | "edited") => (payload.comment.as_ref(), "issue_comment"),
        ("issues", "opened") => (payload.issue.as_ref(), "issue"),
        ("pull_request", "opened") => (payload.pull_request.as_ref(), "pull_request"),
        ("pull_request_review_comment", "created" | "edited") => {
            (payload.comment.as_ref(), "pull_request_review_comment")
        }
        ("pull_request_review", "submitted" | "edited") => {
            (payload.review.as_ref(), "pull_request_review")
        }
        _ => return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT)),
    };
    let (Some(item), Some(sender), Some(repository)) =
        (item, payload.sender.as_ref(), payload.repository.as_ref())
    else {
        return Err(WebhookError::MalformedBody(format!(
            "`{event}.{action}` without its {kind}, sender or repository"
        )));
    };
    let thread = payload.issue.as_ref().or(payload.pull_request.as_ref());
    let Some(number) = thread.and_then(|t| t.number) else {
        return Err(WebhookError::MalformedBody(format!(
            "`{event}.{action}` names no issue or pull request"
        )));
    };

    if sender.kind.as_deref() == Some("Bot") {
        return Ok(Triage::Ignored(reason::BOT_ACTOR));
    }
    let text = item.body.as_deref().unwrap_or("");
    let trigger = settings.agent_trigger.as_str();
    let Some(after_mention) = mention::text_after_trigger(text, trigger) else {
        return Ok(Triage::Ignored(reason::NOT_A_COMMAND));
    };
    if action == "edited" {
        let before = payload.changes.as_ref().and_then(|c| c.body.as_ref());
        if before.is_none_or(|before| mention::mentions(&before.from, trigger)) {
            return Ok(Triage::Ignored(reason::EDIT_WITHOUT_NEW_MENTION));
        }
    }
    let sender_id = sender.id.to_string();
    let standing = match delivery::judge_actor(
        &settings.github.rules,
        &[&sender.login, &sender_id],
        Some(&repository.full_name),
    ) {
        Ok(standing) => standing,
        Err(why) => return Ok(Triage::Ignored(why)),
    };
    let association = item
        .author_association
        .as_deref()
        .unwrap_or("NONE")
        .to_ascii_uppercase();
    let trust = if standing == Standing::AllowListed
        || settings.github.trusted_associations.contains(&association)
    {
        Trust::Trusted
    } else {
        Trust::AskRepositoryPermission
    };
    let parsed = mention::parse_command(after_mention);

    let is_pull_request =
        payload.pull_request.is_some() || thread.is_some_and(|t| t.pull_request.is_some());
    let comment_id = match kind {
        "issue" | "pull_request" => None,
        _ => item.id.map(|id| id.to_string()),
    };
    let hook_id = delivery.header(HOOK_ID_HEADER).unwrap_or("");
    Ok(Triage::Task(Box::new(TaskRequest {
        provider: Provider::Github,
        event: format!("{event}.{action}"),
        command: parsed.command,
        instruction: parsed.instruction,
        text: text.to_owned(),
        actor: Actor {
            id: sender_id,
            login: Some(sender.login.clone()),
            display_name: None,
            kind: "user".to_owned(),
        },
        source: SourceRef {
            repo: Some(repository.full_name.clone()),
            number: Some(number),
            is_pull_request: Some(is_pull_request),
            comment_id,
            comment_kind: Some(kind.to_owned()),
            url: item.html_url.clone(),
            ..SourceRef::default()
        },
        conversation_key: TaskEnvelope::github_conversation(&repository.full_name, number),
        also_in_conversation: None,
        delivery_ids: vec![format!("{hook_id}:{delivery_id}")],
        trust,
    })))
}
