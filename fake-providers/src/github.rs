//! The fake GitHub REST API (https://docs.github.com/rest), served under `/github/api`: repositories, issues
//! and their comments, pull requests (diff and files computed by git from the bare repositories), reactions,
//! git refs, collaborator permissions and the GitHub App installation endpoints. Also small HTML pages at
//! the `html_url`s it hands out, so a person can read what the agent posted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::inspect::escape;
use crate::repository::{DEFAULT_BRANCH, SAMPLE_OWNER, SAMPLE_REPO, git_dir};
use crate::state::AppState;

const DOCUMENTATION_URL: &str = "https://docs.github.com/rest";
/// Who every authenticated call acts as.
pub const BOT_LOGIN: &str = "agent-gateway[bot]";
const BOT_ID: u64 = 9_100_001;
/// GitHub's reaction names.
const REACTIONS: &[&str] = &[
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];
const MAX_COMMENT_CHARS: usize = 65_536;
/// The installation id `GET /repos/{owner}/{repo}/installation` answers.
pub const INSTALLATION_ID: u64 = 4_242;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(get_app))
        .route(
            "/app/installations/{installation_id}/access_tokens",
            post(create_installation_token),
        )
        .route("/repos/{owner}/{repo}", get(get_repository))
        .route("/repos/{owner}/{repo}/installation", get(get_installation))
        .route("/repos/{owner}/{repo}/issues/{number}", get(get_issue))
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/reactions",
            post(react_to_issue),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            get(get_comment)
                .patch(update_comment)
                .delete(delete_comment),
        )
        .route(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            post(react_to_comment),
        )
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(list_pulls).post(create_pull),
        )
        .route("/repos/{owner}/{repo}/pulls/{number}", get(get_pull))
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/files",
            get(list_pull_files),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
            post(react_to_review_comment),
        )
        .route("/repos/{owner}/{repo}/git/ref/{*reference}", get(get_ref))
        .route("/repos/{owner}/{repo}/git/refs/{*reference}", get(get_ref))
        .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
        .route("/repos/{owner}/{repo}/branches/{*branch}", get(get_branch))
        .route(
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            get(get_permission),
        )
}

/// The pages behind the `html_url`s, under `/github`.
pub fn pages_router() -> Router<AppState> {
    Router::new()
        .route("/{owner}/{repo}/issues/{number}", get(issue_page))
        .route("/{owner}/{repo}/pull/{number}", get(issue_page))
}

// ---------------------------------------------------------------------------------------------------------
// Data

pub struct GithubData {
    repositories: BTreeMap<String, Repository>,
    next_comment_id: u64,
    next_reaction_id: u64,
    next_token: u64,
}

struct Repository {
    id: u64,
    owner: String,
    name: String,
    default_branch: String,
    issues: BTreeMap<u64, Issue>,
    comments: BTreeMap<u64, Comment>,
    reactions: Vec<Reaction>,
    next_number: u64,
}

#[derive(Clone)]
struct Issue {
    number: u64,
    title: String,
    body: Option<String>,
    user: String,
    state: &'static str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    pull: Option<Pull>,
}

#[derive(Clone)]
struct Pull {
    head: String,
    base: String,
    draft: bool,
}

#[derive(Clone)]
struct Comment {
    id: u64,
    issue_number: u64,
    body: String,
    user: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Clone, PartialEq)]
enum ReactionSubject {
    Issue(u64),
    IssueComment(u64),
    ReviewComment(u64),
}

#[derive(Clone)]
struct Reaction {
    id: u64,
    subject: ReactionSubject,
    content: String,
    user: String,
    created_at: DateTime<Utc>,
}

fn seeded_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
}

impl GithubData {
    /// `demo/sample-repo` with issue #1 (the one `agw send github issue-comment` comments on) and issue #2
    /// (the failing test).
    pub fn with_sample_repository() -> Self {
        let mut data = Self {
            repositories: BTreeMap::new(),
            next_comment_id: 100_000_001,
            next_reaction_id: 500_001,
            next_token: 1,
        };
        let mut repository = Repository {
            id: 1_296_269,
            owner: SAMPLE_OWNER.to_owned(),
            name: SAMPLE_REPO.to_owned(),
            default_branch: DEFAULT_BRANCH.to_owned(),
            issues: BTreeMap::new(),
            comments: BTreeMap::new(),
            reactions: Vec::new(),
            next_number: 1,
        };
        for (title, body) in [
            (
                "Explain the sample repository",
                "The README could say more.",
            ),
            (
                "add() returns the wrong sum",
                "`cargo test` fails: `add(2, 3)` returns -1 instead of 5.",
            ),
        ] {
            let number = repository.next_number;
            repository.next_number += 1;
            repository.issues.insert(
                number,
                Issue {
                    number,
                    title: title.to_owned(),
                    body: Some(body.to_owned()),
                    user: "octocat".to_owned(),
                    state: "open",
                    created_at: seeded_time(),
                    updated_at: seeded_time(),
                    pull: None,
                },
            );
        }
        data.repositories
            .insert(format!("{SAMPLE_OWNER}/{SAMPLE_REPO}"), repository);
        data
    }

    fn repository(&mut self, owner: &str, repo: &str) -> Result<&mut Repository, GithubError> {
        self.repositories
            .get_mut(&format!("{owner}/{repo}"))
            .ok_or_else(GithubError::not_found)
    }

    /// Creates or replaces issue `number` (what a webhook's issue says), keeping its comments.
    pub fn seed_issue(
        &mut self,
        repository: &str,
        number: u64,
        title: String,
        body: Option<String>,
        user: String,
    ) -> Result<(), SeedError> {
        let (owner, repo) = repository
            .split_once('/')
            .ok_or(SeedError::UnknownRepository)?;
        let repository = self
            .repository(owner, repo)
            .map_err(|_| SeedError::UnknownRepository)?;
        let issue = repository
            .issue(number)
            .map_err(|_| SeedError::Invalid("issue numbers start at 1"))?;
        if issue.pull.is_some() {
            return Err(SeedError::Invalid("that number is a pull request"));
        }
        issue.title = title;
        issue.body = body;
        issue.user = user;
        issue.updated_at = Utc::now();
        Ok(())
    }

    /// Adds a comment by `user` (a webhook's triggering comment), with the id the webhook carries when given.
    pub fn seed_comment(
        &mut self,
        repository: &str,
        number: u64,
        id: Option<u64>,
        user: String,
        body: String,
    ) -> Result<u64, SeedError> {
        let next_id = self.next_comment_id;
        let (owner, repo) = repository
            .split_once('/')
            .ok_or(SeedError::UnknownRepository)?;
        let repository = self
            .repository(owner, repo)
            .map_err(|_| SeedError::UnknownRepository)?;
        repository
            .issue(number)
            .map_err(|_| SeedError::Invalid("issue numbers start at 1"))?;
        let id = id.unwrap_or(next_id);
        if repository.comments.contains_key(&id) {
            return Err(SeedError::Exists);
        }
        let now = Utc::now();
        repository.comments.insert(
            id,
            Comment {
                id,
                issue_number: number,
                body,
                user,
                created_at: now,
                updated_at: now,
            },
        );
        if id == next_id {
            self.next_comment_id += 1;
        }
        Ok(id)
    }
}

/// Why seeding refused.
#[derive(Debug)]
pub enum SeedError {
    UnknownRepository,
    Exists,
    Invalid(&'static str),
}

impl Repository {
    /// An issue of this repository; an unknown number becomes a plain open issue on first use, so webhooks
    /// about issues the fake never saw still lead somewhere.
    fn issue(&mut self, number: u64) -> Result<&mut Issue, GithubError> {
        if number == 0 {
            return Err(GithubError::not_found());
        }
        if !self.issues.contains_key(&number) {
            self.next_number = self.next_number.max(number + 1);
        }
        Ok(self.issues.entry(number).or_insert_with(|| Issue {
            number,
            title: format!("Issue #{number}"),
            body: None,
            user: "octocat".to_owned(),
            state: "open",
            created_at: seeded_time(),
            updated_at: seeded_time(),
            pull: None,
        }))
    }

    fn comment_count(&self, number: u64) -> usize {
        self.comments
            .values()
            .filter(|c| c.issue_number == number)
            .count()
    }

    fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Errors and request helpers

/// An answer in GitHub's error shape: `{"message", "documentation_url", "status", "errors"?}`.
#[derive(Debug)]
pub struct GithubError {
    status: StatusCode,
    message: String,
    errors: Option<Value>,
}

impl GithubError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: None,
        }
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 422 "Validation Failed" with one error, as GitHub reports a refused field.
    fn validation(
        resource: &str,
        field: Option<&str>,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        let mut error = json!({ "resource": resource, "code": code, "message": message.into() });
        if let Some(field) = field {
            error["field"] = json!(field);
        }
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "Validation Failed".to_owned(),
            errors: Some(json!([error])),
        }
    }

    fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    fn internal(error: &anyhow::Error) -> Self {
        tracing::error!(error = format!("{error:#}"), "fake GitHub failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{error:#}"))
    }
}

impl IntoResponse for GithubError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "message": self.message,
            "documentation_url": DOCUMENTATION_URL,
            "status": self.status.as_u16().to_string(),
        });
        if let Some(errors) = self.errors {
            body["errors"] = errors;
        }
        (self.status, Json(body)).into_response()
    }
}

/// An unknown GitHub path.
pub fn not_found() -> Response {
    GithubError::not_found().into_response()
}

type Answer = Result<Response, GithubError>;

/// Path parameters; a malformed one (a non-numeric issue number) is GitHub's 404, not axum's 400.
#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(GithubError))]
struct GithubPath<T>(T);

impl From<PathRejection> for GithubError {
    fn from(_: PathRejection) -> Self {
        Self::not_found()
    }
}

/// Any `Bearer` or `token` credential is accepted (and recorded); none at all is GitHub's 401.
fn require_auth(headers: &HeaderMap) -> Result<String, GithubError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    if !known || credential.trim().is_empty() {
        return Err(GithubError::new(
            StatusCode::UNAUTHORIZED,
            "Requires authentication",
        ));
    }
    Ok(credential.trim().to_owned())
}

fn parse_body(body: &Bytes) -> Result<Value, GithubError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| GithubError::new(StatusCode::BAD_REQUEST, "Problems parsing JSON"))?;
    if !value.is_object() {
        return Err(GithubError::new(
            StatusCode::BAD_REQUEST,
            "Problems parsing JSON",
        ));
    }
    Ok(value)
}

/// `http://{Host}`: links point back at this fake, whatever port it runs on.
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:9100");
    format!("http://{host}")
}

fn timestamp(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

struct Links {
    api: String,
    web: String,
    git: String,
}

impl Links {
    fn new(headers: &HeaderMap, owner: &str, repo: &str) -> Self {
        let origin = origin(headers);
        Self {
            api: format!("{origin}/github/api/repos/{owner}/{repo}"),
            web: format!("{origin}/github/{owner}/{repo}"),
            git: format!("{origin}/github/git/{owner}/{repo}.git"),
        }
    }
}

fn user_json(headers: &HeaderMap, login: &str) -> Value {
    let origin = origin(headers);
    let (id, kind) = match login {
        BOT_LOGIN => (BOT_ID, "Bot"),
        SAMPLE_OWNER => (1, "Organization"),
        "octocat" => (583_231, "User"),
        other => (
            10_000
                + other.bytes().fold(0u64, |acc, b| {
                    acc.wrapping_mul(31).wrapping_add(u64::from(b))
                }) % 1_000_000,
            "User",
        ),
    };
    let api = format!("{origin}/github/api/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("MDQ6VXNlcn{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": kind,
        "site_admin": false,
    })
}

/// The hypermedia templates of a repository object, relative to its API URL.
const REPOSITORY_URL_TEMPLATES: &[(&str, &str)] = &[
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("hooks_url", "/hooks"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    (
        "notifications_url",
        "/notifications{?since,all,participating}",
    ),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
];

fn author_association(repository: &Repository, login: &str) -> &'static str {
    match login {
        "octocat" => "OWNER",
        login if login == repository.owner => "OWNER",
        "hubot" => "COLLABORATOR",
        _ => "NONE",
    }
}

fn repository_json(headers: &HeaderMap, repository: &Repository) -> Value {
    let links = Links::new(headers, &repository.owner, &repository.name);
    let open_issues = repository
        .issues
        .values()
        .filter(|i| i.state == "open")
        .count();
    let mut value = json!({
        "id": repository.id,
        "node_id": format!("MDEwOlJlcG9zaXRvcnk{}", repository.id),
        "name": repository.name,
        "full_name": repository.full_name(),
        "private": false,
        "visibility": "public",
        "owner": user_json(headers, &repository.owner),
        "html_url": links.web,
        "description": "A tiny Rust program with a failing test",
        "fork": false,
        "url": links.api,
        "clone_url": links.git,
        "default_branch": repository.default_branch,
        "has_issues": true,
        "open_issues_count": open_issues,
        "created_at": timestamp(&seeded_time()),
        "updated_at": timestamp(&seeded_time()),
        "pushed_at": timestamp(&seeded_time()),
        "git_url": links.git,
        "ssh_url": format!("git@github.com:{}.git", repository.full_name()),
        "svn_url": links.web,
        "mirror_url": Value::Null,
        "homepage": Value::Null,
        "language": "Rust",
        "license": Value::Null,
        "size": 1,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "forks_count": 0,
        "forks": 0,
        "open_issues": open_issues,
        "archived": false,
        "disabled": false,
        "is_template": false,
        "topics": [],
        "has_downloads": true,
        "has_pages": false,
        "has_projects": true,
        "has_wiki": true,
        "web_commit_signoff_required": false,
        "custom_properties": {},
        "permissions": { "admin": false, "maintain": false, "push": true, "triage": true, "pull": true },
    });
    for (field, template) in REPOSITORY_URL_TEMPLATES {
        value[*field] = json!(format!("{}{template}", links.api));
    }
    value
}

fn issue_json(headers: &HeaderMap, repository: &Repository, issue: &Issue) -> Value {
    let links = Links::new(headers, &repository.owner, &repository.name);
    let number = issue.number;
    let mut value = json!({
        "id": repository.id * 1_000 + number,
        "node_id": format!("I_kwDOfake{number}"),
        "url": format!("{}/issues/{number}", links.api),
        "repository_url": links.api,
        "comments_url": format!("{}/issues/{number}/comments", links.api),
        "events_url": format!("{}/issues/{number}/events", links.api),
        "labels_url": format!("{}/issues/{number}/labels{{/name}}", links.api),
        "html_url": if issue.pull.is_some() {
            format!("{}/pull/{number}", links.web)
        } else {
            format!("{}/issues/{number}", links.web)
        },
        "number": number,
        "state": issue.state,
        "state_reason": Value::Null,
        "title": issue.title,
        "body": issue.body,
        "user": user_json(headers, &issue.user),
        "labels": [],
        "assignee": Value::Null,
        "assignees": [],
        "milestone": Value::Null,
        "locked": false,
        "active_lock_reason": Value::Null,
        "draft": issue.pull.as_ref().is_some_and(|pull| pull.draft),
        "comments": repository.comment_count(number),
        "closed_at": Value::Null,
        "created_at": timestamp(&issue.created_at),
        "updated_at": timestamp(&issue.updated_at),
        "author_association": author_association(repository, &issue.user),
        "reactions": reaction_summary(repository, &ReactionSubject::Issue(number), &format!("{}/issues/{number}/reactions", links.api)),
    });
    if issue.pull.is_some() {
        value["pull_request"] = json!({
            "url": format!("{}/pulls/{number}", links.api),
            "html_url": format!("{}/pull/{number}", links.web),
            "diff_url": format!("{}/pull/{number}.diff", links.web),
            "patch_url": format!("{}/pull/{number}.patch", links.web),
        });
    }
    value
}

fn comment_json(headers: &HeaderMap, repository: &Repository, comment: &Comment) -> Value {
    let links = Links::new(headers, &repository.owner, &repository.name);
    let id = comment.id;
    json!({
        "id": id,
        "node_id": format!("IC_kwDOfake{id}"),
        "url": format!("{}/issues/comments/{id}", links.api),
        "html_url": format!("{}/issues/{}#issuecomment-{id}", links.web, comment.issue_number),
        "issue_url": format!("{}/issues/{}", links.api, comment.issue_number),
        "body": comment.body,
        "user": user_json(headers, &comment.user),
        "created_at": timestamp(&comment.created_at),
        "updated_at": timestamp(&comment.updated_at),
        "author_association": author_association(repository, &comment.user),
        "performed_via_github_app": Value::Null,
        "reactions": reaction_summary(repository, &ReactionSubject::IssueComment(id), &format!("{}/issues/comments/{id}/reactions", links.api)),
    })
}

fn reaction_summary(repository: &Repository, subject: &ReactionSubject, url: &str) -> Value {
    let mut summary = json!({ "url": url, "total_count": 0 });
    for reaction in repository
        .reactions
        .iter()
        .filter(|r| &r.subject == subject)
    {
        summary["total_count"] = json!(summary["total_count"].as_u64().unwrap_or(0) + 1);
        let count = summary[&reaction.content].as_u64().unwrap_or(0);
        summary[&reaction.content] = json!(count + 1);
    }
    summary
}

fn created(location: String, body: Value) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

// ---------------------------------------------------------------------------------------------------------
// GitHub App

async fn get_app(headers: HeaderMap) -> Answer {
    require_auth(&headers)?;
    Ok(Json(json!({
        "id": 1,
        "slug": "agent-gateway",
        "node_id": "MDM6QXBwMQ==",
        "name": "agent-gateway",
        "owner": user_json(&headers, SAMPLE_OWNER),
        "html_url": "https://github.com/apps/agent-gateway",
        "permissions": app_permissions(),
        "events": ["issues", "issue_comment", "pull_request", "pull_request_review_comment"],
    }))
    .into_response())
}

fn app_permissions() -> Value {
    json!({ "contents": "write", "issues": "write", "pull_requests": "write", "metadata": "read" })
}

/// Installation tokens are minted for any JWT-shaped bearer (three dot-separated parts); the JWT itself is
/// recorded, not verified.
async fn create_installation_token(
    State(state): State<AppState>,
    GithubPath(installation_id): GithubPath<u64>,
    headers: HeaderMap,
) -> Answer {
    let credential = require_auth(&headers)?;
    if credential.split('.').count() != 3 {
        return Err(GithubError::new(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        ));
    }
    let serial = {
        let mut data = state.github.lock().expect("github lock");
        data.next_token += 1;
        data.next_token
    };
    let expires_at = Utc::now() + Duration::hours(1);
    Ok(created(
        format!(
            "{}/github/api/app/installations/{installation_id}/access_tokens",
            origin(&headers)
        ),
        json!({
            "token": format!("ghs_fake{installation_id:06}{serial:022}"),
            "expires_at": timestamp(&expires_at),
            "permissions": app_permissions(),
            "repository_selection": "all",
        }),
    ))
}

async fn get_installation(
    State(state): State<AppState>,
    GithubPath((owner, repo)): GithubPath<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    Ok(Json(json!({
        "id": INSTALLATION_ID,
        "account": user_json(&headers, &repository.owner),
        "app_id": 1,
        "app_slug": "agent-gateway",
        "target_type": "Organization",
        "repository_selection": "all",
        "access_tokens_url": format!("{}/github/api/app/installations/{INSTALLATION_ID}/access_tokens", origin(&headers)),
        "permissions": app_permissions(),
        "events": ["issues", "issue_comment", "pull_request"],
        "created_at": timestamp(&seeded_time()),
        "updated_at": timestamp(&seeded_time()),
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Repositories, issues, comments

async fn get_repository(
    State(state): State<AppState>,
    GithubPath((owner, repo)): GithubPath<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    Ok(Json(repository_json(&headers, repository)).into_response())
}

async fn get_issue(
    State(state): State<AppState>,
    GithubPath((owner, repo, number)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    let issue = repository.issue(number)?.clone();
    Ok(Json(issue_json(&headers, repository, &issue)).into_response())
}

/// Paging parameters; like GitHub, values that are not numbers fall back to the defaults.
#[derive(Debug, Deserialize)]
struct Page {
    per_page: Option<String>,
    page: Option<String>,
}

impl Page {
    /// (`per_page`, default 30, at most 100; `page`, from 1).
    fn bounds(&self) -> (usize, usize) {
        let number =
            |value: &Option<String>| value.as_deref().and_then(|v| v.parse::<usize>().ok());
        (
            number(&self.per_page).unwrap_or(30).clamp(1, 100),
            number(&self.page).unwrap_or(1).max(1),
        )
    }
}

async fn list_comments(
    State(state): State<AppState>,
    GithubPath((owner, repo, number)): GithubPath<(String, String, u64)>,
    Query(page): Query<Page>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let (per_page, page_number) = page.bounds();
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    repository.issue(number)?;
    let all: Vec<&Comment> = repository
        .comments
        .values()
        .filter(|c| c.issue_number == number)
        .collect();
    let items: Vec<Value> = all
        .iter()
        .skip((page_number - 1) * per_page)
        .take(per_page)
        .map(|comment| comment_json(&headers, repository, comment))
        .collect();
    let mut response = Json(items).into_response();
    if page_number * per_page < all.len() {
        let links = Links::new(&headers, &owner, &repo);
        let next = format!(
            "<{}/issues/{number}/comments?per_page={per_page}&page={}>; rel=\"next\"",
            links.api,
            page_number + 1
        );
        if let Ok(value) = HeaderValue::from_str(&next) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// The `body` field of a comment write: required, a string, at most 65536 characters.
fn comment_body(body: &Bytes) -> Result<String, GithubError> {
    let value = parse_body(body)?;
    let text = match value.get("body") {
        Some(Value::String(text)) => text.clone(),
        Some(_) => {
            return Err(GithubError::unprocessable(
                "Invalid request.\n\nFor 'properties/body', is not a string.",
            ));
        }
        None => {
            return Err(GithubError::unprocessable(
                "Invalid request.\n\n\"body\" wasn't supplied.",
            ));
        }
    };
    if text.chars().count() > MAX_COMMENT_CHARS {
        return Err(GithubError::validation(
            "IssueComment",
            Some("data"),
            "unprocessable",
            "Body is too long (maximum is 65536 characters)",
        ));
    }
    Ok(text)
}

async fn create_comment(
    State(state): State<AppState>,
    GithubPath((owner, repo, number)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_auth(&headers)?;
    let text = comment_body(&body)?;
    let mut data = state.github.lock().expect("github lock");
    let id = data.next_comment_id;
    let repository = data.repository(&owner, &repo)?;
    repository.issue(number)?;
    let now = Utc::now();
    let comment = Comment {
        id,
        issue_number: number,
        body: text,
        user: BOT_LOGIN.to_owned(),
        created_at: now,
        updated_at: now,
    };
    repository.comments.insert(id, comment.clone());
    let value = comment_json(&headers, repository, &comment);
    data.next_comment_id += 1;
    Ok(created(
        value["url"].as_str().unwrap_or_default().to_owned(),
        value,
    ))
}

async fn get_comment(
    State(state): State<AppState>,
    GithubPath((owner, repo, comment_id)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    let comment = repository
        .comments
        .get(&comment_id)
        .ok_or_else(GithubError::not_found)?;
    Ok(Json(comment_json(&headers, repository, comment)).into_response())
}

async fn update_comment(
    State(state): State<AppState>,
    GithubPath((owner, repo, comment_id)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_auth(&headers)?;
    let text = comment_body(&body)?;
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    let comment = repository
        .comments
        .get_mut(&comment_id)
        .ok_or_else(GithubError::not_found)?;
    comment.body = text;
    comment.updated_at = Utc::now();
    let comment = comment.clone();
    Ok(Json(comment_json(&headers, repository, &comment)).into_response())
}

async fn delete_comment(
    State(state): State<AppState>,
    GithubPath((owner, repo, comment_id)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    repository
        .comments
        .remove(&comment_id)
        .ok_or_else(GithubError::not_found)?;
    repository
        .reactions
        .retain(|r| r.subject != ReactionSubject::IssueComment(comment_id));
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Reactions

async fn react_to_issue(
    State(state): State<AppState>,
    GithubPath((owner, repo, number)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    add_reaction(
        &state,
        &owner,
        &repo,
        ReactionSubject::Issue(number),
        &headers,
        &body,
    )
}

/// Reactions on a comment the fake never saw are accepted: the triggering comment of a webhook lives only
/// in the webhook.
async fn react_to_comment(
    State(state): State<AppState>,
    GithubPath((owner, repo, comment_id)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    add_reaction(
        &state,
        &owner,
        &repo,
        ReactionSubject::IssueComment(comment_id),
        &headers,
        &body,
    )
}

async fn react_to_review_comment(
    State(state): State<AppState>,
    GithubPath((owner, repo, comment_id)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    add_reaction(
        &state,
        &owner,
        &repo,
        ReactionSubject::ReviewComment(comment_id),
        &headers,
        &body,
    )
}

/// 201 for a new reaction, 200 with the existing one when this user already reacted so.
fn add_reaction(
    state: &AppState,
    owner: &str,
    repo: &str,
    subject: ReactionSubject,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    require_auth(headers)?;
    let value = parse_body(body)?;
    let content = value
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !REACTIONS.contains(&content.as_str()) {
        return Err(GithubError::validation(
            "Reaction",
            Some("content"),
            "invalid",
            format!("content must be one of {}", REACTIONS.join(", ")),
        ));
    }
    let mut data = state.github.lock().expect("github lock");
    let id = data.next_reaction_id;
    let repository = data.repository(owner, repo)?;
    if let ReactionSubject::Issue(number) = subject {
        repository.issue(number)?;
    }
    let existing = repository
        .reactions
        .iter()
        .find(|r| r.subject == subject && r.content == content && r.user == BOT_LOGIN)
        .cloned();
    let (status, reaction) = match existing {
        Some(reaction) => (StatusCode::OK, reaction),
        None => {
            let reaction = Reaction {
                id,
                subject,
                content,
                user: BOT_LOGIN.to_owned(),
                created_at: Utc::now(),
            };
            repository.reactions.push(reaction.clone());
            data.next_reaction_id += 1;
            (StatusCode::CREATED, reaction)
        }
    };
    let body = json!({
        "id": reaction.id,
        "node_id": format!("REA_fake{}", reaction.id),
        "user": user_json(headers, &reaction.user),
        "content": reaction.content,
        "created_at": timestamp(&reaction.created_at),
    });
    Ok((status, Json(body)).into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Pull requests

/// What a pull-request answer needs, copied out of the lock before git runs.
struct PullView {
    repository_json: Value,
    issue_json: Value,
    issue: Issue,
    pull: Pull,
    owner: String,
    repo: String,
    git_dir: PathBuf,
}

fn pull_view(
    state: &AppState,
    headers: &HeaderMap,
    owner: &str,
    repo: &str,
    number: u64,
) -> Result<PullView, GithubError> {
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(owner, repo)?;
    let issue = repository
        .issues
        .get(&number)
        .cloned()
        .ok_or_else(GithubError::not_found)?;
    let pull = issue.pull.clone().ok_or_else(GithubError::not_found)?;
    Ok(PullView {
        repository_json: repository_json(headers, repository),
        issue_json: issue_json(headers, repository, &issue),
        issue,
        pull,
        owner: owner.to_owned(),
        repo: repo.to_owned(),
        git_dir: git_dir(&state.repositories_root, owner, repo),
    })
}

async fn pull_json(
    state: &AppState,
    headers: &HeaderMap,
    view: &PullView,
) -> Result<Value, GithubError> {
    let git = &state.git;
    let head_sha = git
        .branch_sha(&view.git_dir, &view.pull.head)
        .await
        .map_err(|e| GithubError::internal(&e))?
        .unwrap_or_default();
    let base_sha = git
        .branch_sha(&view.git_dir, &view.pull.base)
        .await
        .map_err(|e| GithubError::internal(&e))?
        .unwrap_or_default();
    let (files, commits) = if head_sha.is_empty() || base_sha.is_empty() {
        (Vec::new(), 0)
    } else {
        let files = git
            .changed_files(&view.git_dir, &base_sha, &head_sha)
            .await
            .map_err(|e| GithubError::internal(&e))?;
        let commits = git
            .commits_ahead(&view.git_dir, &base_sha, &head_sha)
            .await
            .map_err(|e| GithubError::internal(&e))?;
        (files, commits)
    };
    let links = Links::new(headers, &view.owner, &view.repo);
    let number = view.issue.number;
    let pull_url = format!("{}/pulls/{number}", links.api);
    let branch = |name: &str, sha: &str| {
        json!({
            "label": format!("{}:{name}", view.owner),
            "ref": name,
            "sha": sha,
            "user": user_json(headers, &view.owner),
            "repo": view.repository_json,
        })
    };
    Ok(json!({
        "id": 7_000_000 + number,
        "node_id": format!("PR_kwDOfake{number}"),
        "url": pull_url,
        "html_url": format!("{}/pull/{number}", links.web),
        "diff_url": format!("{}/pull/{number}.diff", links.web),
        "patch_url": format!("{}/pull/{number}.patch", links.web),
        "issue_url": format!("{}/issues/{number}", links.api),
        "comments_url": format!("{}/issues/{number}/comments", links.api),
        "number": number,
        "state": view.issue.state,
        "locked": false,
        "title": view.issue.title,
        "user": view.issue_json["user"],
        "body": view.issue.body,
        "labels": [],
        "created_at": timestamp(&view.issue.created_at),
        "updated_at": timestamp(&view.issue.updated_at),
        "closed_at": Value::Null,
        "merged_at": Value::Null,
        "merge_commit_sha": Value::Null,
        "draft": view.pull.draft,
        "head": branch(&view.pull.head, &head_sha),
        "base": branch(&view.pull.base, &base_sha),
        "author_association": view.issue_json["author_association"],
        "merged": false,
        "mergeable": true,
        "mergeable_state": "clean",
        "comments": view.issue_json["comments"],
        "review_comments": 0,
        "maintainer_can_modify": false,
        "commits": commits,
        "additions": files.iter().map(|f| f.additions).sum::<u64>(),
        "deletions": files.iter().map(|f| f.deletions).sum::<u64>(),
        "changed_files": files.len(),
        "active_lock_reason": Value::Null,
        "assignee": Value::Null,
        "assignees": [],
        "milestone": Value::Null,
        "merged_by": Value::Null,
        "auto_merge": Value::Null,
        "rebaseable": true,
        "requested_reviewers": [],
        "requested_teams": [],
        "commits_url": format!("{pull_url}/commits"),
        "review_comments_url": format!("{pull_url}/comments"),
        "review_comment_url": format!("{}/pulls/comments{{/number}}", links.api),
        "statuses_url": format!("{}/statuses/{head_sha}", links.api),
        "_links": {
            "self": { "href": pull_url },
            "html": { "href": format!("{}/pull/{number}", links.web) },
            "issue": { "href": format!("{}/issues/{number}", links.api) },
            "comments": { "href": format!("{}/issues/{number}/comments", links.api) },
            "review_comments": { "href": format!("{pull_url}/comments") },
            "commits": { "href": format!("{pull_url}/commits") },
            "statuses": { "href": format!("{}/statuses/{head_sha}", links.api) },
        },
    }))
}

fn wants(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| accept.contains(media_type))
}

/// JSON, or the unified diff with `Accept: application/vnd.github.diff` (`.v3.diff` too).
async fn get_pull(
    State(state): State<AppState>,
    GithubPath((owner, repo, number)): GithubPath<(String, String, u64)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let view = pull_view(&state, &headers, &owner, &repo, number)?;
    if wants(&headers, "vnd.github.diff")
        || wants(&headers, "vnd.github.v3.diff")
        || wants(&headers, "vnd.github.patch")
        || wants(&headers, "vnd.github.v3.patch")
    {
        let diff = state
            .git
            .diff(&view.git_dir, &view.pull.base, &view.pull.head)
            .await
            .map_err(|e| GithubError::internal(&e))?;
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], diff).into_response());
    }
    Ok(Json(pull_json(&state, &headers, &view).await?).into_response())
}

async fn list_pull_files(
    State(state): State<AppState>,
    GithubPath((owner, repo, number)): GithubPath<(String, String, u64)>,
    Query(page): Query<Page>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let view = pull_view(&state, &headers, &owner, &repo, number)?;
    let git = &state.git;
    let files = git
        .changed_files(&view.git_dir, &view.pull.base, &view.pull.head)
        .await
        .map_err(|e| GithubError::internal(&e))?;
    let diff = git
        .diff(&view.git_dir, &view.pull.base, &view.pull.head)
        .await
        .map_err(|e| GithubError::internal(&e))?;
    let patches = split_patches(&diff);
    let head = view.pull.head.clone();
    let links = Links::new(&headers, &owner, &repo);
    let (per_page, page_number) = page.bounds();
    let items: Vec<Value> = files
        .iter()
        .skip((page_number - 1) * per_page)
        .take(per_page)
        .map(|file| {
            json!({
                "sha": Value::Null,
                "filename": file.path,
                "status": file.status,
                "additions": file.additions,
                "deletions": file.deletions,
                "changes": file.additions + file.deletions,
                "blob_url": format!("{}/blob/{head}/{}", links.web, file.path),
                "raw_url": format!("{}/raw/{head}/{}", links.web, file.path),
                "contents_url": format!("{}/contents/{}?ref={head}", links.api, file.path),
                "patch": patches.get(&file.path),
            })
        })
        .collect();
    Ok(Json(items).into_response())
}

/// Each file's hunks (from its first `@@`), keyed by path, as GitHub's `patch` field holds them.
fn split_patches(diff: &str) -> BTreeMap<String, String> {
    let mut patches = BTreeMap::new();
    for section in diff.split("diff --git ").filter(|s| !s.trim().is_empty()) {
        let Some(first_line) = section.lines().next() else {
            continue;
        };
        let Some((_, path)) = first_line.split_once(" b/") else {
            continue;
        };
        let hunks = section
            .find("\n@@")
            .map(|at| section[at + 1..].trim_end().to_owned());
        if let Some(hunks) = hunks {
            patches.insert(path.to_owned(), hunks);
        }
    }
    patches
}

#[derive(Debug, Deserialize)]
struct PullFilter {
    state: Option<String>,
    head: Option<String>,
    base: Option<String>,
}

async fn list_pulls(
    State(state): State<AppState>,
    GithubPath((owner, repo)): GithubPath<(String, String)>,
    Query(filter): Query<PullFilter>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let numbers: Vec<u64> = {
        let mut data = state.github.lock().expect("github lock");
        let repository = data.repository(&owner, &repo)?;
        let wanted_state = filter.state.as_deref().unwrap_or("open");
        repository
            .issues
            .values()
            .filter(|issue| {
                let Some(pull) = &issue.pull else {
                    return false;
                };
                let head_matches = filter
                    .head
                    .as_deref()
                    .is_none_or(|head| head.rsplit(':').next() == Some(pull.head.as_str()));
                (wanted_state == "all" || wanted_state == issue.state)
                    && head_matches
                    && filter.base.as_deref().is_none_or(|base| base == pull.base)
            })
            .map(|issue| issue.number)
            .collect()
    };
    let mut items = Vec::new();
    for number in numbers {
        let view = pull_view(&state, &headers, &owner, &repo, number)?;
        items.push(pull_json(&state, &headers, &view).await?);
    }
    Ok(Json(items).into_response())
}

async fn create_pull(
    State(state): State<AppState>,
    GithubPath((owner, repo)): GithubPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_auth(&headers)?;
    let value = parse_body(&body)?;
    let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_owned);
    let title = text("title")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            GithubError::validation(
                "PullRequest",
                Some("title"),
                "missing_field",
                "title wasn't supplied",
            )
        })?;
    let head = text("head").ok_or_else(|| {
        GithubError::validation(
            "PullRequest",
            Some("head"),
            "missing_field",
            "head wasn't supplied",
        )
    })?;
    let base = text("base").ok_or_else(|| {
        GithubError::validation(
            "PullRequest",
            Some("base"),
            "missing_field",
            "base wasn't supplied",
        )
    })?;
    let head_branch = head.rsplit(':').next().unwrap_or_default().to_owned();
    let draft = value.get("draft").and_then(Value::as_bool).unwrap_or(false);

    {
        let mut data = state.github.lock().expect("github lock");
        data.repository(&owner, &repo)?;
    }
    let directory = git_dir(&state.repositories_root, &owner, &repo);
    let git = &state.git;
    let head_sha = git
        .branch_sha(&directory, &head_branch)
        .await
        .map_err(|e| GithubError::internal(&e))?
        .ok_or_else(|| {
            GithubError::validation(
                "PullRequest",
                Some("head"),
                "invalid",
                format!("head {head} does not exist"),
            )
        })?;
    let base_sha = git
        .branch_sha(&directory, &base)
        .await
        .map_err(|e| GithubError::internal(&e))?
        .ok_or_else(|| {
            GithubError::validation(
                "PullRequest",
                Some("base"),
                "invalid",
                format!("base {base} does not exist"),
            )
        })?;
    let ahead = git
        .commits_ahead(&directory, &base_sha, &head_sha)
        .await
        .map_err(|e| GithubError::internal(&e))?;
    if ahead == 0 {
        return Err(GithubError::validation(
            "PullRequest",
            None,
            "custom",
            format!("No commits between {base} and {head_branch}"),
        ));
    }

    let number = {
        let mut data = state.github.lock().expect("github lock");
        let repository = data.repository(&owner, &repo)?;
        let duplicate = repository.issues.values().any(|issue| {
            issue.state == "open"
                && issue
                    .pull
                    .as_ref()
                    .is_some_and(|pull| pull.head == head_branch && pull.base == base)
        });
        if duplicate {
            return Err(GithubError::validation(
                "PullRequest",
                None,
                "custom",
                format!("A pull request already exists for {owner}:{head_branch}."),
            ));
        }
        let number = repository.next_number;
        repository.next_number += 1;
        let now = Utc::now();
        repository.issues.insert(
            number,
            Issue {
                number,
                title,
                body: text("body"),
                user: BOT_LOGIN.to_owned(),
                state: "open",
                created_at: now,
                updated_at: now,
                pull: Some(Pull {
                    head: head_branch,
                    base,
                    draft,
                }),
            },
        );
        number
    };
    let view = pull_view(&state, &headers, &owner, &repo, number)?;
    let body = pull_json(&state, &headers, &view).await?;
    Ok(created(
        body["url"].as_str().unwrap_or_default().to_owned(),
        body,
    ))
}

// ---------------------------------------------------------------------------------------------------------
// Git refs and branches

fn ref_json(headers: &HeaderMap, owner: &str, repo: &str, full_ref: &str, sha: &str) -> Value {
    let links = Links::new(headers, owner, repo);
    json!({
        "ref": full_ref,
        "node_id": format!("REF_fake{}", sha.get(..12).unwrap_or(sha)),
        "url": format!("{}/git/{full_ref}", links.api),
        "object": {
            "sha": sha,
            "type": "commit",
            "url": format!("{}/git/commits/{sha}", links.api),
        },
    })
}

fn ensure_repository(state: &AppState, owner: &str, repo: &str) -> Result<PathBuf, GithubError> {
    let mut data = state.github.lock().expect("github lock");
    data.repository(owner, repo)?;
    Ok(git_dir(&state.repositories_root, owner, repo))
}

/// `GET …/git/ref/heads/main` (and the older `…/git/refs/heads/main`).
async fn get_ref(
    State(state): State<AppState>,
    GithubPath((owner, repo, reference)): GithubPath<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let directory = ensure_repository(&state, &owner, &repo)?;
    let full_ref = format!("refs/{}", reference.trim_start_matches("refs/"));
    if full_ref.contains("..") {
        return Err(GithubError::not_found());
    }
    let sha = state
        .git
        .ref_sha(&directory, &full_ref)
        .await
        .map_err(|e| GithubError::internal(&e))?
        .ok_or_else(GithubError::not_found)?;
    Ok(Json(ref_json(&headers, &owner, &repo, &full_ref, &sha)).into_response())
}

/// `POST …/git/refs` with `{"ref": "refs/heads/x", "sha": "…"}`.
async fn create_ref(
    State(state): State<AppState>,
    GithubPath((owner, repo)): GithubPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_auth(&headers)?;
    let directory = ensure_repository(&state, &owner, &repo)?;
    let value = parse_body(&body)?;
    let full_ref = value
        .get("ref")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let sha = value
        .get("sha")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let well_formed = full_ref.starts_with("refs/")
        && full_ref.matches('/').count() >= 2
        && !full_ref.contains("..")
        && !full_ref.ends_with('/')
        && !full_ref
            .chars()
            .any(|c| c.is_whitespace() || "~^:?*[\\".contains(c));
    if !well_formed {
        return Err(GithubError::unprocessable(
            "Reference name must start with 'refs/' and have at least two slashes.",
        ));
    }
    let sha_well_formed = sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit());
    let git = &state.git;
    if !sha_well_formed
        || !git
            .commit_exists(&directory, &sha)
            .await
            .map_err(|e| GithubError::internal(&e))?
    {
        return Err(GithubError::unprocessable("Object does not exist"));
    }
    if git
        .ref_sha(&directory, &full_ref)
        .await
        .map_err(|e| GithubError::internal(&e))?
        .is_some()
    {
        return Err(GithubError::unprocessable("Reference already exists"));
    }
    git.create_ref(&directory, &full_ref, &sha)
        .await
        .map_err(|_| GithubError::unprocessable("Reference already exists"))?;
    let body = ref_json(&headers, &owner, &repo, &full_ref, &sha);
    Ok(created(
        body["url"].as_str().unwrap_or_default().to_owned(),
        body,
    ))
}

async fn get_branch(
    State(state): State<AppState>,
    GithubPath((owner, repo, branch)): GithubPath<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let directory = ensure_repository(&state, &owner, &repo)?;
    if branch.contains("..") {
        return Err(GithubError::new(StatusCode::NOT_FOUND, "Branch not found"));
    }
    let sha = state
        .git
        .branch_sha(&directory, &branch)
        .await
        .map_err(|e| GithubError::internal(&e))?
        .ok_or_else(|| GithubError::new(StatusCode::NOT_FOUND, "Branch not found"))?;
    let links = Links::new(&headers, &owner, &repo);
    Ok(Json(json!({
        "name": branch,
        "commit": { "sha": sha, "url": format!("{}/commits/{sha}", links.api) },
        "protected": branch == DEFAULT_BRANCH,
        "_links": { "self": format!("{}/branches/{branch}", links.api), "html": format!("{}/tree/{branch}", links.web) },
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Collaborators

/// `octocat` and the repository's owner are admins, `hubot` may write, anyone else may read.
async fn get_permission(
    State(state): State<AppState>,
    GithubPath((owner, repo, username)): GithubPath<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    require_auth(&headers)?;
    let mut data = state.github.lock().expect("github lock");
    let repository = data.repository(&owner, &repo)?;
    let permission = match username.as_str() {
        "octocat" => "admin",
        name if name == repository.owner => "admin",
        "hubot" => "write",
        _ => "read",
    };
    let mut user = user_json(&headers, &username);
    user["permissions"] = json!({
        "admin": permission == "admin",
        "maintain": permission == "admin",
        "push": permission != "read",
        "triage": true,
        "pull": true,
    });
    user["role_name"] = json!(permission);
    Ok(
        Json(json!({ "permission": permission, "role_name": permission, "user": user }))
            .into_response(),
    )
}

// ---------------------------------------------------------------------------------------------------------
// Pages

/// An issue or pull request with its comments and reactions, as a plain page.
async fn issue_page(
    State(state): State<AppState>,
    GithubPath((owner, repo, number)): GithubPath<(String, String, u64)>,
) -> Result<Html<String>, GithubError> {
    let data = state.github.lock().expect("github lock");
    let repository = data
        .repositories
        .get(&format!("{owner}/{repo}"))
        .ok_or_else(GithubError::not_found)?;
    let issue = repository
        .issues
        .get(&number)
        .ok_or_else(GithubError::not_found)?;
    let reactions = |subject: &ReactionSubject| {
        repository
            .reactions
            .iter()
            .filter(|r| &r.subject == subject)
            .map(|r| format!("<span class=r>{}</span>", escape(&r.content)))
            .collect::<String>()
    };
    let mut page = format!(
        "<!doctype html><meta charset=utf-8><title>{title} · {full}#{number}</title>\
         <style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto}}article{{border:1px solid #ccc;\
         border-radius:6px;margin:1rem 0;padding:.5rem 1rem}}pre{{white-space:pre-wrap}}.r{{margin-right:.5rem}}\
         header{{color:#555}}</style><p>fake-providers · <a href=\"/_fake/\">recorded requests</a></p>\
         <h1>{title} <small>#{number}</small></h1><p>{kind} · {state}{pull}</p>\
         <article id=issue><header>{user} opened</header><pre>{body}</pre>{issue_reactions}</article>",
        title = escape(&issue.title),
        full = escape(&repository.full_name()),
        kind = if issue.pull.is_some() {
            "pull request"
        } else {
            "issue"
        },
        state = issue.state,
        pull = issue
            .pull
            .as_ref()
            .map(|p| format!(" · {} → {}", escape(&p.head), escape(&p.base)))
            .unwrap_or_default(),
        user = escape(&issue.user),
        body = escape(issue.body.as_deref().unwrap_or("")),
        issue_reactions = reactions(&ReactionSubject::Issue(number)),
    );
    for comment in repository
        .comments
        .values()
        .filter(|c| c.issue_number == number)
    {
        page.push_str(&format!(
            "<article id=issuecomment-{id}><header>{user} · {updated}</header><pre>{body}</pre>{reactions}</article>",
            id = comment.id,
            user = escape(&comment.user),
            updated = timestamp(&comment.updated_at),
            body = escape(&comment.body),
            reactions = reactions(&ReactionSubject::IssueComment(comment.id)),
        ));
    }
    Ok(Html(page))
}
