//! Types for the dashboard API: added by the issue that builds it.
