//! The fake Slack Web API (https://api.slack.com/methods), served under `/slack/api/{method}`:
//! `chat.postMessage`, `chat.update`, `reactions.add`, `conversations.replies`, `conversations.open` and
//! `auth.test`. Arguments come from the query string, a form body or a JSON body; every answer is HTTP 200
//! with Slack's envelope, `{"ok": true, …}` or `{"ok": false, "error": "<code>"}`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// The bot every token acts as (the launcher's `SLACK_BOT_USER_IDS`).
pub const BOT_USER_ID: &str = "U0AGENT";
pub const BOT_ID: &str = "B0AGENT";
pub const TEAM_ID: &str = "T0LOCAL";
/// The author of messages the fake never saw posted (a webhook's triggering message).
pub const PERSON_USER_ID: &str = "U0PERSON";
/// Slack refuses longer `text`.
const MAX_TEXT_CHARS: usize = 40_000;
const DEFAULT_REPLIES_LIMIT: usize = 1_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/{method}", any(call_method))
}

#[derive(Default)]
pub struct SlackData {
    /// By channel, then by `ts`.
    channels: BTreeMap<String, BTreeMap<String, Message>>,
    /// Sorted, comma-joined user ids → DM channel id.
    direct_messages: BTreeMap<String, String>,
    last_ts_micros: i64,
}

#[derive(Clone)]
struct Message {
    ts: String,
    thread_ts: Option<String>,
    user: String,
    from_bot: bool,
    text: String,
    blocks: Option<Value>,
    /// Reaction name → users, in the order added.
    reactions: Vec<(String, Vec<String>)>,
    edited_ts: Option<String>,
}

impl SlackData {
    /// Adds a message by `user` (a webhook's triggering message) at `ts`, or a new `ts`; answers its `ts`.
    pub fn seed_message(
        &mut self,
        channel: &str,
        ts: Option<String>,
        thread_ts: Option<String>,
        user: String,
        text: String,
    ) -> Result<String, &'static str> {
        if !valid_channel(channel) {
            return Err("channel_not_found");
        }
        let ts = match ts {
            Some(ts) => ts,
            None => self.next_ts(),
        };
        let messages = self.channels.entry(channel.to_owned()).or_default();
        if messages.contains_key(&ts) {
            return Err("message_exists");
        }
        if let Some(parent_ts) = &thread_ts
            && let Some(parent) = messages.get_mut(parent_ts)
        {
            parent.thread_ts.get_or_insert_with(|| parent_ts.clone());
        }
        messages.insert(
            ts.clone(),
            Message {
                ts: ts.clone(),
                thread_ts,
                user,
                from_bot: false,
                text,
                blocks: None,
                reactions: Vec::new(),
                edited_ts: None,
            },
        );
        Ok(ts)
    }

    /// A new `ts`, unique and increasing, in Slack's `seconds.micros` form.
    fn next_ts(&mut self) -> String {
        let now = chrono::Utc::now().timestamp_micros();
        self.last_ts_micros = now.max(self.last_ts_micros + 1);
        format!(
            "{}.{:06}",
            self.last_ts_micros / 1_000_000,
            self.last_ts_micros % 1_000_000
        )
    }

    /// A message the fake never saw (a webhook's triggering message) becomes a placeholder by a person.
    fn message_or_placeholder(&mut self, channel: &str, ts: &str) -> &mut Message {
        self.channels
            .entry(channel.to_owned())
            .or_default()
            .entry(ts.to_owned())
            .or_insert_with(|| Message {
                ts: ts.to_owned(),
                thread_ts: None,
                user: PERSON_USER_ID.to_owned(),
                from_bot: false,
                text: "(a message fake-providers did not see posted)".to_owned(),
                blocks: None,
                reactions: Vec::new(),
                edited_ts: None,
            })
    }

    fn reply_count(&self, channel: &str, ts: &str) -> usize {
        self.channels.get(channel).map_or(0, |messages| {
            messages
                .values()
                .filter(|m| m.thread_ts.as_deref() == Some(ts) && m.ts != ts)
                .count()
        })
    }

    fn message_json(&self, channel: &str, message: &Message) -> Value {
        let mut value = json!({
            "type": "message",
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
            "team": TEAM_ID,
        });
        if message.from_bot {
            value["bot_id"] = json!(BOT_ID);
            value["app_id"] = json!("A0AGENT");
        }
        if let Some(blocks) = &message.blocks {
            value["blocks"] = blocks.clone();
        }
        if let Some(thread_ts) = &message.thread_ts {
            value["thread_ts"] = json!(thread_ts);
            if thread_ts == &message.ts {
                value["reply_count"] = json!(self.reply_count(channel, &message.ts));
            } else {
                value["parent_user_id"] = json!(PERSON_USER_ID);
            }
        }
        if !message.reactions.is_empty() {
            value["reactions"] = message
                .reactions
                .iter()
                .map(|(name, users)| json!({ "name": name, "users": users, "count": users.len() }))
                .collect();
        }
        if let Some(edited) = &message.edited_ts {
            value["edited"] = json!({ "user": BOT_USER_ID, "ts": edited });
        }
        value
    }
}

fn ok(mut fields: Value) -> Response {
    fields["ok"] = json!(true);
    Json(fields).into_response()
}

/// Slack's error: HTTP 200 with `ok: false`.
fn refuse(code: &str) -> Response {
    Json(json!({ "ok": false, "error": code })).into_response()
}

/// An unknown method.
pub fn unknown_method() -> Response {
    refuse("unknown_method")
}

/// The arguments of a call: query string, then a form or JSON body on top.
fn arguments(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, &'static str> {
    let mut arguments = Map::new();
    let from_pairs = |pairs: Vec<(String, String)>, arguments: &mut Map<String, Value>| {
        for (key, value) in pairs {
            arguments.insert(key, Value::String(value));
        }
    };
    if let Some(query) = query {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map_err(|_| "invalid_arguments")?;
        from_pairs(pairs, &mut arguments);
    }
    if body.is_empty() {
        return Ok(arguments);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => arguments.extend(fields),
            _ => return Err("invalid_json"),
        }
    } else {
        let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map_err(|_| "invalid_form_data")?;
        from_pairs(pairs, &mut arguments);
    }
    Ok(arguments)
}

fn text_argument(arguments: &Map<String, Value>, name: &str) -> Option<String> {
    match arguments.get(name)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A form sends `blocks` as a JSON string, a JSON body as an array.
fn blocks_argument(arguments: &Map<String, Value>) -> Result<Option<Value>, &'static str> {
    match arguments.get("blocks") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(blocks)) => Ok(Some(Value::Array(blocks.clone()))),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(blocks)) => Ok(Some(Value::Array(blocks))),
            _ => Err("invalid_blocks"),
        },
        Some(_) => Err("invalid_blocks"),
    }
}

/// Channel ids look like `C0123ABC` (also `D…` for DMs, `G…` for private channels); `#name` is accepted
/// where Slack accepts names.
fn valid_channel(channel: &str) -> bool {
    let mut characters = channel.chars();
    match characters.next() {
        Some('#') => channel.len() > 1,
        Some('C' | 'D' | 'G') => {
            channel.len() > 1 && characters.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        }
        _ => false,
    }
}

fn bearer_or_argument(headers: &HeaderMap, arguments: &Map<String, Value>) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| text_argument(arguments, "token"))
}

async fn call_method(
    State(state): State<AppState>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arguments = match arguments(query.as_deref(), &headers, &body) {
        Ok(arguments) => arguments,
        Err(code) => return refuse(code),
    };
    let known = [
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "reactions.add",
        "conversations.replies",
        "conversations.open",
    ];
    if !known.contains(&method.as_str()) {
        return unknown_method();
    }
    if bearer_or_argument(&headers, &arguments).is_none() {
        return refuse("not_authed");
    }
    let mut data = state.slack.lock().expect("slack lock");
    let result = match method.as_str() {
        "auth.test" => Ok(auth_test(&headers)),
        "chat.postMessage" => post_message(&mut data, &arguments),
        "chat.update" => update_message(&mut data, &arguments),
        "reactions.add" => add_reaction(&mut data, &arguments),
        "conversations.replies" => replies(&mut data, &arguments),
        _ => open_conversation(&mut data, &arguments),
    };
    result.unwrap_or_else(refuse)
}

type Answer = Result<Response, &'static str>;

fn auth_test(headers: &HeaderMap) -> Response {
    let origin = crate::github::origin(headers);
    ok(json!({
        "url": format!("{origin}/slack/"),
        "team": "Local",
        "user": "agent",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": false,
    }))
}

fn channel_argument(arguments: &Map<String, Value>) -> Result<String, &'static str> {
    text_argument(arguments, "channel")
        .filter(|c| valid_channel(c))
        .ok_or("channel_not_found")
}

fn message_text(
    arguments: &Map<String, Value>,
    blocks: Option<&Value>,
) -> Result<String, &'static str> {
    let text = text_argument(arguments, "text").unwrap_or_default();
    if text.is_empty() && blocks.is_none() {
        return Err("no_text");
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err("msg_too_long");
    }
    Ok(text)
}

fn post_message(data: &mut SlackData, arguments: &Map<String, Value>) -> Answer {
    let channel = channel_argument(arguments)?;
    let blocks = blocks_argument(arguments)?;
    let text = message_text(arguments, blocks.as_ref())?;
    let thread_ts = text_argument(arguments, "thread_ts");
    if let Some(parent_ts) = &thread_ts {
        let parent = data.message_or_placeholder(&channel, parent_ts);
        parent.thread_ts.get_or_insert_with(|| parent_ts.clone());
    }
    let ts = data.next_ts();
    let message = Message {
        ts: ts.clone(),
        thread_ts,
        user: BOT_USER_ID.to_owned(),
        from_bot: true,
        text,
        blocks,
        reactions: Vec::new(),
        edited_ts: None,
    };
    let value = data.message_json(&channel, &message);
    data.channels
        .entry(channel.clone())
        .or_default()
        .insert(ts.clone(), message);
    Ok(ok(
        json!({ "channel": channel, "ts": ts, "message": value }),
    ))
}

fn update_message(data: &mut SlackData, arguments: &Map<String, Value>) -> Answer {
    let channel = channel_argument(arguments)?;
    let ts = text_argument(arguments, "ts").ok_or("message_not_found")?;
    let blocks = blocks_argument(arguments)?;
    let text = message_text(arguments, blocks.as_ref())?;
    let edited_ts = data.next_ts();
    let message = data
        .channels
        .get_mut(&channel)
        .and_then(|messages| messages.get_mut(&ts))
        .ok_or("message_not_found")?;
    if !message.from_bot {
        return Err("cant_update_message");
    }
    message.text = text.clone();
    if blocks.is_some() {
        message.blocks = blocks;
    }
    message.edited_ts = Some(edited_ts);
    let message = message.clone();
    let value = data.message_json(&channel, &message);
    Ok(ok(
        json!({ "channel": channel, "ts": ts, "text": text, "message": value }),
    ))
}

fn add_reaction(data: &mut SlackData, arguments: &Map<String, Value>) -> Answer {
    let channel = channel_argument(arguments)?;
    let timestamp = text_argument(arguments, "timestamp").ok_or("no_item_specified")?;
    let name = text_argument(arguments, "name")
        .map(|n| n.trim_matches(':').to_owned())
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+-'".contains(c))
        })
        .ok_or("invalid_name")?;
    let message = data.message_or_placeholder(&channel, &timestamp);
    match message
        .reactions
        .iter_mut()
        .find(|(existing, _)| *existing == name)
    {
        Some((_, users)) if users.iter().any(|u| u == BOT_USER_ID) => {
            return Err("already_reacted");
        }
        Some((_, users)) => users.push(BOT_USER_ID.to_owned()),
        None => message.reactions.push((name, vec![BOT_USER_ID.to_owned()])),
    }
    Ok(ok(json!({})))
}

fn replies(data: &mut SlackData, arguments: &Map<String, Value>) -> Answer {
    let channel = channel_argument(arguments)?;
    let ts = text_argument(arguments, "ts").ok_or("thread_not_found")?;
    let limit = text_argument(arguments, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_REPLIES_LIMIT);
    let offset = match text_argument(arguments, "cursor") {
        None => 0,
        Some(cursor) => base64::engine::general_purpose::STANDARD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix("offset:").and_then(|n| n.parse().ok()))
            .ok_or("invalid_cursor")?,
    };
    data.message_or_placeholder(&channel, &ts);
    let thread: Vec<Message> = data
        .channels
        .get(&channel)
        .map(|messages| {
            messages
                .values()
                .filter(|m| m.ts == ts || m.thread_ts.as_deref() == Some(ts.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let page: Vec<Value> = thread
        .iter()
        .skip(offset)
        .take(limit)
        .map(|m| data.message_json(&channel, m))
        .collect();
    let has_more = offset + limit < thread.len();
    let next_cursor = if has_more {
        base64::engine::general_purpose::STANDARD.encode(format!("offset:{}", offset + limit))
    } else {
        String::new()
    };
    Ok(ok(json!({
        "messages": page,
        "has_more": has_more,
        "response_metadata": { "next_cursor": next_cursor },
    })))
}

fn open_conversation(data: &mut SlackData, arguments: &Map<String, Value>) -> Answer {
    if let Some(channel) = text_argument(arguments, "channel") {
        if !valid_channel(&channel) {
            return Err("channel_not_found");
        }
        return Ok(ok(
            json!({ "no_op": true, "already_open": true, "channel": { "id": channel } }),
        ));
    }
    let mut users: Vec<String> = text_argument(arguments, "users")
        .ok_or("users_list_not_supplied")?
        .split(',')
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if users.is_empty() {
        return Err("users_list_not_supplied");
    }
    if users.iter().any(|u| !u.starts_with(['U', 'W'])) {
        return Err("user_not_found");
    }
    if users.len() > 8 {
        return Err("too_many_users");
    }
    users.sort();
    let key = users.join(",");
    let next_id = format!("D{:08}", data.direct_messages.len() + 1);
    let already_open = data.direct_messages.contains_key(&key);
    let id = data.direct_messages.entry(key).or_insert(next_id).clone();
    Ok(ok(
        json!({ "no_op": already_open, "already_open": already_open, "channel": { "id": id } }),
    ))
}
