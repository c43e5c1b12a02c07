//! github-service: being built.
