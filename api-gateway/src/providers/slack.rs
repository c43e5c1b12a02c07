//! Slack deliveries: Events API (`url_verification`, `app_mention`, messages), the slash command, and
//! interactive payloads.

use chrono::{DateTime, Utc};
use contracts::{Actor, Provider, SourceRef, TaskEnvelope};
use serde::Deserialize;

use crate::configuration::Settings;
use crate::delivery::{self, FORM, JSON, TaskRequest, Triage, Trust, VerifiedDelivery, reason};
use crate::error::WebhookError;
use crate::mention;

#[derive(Debug, Deserialize)]
struct EventsApiBody {
    #[serde(rename = "type")]
    kind: String,
    challenge: Option<String>,
    team_id: Option<String>,
    event_id: Option<String>,
    event: Option<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    subtype: Option<String>,
    text: Option<String>,
    user: Option<String>,
    bot_id: Option<String>,
    channel: Option<String>,
    channel_type: Option<String>,
    ts: Option<String>,
    thread_ts: Option<String>,
    team: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SlashCommand {
    command: Option<String>,
    text: Option<String>,
    team_id: Option<String>,
    channel_id: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
    trigger_id: Option<String>,
    ssl_check: Option<String>,
    payload: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
}

pub fn triage(
    settings: &Settings,
    delivery: VerifiedDelivery<'_>,
    parsed_at: &mut DateTime<Utc>,
) -> Result<Triage, WebhookError> {
    match delivery.media_type().as_str() {
        JSON => events_api(settings, delivery, parsed_at),
        FORM => form_post(settings, delivery, parsed_at),
        other => Err(WebhookError::UnsupportedMediaType(other.to_owned())),
    }
}

fn events_api(
    settings: &Settings,
    delivery: VerifiedDelivery<'_>,
    parsed_at: &mut DateTime<Utc>,
) -> Result<Triage, WebhookError> {
    let body: EventsApiBody = delivery::parse_payload(delivery.body)?;
    *parsed_at = Utc::now();
    match body.kind.as_str() {
        "url_verification" => {
            let challenge = body.challenge.ok_or_else(|| {
                WebhookError::MalformedBody("url_verification without `challenge`".into())
            })?;
            return Ok(Triage::Challenge(challenge));
        }
        "event_callback" => {}
        _ => return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT)),
    }
    let event = body
        .event
        .ok_or_else(|| WebhookError::MalformedBody("event_callback without `event`".into()))?;
    let event_id = body
        .event_id
        .ok_or_else(|| WebhookError::MalformedBody("event_callback without `event_id`".into()))?;
    if event.bot_id.is_some() || event.subtype.as_deref() == Some("bot_message") {
        return Ok(Triage::Ignored(reason::BOT_ACTOR));
    }
    if event.subtype.is_some() {
        // Edits, joins, deletions and the like are not requests.
        return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT));
    }
    let text = event.text.as_deref().unwrap_or("");
    let bot_mentions = bot_mention_tokens(settings);
    let after_mention = match (event.kind.as_str(), event.channel_type.as_deref()) {
        // Every app_mention is addressed to the agent; the instruction follows the bot's mention.
        ("app_mention", _) => Some(
            mention::text_after_token(text, &bot_mentions)
                .or_else(|| first_user_mention_end(text).map(|end| &text[end..]))
                .unwrap_or(text),
        ),
        // A direct message is addressed to the agent as a whole.
        ("message", Some("im")) => {
            Some(mention::text_after_token(text, &bot_mentions).unwrap_or(text))
        }
        // Channel messages that mention the bot also arrive as app_mention; only the text trigger counts here.
        ("message", _) => mention::text_after_trigger(text, &settings.agent_trigger),
        _ => return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT)),
    };
    let Some(after_mention) = after_mention else {
        return Ok(Triage::Ignored(reason::NOT_A_COMMAND));
    };
    let (Some(user), Some(channel), Some(ts)) = (event.user, event.channel, event.ts) else {
        return Ok(Triage::Ignored(reason::MISSING_CONTEXT));
    };
    let team = event.team.or(body.team_id).unwrap_or_default();
    let trust = match delivery::judge_actor(&settings.slack.rules, &[&user], Some(&channel)) {
        Ok(standing) => Trust::of_standing(standing),
        Err(why) => return Ok(Triage::Ignored(why)),
    };
    let parsed = mention::parse_command(after_mention);
    let thread_ts = event.thread_ts.unwrap_or_else(|| ts.clone());
    Ok(Triage::Task(Box::new(TaskRequest {
        provider: Provider::Slack,
        event: event.kind,
        command: parsed.command,
        instruction: parsed.instruction,
        text: text.to_owned(),
        actor: Actor {
            id: user,
            kind: "user".to_owned(),
            ..Actor::default()
        },
        conversation_key: TaskEnvelope::slack_conversation(&team, &channel, &thread_ts),
        source: SourceRef {
            slack_team: Some(team),
            slack_channel: Some(channel),
            slack_thread_ts: Some(thread_ts),
            slack_message_ts: Some(ts),
            ..SourceRef::default()
        },
        also_in_conversation: None,
        delivery_ids: vec![event_id],
        trust,
    })))
}

/// Slash commands (`command=/agent&text=…`), `ssl_check` probes, and interactive `payload=` posts.
fn form_post(
    settings: &Settings,
    delivery: VerifiedDelivery<'_>,
    parsed_at: &mut DateTime<Utc>,
) -> Result<Triage, WebhookError> {
    let form: SlashCommand = serde_urlencoded::from_bytes(delivery.body)
        .map_err(|e| WebhookError::MalformedBody(e.to_string()))?;
    if let Some(payload) = form.payload {
        let interaction: Interaction = delivery::parse_payload(payload.as_bytes())?;
        *parsed_at = Utc::now();
        tracing::info!(interaction = %interaction.kind, "slack interaction received");
        return Ok(Triage::Ignored(reason::UNSUPPORTED_INTERACTION));
    }
    *parsed_at = Utc::now();
    if form.ssl_check.is_some() {
        return Ok(Triage::Ignored(reason::SSL_CHECK));
    }
    let Some(command) = form.command else {
        return Err(WebhookError::MalformedBody(
            "form post without `command` or `payload`".into(),
        ));
    };
    if !command.eq_ignore_ascii_case(&settings.slack.slash_command) {
        return Ok(Triage::Ignored(reason::UNSUPPORTED_EVENT));
    }
    let (Some(team), Some(channel), Some(user), Some(trigger_id)) =
        (form.team_id, form.channel_id, form.user_id, form.trigger_id)
    else {
        return Err(WebhookError::MalformedBody(
            "slash command without team_id, channel_id, user_id or trigger_id".into(),
        ));
    };
    let user_name = form.user_name.unwrap_or_default();
    let trust =
        match delivery::judge_actor(&settings.slack.rules, &[&user, &user_name], Some(&channel)) {
            Ok(standing) => Trust::of_standing(standing),
            Err(why) => return Ok(Triage::Ignored(why)),
        };
    let text = form.text.unwrap_or_default();
    let parsed = mention::parse_command(&text);
    // A slash command opens a conversation of its own, named by its trigger id (no message carried it),
    // and joins its channel's slash-command conversation, which `/agent cancel` and `/agent retry` address.
    let channel_commands = TaskEnvelope::slack_slash_commands(&team, &channel);
    let (conversation_key, also_in_conversation) = if parsed.command.is_control() {
        (channel_commands, None)
    } else {
        (
            TaskEnvelope::slack_conversation(&team, &channel, &trigger_id),
            Some(channel_commands),
        )
    };
    Ok(Triage::Task(Box::new(TaskRequest {
        provider: Provider::Slack,
        event: "slash_command".to_owned(),
        command: parsed.command,
        instruction: parsed.instruction,
        text,
        actor: Actor {
            id: user,
            login: (!user_name.is_empty()).then_some(user_name),
            display_name: None,
            kind: "user".to_owned(),
        },
        conversation_key,
        also_in_conversation,
        source: SourceRef {
            slack_team: Some(team),
            slack_channel: Some(channel),
            ..SourceRef::default()
        },
        delivery_ids: vec![format!("command:{trigger_id}")],
        trust,
    })))
}

fn bot_mention_tokens(settings: &Settings) -> Vec<String> {
    settings
        .slack
        .rules
        .agent_accounts
        .iter()
        .map(|id| format!("<@{id}>"))
        .collect()
}

/// The end of the first `<@U…>` or `<@U…|name>` token.
fn first_user_mention_end(text: &str) -> Option<usize> {
    let start = text.find("<@")?;
    text[start..].find('>').map(|close| start + close + 1)
}
