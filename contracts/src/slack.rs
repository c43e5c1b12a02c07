//! Types for the slack API: added by the issue that builds it.
