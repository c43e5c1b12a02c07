//! api-gateway: being built.
