//! Seeding under `/_fake/…`: what a webhook talks about but the fake never saw posted (the issue as the
//! webhook describes it, the comment or message that mentioned the agent), so the context the agent reads
//! back through the services matches the webhook. Seeding is not recorded as provider traffic.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use service_kit::error::ErrorResponse;

use crate::github::SeedError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/_fake/github/repos/{owner}/{repo}/issues/{number}",
            put(seed_github_issue),
        )
        .route(
            "/_fake/github/repos/{owner}/{repo}/issues/{number}/comments",
            post(seed_github_comment),
        )
        .route("/_fake/slack/messages", post(seed_slack_message))
        .route("/_fake/jira/issues/{key}/comments", post(seed_jira_comment))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|error| format!("not a valid seed: {error}"))
}

fn invalid(message: String) -> Response {
    ErrorResponse::bad_request("invalid_seed", message).into_response()
}

fn refused(error: SeedError) -> Response {
    match error {
        SeedError::UnknownRepository => {
            ErrorResponse::not_found("no such repository").into_response()
        }
        SeedError::Exists => ErrorResponse::new(
            StatusCode::CONFLICT,
            "already_exists",
            "a comment with that id exists",
        )
        .into_response(),
        SeedError::Invalid(reason) => ErrorResponse::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            reason,
        )
        .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GithubIssueSeed {
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

/// Creates or replaces a GitHub issue as a webhook describes it (its comments stay).
#[utoipa::path(
    put,
    path = "/_fake/github/repos/{owner}/{repo}/issues/{number}",
    params(("owner" = String, Path), ("repo" = String, Path), ("number" = u64, Path)),
    request_body(content = String, description = "{\"title\": \"…\", \"body\": \"…\", \"user\": \"octocat\"}", content_type = "application/json"),
    responses((status = 204, description = "seeded"), (status = 404, description = "no such repository"))
)]
pub(crate) async fn seed_github_issue(
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let seed: GithubIssueSeed = match parse(&body) {
        Ok(seed) => seed,
        Err(message) => return invalid(message),
    };
    let Ok(number) = number.parse::<u64>() else {
        return ErrorResponse::not_found(format!("`{number}` is not an issue number"))
            .into_response();
    };
    let user = seed.user.unwrap_or_else(|| "octocat".to_owned());
    let mut data = state.github.lock().expect("github lock");
    match data.seed_issue(
        &format!("{owner}/{repo}"),
        number,
        seed.title,
        seed.body,
        user,
    ) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => refused(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GithubCommentSeed {
    body: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    id: Option<u64>,
}

/// Adds a comment by a person (default `octocat`), with the webhook's comment id when given.
#[utoipa::path(
    post,
    path = "/_fake/github/repos/{owner}/{repo}/issues/{number}/comments",
    params(("owner" = String, Path), ("repo" = String, Path), ("number" = u64, Path)),
    request_body(content = String, description = "{\"body\": \"@agent …\", \"id\": 2000001, \"user\": \"octocat\"}", content_type = "application/json"),
    responses((status = 201, description = "seeded: {\"id\": …}"), (status = 409, description = "that id exists"))
)]
pub(crate) async fn seed_github_comment(
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let seed: GithubCommentSeed = match parse(&body) {
        Ok(seed) => seed,
        Err(message) => return invalid(message),
    };
    let Ok(number) = number.parse::<u64>() else {
        return ErrorResponse::not_found(format!("`{number}` is not an issue number"))
            .into_response();
    };
    let user = seed.user.unwrap_or_else(|| "octocat".to_owned());
    let mut data = state.github.lock().expect("github lock");
    match data.seed_comment(&format!("{owner}/{repo}"), number, seed.id, user, seed.body) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(error) => refused(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlackMessageSeed {
    channel: String,
    text: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
}

/// Adds a Slack message by a person (default `U0PERSON`), at the webhook's `ts` when given.
#[utoipa::path(
    post,
    path = "/_fake/slack/messages",
    request_body(content = String, description = "{\"channel\": \"C0LOCAL\", \"text\": \"…\", \"ts\": \"…\", \"thread_ts\": \"…\", \"user\": \"U0PERSON\"}", content_type = "application/json"),
    responses((status = 201, description = "seeded: {\"channel\", \"ts\"}"), (status = 409, description = "that ts exists"))
)]
pub(crate) async fn seed_slack_message(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let seed: SlackMessageSeed = match parse(&body) {
        Ok(seed) => seed,
        Err(message) => return invalid(message),
    };
    let user = seed
        .user
        .unwrap_or_else(|| crate::slack::PERSON_USER_ID.to_owned());
    let channel = seed.channel.clone();
    let mut data = state.slack.lock().expect("slack lock");
    match data.seed_message(&seed.channel, seed.ts, seed.thread_ts, user, seed.text) {
        Ok(ts) => (
            StatusCode::CREATED,
            Json(json!({ "channel": channel, "ts": ts })),
        )
            .into_response(),
        Err("message_exists") => ErrorResponse::new(
            StatusCode::CONFLICT,
            "already_exists",
            "a message with that ts exists",
        )
        .into_response(),
        Err(code) => {
            ErrorResponse::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", code)
                .into_response()
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JiraCommentSeed {
    body: String,
}

/// Adds a Jira comment by the person (wiki text).
#[utoipa::path(
    post,
    path = "/_fake/jira/issues/{key}/comments",
    params(("key" = String, Path, description = "a DEMO-n key")),
    request_body(content = String, description = "{\"body\": \"@agent …\"}", content_type = "application/json"),
    responses((status = 201, description = "seeded: {\"id\": …}"), (status = 404, description = "not a DEMO issue"))
)]
pub(crate) async fn seed_jira_comment(
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let seed: JiraCommentSeed = match parse(&body) {
        Ok(seed) => seed,
        Err(message) => return invalid(message),
    };
    let mut data = state.jira.lock().expect("jira lock");
    match data.seed_comment(&key, seed.body) {
        Some(id) => (StatusCode::CREATED, Json(json!({ "id": id.to_string() }))).into_response(),
        None => ErrorResponse::not_found(format!("no issue {key} (only project DEMO exists)"))
            .into_response(),
    }
}
