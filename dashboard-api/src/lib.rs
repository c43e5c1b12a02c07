//! dashboard-api: being built.
