//! The gateway's routes; `/health`, `/ready`, `/metrics`, `/docs` and `/openapi.json` come from
//! `service_kit::ops`.

pub mod webhooks;
