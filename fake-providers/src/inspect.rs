//! The fake's own API under `/_fake`: the recorded requests (JSON and a small HTML page) and fault
//! injection.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use service_kit::error::ErrorResponse;
use utoipa::OpenApi;

use crate::faults::Fault;
use crate::recorder::RequestFilter;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fake-providers",
        description = "Fake GitHub (/github/api, /github/git), Slack (/slack/api), Jira (/jira) and Sentry (/sentry) \
                       APIs for local runs and tests. This document covers the fake's own /_fake API."
    ),
    paths(
        list_requests,
        clear_requests,
        list_faults,
        add_fault,
        clear_faults,
        crate::seed::seed_github_issue,
        crate::seed::seed_github_comment,
        crate::seed::seed_slack_message,
        crate::seed::seed_jira_comment
    )
)]
struct FakeApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    FakeApi::openapi()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_fake", get(page))
        .route("/_fake/", get(page))
        .route("/_fake/requests", get(list_requests).delete(clear_requests))
        .route(
            "/_fake/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
}

/// The recorded requests, oldest first.
#[utoipa::path(
    get,
    path = "/_fake/requests",
    params(
        ("provider" = Option<String>, Query, description = "github, git, slack, jira or sentry"),
        ("method" = Option<String>, Query, description = "HTTP method, any case"),
        ("path_contains" = Option<String>, Query, description = "a substring of the full path"),
        ("after" = Option<u64>, Query, description = "only requests with a larger id"),
    ),
    responses((status = 200, description = "JSON array of recorded requests"))
)]
async fn list_requests(
    State(state): State<AppState>,
    filter: Result<Query<RequestFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => Json(state.recorder.list(&filter)).into_response(),
        Err(rejection) => invalid_filter(&rejection),
    }
}

fn invalid_filter(rejection: &QueryRejection) -> Response {
    ErrorResponse::bad_request("invalid_filter", rejection.body_text()).into_response()
}

/// Forgets every recorded request (ids keep increasing).
#[utoipa::path(delete, path = "/_fake/requests", responses((status = 204, description = "cleared")))]
async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.recorder.clear();
    StatusCode::NO_CONTENT
}

/// The faults still pending.
#[utoipa::path(get, path = "/_fake/faults", responses((status = 200, description = "JSON array of pending faults")))]
async fn list_faults(State(state): State<AppState>) -> Response {
    Json(state.faults.list()).into_response()
}

/// Makes the next `count` requests whose path contains `path_contains` (and of `method`, when given) answer
/// `status`, with `Retry-After: retry_after` and `body` when given.
#[utoipa::path(
    post,
    path = "/_fake/faults",
    request_body(content = String, description = "{\"path_contains\": \"/chat.postMessage\", \"status\": 429, \"count\": 2, \"retry_after\": 1}", content_type = "application/json"),
    responses((status = 201, description = "added"), (status = 400, description = "malformed or invalid fault"))
)]
async fn add_fault(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(fault) => fault,
        Err(error) => {
            return ErrorResponse::bad_request("invalid_fault", format!("not a fault: {error}"))
                .into_response();
        }
    };
    if let Err(reason) = fault.validate() {
        return ErrorResponse::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            reason,
        )
        .into_response();
    }
    state.faults.add(fault.clone());
    (StatusCode::CREATED, Json(fault)).into_response()
}

/// Drops every pending fault.
#[utoipa::path(delete, path = "/_fake/faults", responses((status = 204, description = "cleared")))]
async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

/// Text made safe to place in HTML, also inside a quoted attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The recorded requests, newest first, refreshed every few seconds.
async fn page(
    State(state): State<AppState>,
    filter: Result<Query<RequestFilter>, QueryRejection>,
) -> Response {
    let requests = match filter {
        Ok(Query(filter)) => state.recorder.list(&filter),
        Err(rejection) => return invalid_filter(&rejection),
    };
    let mut page = String::from(
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=3><title>fake-providers</title>\
         <style>body{font-family:sans-serif;margin:1.5rem}table{border-collapse:collapse;width:100%}\
         td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}\
         pre{margin:0;max-height:12rem;overflow:auto;white-space:pre-wrap;font-size:.8rem}\
         .s4,.s5{color:#b00}</style><h1>fake-providers: recorded requests</h1>\
         <p>Filter with <code>?provider=github&amp;method=POST&amp;path_contains=comments</code>. \
         JSON: <a href=\"/_fake/requests\">/_fake/requests</a> · \
         <a href=\"/github/demo/sample-repo/issues/1\">demo/sample-repo#1</a> · \
         <a href=\"/jira/browse/DEMO-1\">DEMO-1</a> · <a href=\"/docs\">API docs</a></p>",
    );
    page.push_str(&format!(
        "<p>{} request(s)</p><table><tr><th>#</th><th>time</th><th>provider</th><th>method</th>\
         <th>path</th><th>status</th><th>body</th></tr>",
        requests.len()
    ));
    for request in requests.iter().rev() {
        let body = if request.body.is_null() {
            String::new()
        } else {
            serde_json::to_string_pretty(&request.body).unwrap_or_default()
        };
        let query = request
            .query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        page.push_str(&format!(
            "<tr><td>{id}</td><td>{time}</td><td>{provider}</td><td>{method}</td><td>{path}{query}</td>\
             <td class=s{class}>{status}</td><td><pre>{body}</pre></td></tr>",
            id = request.id,
            time = request.received_at.format("%H:%M:%S%.3f"),
            provider = escape(&request.provider),
            method = escape(&request.method),
            path = escape(&request.path),
            query = escape(&query),
            class = request.status / 100,
            status = request.status,
            body = escape(&body),
        ));
    }
    page.push_str("</table>");
    Html(page).into_response()
}
