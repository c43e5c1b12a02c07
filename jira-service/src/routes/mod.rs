//! The API under `/api/v1/jira`, one file per resource, and the operations each caller role may perform.

pub mod comments;
pub mod issues;
pub mod transitions;

use service_kit::caller_auth::{Role, RolePolicy};

/// Operation names, as `Caller::require` takes them and 403 answers name them.
pub mod operation {
    pub const GET_ISSUE: &str = "get_issue";
    pub const ADD_COMMENT: &str = "add_comment";
    pub const UPDATE_COMMENT: &str = "update_comment";
    pub const LIST_TRANSITIONS: &str = "list_transitions";
    pub const APPLY_TRANSITION: &str = "apply_transition";
}

/// gateway answers users (comments); agent does its work (reads, comments, transitions); dashboard only reads.
pub static POLICY: RolePolicy = RolePolicy::new(&[
    (
        Role::Gateway,
        &[operation::ADD_COMMENT, operation::UPDATE_COMMENT],
    ),
    (
        Role::Agent,
        &[
            operation::GET_ISSUE,
            operation::ADD_COMMENT,
            operation::UPDATE_COMMENT,
            operation::LIST_TRANSITIONS,
            operation::APPLY_TRANSITION,
        ],
    ),
    (
        Role::Dashboard,
        &[operation::GET_ISSUE, operation::LIST_TRANSITIONS],
    ),
]);
