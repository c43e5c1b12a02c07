//! jira-service: being built.
