//! sentry-service: the only component that calls Sentry's API.

pub mod configuration;
pub mod error;
pub mod routes;
pub mod sentry_api;
pub mod startup;
pub mod state;
pub mod validation;
