mod git;
mod github;
mod helpers;
mod jira;
mod recording;
mod seeding;
mod sentry;
mod slack;
