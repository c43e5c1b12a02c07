// The Sentry event fixture is one large `json!` literal.
#![recursion_limit = "256"]

mod auth;
mod call_log;
mod credentials;
mod errors;
mod helpers;
mod idempotency;
mod operations;
mod ops;
mod retries;
mod standalone;
mod validation;
