//! slack-service: being built.
