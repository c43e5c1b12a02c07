//! A stateful, in-memory stand-in for the provider HTTP APIs the provider services call (GitHub REST and git
//! smart HTTP, Slack Web API, Jira REST v2/v3, Sentry web API), recording every request it answers so local
//! runs and cross-process tests can see exactly what reached "the provider".

// The provider objects are large `json!` literals, as the providers document them.
#![recursion_limit = "256"]

pub mod configuration;
pub mod faults;
pub mod git_http;
pub mod github;
pub mod inspect;
pub mod jira;
pub mod recorder;
pub mod repository;
pub mod seed;
pub mod sentry;
pub mod slack;
pub mod startup;
pub mod state;
