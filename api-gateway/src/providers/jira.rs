//! Jira deliveries: comments created or updated, and issues created.
//!
//! Jira Server sends a new comment twice (`comment_created`, and `jira:issue_updated` with
//! `issue_event_type_name = issue_commented`). Both name the same comment, so every comment delivery is also
//! deduplicated by `comment:{id}:{updated}`: whichever arrives first starts the task, the other is a duplicate.

use chrono::{DateTime, Utc};
use contracts::{Actor, Provider, SourceRef, TaskEnvelope};
use serde::Deserialize;
use serde_json::Value;

use crate::configuration::Settings;
use crate::delivery::{self, JSON, TaskRequest, Triage, Trust, VerifiedDelivery, reason};
use crate::error::WebhookError;
use crate::mention;

pub const WEBHOOK_IDENTIFIER_HEADER: &str = "x-atlassian-webhook-identifier";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    webhook_event: String,
    #[serde(rename = "issue_event_type_name")]
    issue_event_type_name: Option<String>,
    user: Option<User>,
    issue: Option<Issue>,
    comment: Option<Comment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    account_id: Option<String>,
    name: Option<String>,
    key: Option<String>,
    display_name: Option<String>,
    account_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Issue {
    key: String,
    #[serde(rename = "self")]
    self_url: Option<String>,
    fields: Option<IssueFields>,
}

#[derive(Debug, Deserialize)]
struct IssueFields {
    summary: Option<String>,
    description: Option<Value>,
    project: Option<Project>,
}

#[derive(Debug, Deserialize)]
struct Project {
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Comment {
    id: String,
    #[serde(rename = "self")]
    self_url: Option<String>,
    body: Option<Value>,
    author: Option<User>,
    update_author: Option<User>,
    created: Option<String>,
    updated: Option<String>,
}

pub fn triage(
    settings: &Settings,
    delivery: VerifiedDelivery<'_>,
    parsed_at: &mut DateTime<Utc>,
) -> Result<Triage, WebhookError> {
    let media_type = delivery.media_type();
    if media_type != JSON {
        return Err(WebhookError::UnsupportedMediaType(media_type));
    }
    let payload: Payload = delivery::parse_payload(delivery.body)?;
    *parsed_at = Utc::now();

    let kind = payload.issue_event_type_name.as_deref().unwrap_or("");
    let (text, actor, comment) = match (payload.webhook_event.as_str(), kind) {
        ("comment_created", _) | ("jira:issue_updated", "issue_commented") => {
            let comment = payload.comment.as_ref();
            (
                comment
                    .and_then(|c| c.body.as_ref())
                    .and_then(Value::as_str),
                comment
                    .and_then(|c| c.author.as_ref())
                    .or(payload.user.as_ref()),
                comment,
            )
        }
        ("comment_updated", _) | ("jira:issue_updated", "issue_comment_edited") => {
            let comment = payload.comment.as_ref();
            (
                comment
                    .and_then(|c| c.body.as_ref())
                    .and_then(Value::as_str),
                comment
                    .and_then(|c| c.update_author.as_ref().or(c.author.as_ref()))
                    .or(payload.user.as_ref()),
                comment,
            )
        }
        ("jira:issue_created", _) => (
            payload
                .issue
                .as_ref()
                .and_then(|i| i.fields.as_ref())
                .and_then(|f| f.description.as_ref())
                .and_then(Value::as_str),
            payload.user.as_ref(),
            None,
        ),
        _ => return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT)),
    };
    let Some(actor) = actor else {
        return Err(WebhookError::MalformedBody(format!(
            "`{}` names no author",
            payload.webhook_event
        )));
    };
    if actor.account_type.as_deref() == Some("app") {
        return Ok(Triage::Ignored(reason::BOT_ACTOR));
    }
    let text = text.unwrap_or("");
    let account_mentions: Vec<String> = settings
        .jira
        .rules
        .agent_accounts
        .iter()
        .flat_map(|account| [format!("[~accountid:{account}]"), format!("[~{account}]")])
        .collect();
    let after_mention = [
        mention::text_after_token(text, &account_mentions),
        mention::text_after_trigger(text, &settings.agent_trigger),
    ]
    .into_iter()
    .flatten()
    .max_by_key(|rest| rest.len());
    let Some(after_mention) = after_mention else {
        return Ok(Triage::Ignored(reason::NOT_A_COMMAND));
    };

    let (site, issue_key) = match (&payload.issue, comment) {
        (Some(issue), _) => (
            issue.self_url.as_deref().and_then(site_of),
            Some(issue.key.clone()),
        ),
        // Jira Server's comment_created carries no issue: its comment URL names the issue by id, which
        // Jira's API accepts wherever it takes a key.
        (None, Some(comment)) => {
            let url = comment.self_url.as_deref();
            (url.and_then(site_of), url.and_then(issue_id_in_comment_url))
        }
        (None, None) => (None, None),
    };
    let (Some(site), Some(issue_key)) = (site, issue_key) else {
        return Ok(Triage::Ignored(reason::MISSING_CONTEXT));
    };
    let project = payload
        .issue
        .as_ref()
        .and_then(|i| i.fields.as_ref())
        .and_then(|f| f.project.as_ref())
        .map(|p| p.key.clone())
        .or_else(|| {
            issue_key
                .split_once('-')
                .map(|(project, _)| project.to_owned())
        });
    let names: Vec<&str> = [&actor.account_id, &actor.name, &actor.key]
        .into_iter()
        .filter_map(|n| n.as_deref())
        .collect();
    let trust = match delivery::judge_actor(&settings.jira.rules, &names, project.as_deref()) {
        Ok(standing) => Trust::of_standing(standing),
        Err(why) => return Ok(Triage::Ignored(why)),
    };
    let parsed = mention::parse_command(after_mention);

    let mut delivery_ids = Vec::new();
    if let Some(identifier) = delivery
        .header(WEBHOOK_IDENTIFIER_HEADER)
        .filter(|v| !v.is_empty())
    {
        delivery_ids.push(identifier.to_owned());
    }
    if let Some(comment) = comment {
        let version = comment
            .updated
            .as_deref()
            .or(comment.created.as_deref())
            .unwrap_or("");
        delivery_ids.push(format!("comment:{site}:{}:{version}", comment.id));
    }
    let event = match kind {
        "" => payload.webhook_event.clone(),
        kind => format!("{}.{kind}", payload.webhook_event),
    };
    let summary = payload
        .issue
        .as_ref()
        .and_then(|i| i.fields.as_ref())
        .and_then(|f| f.summary.clone());
    Ok(Triage::Task(Box::new(TaskRequest {
        provider: Provider::Jira,
        event,
        command: parsed.command,
        instruction: parsed.instruction,
        text: match (comment, summary) {
            (None, Some(summary)) => format!("{summary}\n\n{text}"),
            _ => text.to_owned(),
        },
        actor: Actor {
            id: names.first().map_or_else(String::new, |n| (*n).to_owned()),
            login: actor.name.clone(),
            display_name: actor.display_name.clone(),
            kind: "user".to_owned(),
        },
        conversation_key: TaskEnvelope::jira_conversation(&site, &issue_key),
        source: SourceRef {
            jira_site: Some(site.clone()),
            jira_issue_key: Some(issue_key.clone()),
            comment_id: comment.map(|c| c.id.clone()),
            url: Some(format!("{site}/browse/{issue_key}")),
            ..SourceRef::default()
        },
        also_in_conversation: None,
        delivery_ids,
        trust,
    })))
}

/// `https://example.atlassian.net/rest/api/2/issue/1` → `https://example.atlassian.net`.
fn site_of(url: &str) -> Option<String> {
    url.find("/rest/").map(|at| url[..at].to_owned())
}

/// `…/rest/api/2/issue/10013/comment/10082` → `10013`.
fn issue_id_in_comment_url(url: &str) -> Option<String> {
    let rest = &url[url.find("/issue/")? + "/issue/".len()..];
    let id = rest.split('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}
