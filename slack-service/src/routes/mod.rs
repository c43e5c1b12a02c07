//! The API under `/api/v1/slack`, one file per resource, and the operations each caller role may perform.

pub mod conversations;
pub mod messages;
pub mod reactions;
pub mod threads;

use service_kit::caller_auth::{Role, RolePolicy};

/// Operation names, as `Caller::require` takes them and 403 answers name them.
pub mod operation {
    pub const POST_MESSAGE: &str = "post_message";
    pub const UPDATE_MESSAGE: &str = "update_message";
    pub const ADD_REACTION: &str = "add_reaction";
    pub const READ_THREAD: &str = "read_thread";
    pub const OPEN_DIRECT_MESSAGE: &str = "open_direct_message";
}

/// gateway answers users (messages, reactions, DMs); agent does its work (all reads and writes);
/// dashboard only reads.
pub static POLICY: RolePolicy = RolePolicy::new(&[
    (
        Role::Gateway,
        &[
            operation::POST_MESSAGE,
            operation::UPDATE_MESSAGE,
            operation::ADD_REACTION,
            operation::OPEN_DIRECT_MESSAGE,
        ],
    ),
    (
        Role::Agent,
        &[
            operation::POST_MESSAGE,
            operation::UPDATE_MESSAGE,
            operation::ADD_REACTION,
            operation::READ_THREAD,
            operation::OPEN_DIRECT_MESSAGE,
        ],
    ),
    (Role::Dashboard, &[operation::READ_THREAD]),
]);
