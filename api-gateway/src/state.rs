//! What every handler shares.

use std::sync::Arc;

use contracts::{Provider, TaskLogWriter};
use service_kit::queue::TaskQueue;
use service_kit::service_client::ServiceClient;
use service_kit::tracking::Tracker;

use crate::configuration::Settings;
use crate::file_work::FileWork;
use crate::permissions::{PERMISSION_CHECK_TIMEOUT, RepositoryPermissions};
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
    /// Where task-log file work runs (inline, or on the blocking pool while the storage is slow).
    pub file_work: FileWork,
    /// Reactions and the tracking message, through the provider services.
    pub tracker: Tracker,
    pub permissions: RepositoryPermissions,
    github: GithubVerifier,
    slack: SlackVerifier,
    jira: JiraVerifier,
    sentry: SentryVerifier,
}

impl AppState {
    pub fn new(settings: Settings, queue: TaskQueue, clock: Arc<dyn Clock>) -> Self {
        let logs = TaskLogWriter::new(settings.common.task_logs_dir.clone(), SERVICE_NAME);
        let client = |timeout, attempts| {
            ServiceClient::new(
                settings.service_urls.clone(),
                settings.service_token.clone(),
                logs.clone(),
                timeout,
                attempts,
            )
        };
        let tracker = Tracker::new(
            client(
                settings.service_call_timeout,
                settings.service_call_attempts,
            ),
            queue.pool().clone(),
            queue.keys().clone(),
            settings.dashboard_public_url.clone(),
        );
        // The permission question is asked before the webhook is answered: one short attempt.
        let permissions = RepositoryPermissions::new(
            client(
                PERMISSION_CHECK_TIMEOUT.min(settings.service_call_timeout),
                1,
            ),
            settings.permission_cache_ttl,
        );
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
            file_work: FileWork::default(),
            tracker,
            permissions,
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
