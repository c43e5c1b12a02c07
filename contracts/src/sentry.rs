//! Types for the sentry API: added by the issue that builds it.
