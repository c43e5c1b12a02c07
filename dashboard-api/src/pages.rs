//! The web page: HTML, CSS and JavaScript compiled into the binary; nothing is fetched from elsewhere,
//! and the Content-Security-Policy says so to the browser too.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub const LOGIN_HTML: &str = include_str!("../assets/login.html");
const LIST_HTML: &str = include_str!("../assets/index.html");
const TASK_HTML: &str = include_str!("../assets/task.html");
const OVERVIEW_HTML: &str = include_str!("../assets/overview.html");

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "list.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/list.js"),
    ),
    (
        "task.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/task.js"),
    ),
    (
        "overview.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/overview.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../assets/favicon.svg"),
    ),
];

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| page(LIST_HTML)))
        .route("/overview", get(|| page(OVERVIEW_HTML)))
        .route("/tasks/{task_id}", get(task_page))
        .route(
            "/favicon.ico",
            get(|| asset(Path("favicon.svg".to_owned()))),
        )
        .route("/assets/{name}", get(asset))
}

pub fn add_page_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

async fn page(html: &'static str) -> Response {
    let mut response = Html(html).into_response();
    add_page_headers(response.headers_mut());
    response
}

/// The task page; the id is checked here too so a mistyped link says so at once.
async fn task_page(Path(task_id): Path<String>) -> Response {
    if task_id.parse::<contracts::TaskId>().is_err() {
        let mut response = (
            StatusCode::BAD_REQUEST,
            Html("<!doctype html><title>Not a task id</title><p>That is not a task id. <a href=\"/\">All tasks</a></p>"),
        )
            .into_response();
        add_page_headers(response.headers_mut());
        return response;
    }
    page(TASK_HTML).await
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(asset, _, _)| *asset == name) {
        Some((_, content_type, body)) => {
            let mut response = ([(header::CONTENT_TYPE, *content_type)], *body).into_response();
            add_page_headers(response.headers_mut());
            response
        }
        None => service_kit::error::ErrorResponse::not_found("no such asset").into_response(),
    }
}
