//! Sentry integration-platform deliveries. `Sentry-Hook-Resource` names the resource; configured rules
//! (default `issue.created` and `event_alert.triggered`) start a task on their own, and an issue comment
//! starts one when it mentions the agent.

use chrono::{DateTime, Utc};
use contracts::{Actor, Provider, SourceRef, TaskEnvelope};
use serde_json::Value;

use crate::configuration::Settings;
use crate::delivery::{self, JSON, TaskRequest, Triage, Trust, VerifiedDelivery, reason};
use crate::error::WebhookError;
use crate::mention;

pub const RESOURCE_HEADER: &str = "sentry-hook-resource";
pub const REQUEST_ID_HEADER: &str = "request-id";

pub fn triage(
    settings: &Settings,
    delivery: VerifiedDelivery<'_>,
    parsed_at: &mut DateTime<Utc>,
) -> Result<Triage, WebhookError> {
    let media_type = delivery.media_type();
    if media_type != JSON {
        return Err(WebhookError::UnsupportedMediaType(media_type));
    }
    let resource = delivery.required_header(RESOURCE_HEADER)?.to_owned();
    // Sentry's own example app documents signed deliveries with an empty body.
    if delivery.body.iter().all(u8::is_ascii_whitespace) {
        *parsed_at = Utc::now();
        return Ok(Triage::Ignored(reason::EMPTY_BODY));
    }
    let payload: Value = delivery::parse_payload(delivery.body)?;
    *parsed_at = Utc::now();
    let Some(action) = payload.get("action").and_then(Value::as_str) else {
        return Err(WebhookError::MalformedBody(
            "the delivery has no `action`".into(),
        ));
    };
    let event = format!("{resource}.{action}");
    let data = payload.get("data").cloned().unwrap_or(Value::Null);
    let actor_value = payload.get("actor").cloned().unwrap_or(Value::Null);
    let actor_kind = text_of(&actor_value, "type").unwrap_or_else(|| "user".to_owned());
    let actor = Actor {
        id: text_of(&actor_value, "id").unwrap_or_default(),
        login: None,
        display_name: text_of(&actor_value, "name"),
        kind: actor_kind.clone(),
    };

    let (command, instruction, text) =
        if let Some(command) = settings.sentry.trigger_rules.get(&event) {
            (*command, describe_alert(&data), String::new())
        } else if event == "comment.created" {
            let text = text_of(&data, "comment").unwrap_or_default();
            let Some(after_mention) = mention::text_after_trigger(&text, &settings.agent_trigger)
            else {
                return Ok(Triage::Ignored(reason::NOT_A_COMMAND));
            };
            let parsed = mention::parse_command(after_mention);
            (parsed.command, parsed.instruction, text)
        } else {
            return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT));
        };

    let project = project_of(&data);
    // Sentry's own alerts come from the application; the actor rules are for people.
    let mut trust = Trust::Member;
    if actor_kind != "application" {
        match delivery::judge_actor(&settings.sentry.rules, &[&actor.id], project.as_deref()) {
            Ok(standing) => trust = Trust::of_standing(standing),
            Err(why) => return Ok(Triage::Ignored(why)),
        }
    } else if !settings.sentry.rules.allowed_scopes.is_empty()
        && !project.as_deref().is_some_and(|p| {
            settings
                .sentry
                .rules
                .allowed_scopes
                .contains(&p.to_lowercase())
        })
    {
        return Ok(Triage::Ignored(reason::SCOPE_NOT_ALLOWED));
    }
    let Some(issue_id) = issue_id_of(&data) else {
        return Ok(Triage::Ignored(reason::MISSING_CONTEXT));
    };
    let org = org_of(&data)
        .or_else(|| settings.sentry.default_org.clone())
        .or_else(|| {
            payload
                .pointer("/installation/uuid")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "sentry".to_owned());
    let url = [
        "/issue/web_url",
        "/event/web_url",
        "/error/web_url",
        "/issue/permalink",
    ]
    .iter()
    .find_map(|p| data.pointer(p).and_then(Value::as_str).map(str::to_owned));
    Ok(Triage::Task(Box::new(TaskRequest {
        provider: Provider::Sentry,
        event,
        command,
        instruction,
        text,
        actor,
        conversation_key: TaskEnvelope::sentry_conversation(&org, &issue_id),
        source: SourceRef {
            sentry_org: Some(org),
            sentry_issue_id: Some(issue_id),
            comment_id: data.get("comment_id").map(value_text),
            url,
            ..SourceRef::default()
        },
        also_in_conversation: None,
        delivery_ids: delivery
            .header(REQUEST_ID_HEADER)
            .filter(|v| !v.is_empty())
            .map(|v| vec![v.to_owned()])
            .unwrap_or_default(),
        trust,
    })))
}

/// What an alert-started task is about: the title, culprit and link Sentry sent.
fn describe_alert(data: &Value) -> String {
    let subject = ["issue", "event", "error"]
        .iter()
        .find_map(|k| data.get(*k))
        .unwrap_or(&Value::Null);
    let mut lines = Vec::new();
    if let Some(title) = text_of(subject, "title") {
        lines.push(title);
    }
    if let Some(culprit) = text_of(subject, "culprit").filter(|c| !c.is_empty()) {
        lines.push(format!("culprit: {culprit}"));
    }
    if let Some(rule) = text_of(data, "triggered_rule") {
        lines.push(format!("alert rule: {rule}"));
    }
    lines.join("\n")
}

fn issue_id_of(data: &Value) -> Option<String> {
    [
        "/issue/id",
        "/event/issue_id",
        "/error/issue_id",
        "/issue_id",
    ]
    .iter()
    .find_map(|p| data.pointer(p).filter(|v| !v.is_null()).map(value_text))
}

fn project_of(data: &Value) -> Option<String> {
    [
        "/issue/project/slug",
        "/project_slug",
        "/event/project_slug",
    ]
    .iter()
    .find_map(|p| data.pointer(p).and_then(Value::as_str).map(str::to_owned))
    .or_else(|| url_segment_after(data, "/projects/", 1))
}

fn org_of(data: &Value) -> Option<String> {
    url_segment_after(data, "/organizations/", 0)
        .or_else(|| url_segment_after(data, "/projects/", 0))
}

/// The `index`-th path segment after `marker` in any of the payload's URLs.
fn url_segment_after(data: &Value, marker: &str, index: usize) -> Option<String> {
    ["issue", "event", "error"]
        .iter()
        .filter_map(|k| data.get(*k))
        .flat_map(|subject| {
            ["web_url", "url", "issue_url", "permalink"].map(|f| text_of(subject, f))
        })
        .flatten()
        .find_map(|url| {
            let rest = &url[url.find(marker)? + marker.len()..];
            rest.split('/')
                .nth(index)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })
}

fn text_of(value: &Value, field: &str) -> Option<String> {
    value.get(field).filter(|v| !v.is_null()).map(value_text)
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
