//! Who may use the dashboard. With `DASHBOARD_TOKEN` set, the API takes it as a bearer token and the page
//! asks for it once on a login form that sets an HttpOnly session cookie; without it, the service only
//! listens on loopback (see [`crate::configuration::Settings::check_access`]).

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;

pub const SESSION_COOKIE: &str = "agw_dashboard_session";

/// The token and the session value derived from it (the cookie never holds the token itself).
#[derive(Clone)]
pub struct Access {
    token: Option<SecretString>,
    session: Option<String>,
}

impl Access {
    pub fn new(token: Option<SecretString>) -> Self {
        let session = token.as_ref().map(|token| {
            let mut hasher = Sha256::new();
            hasher.update(b"agent-gateway dashboard session\0");
            hasher.update(token.expose_secret().as_bytes());
            hex::encode(hasher.finalize())
        });
        Self { token, session }
    }

    pub fn is_open(&self) -> bool {
        self.token.is_none()
    }

    fn token_matches(&self, candidate: &str) -> bool {
        self.token.as_ref().is_some_and(|token| {
            bool::from(token.expose_secret().as_bytes().ct_eq(candidate.as_bytes()))
        })
    }

    fn session_matches(&self, candidate: &str) -> bool {
        self.session
            .as_ref()
            .is_some_and(|session| bool::from(session.as_bytes().ct_eq(candidate.as_bytes())))
    }

    fn allows(&self, headers: &HeaderMap) -> bool {
        if self.is_open() {
            return true;
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| self.token_matches(token.trim()));
        bearer || session_cookie(headers).is_some_and(|value| self.session_matches(value))
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// Paths anyone may fetch: ops endpoints, the API description, the login page and static assets.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/health" | "/ready" | "/metrics" | "/openapi.json" | "/login" | "/logout"
    ) || path.starts_with("/docs")
        || path.starts_with("/assets/")
}

/// Middleware: API calls without access get 401, page views a redirect to the login form.
pub async fn require_access(
    State(access): State<Access>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if is_public(path) || access.allows(request.headers()) {
        return next.run(request).await;
    }
    if path.starts_with("/api/") {
        return Error::Unauthorized.into_response();
    }
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
    Redirect::to(&format!("/login?{query}")).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

pub async fn login_page(Query(query): Query<LoginQuery>) -> Response {
    login_html(query.next.as_deref(), None, StatusCode::OK)
}

pub async fn login(
    State(access): State<Access>,
    service_kit::extract::Form(form): service_kit::extract::Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    if access.is_open() {
        return Redirect::to(next).into_response();
    }
    if !access.token_matches(form.token.trim()) {
        return login_html(
            Some(next),
            Some("That token is not right."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let session = access.session.clone().unwrap_or_default();
    let cookie =
        format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000");
    let mut response = Redirect::to(next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub async fn logout() -> Response {
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "agw_dashboard_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

/// Only same-site paths, so the login form cannot bounce anyone elsewhere.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next
        }
        _ => "/",
    }
}

fn login_html(next: Option<&str>, error: Option<&str>, status: StatusCode) -> Response {
    let page = crate::pages::LOGIN_HTML
        .replace("{{next}}", &escape_html(safe_next(next)))
        .replace(
            "{{error}}",
            &error
                .map(|e| format!("<p class=\"error\">{}</p>", escape_html(e)))
                .unwrap_or_default(),
        );
    let mut response = (status, Html(page)).into_response();
    crate::pages::add_page_headers(response.headers_mut());
    response
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
