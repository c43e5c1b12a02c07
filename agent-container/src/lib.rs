//! agent-container: being built.
