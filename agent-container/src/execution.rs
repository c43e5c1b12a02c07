//! Running one task once it is ours: budget, fresh workspace, clone, prompt, the runner, and what changed.

use std::sync::Arc;
use std::time::Duration;

use contracts::agent::output_types;
use contracts::task_log::{LogFile, TaskLogWriter, WorkspaceChanges};
use contracts::{TaskEnvelope, TaskId};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::budget::{BudgetError, DailyBudget};
use crate::configuration::Settings;
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
}

pub struct Executor {
    pub settings: Arc<Settings>,
    pub runner: Arc<dyn CliRunner>,
    pub logs: TaskLogWriter,
    pub redactor: Arc<Redactor>,
    pub budget: DailyBudget,
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
        let repo_url = envelope.source.repo.as_ref().and_then(|repo| {
            self.settings
                .repo_url_template
                .as_ref()
                .map(|template| template.replace("{repo}", repo))
        });
        if let Some(url) = &repo_url
            && let Err(error) = workspace
                .clone_repository(url, &self.settings.agent_path)
                .await
        {
            let error = self.redactor.redact_text(&error);
            sink.emit(
                output_types::ERROR,
                json!({ "source": "worker", "message": error }),
            );
            self.budget.settle(&reservation, Some(0.0)).await;
            self.finish_workspace(&workspace, false);
            return refused(RunStatus::ProcessFailed, error);
        }

        let mut env = vec![
            ("PATH".to_owned(), self.settings.agent_path.clone()),
            ("HOME".to_owned(), workspace.path.display().to_string()),
        ];
        if let Some((name, key)) = &self.settings.agent_api_key {
            env.push((name.clone(), key.expose_secret().to_owned()));
        }
        if let Some(url) = &repo_url {
            env.push(("REPO_URL".to_owned(), url.clone()));
        }
        let request = RunRequest {
            prompt: build_prompt(envelope, definition, repo_url.is_some()),
            system_prompt: definition.system_prompt.clone(),
            workdir: workspace.path.clone(),
            model: model.clone(),
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
        let result = self.runner.run(request, &sink).await;
        self.budget.settle(&reservation, result.cost_usd).await;
        let changes = if repo_url.is_some() {
            workspace.changes(&self.settings.agent_path).await
        } else {
            None
        };
        self.finish_workspace(&workspace, result.success());
        TaskRun {
            result,
            model,
            changes,
        }
    }

    fn finish_workspace(&self, workspace: &Workspace, succeeded: bool) {
        if succeeded || !self.settings.keep_failed_workspaces {
            workspace.remove();
        }
    }
}

fn refused(status: RunStatus, error: String) -> TaskRun {
    let mut result = RunResult::new(status, Duration::ZERO);
    result.error = Some(error);
    TaskRun {
        result,
        model: None,
        changes: None,
    }
}
