//! api-gateway: signed webhooks from GitHub, Slack, Jira and Sentry become queued tasks with a task log.

pub mod acknowledge;
pub mod configuration;
pub mod control;
pub mod conversation;
pub mod delivery;
pub mod error;
pub mod file_work;
pub mod intake;
pub mod mention;
pub mod permissions;
pub mod providers;
pub mod routes;
pub mod signature;
pub mod startup;
pub mod state;
pub mod telemetry;
