//! agent-container: workers that take tasks off the Redis queue and run a pluggable coding-agent CLI in a
//! contained workspace, logging every step to the task log.

pub mod agents;
pub mod budget;
pub mod configuration;
pub mod consumer;
pub mod containment;
pub mod context;
pub mod conversation;
pub mod error;
pub mod execution;
pub mod follow;
pub mod prompt;
pub mod redact;
pub mod routes;
pub mod runner;
pub mod startup;
pub mod state;
pub mod worker;
pub mod workspace;
