//! sentry-service: being built.
