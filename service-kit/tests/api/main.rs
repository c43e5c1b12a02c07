//! Integration tests of the provider-service plumbing, against the real PostgreSQL and Redis of the
//! development machine and wiremock upstreams.

mod caller_auth;
mod helpers;
mod http_client;
mod idempotency;
mod redis_pool;
mod tracking;
mod vault;
