//! dashboard-api: every task's full trail, live and searchable, as an API (Swagger UI at `/docs`) and a web page.

pub mod access;
pub mod analytics;
pub mod configuration;
pub mod consumer;
pub mod error;
pub mod index;
pub mod logs;
pub mod pages;
pub mod retention;
pub mod routes;
pub mod startup;
pub mod state;
