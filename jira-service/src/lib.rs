//! jira-service: the only component that calls Jira (Cloud or Server/Data Center).

pub mod configuration;
pub mod error;
pub mod jira_api;
pub mod markup;
pub mod routes;
pub mod startup;
pub mod state;
pub mod validation;
