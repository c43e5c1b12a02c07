//! The prompt an agent gets: what its command asks, the user's instruction, the context the envelope
//! points at, and what was fetched of it through the provider services.

use std::fmt::Write;

use contracts::TaskEnvelope;

use crate::agents::AgentDefinition;

pub fn build_prompt(
    envelope: &TaskEnvelope,
    definition: &AgentDefinition,
    cloned: bool,
    fetched: &[String],
) -> String {
    let mut prompt = String::new();
    let actor = envelope
        .actor
        .login
        .as_deref()
        .or(envelope.actor.display_name.as_deref())
        .unwrap_or(&envelope.actor.id);
    let _ = writeln!(prompt, "{}\n", definition.task_preamble.trim());
    let _ = writeln!(
        prompt,
        "Request: `@agent {}` from {actor} on {} ({}).",
        envelope.command, envelope.provider, envelope.event
    );
    let instruction = envelope.instruction.trim();
    let _ = writeln!(
        prompt,
        "{}\n",
        if instruction.is_empty() {
            "(no further instruction)"
        } else {
            instruction
        }
    );
    let source = &envelope.source;
    let mut context = Vec::new();
    if let Some(repo) = &source.repo {
        context.push(if cloned {
            format!("Repository: {repo} (cloned into the current directory)")
        } else {
            format!("Repository: {repo} (not cloned: no way to clone it was available)")
        });
    }
    if let Some(number) = source.number {
        let kind = if source.is_pull_request == Some(true) {
            "Pull request"
        } else {
            "Issue"
        };
        context.push(format!("{kind} #{number}"));
    }
    if let Some(kind) = &source.comment_kind {
        context.push(format!("Asked in: {kind}"));
    }
    if let (Some(team), Some(channel)) = (&source.slack_team, &source.slack_channel) {
        context.push(format!("Slack channel {channel} (team {team})"));
    }
    if let Some(key) = &source.jira_issue_key {
        match &source.jira_site {
            Some(site) => context.push(format!("Jira issue {key} on {site}")),
            None => context.push(format!("Jira issue {key}")),
        }
    }
    if let Some(issue) = &source.sentry_issue_id {
        match &source.sentry_org {
            Some(org) => context.push(format!("Sentry issue {issue} (organization {org})")),
            None => context.push(format!("Sentry issue {issue}")),
        }
    }
    if let Some(url) = &source.url {
        context.push(format!("Link: {url}"));
    }
    context.push(format!("Conversation: {}", envelope.conversation_key));
    let _ = writeln!(prompt, "Context:");
    for line in context {
        let _ = writeln!(prompt, "- {line}");
    }
    if !fetched.is_empty() {
        let _ = writeln!(prompt, "\nWhat the conversation holds (fetched for you):");
        for section in fetched {
            let _ = writeln!(prompt, "\n{}", section.trim_end());
        }
    }
    prompt
}
