//! The API under `/api/v1/github`, one file per resource, and the operations each caller role may perform.

pub mod admin;
pub mod branches;
pub mod comments;
pub mod git_access;
pub mod issues;
pub mod permissions;
pub mod pulls;
pub mod reactions;

use service_kit::caller_auth::{Role, RolePolicy};
use service_kit::extract::ValidationErrors;

use crate::error::Error;

/// Operation names, as `Caller::require` takes them and 403 answers name them.
pub mod operation {
    pub const GET_ISSUE: &str = "get_issue";
    pub const GET_PULL_REQUEST: &str = "get_pull_request";
    pub const GET_PULL_REQUEST_DIFF: &str = "get_pull_request_diff";
    pub const GET_PULL_REQUEST_FILES: &str = "get_pull_request_files";
    pub const POST_COMMENT: &str = "post_comment";
    pub const UPDATE_COMMENT: &str = "update_comment";
    pub const DELETE_COMMENT: &str = "delete_comment";
    pub const ADD_REACTION: &str = "add_reaction";
    pub const CREATE_BRANCH: &str = "create_branch";
    pub const CREATE_PULL_REQUEST: &str = "create_pull_request";
    pub const CHECK_PERMISSION: &str = "check_permission";
    pub const GIT_ACCESS: &str = "git_access";
}

use operation::*;

/// gateway acknowledges and answers (reactions, comments, permission checks before starting a task);
/// agent does its work (all reads, comments including deleting its own, reactions, branches, pull requests,
/// git access);
/// dashboard only reads.
pub static POLICY: RolePolicy = RolePolicy::new(&[
    (
        Role::Gateway,
        &[ADD_REACTION, POST_COMMENT, UPDATE_COMMENT, CHECK_PERMISSION],
    ),
    (
        Role::Agent,
        &[
            GET_ISSUE,
            GET_PULL_REQUEST,
            GET_PULL_REQUEST_DIFF,
            GET_PULL_REQUEST_FILES,
            CHECK_PERMISSION,
            POST_COMMENT,
            UPDATE_COMMENT,
            DELETE_COMMENT,
            ADD_REACTION,
            CREATE_BRANCH,
            CREATE_PULL_REQUEST,
            GIT_ACCESS,
        ],
    ),
    (
        Role::Dashboard,
        &[
            GET_ISSUE,
            GET_PULL_REQUEST,
            GET_PULL_REQUEST_DIFF,
            GET_PULL_REQUEST_FILES,
        ],
    ),
]);

/// 422 unless `owner/repo` are GitHub names (so they are safe path segments).
pub(crate) fn check_repository(owner: &str, repo: &str) -> Result<(), Error> {
    let mut errors = ValidationErrors::new();
    crate::validation::repository(&mut errors, owner, repo);
    Ok(errors.finish()?)
}
