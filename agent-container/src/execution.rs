//! Running one task once it is ours: the tracking message's `started`, budget, fresh workspace, clone (through
//! github-service's git access), context, prompt, the runner with live progress, what changed, and for a `fix`
//! a pushed branch and a pull request; the git token is revoked whatever happened.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use contracts::agent::output_types;
use contracts::events::TaskStatus;
use contracts::github::{GitAccess, GitAccessRevoked, PullRequest};
use contracts::task_log::{FinalResult, LogFile, TaskLogWriter, WorkspaceChanges};
use contracts::tracking::fit_to_limit;
use contracts::{Command, Provider, TaskEnvelope, TaskId};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use service_kit::service_client::ServiceCall;
use service_kit::trace_context::TraceContext;
use tokio_util::sync::CancellationToken;

use crate::agents::AgentDefinition;
use crate::budget::{BudgetError, DailyBudget};
use crate::configuration::Settings;
use crate::context::ContextFetcher;
use crate::follow::{FollowUp, LiveSummary, SummarizingSink, progress_text, started_text};
use crate::prompt::build_prompt;
use crate::redact::Redactor;
use crate::runner::{CliRunner, EventSink, Limits, RunRequest, RunResult, RunStatus};
use crate::workspace::Workspace;

/// Appends the agent's events to `04-agent-output.jsonl`, redacted.
pub struct AgentOutputLog {
    pub logs: TaskLogWriter,
    pub task_id: TaskId,
    pub redactor: Arc<Redactor>,
}

impl EventSink for AgentOutputLog {
    fn emit(&self, kind: &str, fields: Value) {
        let fields = self.redactor.redact_value(fields);
        if let Err(e) = self
            .logs
            .append(&self.task_id, LogFile::AgentOutput, kind, fields)
        {
            tracing::warn!(task_id = %self.task_id, error = %e, "could not append to 04-agent-output.jsonl");
        }
    }
}

/// What one run of a task produced.
pub struct TaskRun {
    pub result: RunResult,
    /// The model asked for (the definition's), when the agent did not report one.
    pub model: Option<String>,
    pub changes: Option<WorkspaceChanges>,
    /// The pull request a `fix` opened.
    pub pull_request: Option<String>,
    /// Why the task was refused before the agent ran (a daily budget), in words for the person who asked.
    pub refused: Option<String>,
    /// Something the person should know besides the result (e.g. the changes could not be pushed).
    pub note: Option<String>,
}

impl TaskRun {
    /// A run as `06-final-result.json` recorded it (to finish a task whose worker died after recording it).
    pub fn from_final_result(ended: &FinalResult) -> Self {
        let status = match ended.status {
            TaskStatus::Succeeded => RunStatus::Succeeded,
            TaskStatus::Cancelled => RunStatus::Cancelled,
            TaskStatus::DeadLettered => RunStatus::ProcessFailed,
            _ => RunStatus::AgentFailed,
        };
        let mut result = RunResult::new(status, Duration::from_millis(ended.duration_ms));
        result.result_text = ended.result_text.clone();
        result.error = ended.error.clone();
        result.cost_usd = ended.cost_usd;
        result.input_tokens = ended.input_tokens;
        result.output_tokens = ended.output_tokens;
        result.session_id = ended.session_id.clone();
        result.model = ended.model.clone();
        TaskRun {
            result,
            model: None,
            changes: ended.changes.clone(),
            pull_request: ended.links.first().cloned(),
            refused: None,
            note: None,
        }
    }
}

pub struct Executor {
    pub settings: Arc<Settings>,
    pub runner: Arc<dyn CliRunner>,
    pub logs: TaskLogWriter,
    pub redactor: Arc<Redactor>,
    pub budget: DailyBudget,
    /// The provider services (tracking message, context, git access, pull requests); `None` with
    /// `AGENT_FOLLOW_UP=false`.
    pub follow: Option<Arc<FollowUp>>,
}

/// How the workspace reaches the task's repository.
struct RepoAccess {
    url: String,
    /// `Authorization` header value for git (the per-task token of github-service's git proxy).
    auth: Option<SecretString>,
    /// The branch pushes must not go to (from github-service), when known.
    default_branch: Option<String>,
    /// The token was issued by github-service and is revoked when the task ends.
    granted: bool,
}

impl Executor {
    pub async fn execute(&self, envelope: &TaskEnvelope, cancel: CancellationToken) -> TaskRun {
        let sink = AgentOutputLog {
            logs: self.logs.clone(),
            task_id: envelope.task_id,
            redactor: self.redactor.clone(),
        };
        let Some(definition) = self.settings.definitions.for_command(envelope.command) else {
            return refused(
                RunStatus::AgentFailed,
                format!(
                    "`{}` is a control command and runs no agent",
                    envelope.command
                ),
            );
        };
        if let Some(follow) = &self.follow {
            let link = follow.task_link(&envelope.task_id);
            follow
                .show(
                    envelope,
                    &started_text(envelope, &link),
                    &attempt_step(envelope, "started"),
                )
                .await;
        }
        let model = definition.model.clone();
        let reservation = match self
            .budget
            .reserve(envelope, definition.max_budget_usd)
            .await
        {
            Ok(reservation) => reservation,
            Err(BudgetError::Exceeded(reason)) => {
                sink.emit(
                    output_types::ERROR,
                    json!({ "source": "worker", "message": reason }),
                );
                return TaskRun {
                    model,
                    refused: Some(reason.clone()),
                    ..refused(RunStatus::AgentFailed, reason)
                };
            }
            Err(e @ BudgetError::Unavailable(_)) => {
                return refused(RunStatus::ProcessFailed, e.to_string());
            }
        };

        let workspace = match Workspace::create(&self.settings.workdir, &envelope.task_id) {
            Ok(workspace) => workspace,
            Err(e) => {
                self.budget.settle(&reservation, Some(0.0)).await;
                return refused(
                    RunStatus::ProcessFailed,
                    format!("cannot create the workspace: {e}"),
                );
            }
        };
        let access = self.repository_access(envelope).await;
        let run = self
            .run_in_workspace(
                envelope,
                definition,
                &workspace,
                access.as_ref(),
                &sink,
                cancel,
            )
            .await;
        if let Some(access) = access.as_ref().filter(|a| a.granted) {
            self.revoke(envelope, access).await;
        }
        // A run that never started the agent (the clone failed) spent nothing.
        let spent = if run.result.duration.is_zero() {
            Some(0.0)
        } else {
            run.result.cost_usd
        };
        self.budget.settle(&reservation, spent).await;
        self.finish_workspace(&workspace, run.result.success());
        TaskRun { model, ..run }
    }

    async fn run_in_workspace(
        &self,
        envelope: &TaskEnvelope,
        definition: &AgentDefinition,
        workspace: &Workspace,
        access: Option<&RepoAccess>,
        sink: &AgentOutputLog,
        cancel: CancellationToken,
    ) -> TaskRun {
        let path_var = &self.settings.agent_path;
        if let Some(access) = access
            && let Err(error) = workspace
                .clone_repository(
                    &access.url,
                    access.auth.as_ref().map(|a| a.expose_secret()),
                    path_var,
                )
                .await
        {
            let error = self.redact(&error, access);
            sink.emit(
                output_types::ERROR,
                json!({ "source": "worker", "message": error }),
            );
            return refused(RunStatus::ProcessFailed, error);
        }
        let fetched = match &self.follow {
            Some(follow) => {
                ContextFetcher {
                    client: follow.client(),
                    logs: &self.logs,
                }
                .fetch(envelope)
                .await
            }
            None => Vec::new(),
        };

        let mut env = vec![
            ("PATH".to_owned(), path_var.clone()),
            ("HOME".to_owned(), workspace.path.display().to_string()),
        ];
        if let Some((name, key)) = &self.settings.agent_api_key {
            env.push((name.clone(), key.expose_secret().to_owned()));
        }
        if let Some(access) = access {
            env.push(("REPO_URL".to_owned(), access.url.clone()));
        }
        let request = RunRequest {
            prompt: build_prompt(envelope, definition, access.is_some(), &fetched),
            system_prompt: definition.system_prompt.clone(),
            workdir: workspace.path.clone(),
            model: definition.model.clone(),
            limits: Limits {
                max_turns: definition.max_turns,
                max_budget_usd: definition.max_budget_usd,
                timeout: definition.timeout,
                allowed_tools: definition.allowed_tools.clone(),
                permission_mode: definition.permission_mode.clone(),
            },
            env,
            status_file: Workspace::status_file(&self.settings.workdir, &envelope.task_id),
            max_output_bytes: self.settings.max_output_bytes,
            cancel,
        };
        let summary = LiveSummary::default();
        let summarizing = SummarizingSink {
            inner: sink,
            summary: summary.clone(),
            redactor: &self.redactor,
        };
        let ran = CancellationToken::new();
        let (result, ()) = tokio::join!(
            async {
                let result = self.runner.run(request, &summarizing).await;
                ran.cancel();
                result
            },
            self.report_progress(envelope, &summary, &ran)
        );
        let changes = match access {
            Some(_) => workspace.changes(path_var).await,
            None => None,
        };
        let mut run = TaskRun {
            result,
            model: None,
            changes,
            pull_request: None,
            refused: None,
            note: None,
        };
        if let Some(access) = access
            && self.follow.is_some()
            && envelope.command == Command::Fix
            && run.result.success()
            && run.changes.is_some()
        {
            match self.propose(envelope, workspace, access, &run).await {
                Ok(url) => run.pull_request = Some(url),
                Err(error) => {
                    let error = self.redact(&error, access);
                    sink.emit(
                        output_types::ERROR,
                        json!({ "source": "worker", "message": error }),
                    );
                    run.note = Some(format!(
                        "the changes could not be proposed as a pull request: {error}"
                    ));
                }
            }
        }
        run
    }

    /// Updates the tracking message with what the agent is doing, at most once per `AGENT_PROGRESS_INTERVAL`
    /// and only when that changed, until `ran` is cancelled.
    async fn report_progress(
        &self,
        envelope: &TaskEnvelope,
        summary: &LiveSummary,
        ran: &CancellationToken,
    ) {
        let Some(follow) = &self.follow else { return };
        let link = follow.task_link(&envelope.task_id);
        let mut shown: Option<String> = None;
        let mut updates = 0u32;
        loop {
            tokio::select! {
                () = ran.cancelled() => return,
                () = tokio::time::sleep(self.settings.progress_interval) => {}
            }
            let latest = summary.latest();
            if let Some(text) = latest.as_deref()
                && latest != shown
            {
                updates += 1;
                follow
                    .show(
                        envelope,
                        &progress_text(envelope, text, &link),
                        &attempt_step(envelope, &format!("progress-{updates}")),
                    )
                    .await;
                shown = latest;
            }
        }
    }

    /// `AGENT_REPO_URL_TEMPLATE` when set (an override, e.g. local bare repositories); else a per-task token
    /// from github-service's git access. `None`: the task runs without a clone.
    async fn repository_access(&self, envelope: &TaskEnvelope) -> Option<RepoAccess> {
        let repo = envelope.source.repo.as_ref()?;
        if let Some(template) = &self.settings.repo_url_template {
            return Some(RepoAccess {
                url: template.replace("{repo}", repo),
                auth: None,
                default_branch: None,
                granted: false,
            });
        }
        let follow = self.follow.as_ref()?;
        let call = ServiceCall::new(
            Provider::Github,
            Method::POST,
            format!("/api/v1/github/repos/{repo}/git-access"),
        )
        .for_task(envelope.task_id, envelope.run, "git-access");
        match follow
            .client()
            .send::<GitAccess>(&call, &TraceContext::new_root())
            .await
        {
            Ok(access) => {
                let basic = BASE64.encode(format!("x-access-token:{}", access.token));
                Some(RepoAccess {
                    url: access.clone_url,
                    auth: Some(SecretString::from(format!("Basic {basic}"))),
                    default_branch: Some(access.default_branch),
                    granted: true,
                })
            }
            Err(e) => {
                self.log_service(
                    envelope,
                    "git_access_unavailable",
                    json!({ "repo": repo, "error": e.to_string() }),
                );
                None
            }
        }
    }

    async fn revoke(&self, envelope: &TaskEnvelope, access: &RepoAccess) {
        let (Some(follow), Some(repo)) = (&self.follow, &envelope.source.repo) else {
            return;
        };
        let call = ServiceCall::new(
            Provider::Github,
            Method::DELETE,
            format!("/api/v1/github/repos/{repo}/git-access"),
        )
        .for_task(envelope.task_id, envelope.run, "git-access-revoke");
        let answer = follow
            .client()
            .send::<GitAccessRevoked>(&call, &TraceContext::new_root())
            .await;
        let line = match answer {
            Ok(revoked) => json!({ "repo": repo, "revoked": revoked.revoked }),
            Err(e) => json!({ "repo": repo, "error": self.redact(&e.to_string(), access) }),
        };
        self.log_service(envelope, "git_access_revoked", line);
    }

    /// Commits the agent's changes, pushes them as `agent/{command}-{short task id}` and opens a pull request.
    async fn propose(
        &self,
        envelope: &TaskEnvelope,
        workspace: &Workspace,
        access: &RepoAccess,
        run: &TaskRun,
    ) -> Result<String, String> {
        let follow = self
            .follow
            .as_ref()
            .ok_or("no provider service to open a pull request with")?;
        let repo = envelope
            .source
            .repo
            .as_deref()
            .ok_or("the task names no repository")?;
        let path_var = &self.settings.agent_path;
        let base = match &access.default_branch {
            Some(branch) => branch.clone(),
            None => workspace
                .current_branch(path_var)
                .await
                .ok_or("the clone has no current branch to propose the changes against")?,
        };
        let task_text = envelope.task_id.to_string();
        let short_id = &task_text[task_text.len().saturating_sub(8)..];
        let branch = format!("agent/{}-{short_id}", envelope.command);
        let title = pull_request_title(envelope);
        workspace
            .commit_and_push(
                path_var,
                access.auth.as_ref().map(|a| a.expose_secret()),
                (
                    &self.settings.git_author_name,
                    &self.settings.git_author_email,
                ),
                &format!("{title}\n\nTask: {}", follow.task_link(&envelope.task_id)),
                &branch,
            )
            .await?;
        self.log_service(
            envelope,
            "branch_pushed",
            json!({ "repo": repo, "branch": branch, "base": base }),
        );
        let body = self.redactor.redact_text(&pull_request_body(
            envelope,
            run,
            &follow.task_link(&envelope.task_id),
        ));
        let call = ServiceCall::new(
            Provider::Github,
            Method::POST,
            format!("/api/v1/github/repos/{repo}/pulls"),
        )
        .json(json!({ "title": title, "head": branch, "base": base, "body": body }))
        .for_task(envelope.task_id, envelope.run, "pull-request");
        let pull = follow
            .client()
            .send::<PullRequest>(&call, &TraceContext::new_root())
            .await
            .map_err(|e| e.to_string())?;
        self.log_service(
            envelope,
            "pull_request_opened",
            json!({ "repo": repo, "number": pull.number, "url": pull.html_url }),
        );
        Ok(pull.html_url)
    }

    fn redact(&self, text: &str, access: &RepoAccess) -> String {
        let mut text = self.redactor.redact_text(text);
        if let Some(auth) = &access.auth {
            let header = auth.expose_secret();
            text = text.replace(header, crate::redact::REDACTED);
            if let Some(encoded) = header.strip_prefix("Basic ")
                && let Ok(decoded) = BASE64.decode(encoded)
                && let Some((_, token)) = String::from_utf8_lossy(&decoded).split_once(':')
                && !token.is_empty()
            {
                text = text.replace(token, crate::redact::REDACTED);
            }
        }
        text
    }

    fn log_service(&self, envelope: &TaskEnvelope, kind: &str, fields: Value) {
        if let Err(e) =
            self.logs
                .append(&envelope.task_id, LogFile::MicroservicesFlow, kind, fields)
        {
            tracing::warn!(task_id = %envelope.task_id, error = %e, "could not append to 05-microservices-flow.jsonl");
        }
    }

    fn finish_workspace(&self, workspace: &Workspace, succeeded: bool) {
        if succeeded || !self.settings.keep_failed_workspaces {
            workspace.remove();
        }
    }
}

/// `step` on the first attempt, `{step}-attempt-{n}` on a later one: a new attempt's updates are new steps (not
/// the replay of the previous attempt's), while a reclaimed delivery (same attempt) repeats its keys.
fn attempt_step(envelope: &TaskEnvelope, step: &str) -> String {
    if envelope.attempt <= 1 {
        step.to_owned()
    } else {
        format!("{step}-attempt-{}", envelope.attempt)
    }
}

fn pull_request_title(envelope: &TaskEnvelope) -> String {
    let instruction: String = envelope
        .instruction
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let subject = if instruction.is_empty() {
        match envelope.source.number {
            Some(number) => format!("#{number}"),
            None => "the reported problem".to_owned(),
        }
    } else {
        instruction
    };
    let title = format!("agent {}: {subject}", envelope.command);
    if title.chars().count() > 120 {
        format!("{}…", title.chars().take(119).collect::<String>())
    } else {
        title
    }
}

fn pull_request_body(envelope: &TaskEnvelope, run: &TaskRun, link: &str) -> String {
    let source = &envelope.source;
    let mut body = String::new();
    match (envelope.provider, source.number, source.is_pull_request) {
        (Provider::Github, Some(number), Some(false) | None) => {
            body.push_str(&format!("Fixes #{number}\n\n"));
        }
        (Provider::Github, Some(number), Some(true)) => {
            body.push_str(&format!("For #{number}\n\n"));
        }
        _ => {
            if let Some(url) = &source.url {
                body.push_str(&format!("Asked in {url}\n\n"));
            }
        }
    }
    if let Some(summary) = run.result.result_text.as_deref().map(str::trim)
        && !summary.is_empty()
    {
        let summary = fit_to_limit(summary, 20_000, link);
        body.push_str(&format!("{summary}\n\n"));
    }
    if let Some(changes) = &run.changes {
        body.push_str(&format!("Changes: {}\n\n", changes.diff_stat));
    }
    body.push_str(&format!("Task log: {link}"));
    body
}

fn refused(status: RunStatus, error: String) -> TaskRun {
    let mut result = RunResult::new(status, Duration::ZERO);
    result.error = Some(error);
    TaskRun {
        result,
        model: None,
        changes: None,
        pull_request: None,
        refused: None,
        note: None,
    }
}
