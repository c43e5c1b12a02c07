//! Types for the jira API: added by the issue that builds it.
