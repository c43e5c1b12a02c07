//! The context a prompt is built from, fetched through the provider services: the GitHub issue or pull request
//! with its comments (and diff), the Slack thread, the Jira issue with its comments, the Sentry issue and its
//! latest event's stack trace. A fetch that fails is logged (`context_unavailable` in
//! `05-microservices-flow.jsonl`) and the task goes on with what it has.

use std::fmt::Write;

use contracts::github::{IssueWithComments, PullRequestDiff};
use contracts::jira::JiraIssue;
use contracts::sentry::{SentryEvent, SentryIssue};
use contracts::slack::ThreadReplies;
use contracts::task_log::{LogFile, TaskLogWriter};
use contracts::{Provider, TaskEnvelope};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::json;
use service_kit::service_client::{ServiceCall, ServiceClient};
use service_kit::trace_context::TraceContext;

/// A fetched text longer than this is cut (the agent can fetch the rest itself in the workspace).
const MAX_SECTION_CHARS: usize = 60_000;

pub struct ContextFetcher<'a> {
    pub client: &'a ServiceClient,
    pub logs: &'a TaskLogWriter,
}

impl ContextFetcher<'_> {
    /// Sections of text for the prompt, one per thing fetched.
    pub async fn fetch(&self, envelope: &TaskEnvelope) -> Vec<String> {
        let source = &envelope.source;
        let mut sections = Vec::new();
        match envelope.provider {
            Provider::Github => {
                let (Some(repo), Some(number)) = (&source.repo, source.number) else {
                    return sections;
                };
                let path = format!("/api/v1/github/repos/{repo}/issues/{number}");
                if let Some(issue) = self
                    .get::<IssueWithComments>(envelope, path, "context-github-issue")
                    .await
                {
                    sections.push(github_issue(&issue));
                }
                if source.is_pull_request == Some(true) {
                    let path = format!("/api/v1/github/repos/{repo}/pulls/{number}/diff");
                    if let Some(diff) = self
                        .get::<PullRequestDiff>(envelope, path, "context-github-diff")
                        .await
                    {
                        sections.push(cut(format!(
                            "The pull request's diff:\n```diff\n{}\n```",
                            diff.diff
                        )));
                    }
                }
            }
            Provider::Slack => {
                let (Some(channel), Some(thread)) = (
                    &source.slack_channel,
                    source
                        .slack_thread_ts
                        .as_ref()
                        .or(source.slack_message_ts.as_ref()),
                ) else {
                    return sections;
                };
                let path = format!("/api/v1/slack/threads/{channel}/{thread}/replies");
                if let Some(thread) = self
                    .get::<ThreadReplies>(envelope, path, "context-slack-thread")
                    .await
                {
                    sections.push(slack_thread(&thread));
                }
            }
            Provider::Jira => {
                let Some(key) = &source.jira_issue_key else {
                    return sections;
                };
                let path = format!("/api/v1/jira/issues/{key}");
                if let Some(issue) = self
                    .get::<JiraIssue>(envelope, path, "context-jira-issue")
                    .await
                {
                    sections.push(jira_issue(&issue));
                }
            }
            Provider::Sentry => {
                let Some(id) = &source.sentry_issue_id else {
                    return sections;
                };
                let path = format!("/api/v1/sentry/issues/{id}");
                if let Some(issue) = self
                    .get::<SentryIssue>(envelope, path, "context-sentry-issue")
                    .await
                {
                    sections.push(sentry_issue(&issue));
                }
                let path = format!("/api/v1/sentry/issues/{id}/events/latest");
                if let Some(event) = self
                    .get::<SentryEvent>(envelope, path, "context-sentry-event")
                    .await
                {
                    sections.push(sentry_event(&event));
                }
            }
        }
        sections
    }

    async fn get<T: DeserializeOwned>(
        &self,
        envelope: &TaskEnvelope,
        path: String,
        step: &str,
    ) -> Option<T> {
        let call = ServiceCall::new(envelope.provider, Method::GET, path.clone()).for_task(
            envelope.task_id,
            envelope.run,
            step,
        );
        match self.client.send(&call, &TraceContext::new_root()).await {
            Ok(value) => Some(value),
            Err(e) => {
                let line = json!({ "step": step, "path": path, "error": e.to_string() });
                if let Err(e) = self.logs.append(
                    &envelope.task_id,
                    LogFile::MicroservicesFlow,
                    "context_unavailable",
                    line,
                ) {
                    tracing::warn!(task_id = %envelope.task_id, error = %e, "could not append to the task log");
                }
                None
            }
        }
    }
}

fn cut(text: String) -> String {
    if text.chars().count() <= MAX_SECTION_CHARS {
        return text;
    }
    let mut kept: String = text.chars().take(MAX_SECTION_CHARS).collect();
    kept.push_str("\n… (cut)");
    kept
}

fn github_issue(found: &IssueWithComments) -> String {
    let issue = &found.issue;
    let kind = if issue.is_pull_request {
        "Pull request"
    } else {
        "Issue"
    };
    let mut text = format!(
        "{kind} #{} \"{}\" by {} ({}, {}):\n{}\n",
        issue.number,
        issue.title,
        issue.user.login,
        issue.state,
        issue.html_url,
        issue.body.as_deref().unwrap_or("(no description)")
    );
    for comment in &found.comments {
        let _ = write!(
            text,
            "\nComment by {} ({}):\n{}\n",
            comment.user.login, comment.created_at, comment.body
        );
    }
    if found.comments_truncated {
        text.push_str("\n(more comments exist than were read)\n");
    }
    cut(text)
}

fn slack_thread(thread: &ThreadReplies) -> String {
    let mut text = format!("The Slack thread ({}):\n", thread.channel);
    for message in &thread.messages {
        let author = message
            .user
            .as_deref()
            .or(message.bot_id.as_deref())
            .unwrap_or("someone");
        let _ = writeln!(text, "- {author} ({}): {}", message.ts, message.text);
    }
    cut(text)
}

fn jira_issue(issue: &JiraIssue) -> String {
    let mut text = format!(
        "Jira issue {} \"{}\" ({}, {}):\n{}\n",
        issue.key,
        issue.summary,
        issue.status.name,
        issue.url,
        issue.description.as_deref().unwrap_or("(no description)")
    );
    for comment in &issue.comments {
        let author = comment
            .author
            .as_ref()
            .and_then(|a| a.display_name.as_deref().or(a.name.as_deref()))
            .unwrap_or("someone");
        let _ = write!(text, "\nComment by {author}:\n{}\n", comment.body);
    }
    cut(text)
}

fn sentry_issue(issue: &SentryIssue) -> String {
    let mut text = format!(
        "Sentry issue {} \"{}\" ({})",
        issue.short_id, issue.title, issue.status
    );
    if let Some(culprit) = &issue.culprit {
        let _ = write!(text, ", in {culprit}");
    }
    if let Some(count) = issue.count {
        let _ = write!(text, ", {count} events");
    }
    if let Some(link) = &issue.permalink {
        let _ = write!(text, ", {link}");
    }
    text
}

fn sentry_event(event: &SentryEvent) -> String {
    let mut text = format!("Its latest event ({}): {}\n", event.event_id, event.title);
    for exception in &event.exceptions {
        let _ = writeln!(
            text,
            "\n{}: {}\nStack trace (most recent call last):",
            exception.kind.as_deref().unwrap_or("Exception"),
            exception.value.as_deref().unwrap_or("")
        );
        for frame in &exception.frames {
            let _ = writeln!(
                text,
                "  {}:{} in {}{}",
                frame
                    .filename
                    .as_deref()
                    .or(frame.abs_path.as_deref())
                    .unwrap_or("?"),
                frame.line_number.map_or("?".to_owned(), |n| n.to_string()),
                frame.function.as_deref().unwrap_or("?"),
                frame
                    .context_line
                    .as_deref()
                    .map(|line| format!("\n      {}", line.trim()))
                    .unwrap_or_default()
            );
        }
    }
    cut(text)
}
