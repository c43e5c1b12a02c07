mod git;
mod github;
mod helpers;
mod jira;
mod recording;
mod sentry;
mod slack;
