//! git smart HTTP under `/github/git/{owner}/{repo}.git/…`, served by `git http-backend` as a CGI program:
//! the request body streams into the program, its CGI headers become the answer's status and headers, and
//! the rest of its output streams back. Reads are anonymous; a push without credentials gets a Basic
//! challenge (as GitHub does), and the Basic user name becomes `REMOTE_USER`.

use std::process::Stdio;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::any;
use base64::Engine;
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio_util::io::ReaderStream;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/{*path}", any(serve_git))
}

fn plain(status: StatusCode, message: &str) -> Response<Body> {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// `owner/repo[.git]/rest` → (`owner`, `repo`, `/owner/repo.git/rest`), refusing anything that could leave
/// the repositories root.
fn split_repository_path(path: &str) -> Option<(String, String, String)> {
    let mut segments = path.trim_start_matches('/').splitn(3, '/');
    let owner = segments.next()?;
    let repo = segments.next()?;
    let rest = segments.next().unwrap_or_default();
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    let safe = |segment: &str| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if !safe(owner) || !safe(repo) || rest.split('/').any(|s| s == "..") {
        return None;
    }
    Some((
        owner.to_owned(),
        repo.to_owned(),
        format!("/{owner}/{repo}.git/{rest}"),
    ))
}

fn is_push(path_info: &str, query: &str) -> bool {
    path_info.ends_with("/git-receive-pack")
        || query
            .split('&')
            .any(|pair| pair == "service=git-receive-pack")
}

/// The user name of a Basic credential, or a name for a bearer token.
fn remote_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credential.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let user = decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(user, _)| user);
        Some(if user.is_empty() { "token" } else { user }.to_owned())
    } else if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        Some("token".to_owned())
    } else {
        None
    }
}

async fn serve_git(State(state): State<AppState>, request: Request) -> Response<Body> {
    let path = request
        .uri()
        .path()
        .trim_start_matches("/github/git")
        .to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let Some((owner, repo, path_info)) = split_repository_path(&path) else {
        return plain(StatusCode::NOT_FOUND, "Repository not found.");
    };
    let git_dir = crate::repository::git_dir(&state.repositories_root, &owner, &repo);
    if !git_dir.join("HEAD").exists() {
        return plain(StatusCode::NOT_FOUND, "Repository not found.");
    }
    let user = remote_user(request.headers());
    if is_push(&path_info, &query) && user.is_none() {
        let mut response = plain(StatusCode::UNAUTHORIZED, "Authentication required to push.");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"GitHub\""),
        );
        return response;
    }
    match run_backend(&state, request, &path_info, &query, user.as_deref()).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "git http-backend failed");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("git http-backend failed: {error:#}"),
            )
        }
    }
}

async fn run_backend(
    state: &AppState,
    request: Request,
    path_info: &str,
    query: &str,
    user: Option<&str>,
) -> anyhow::Result<Response<Body>> {
    let (parts, body) = request.into_parts();
    let mut command = Command::new(state.git.program());
    command
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("GIT_PROJECT_ROOT", &state.repositories_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", path_info)
        .env("QUERY_STRING", query)
        .env("REMOTE_ADDR", "127.0.0.1");
    if let Some(user) = user {
        command.env("REMOTE_USER", user).env("AUTH_TYPE", "Basic");
    }
    if let Some(content_type) = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        command.env("CONTENT_TYPE", content_type);
    }
    if let Some(length) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
    {
        command.env("CONTENT_LENGTH", length);
    }
    // CGI passes the other request headers as HTTP_*: git reads Content-Encoding (gzip bodies) and
    // Git-Protocol (protocol v2) from there.
    for (name, value) in &parts.headers {
        if name == header::AUTHORIZATION
            || name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
        {
            continue;
        }
        if let Ok(value) = value.to_str() {
            let variable = format!(
                "HTTP_{}",
                name.as_str().to_ascii_uppercase().replace('-', "_")
            );
            command.env(variable, value);
        }
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;

    tokio::spawn(async move {
        let mut body = body.into_data_stream();
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else { break };
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = stdin.shutdown().await;
    });
    tokio::spawn(async move {
        let mut messages = String::new();
        let _ = stderr.read_to_string(&mut messages).await;
        let status = child.wait().await;
        if !messages.trim().is_empty() || !status.as_ref().is_ok_and(|s| s.success()) {
            tracing::warn!(status = ?status, stderr = messages.trim(), "git http-backend");
        }
    });

    let mut reader = BufReader::new(stdout);
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().and_then(|c| c.parse().ok());
            status = code
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::BAD_GATEWAY);
        } else if let (Ok(name), Ok(value)) =
            (HeaderName::try_from(name), HeaderValue::from_str(value))
        {
            headers.append(name, value);
        }
    }
    let mut response = Response::new(Body::from_stream(ReaderStream::new(reader)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}
