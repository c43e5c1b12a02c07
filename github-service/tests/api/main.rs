//! github-service's API tests: the real app on port 0, a wiremock GitHub, the real Redis, SQLite per test.

mod app_auth;
mod call_log;
mod callers;
mod credentials;
mod git_access;
mod git_backend;
mod helpers;
mod idempotency;
mod operations;
mod ops;
mod retries;
mod standalone;
mod validation;
