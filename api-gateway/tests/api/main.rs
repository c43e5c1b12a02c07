//! The gateway's integration tests: one binary, real Redis, one key prefix and log dir per test.

mod helpers;

mod acknowledge;
mod bad_input;
mod conformance;
mod control;
mod github;
mod ops;
mod providers;
mod redis_down;
mod signatures;
mod trust;
