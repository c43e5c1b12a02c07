//! The API under `/api/v1/sentry`, one file per resource, and the operations each caller role may perform.

pub mod comments;
pub mod events;
pub mod issues;

use service_kit::caller_auth::{Role, RolePolicy};

/// Operation names, as `Caller::require` takes them and 403 answers name them.
pub mod operation {
    pub const GET_ISSUE: &str = "get_issue";
    pub const GET_LATEST_EVENT: &str = "get_latest_event";
    pub const UPDATE_STATUS: &str = "update_status";
    pub const UPDATE_ASSIGNEE: &str = "update_assignee";
    pub const ADD_COMMENT: &str = "add_comment";
    pub const UPDATE_COMMENT: &str = "update_comment";
}

/// gateway answers users (comments, updated in place); agent does its work (reads, comments, status, assignee); dashboard only reads.
pub static POLICY: RolePolicy = RolePolicy::new(&[
    (
        Role::Gateway,
        &[operation::ADD_COMMENT, operation::UPDATE_COMMENT],
    ),
    (
        Role::Agent,
        &[
            operation::GET_ISSUE,
            operation::GET_LATEST_EVENT,
            operation::UPDATE_STATUS,
            operation::UPDATE_ASSIGNEE,
            operation::ADD_COMMENT,
            operation::UPDATE_COMMENT,
        ],
    ),
    (
        Role::Dashboard,
        &[operation::GET_ISSUE, operation::GET_LATEST_EVENT],
    ),
]);
