//! A stand-in for GitHub's git smart HTTP: Debian git's `git http-backend` run as a CGI program over bare
//! repositories in a temporary directory, recording the credential of every request it serves. Like GitHub, it
//! wants credentials for a push (401 with a Basic challenge without them) and takes the Basic user name as
//! `REMOTE_USER`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// What the backend saw of one request.
#[derive(Debug, Clone)]
pub struct GitRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    /// The `REMOTE_USER` git http-backend ran with.
    pub remote_user: Option<String>,
}

#[derive(Clone)]
struct BackendState {
    root: PathBuf,
    requests: Arc<Mutex<Vec<GitRequest>>>,
}

pub struct GitBackend {
    /// `http://127.0.0.1:{port}`: what `GITHUB_GIT_URL` is set to.
    pub url: String,
    pub root: PathBuf,
    requests: Arc<Mutex<Vec<GitRequest>>>,
    _dir: tempfile::TempDir,
}

/// Runs `git` with no user or system configuration; panics with its stderr when it fails. Asynchronous, so
/// the test's runtime keeps serving the app git talks to.
pub async fn git(dir: &Path, args: &[&str]) -> String {
    let output = git_command(dir, args).output().await.expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// `git` with no user or system configuration, no prompts, and a committer.
pub fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Agent")
        .env("GIT_AUTHOR_EMAIL", "agent@example.com")
        .env("GIT_COMMITTER_NAME", "Agent")
        .env("GIT_COMMITTER_EMAIL", "agent@example.com")
        .kill_on_drop(true);
    command
}

impl GitBackend {
    /// Starts the backend with a bare repository `owner/repo.git` whose `main` holds one commit (a README).
    pub async fn start(owner: &str, repo: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repos");
        let bare = root.join(owner).join(format!("{repo}.git"));
        std::fs::create_dir_all(&bare).unwrap();
        git(
            &bare,
            &["init", "--quiet", "--bare", "--initial-branch=main"],
        )
        .await;
        let seed = dir.path().join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        git(&seed, &["init", "--quiet", "--initial-branch=main"]).await;
        std::fs::write(seed.join("README.md"), "# hello-world\n").unwrap();
        git(&seed, &["add", "README.md"]).await;
        git(&seed, &["commit", "--quiet", "-m", "first commit"]).await;
        git(
            &seed,
            &["push", "--quiet", bare.to_str().unwrap(), "main:main"],
        )
        .await;

        let requests = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/{*path}", any(serve))
            .with_state(BackendState {
                root: root.clone(),
                requests: requests.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url,
            root,
            requests,
            _dir: dir,
        }
    }

    /// The bare repository `owner/repo.git`.
    pub fn repository(&self, owner: &str, repo: &str) -> PathBuf {
        self.root.join(owner).join(format!("{repo}.git"))
    }

    /// The commit a ref points at in the bare repository, or `None`.
    pub async fn rev(&self, owner: &str, repo: &str, refname: &str) -> Option<String> {
        let output = git_command(
            &self.repository(owner, repo),
            &["rev-parse", "--verify", "--quiet", refname],
        )
        .output()
        .await
        .unwrap();
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    pub fn requests(&self) -> Vec<GitRequest> {
        self.requests.lock().unwrap().clone()
    }
}

fn remote_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credential.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    decoded.split_once(':').map(|(user, _)| user.to_owned())
}

async fn serve(State(state): State<BackendState>, request: Request) -> Response {
    let path_info = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let user = remote_user(request.headers());
    state.requests.lock().unwrap().push(GitRequest {
        method: request.method().to_string(),
        path: path_info.clone(),
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned()),
        remote_user: user.clone(),
    });
    let push =
        path_info.ends_with("/git-receive-pack") || query.contains("service=git-receive-pack");
    if push && user.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"GitHub\"")],
            "Authentication required\n",
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let mut command = Command::new("git");
    command
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("GIT_PROJECT_ROOT", &state.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", &path_info)
        .env("QUERY_STRING", &query)
        .env("REMOTE_ADDR", "127.0.0.1");
    if let Some(user) = &user {
        command.env("REMOTE_USER", user).env("AUTH_TYPE", "Basic");
    }
    for (name, variable) in [
        (header::CONTENT_TYPE, "CONTENT_TYPE"),
        (header::CONTENT_LENGTH, "CONTENT_LENGTH"),
        (header::CONTENT_ENCODING, "HTTP_CONTENT_ENCODING"),
        (HeaderName::from_static("git-protocol"), "HTTP_GIT_PROTOCOL"),
    ] {
        if let Some(value) = parts.headers.get(&name).and_then(|v| v.to_str().ok()) {
            command.env(variable, value);
        }
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("git http-backend starts");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    tokio::spawn(async move {
        let mut body = body.into_data_stream();
        while let Some(Ok(chunk)) = body.next().await {
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = stdin.shutdown().await;
    });
    tokio::spawn(async move {
        let _ = child.wait().await;
    });

    let mut reader = BufReader::new(stdout);
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("status") {
            status = value
                .split_whitespace()
                .next()
                .and_then(|code| code.parse().ok())
                .and_then(|code| StatusCode::from_u16(code).ok())
                .unwrap_or(StatusCode::BAD_GATEWAY);
        } else if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    let rest = futures::stream::unfold(reader, |mut reader| async move {
        let mut buffer = vec![0u8; 64 * 1024];
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buffer)), reader))
            }
        }
    });
    let mut response = Response::new(Body::from_stream(rest));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
