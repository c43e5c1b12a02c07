//! Types for the agent API: added by the issue that builds it.
