//! GitHub's REST API: the requests the service makes and GitHub's answers, reduced to the contracts' types.
//! Paths and bodies follow docs.github.com/rest (API version 2022-11-28).

use chrono::{DateTime, Utc};
use contracts::github::{
    Branch, GithubUser, Issue, IssueComment, PullRequest, PullRequestBranch, PullRequestFile,
    Reaction, RepositoryPermission,
};
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use service_kit::call_log::CallContext;
use service_kit::http_client::{Idempotence, UpstreamClient, UpstreamErrorKind, UpstreamResponse};

use crate::error::Error;
use crate::github_auth::{ACCEPT_JSON, API_VERSION, API_VERSION_HEADER, GithubAuth};

/// The provider's name in errors and metrics.
pub const PROVIDER: &str = "GitHub";
/// Page size of list requests (GitHub's maximum).
const PER_PAGE: usize = 100;
/// At most this many comments are read with an issue.
pub const MAX_COMMENT_PAGES: usize = 10;
/// GitHub lists at most 3,000 files of a pull request.
pub const MAX_FILE_PAGES: usize = 30;
const DIFF_MEDIA_TYPE: &str = "application/vnd.github.diff";

#[derive(Debug, Deserialize)]
struct WireUser {
    login: String,
    id: u64,
    #[serde(rename = "type", default)]
    account_type: Option<String>,
}

fn user(wire: Option<WireUser>) -> GithubUser {
    match wire {
        Some(u) => GithubUser {
            login: u.login,
            id: u.id,
            account_type: u.account_type.unwrap_or_else(|| "User".to_owned()),
        },
        // GitHub answers `null` for deleted accounts; the web shows them as "ghost".
        None => GithubUser {
            login: "ghost".to_owned(),
            id: 0,
            account_type: "User".to_owned(),
        },
    }
}

#[derive(Debug, Deserialize)]
struct WireLabel {
    name: String,
}

#[derive(Debug, Deserialize)]
struct WireIssue {
    number: u64,
    title: String,
    body: Option<String>,
    state: String,
    html_url: String,
    user: Option<WireUser>,
    #[serde(default)]
    labels: Vec<WireLabel>,
    pull_request: Option<Value>,
    #[serde(default)]
    comments: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct WireComment {
    id: u64,
    body: Option<String>,
    user: Option<WireUser>,
    html_url: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<WireComment> for IssueComment {
    fn from(c: WireComment) -> Self {
        Self {
            id: c.id,
            body: c.body.unwrap_or_default(),
            user: user(c.user),
            html_url: c.html_url,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
struct WireRepositoryName {
    full_name: String,
}

#[derive(Debug, Deserialize)]
struct WireBranch {
    #[serde(rename = "ref")]
    branch: String,
    sha: String,
    repo: Option<WireRepositoryName>,
}

impl From<WireBranch> for PullRequestBranch {
    fn from(b: WireBranch) -> Self {
        Self {
            branch: b.branch,
            sha: b.sha,
            repository: b.repo.map(|r| r.full_name),
        }
    }
}

#[derive(Debug, Deserialize)]
struct WirePull {
    number: u64,
    title: String,
    body: Option<String>,
    state: String,
    #[serde(default)]
    draft: Option<bool>,
    #[serde(default)]
    merged: Option<bool>,
    merged_at: Option<DateTime<Utc>>,
    html_url: String,
    user: Option<WireUser>,
    head: WireBranch,
    base: WireBranch,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<WirePull> for PullRequest {
    fn from(p: WirePull) -> Self {
        Self {
            number: p.number,
            title: p.title,
            body: p.body,
            state: p.state,
            draft: p.draft.unwrap_or(false),
            merged: p.merged.unwrap_or(p.merged_at.is_some()),
            html_url: p.html_url,
            user: user(p.user),
            head: p.head.into(),
            base: p.base.into(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
struct WireFile {
    filename: String,
    status: String,
    additions: u64,
    deletions: u64,
    changes: u64,
    patch: Option<String>,
    previous_filename: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireReaction {
    id: u64,
    content: String,
    user: Option<WireUser>,
}

#[derive(Debug, Deserialize)]
struct WireObject {
    sha: String,
}

#[derive(Debug, Deserialize)]
struct WireRef {
    #[serde(rename = "ref")]
    name: String,
    object: WireObject,
}

#[derive(Debug, Deserialize)]
struct WireRepository {
    default_branch: String,
}

#[derive(Debug, Deserialize)]
struct WirePermission {
    permission: String,
    role_name: Option<String>,
}

/// One request to GitHub, before authentication.
struct Call {
    method: Method,
    /// Starts with `/`; segments are validated by the routes.
    path: String,
    body: Option<Value>,
    accept: &'static str,
    idempotence: Idempotence,
}

impl Call {
    fn new(method: Method, path: String, idempotence: Idempotence) -> Self {
        Self {
            method,
            path,
            body: None,
            accept: ACCEPT_JSON,
            idempotence,
        }
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn accept(mut self, media_type: &'static str) -> Self {
        self.accept = media_type;
        self
    }
}

/// What a reaction is added to.
#[derive(Debug, Clone, Copy)]
pub enum ReactionTarget {
    Issue(u64),
    IssueComment(u64),
    ReviewComment(u64),
}

/// GitHub's REST API as the service uses it.
#[derive(Debug)]
pub struct GithubApi {
    http: UpstreamClient,
    api_url: String,
    auth: GithubAuth,
}

impl GithubApi {
    pub fn new(http: UpstreamClient, api_url: String, auth: GithubAuth) -> Self {
        Self {
            http,
            api_url,
            auth,
        }
    }

    pub fn auth(&self) -> &GithubAuth {
        &self.auth
    }

    /// The `Authorization` value the service sends about `owner/repo`: `Bearer <installation token or token>`.
    pub async fn authorization(
        &self,
        owner: &str,
        repo: &str,
        context: &CallContext,
    ) -> Result<String, Error> {
        self.auth
            .authorization(&self.http, &self.api_url, owner, repo, context)
            .await
    }

    /// The repository's default branch (`GET /repos/{owner}/{repo}`).
    pub async fn default_branch(
        &self,
        owner: &str,
        repo: &str,
        context: &CallContext,
    ) -> Result<String, Error> {
        let repository: WireRepository = self
            .get_json(owner, repo, &format!("/repos/{owner}/{repo}"), context)
            .await?;
        Ok(repository.default_branch)
    }

    /// One authenticated request about `owner/repo`.
    async fn send(
        &self,
        owner: &str,
        repo: &str,
        call: Call,
        context: &CallContext,
    ) -> Result<UpstreamResponse, Error> {
        let authorization = self
            .auth
            .authorization(&self.http, &self.api_url, owner, repo, context)
            .await?;
        let mut request = self
            .http
            .request(call.method, &format!("{}{}", self.api_url, call.path))
            .header(reqwest::header::ACCEPT, call.accept)
            .header(API_VERSION_HEADER, API_VERSION)
            .header(reqwest::header::AUTHORIZATION, authorization);
        if let Some(body) = call.body {
            request = request.json(&body);
        }
        match self.http.send(request, call.idempotence, context).await {
            Err(error)
                if matches!(
                    error.kind,
                    UpstreamErrorKind::Unauthorized { status: 401, .. }
                ) =>
            {
                // A revoked or expired installation token: mint a new one next time.
                self.auth.forget_installation_tokens().await;
                Err(error.into())
            }
            other => Ok(other?),
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        owner: &str,
        repo: &str,
        path: &str,
        context: &CallContext,
    ) -> Result<T, Error> {
        let response = self
            .send(
                owner,
                repo,
                Call::new(Method::GET, path.to_owned(), Idempotence::Idempotent),
                context,
            )
            .await?;
        Ok(response.json()?)
    }

    /// Reads a list page by page (`per_page=100`) up to `max_pages`; answers the items and whether more remain.
    async fn get_pages<T: DeserializeOwned>(
        &self,
        owner: &str,
        repo: &str,
        path: &str,
        max_pages: usize,
        context: &CallContext,
    ) -> Result<(Vec<T>, bool), Error> {
        let mut items = Vec::new();
        for page in 1..=max_pages {
            let batch: Vec<T> = self
                .get_json(
                    owner,
                    repo,
                    &format!("{path}?per_page={PER_PAGE}&page={page}"),
                    context,
                )
                .await?;
            let full = batch.len() == PER_PAGE;
            items.extend(batch);
            if !full {
                return Ok((items, false));
            }
        }
        Ok((items, true))
    }

    pub async fn issue_with_comments(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        context: &CallContext,
    ) -> Result<(Issue, Vec<IssueComment>, bool), Error> {
        let wire: WireIssue = self
            .get_json(
                owner,
                repo,
                &format!("/repos/{owner}/{repo}/issues/{number}"),
                context,
            )
            .await?;
        let issue = Issue {
            number: wire.number,
            title: wire.title,
            body: wire.body,
            state: wire.state,
            html_url: wire.html_url,
            user: user(wire.user),
            labels: wire.labels.into_iter().map(|l| l.name).collect(),
            is_pull_request: wire.pull_request.is_some(),
            comments: wire.comments,
            created_at: wire.created_at,
            updated_at: wire.updated_at,
        };
        let (comments, truncated) = if issue.comments == 0 {
            (Vec::new(), false)
        } else {
            self.get_pages::<WireComment>(
                owner,
                repo,
                &format!("/repos/{owner}/{repo}/issues/{number}/comments"),
                MAX_COMMENT_PAGES,
                context,
            )
            .await?
        };
        Ok((
            issue,
            comments.into_iter().map(Into::into).collect(),
            truncated,
        ))
    }

    pub async fn pull_request(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        context: &CallContext,
    ) -> Result<PullRequest, Error> {
        let wire: WirePull = self
            .get_json(
                owner,
                repo,
                &format!("/repos/{owner}/{repo}/pulls/{number}"),
                context,
            )
            .await?;
        Ok(wire.into())
    }

    pub async fn pull_request_diff(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        context: &CallContext,
    ) -> Result<String, Error> {
        let response = self
            .send(
                owner,
                repo,
                Call::new(
                    Method::GET,
                    format!("/repos/{owner}/{repo}/pulls/{number}"),
                    Idempotence::Idempotent,
                )
                .accept(DIFF_MEDIA_TYPE),
                context,
            )
            .await?;
        Ok(response.text())
    }

    pub async fn pull_request_files(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        context: &CallContext,
    ) -> Result<(Vec<PullRequestFile>, bool), Error> {
        let (files, truncated) = self
            .get_pages::<WireFile>(
                owner,
                repo,
                &format!("/repos/{owner}/{repo}/pulls/{number}/files"),
                MAX_FILE_PAGES,
                context,
            )
            .await?;
        let files = files
            .into_iter()
            .map(|f| PullRequestFile {
                filename: f.filename,
                status: f.status,
                additions: f.additions,
                deletions: f.deletions,
                changes: f.changes,
                patch: f.patch,
                previous_filename: f.previous_filename,
            })
            .collect();
        Ok((files, truncated))
    }

    pub async fn post_comment(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        body: &str,
        context: &CallContext,
    ) -> Result<IssueComment, Error> {
        let response = self
            .send(
                owner,
                repo,
                Call::new(
                    Method::POST,
                    format!("/repos/{owner}/{repo}/issues/{number}/comments"),
                    Idempotence::Creates,
                )
                .body(json!({ "body": body })),
                context,
            )
            .await?;
        Ok(response.json::<WireComment>()?.into())
    }

    pub async fn update_comment(
        &self,
        owner: &str,
        repo: &str,
        comment_id: u64,
        body: &str,
        context: &CallContext,
    ) -> Result<IssueComment, Error> {
        let response = self
            .send(
                owner,
                repo,
                Call::new(
                    Method::PATCH,
                    format!("/repos/{owner}/{repo}/issues/comments/{comment_id}"),
                    Idempotence::Idempotent,
                )
                .body(json!({ "body": body })),
                context,
            )
            .await?;
        Ok(response.json::<WireComment>()?.into())
    }

    pub async fn delete_comment(
        &self,
        owner: &str,
        repo: &str,
        comment_id: u64,
        context: &CallContext,
    ) -> Result<(), Error> {
        self.send(
            owner,
            repo,
            Call::new(
                Method::DELETE,
                format!("/repos/{owner}/{repo}/issues/comments/{comment_id}"),
                Idempotence::Idempotent,
            ),
            context,
        )
        .await?;
        Ok(())
    }

    /// Adds a reaction; repeating one is harmless (GitHub answers the existing reaction with 200).
    pub async fn add_reaction(
        &self,
        owner: &str,
        repo: &str,
        target: ReactionTarget,
        content: &str,
        context: &CallContext,
    ) -> Result<Reaction, Error> {
        let path = match target {
            ReactionTarget::Issue(number) => {
                format!("/repos/{owner}/{repo}/issues/{number}/reactions")
            }
            ReactionTarget::IssueComment(id) => {
                format!("/repos/{owner}/{repo}/issues/comments/{id}/reactions")
            }
            ReactionTarget::ReviewComment(id) => {
                format!("/repos/{owner}/{repo}/pulls/comments/{id}/reactions")
            }
        };
        let response = self
            .send(
                owner,
                repo,
                Call::new(Method::POST, path, Idempotence::Idempotent)
                    .body(json!({ "content": content })),
                context,
            )
            .await?;
        let created = response.status == reqwest::StatusCode::CREATED;
        let wire: WireReaction = response.json()?;
        Ok(Reaction {
            id: wire.id,
            content: wire.content,
            user: user(wire.user),
            created,
        })
    }

    /// Creates `refs/heads/{name}` at `sha`, or at the head of `from_branch`, or of the default branch.
    pub async fn create_branch(
        &self,
        owner: &str,
        repo: &str,
        name: &str,
        from_branch: Option<&str>,
        sha: Option<&str>,
        context: &CallContext,
    ) -> Result<Branch, Error> {
        let sha = match (sha, from_branch) {
            (Some(sha), _) => sha.to_owned(),
            (None, from) => {
                let from = match from {
                    Some(branch) => branch.to_owned(),
                    None => {
                        self.get_json::<WireRepository>(
                            owner,
                            repo,
                            &format!("/repos/{owner}/{repo}"),
                            context,
                        )
                        .await?
                        .default_branch
                    }
                };
                self.get_json::<WireRef>(
                    owner,
                    repo,
                    &format!("/repos/{owner}/{repo}/git/ref/heads/{from}"),
                    context,
                )
                .await?
                .object
                .sha
            }
        };
        let response = self
            .send(
                owner,
                repo,
                Call::new(
                    Method::POST,
                    format!("/repos/{owner}/{repo}/git/refs"),
                    Idempotence::Creates,
                )
                .body(json!({ "ref": format!("refs/heads/{name}"), "sha": sha })),
                context,
            )
            .await?;
        let created: WireRef = response.json()?;
        Ok(Branch {
            name: created
                .name
                .strip_prefix("refs/heads/")
                .unwrap_or(&created.name)
                .to_owned(),
            sha: created.object.sha,
        })
    }

    pub async fn create_pull_request(
        &self,
        owner: &str,
        repo: &str,
        request: &contracts::github::CreatePullRequestRequest,
        context: &CallContext,
    ) -> Result<PullRequest, Error> {
        let mut body = json!({
            "title": request.title,
            "head": request.head,
            "base": request.base,
            "draft": request.draft,
        });
        if let Some(text) = &request.body {
            body["body"] = json!(text);
        }
        let response = self
            .send(
                owner,
                repo,
                Call::new(
                    Method::POST,
                    format!("/repos/{owner}/{repo}/pulls"),
                    Idempotence::Creates,
                )
                .body(body),
                context,
            )
            .await?;
        Ok(response.json::<WirePull>()?.into())
    }

    pub async fn permission(
        &self,
        owner: &str,
        repo: &str,
        username: &str,
        context: &CallContext,
    ) -> Result<RepositoryPermission, Error> {
        let wire: WirePermission = self
            .get_json(
                owner,
                repo,
                &format!("/repos/{owner}/{repo}/collaborators/{username}/permission"),
                context,
            )
            .await?;
        Ok(RepositoryPermission {
            username: username.to_owned(),
            can_write: matches!(wire.permission.as_str(), "admin" | "write"),
            permission: wire.permission,
            role_name: wire.role_name,
        })
    }
}
