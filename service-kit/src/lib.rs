//! Plumbing every agent-gateway service needs the same way, so a fix reaches every service.
//! No provider knowledge and no business logic live here.

pub mod configuration;
pub mod error;
pub mod ops;
pub mod queue;
pub mod redis;
pub mod server;
pub mod telemetry;
pub mod trace_context;
