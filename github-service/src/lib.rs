//! github-service: the only door to GitHub's REST API. It holds the GitHub App key (or a token) in its own
//! encrypted store, mints installation tokens, retries within rate limits, and logs every call of a task.

pub mod configuration;
pub mod error;
pub mod git_access;
pub mod git_proxy;
pub mod github_api;
pub mod github_auth;
pub mod routes;
pub mod startup;
pub mod state;
pub mod validation;
