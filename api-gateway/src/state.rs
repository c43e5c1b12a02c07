//! What every handler shares.

use std::sync::Arc;

use contracts::{Provider, TaskLogWriter};
use service_kit::queue::TaskQueue;

use crate::configuration::Settings;
use crate::signature::{
    Clock, GithubVerifier, JiraVerifier, SentryVerifier, SignatureVerifier, SlackVerifier,
};

/// The name this service stamps on its log lines.
pub const SERVICE_NAME: &str = "api-gateway";

#[derive(Clone)]
pub struct AppState(Arc<AppContext>);

pub struct AppContext {
    pub settings: Settings,
    pub queue: TaskQueue,
    pub logs: TaskLogWriter,
    github: GithubVerifier,
    slack: SlackVerifier,
    jira: JiraVerifier,
    sentry: SentryVerifier,
}

impl AppState {
    pub fn new(settings: Settings, queue: TaskQueue, clock: Arc<dyn Clock>) -> Self {
        let logs = TaskLogWriter::new(settings.common.task_logs_dir.clone(), SERVICE_NAME);
        Self(Arc::new(AppContext {
            github: GithubVerifier {
                secrets: settings.github.secrets.clone(),
            },
            slack: SlackVerifier {
                secrets: settings.slack.secrets.clone(),
                clock,
            },
            jira: JiraVerifier {
                secrets: settings.jira.secrets.clone(),
                query_tokens: settings.jira.query_tokens.clone(),
            },
            sentry: SentryVerifier {
                secrets: settings.sentry.secrets.clone(),
            },
            settings,
            queue,
            logs,
        }))
    }

    pub fn verifier(&self, provider: Provider) -> &dyn SignatureVerifier {
        match provider {
            Provider::Github => &self.0.github,
            Provider::Slack => &self.0.slack,
            Provider::Jira => &self.0.jira,
            Provider::Sentry => &self.0.sentry,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = AppContext;

    fn deref(&self) -> &AppContext {
        &self.0
    }
}
