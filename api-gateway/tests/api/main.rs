//! The gateway's integration tests: one binary, real Redis, one key prefix and log dir per test.

mod helpers;

mod github;
