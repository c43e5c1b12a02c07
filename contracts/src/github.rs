//! Types for the github API: added by the issue that builds it.
