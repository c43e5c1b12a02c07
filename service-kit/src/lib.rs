//! Plumbing every agent-gateway service needs the same way, so a fix reaches every service.
//! No provider knowledge and no business logic live here.

pub mod call_log;
pub mod caller_auth;
pub mod configuration;
pub mod credential_admin;
pub mod error;
pub mod extract;
pub mod http_client;
pub mod idempotency;
pub mod ops;
pub mod provider_service;
pub mod queue;
pub mod redis;
pub mod server;
pub mod service_client;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace_context;
pub mod tracking;
pub mod vault;
