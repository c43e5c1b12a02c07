//! slack-service: the only component that calls Slack's Web API.

pub mod configuration;
pub mod error;
pub mod routes;
pub mod slack_api;
pub mod startup;
pub mod state;
pub mod validation;
