//! The git smart-HTTP proxy at `/git/{owner}/{repo}.git/{info/refs,git-upload-pack,git-receive-pack}`.
//!
//! A client authenticates with HTTP Basic, the password being a token from `POST …/git-access` (any user
//! name): missing, unknown, expired or revoked → 401 with a Basic challenge; a token of another repository →
//! 403. The request goes on to `GITHUB_GIT_URL/{owner}/{repo}.git/…` with the service's own credential
//! (`x-access-token:<installation token or GITHUB_TOKEN>`), bodies streamed both ways and never decoded.
//!
//! A push (`git-receive-pack`) is read only as far as its command list (`<old> <new> <ref>` pkt-lines up to
//! the flush packet): a command on the repository's default branch (an update or a deletion) is answered 403
//! before anything reaches GitHub. Every proxied request is logged to the token's task
//! (`05-microservices-flow.jsonl`), pushes with the refs they change.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use serde_json::json;
use service_kit::call_log::{CallContext, millis};
use service_kit::error::ErrorResponse;
use service_kit::extract::Path;
use service_kit::http_client::{UpstreamError, UpstreamErrorKind, provider_message};
use service_kit::trace_context::{RequestContext, TraceContext, trace_requests};

use crate::error::Error;
use crate::git_access::{GitAccessError, GitGrant};
use crate::github_api::PROVIDER;
use crate::routes::check_repository;
use crate::state::AppState;

/// The realm of the Basic challenge.
pub const REALM: &str = "agent-gateway";
/// The longest push command list read before forwarding (a push of thousands of refs fits).
pub const MAX_COMMAND_LIST_BYTES: usize = 1024 * 1024;
/// Request headers git's smart protocol needs upstream; everything else (cookies, the client's
/// `Authorization`) stays here.
const FORWARDED_REQUEST_HEADERS: [header::HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CONTENT_LENGTH,
    header::ACCEPT,
    header::ACCEPT_ENCODING,
    header::USER_AGENT,
];
/// Answer headers passed back to git.
const FORWARDED_RESPONSE_HEADERS: [header::HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CONTENT_LENGTH,
    header::CACHE_CONTROL,
    header::EXPIRES,
    header::PRAGMA,
];
/// Protocol v2 is negotiated with this header.
const GIT_PROTOCOL: &str = "git-protocol";

/// The proxy's routes. Request bodies are streamed, so they have no size limit here: pushes are as large as
/// GitHub accepts (2 GiB), and nothing of them is held in memory beyond the command list.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/git/{owner}/{repo}/info/refs", get(info_refs))
        .route("/git/{owner}/{repo}/git-upload-pack", post(upload_pack))
        .route("/git/{owner}/{repo}/git-receive-pack", post(receive_pack))
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn(trace_requests))
        .with_state(state)
}

/// The three endpoints of git's smart HTTP protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    InfoRefs,
    UploadPack,
    ReceivePack,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::InfoRefs => "info/refs",
            Endpoint::UploadPack => "git-upload-pack",
            Endpoint::ReceivePack => "git-receive-pack",
        }
    }
}

async fn info_refs(
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    request: Request,
) -> Response {
    proxy(state, owner, repo, Endpoint::InfoRefs, request).await
}

async fn upload_pack(
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    request: Request,
) -> Response {
    proxy(state, owner, repo, Endpoint::UploadPack, request).await
}

async fn receive_pack(
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    request: Request,
) -> Response {
    proxy(state, owner, repo, Endpoint::ReceivePack, request).await
}

/// The Basic password of the request, if any.
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(BASE64.decode(credential.trim()).ok()?).ok()?;
    decoded
        .split_once(':')
        .map(|(_, password)| password.to_owned())
}

/// The error answer, with the Basic challenge on a 401 so git asks for (or retries with) credentials.
fn refusal(error: ErrorResponse) -> Response {
    let challenge = error.status == StatusCode::UNAUTHORIZED;
    let mut response = error.into_response();
    if challenge {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&format!("Basic realm=\"{REALM}\"")).expect("an ASCII realm"),
        );
    }
    response
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<GitGrant, Error> {
    let token = basic_password(headers).ok_or(GitAccessError::Unauthenticated)?;
    Ok(state.git().grant_of(&token).await?)
}

async fn proxy(
    state: AppState,
    owner: String,
    repo: String,
    endpoint: Endpoint,
    request: Request,
) -> Response {
    let started = Instant::now();
    let repo = repo.strip_suffix(".git").unwrap_or(&repo).to_owned();
    if let Err(error) = check_repository(&owner, &repo) {
        return refusal(error.into());
    }
    let grant = match authenticate(&state, request.headers()).await {
        Ok(grant) => grant,
        Err(error) => return refusal(error.into()),
    };
    let trace = request
        .extensions()
        .get::<RequestContext>()
        .map(|context| context.trace)
        .unwrap_or_else(TraceContext::new_root);
    let context = state.git().call_log().context(Some(grant.task_id), trace);
    context.record("service_call", || {
        json!({
            "scope": "call",
            "method": request.method().as_str(),
            "path": request.uri().path(),
            "route": format!("/git/{{owner}}/{{repo}}.git/{}", endpoint.path()),
            "trace_id": trace.trace_id_hex(),
            "git_service": git_service(endpoint, request.uri().query()),
        })
    });
    let outcome = if grant.covers(&owner, &repo) {
        forward(&state, &owner, &repo, endpoint, request, &context).await
    } else {
        Err(GitAccessError::WrongRepository.into())
    };
    match outcome {
        Ok(response) => {
            context.record(
                "service_response",
                || json!({ "scope": "call", "status": response.status().as_u16(), "duration_ms": millis(started.elapsed()) }),
            );
            response
        }
        Err(error) => {
            let error = ErrorResponse::from(error);
            context.record("service_error", || {
                json!({
                    "scope": "call",
                    "status": error.status.as_u16(),
                    "code": error.body.code,
                    "message": error.body.message,
                    "duration_ms": millis(started.elapsed()),
                })
            });
            refusal(error)
        }
    }
}

/// `git-upload-pack` (clone, fetch) or `git-receive-pack` (push), from the endpoint or `?service=`.
fn git_service(endpoint: Endpoint, query: Option<&str>) -> Option<&'static str> {
    match endpoint {
        Endpoint::UploadPack => Some("git-upload-pack"),
        Endpoint::ReceivePack => Some("git-receive-pack"),
        Endpoint::InfoRefs => query?.split('&').find_map(|pair| match pair {
            "service=git-upload-pack" => Some("git-upload-pack"),
            "service=git-receive-pack" => Some("git-receive-pack"),
            _ => None,
        }),
    }
}

async fn forward(
    state: &AppState,
    owner: &str,
    repo: &str,
    endpoint: Endpoint,
    request: Request,
    context: &CallContext,
) -> Result<Response, Error> {
    let (parts, body) = request.into_parts();
    let query = parts.uri.query();
    if endpoint == Endpoint::InfoRefs && git_service(endpoint, query).is_none() {
        return Err(GitAccessError::NotSmartHttp.into());
    }
    let mut body = body.into_data_stream();
    let mut already_read = Bytes::new();
    if endpoint == Endpoint::ReceivePack {
        if let Some(encoding) = parts
            .headers
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.eq_ignore_ascii_case("identity"))
        {
            return Err(GitAccessError::EncodedPush(encoding.to_owned()).into());
        }
        let (read, commands) = read_push_commands(&mut body).await?;
        let default_branch = state
            .git()
            .default_branch(state.github(), owner, repo, context)
            .await?;
        let default_ref = format!("refs/heads/{default_branch}");
        if commands
            .iter()
            .any(|command| command.refname.eq_ignore_ascii_case(&default_ref))
        {
            return Err(GitAccessError::DefaultBranchPush {
                branch: default_branch,
            }
            .into());
        }
        // git probes a large push with an empty request (`0000`) before sending it: nothing to log then.
        if !commands.is_empty() {
            context.record(
                "git_push",
                || json!({
                    "scope": "call",
                    "refs": commands.iter().map(|c| json!({ "ref": c.refname, "action": c.action() })).collect::<Vec<_>>(),
                }),
            );
        }
        already_read = read;
    }

    let authorization = state.github().authorization(owner, repo, context).await?;
    let token = authorization
        .strip_prefix("Bearer ")
        .unwrap_or(&authorization);
    let credential = format!("Basic {}", BASE64.encode(format!("x-access-token:{token}")));
    let url = format!(
        "{}/{owner}/{repo}.git/{}{}",
        state.git().settings().git_url,
        endpoint.path(),
        query.map(|q| format!("?{q}")).unwrap_or_default()
    );
    let mut upstream = state
        .git()
        .upstream()
        .request(parts.method.clone(), &url)
        .header(header::AUTHORIZATION, credential);
    for name in FORWARDED_REQUEST_HEADERS {
        for value in parts.headers.get_all(&name) {
            upstream = upstream.header(&name, value);
        }
    }
    if let Some(protocol) = parts.headers.get(GIT_PROTOCOL) {
        upstream = upstream.header(GIT_PROTOCOL, protocol);
    }
    if parts.method == Method::POST {
        let rest = futures::stream::once(async move { Ok(already_read) }).chain(body);
        upstream = upstream.body(reqwest::Body::wrap_stream(rest));
    }

    let (host, path) = reqwest::Url::parse(&url)
        .map(|u| {
            (
                u.host_str().unwrap_or_default().to_owned(),
                u.path().to_owned(),
            )
        })
        .unwrap_or_default();
    context.record(
        "service_request",
        || json!({ "scope": "upstream", "method": parts.method.as_str(), "host": host, "path": path, "attempt": 1 }),
    );
    let sent = Instant::now();
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(error) => {
            let kind = if error.is_timeout() {
                UpstreamErrorKind::Timeout
            } else {
                UpstreamErrorKind::Unreachable {
                    reason: error.to_string(),
                }
            };
            context.record(
                "service_error",
                || json!({ "scope": "upstream", "error": kind.to_string(), "duration_ms": millis(sent.elapsed()), "attempt": 1 }),
            );
            return Err(UpstreamError::new(PROVIDER, kind).into());
        }
    };
    let status = answer.status();
    context.record(
        "service_response",
        || json!({ "scope": "upstream", "status": status.as_u16(), "duration_ms": millis(sent.elapsed()), "attempt": 1 }),
    );
    if matches!(status.as_u16(), 401 | 403) {
        if status == StatusCode::UNAUTHORIZED {
            // A revoked or expired installation token: mint a new one next time.
            state.github().auth().forget_installation_tokens().await;
        }
        let message = provider_message(&answer.bytes().await.unwrap_or_default());
        return Err(UpstreamError::new(
            PROVIDER,
            UpstreamErrorKind::Unauthorized {
                status: status.as_u16(),
                message,
            },
        )
        .into());
    }
    let mut headers = HeaderMap::new();
    for name in FORWARDED_RESPONSE_HEADERS {
        for value in answer.headers().get_all(&name) {
            headers.append(&name, value.clone());
        }
    }
    let mut response = Response::new(Body::from_stream(answer.bytes_stream()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// Reads the body until its command list is complete: answers the bytes read (forwarded first) and the
/// commands.
async fn read_push_commands<S>(body: &mut S) -> Result<(Bytes, Vec<PushCommand>), GitAccessError>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    let mut read = BytesMut::new();
    loop {
        if let Some(commands) = push_commands(&read)? {
            return Ok((read.freeze(), commands));
        }
        if read.len() > MAX_COMMAND_LIST_BYTES {
            return Err(GitAccessError::MalformedPush(format!(
                "the command list is longer than {MAX_COMMAND_LIST_BYTES} bytes"
            )));
        }
        match body.next().await {
            Some(Ok(chunk)) => read.extend_from_slice(&chunk),
            Some(Err(error)) => return Err(GitAccessError::MalformedPush(error.to_string())),
            None => {
                return Err(GitAccessError::MalformedPush(
                    "the body ends before the command list's flush packet".to_owned(),
                ));
            }
        }
    }
}

/// One ref update of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCommand {
    pub old: String,
    pub new: String,
    pub refname: String,
}

impl PushCommand {
    fn is_zero(id: &str) -> bool {
        id.bytes().all(|b| b == b'0')
    }

    /// `create`, `delete` or `update`.
    pub fn action(&self) -> &'static str {
        if Self::is_zero(&self.old) {
            "create"
        } else if Self::is_zero(&self.new) {
            "delete"
        } else {
            "update"
        }
    }
}

fn object_id(value: &str) -> bool {
    matches!(value.len(), 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The command list at the start of a `git-receive-pack` request (gitprotocol-pack(5)):
/// `*shallow (command-list | push-cert)`, each a pkt-line, the list ended by a flush packet `0000`.
/// `Ok(None)`: more bytes are needed. Signed pushes (`push-cert`) are refused: their commands sit inside the
/// certificate and are not checked here.
pub fn push_commands(data: &[u8]) -> Result<Option<Vec<PushCommand>>, GitAccessError> {
    let malformed = |reason: &str| GitAccessError::MalformedPush(reason.to_owned());
    let mut commands = Vec::new();
    let mut position = 0;
    loop {
        let Some(length) = data.get(position..position + 4) else {
            return Ok(None);
        };
        let length = std::str::from_utf8(length)
            .ok()
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .ok_or_else(|| malformed("a pkt-line length is not 4 hex digits"))?;
        if length == 0 {
            return Ok(Some(commands));
        }
        if length < 4 {
            return Err(malformed("a special packet inside the command list"));
        }
        let Some(payload) = data.get(position + 4..position + length) else {
            return Ok(None);
        };
        position += length;
        let line = std::str::from_utf8(payload)
            .map_err(|_| malformed("a command is not UTF-8"))?
            .trim_end_matches('\n');
        // The first command carries the capabilities after a NUL.
        let line = line.split_once('\0').map_or(line, |(command, _)| command);
        if line.starts_with("shallow ") {
            continue;
        }
        if line.starts_with("push-cert") {
            return Err(malformed(
                "signed pushes are not accepted through the proxy",
            ));
        }
        let mut fields = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(refname)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(malformed("a command is not `<old> <new> <ref>`"));
        };
        if !object_id(old) || !object_id(new) || refname.is_empty() {
            return Err(malformed("a command is not `<old> <new> <ref>`"));
        }
        commands.push(PushCommand {
            old: old.to_owned(),
            new: new.to_owned(),
            refname: refname.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(line: &str) -> String {
        format!("{:04x}{line}", line.len() + 4)
    }

    const OLD: &str = "0000000000000000000000000000000000000000";
    const NEW: &str = "1111111111111111111111111111111111111111";

    #[test]
    fn reads_the_command_list_up_to_the_flush_packet() {
        let body = format!(
            "{}{}{}{}PACK....",
            pkt("shallow 2222222222222222222222222222222222222222\n"),
            pkt(&format!(
                "{OLD} {NEW} refs/heads/agent/fix\0report-status side-band-64k\n"
            )),
            pkt(&format!("{NEW} {OLD} refs/heads/main\n")),
            "0000"
        );
        let commands = push_commands(body.as_bytes()).unwrap().unwrap();
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0].refname, "refs/heads/agent/fix");
        assert_eq!(commands[0].action(), "create");
        assert_eq!(commands[1].refname, "refs/heads/main");
        assert_eq!(commands[1].action(), "delete");
        for cut in 0..body.find("0000PACK").unwrap() + 4 {
            assert!(
                push_commands(&body.as_bytes()[..cut]).unwrap().is_none(),
                "{cut}"
            );
        }
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        for bad in [
            "zzzz".to_owned(),
            "0001".to_owned(),
            pkt("not a command\n"),
            pkt(&format!("{OLD} {NEW}\n")),
            pkt("push-cert\0report-status\n"),
        ] {
            assert!(push_commands(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_the_basic_password_whatever_the_user() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!(
                "Basic {}",
                BASE64.encode("anyone:secret:with:colons")
            ))
            .unwrap(),
        );
        assert_eq!(
            basic_password(&headers).as_deref(),
            Some("secret:with:colons")
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_password(&headers), None);
    }
}
