//! github-service's API (`/api/v1/github/…`): requests and answers. GitHub's own shapes are reduced to
//! what the system uses; field names follow GitHub's where they exist.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A GitHub account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GithubUser {
    pub login: String,
    pub id: u64,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub account_type: String,
}

/// An issue or a pull request seen as an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub html_url: String,
    pub user: GithubUser,
    pub labels: Vec<String>,
    /// The issue is a pull request.
    pub is_pull_request: bool,
    pub comments: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A comment on an issue or a pull request's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssueComment {
    pub id: u64,
    pub body: String,
    pub user: GithubUser,
    pub html_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET …/issues/{number}`: the issue and its comments, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssueWithComments {
    pub issue: Issue,
    pub comments: Vec<IssueComment>,
    /// The issue had more comments than were read (at most 1,000 are).
    pub comments_truncated: bool,
}

/// One side of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PullRequestBranch {
    /// The branch name (GitHub's `ref`).
    pub branch: String,
    pub sha: String,
    /// `owner/name` of the branch's repository (absent when a fork was deleted).
    pub repository: Option<String>,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub draft: bool,
    pub merged: bool,
    pub html_url: String,
    pub user: GithubUser,
    pub head: PullRequestBranch,
    pub base: PullRequestBranch,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET …/pulls/{number}/diff`: the unified diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PullRequestDiff {
    pub diff: String,
}

/// A file a pull request changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PullRequestFile {
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed` or `unchanged`.
    pub status: String,
    pub additions: u64,
    pub deletions: u64,
    pub changes: u64,
    /// The file's diff hunk (absent for binary or very large files).
    pub patch: Option<String>,
    pub previous_filename: Option<String>,
}

/// `GET …/pulls/{number}/files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PullRequestFiles {
    pub files: Vec<PullRequestFile>,
    /// More files than were read (GitHub lists at most 3,000).
    pub truncated: bool,
}

/// Body of posting a comment (`POST …/issues/{number}/comments`) and of updating one
/// (`PATCH …/issues/comments/{comment_id}`). Markdown, 1 to 65,536 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub body: String,
}

/// Body of adding a reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReactionRequest {
    /// One of `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket`, `eyes`.
    #[schema(example = "eyes")]
    pub content: String,
}

/// A reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub id: u64,
    pub content: String,
    pub user: GithubUser,
    /// `false` when the same reaction by the same account already existed (GitHub answered 200, not 201).
    pub created: bool,
}

/// Body of creating a branch. It starts at `sha` when given, else at the head of `from_branch`, else at
/// the head of the repository's default branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBranchRequest {
    /// The new branch's name, e.g. `agent/fix-123`.
    pub name: String,
    #[serde(default)]
    pub from_branch: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
}

/// A branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Branch {
    pub name: String,
    pub sha: String,
}

/// Body of opening a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePullRequestRequest {
    /// 1 to 256 characters.
    pub title: String,
    /// The branch with the changes (`branch`, or `owner:branch` for a fork).
    pub head: String,
    /// The branch to merge into.
    pub base: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub draft: bool,
}

/// `GET …/collaborators/{username}/permission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RepositoryPermission {
    pub username: String,
    /// `admin`, `write`, `read` or `none` (GitHub's coarse permission; `maintain` counts as `write`,
    /// `triage` as `read`).
    pub permission: String,
    /// The fine role: `admin`, `maintain`, `write`, `triage`, `read` or a custom role's name.
    pub role_name: Option<String>,
    /// `permission` is `admin` or `write`.
    pub can_write: bool,
}

/// `POST …/repos/{owner}/{repo}/git-access` (agent role, with `X-Task-Id`): a per-task credential for the
/// service's git smart-HTTP proxy. Clone with `https://x-access-token:{token}@…` or give `token` as the HTTP
/// Basic password of `clone_url` (any user name). Pushes to `default_branch` are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GitAccess {
    /// A random secret bound to this task and repository; only its SHA-256 is stored. Not shown again.
    pub token: String,
    /// `{public URL of github-service}/git/{owner}/{repo}.git`.
    #[schema(example = "http://github-service:8081/git/octo-org/hello-world.git")]
    pub clone_url: String,
    /// When the token stops working (`GIT_ACCESS_TTL` after it was issued) unless revoked earlier.
    pub expires_at: DateTime<Utc>,
    /// The repository's default branch; the proxy refuses pushes to it (and its deletion).
    pub default_branch: String,
}

/// `DELETE …/repos/{owner}/{repo}/git-access` (agent role, with `X-Task-Id`): the task's tokens for the
/// repository that were revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GitAccessRevoked {
    /// How many live tokens were revoked (0 when the task held none).
    pub revoked: u64,
}
