//! What every handler shares: the recording, the pending faults, and each fake provider's data.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::faults::Faults;
use crate::github::GithubData;
use crate::jira::JiraData;
use crate::recorder::Recorder;
use crate::repository::Git;
use crate::sentry::SentryData;
use crate::slack::SlackData;

#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

pub struct Shared {
    pub recorder: Recorder,
    pub faults: Faults,
    pub git: Git,
    /// `GIT_PROJECT_ROOT`: bare repositories at `{owner}/{repo}.git`.
    pub repositories_root: PathBuf,
    pub github: Mutex<GithubData>,
    pub slack: Mutex<SlackData>,
    pub jira: Mutex<JiraData>,
    pub sentry: Mutex<SentryData>,
}

impl AppState {
    pub fn new(git: Git, repositories_root: PathBuf, github: GithubData) -> Self {
        Self {
            shared: Arc::new(Shared {
                recorder: Recorder::default(),
                faults: Faults::default(),
                git,
                repositories_root,
                github: Mutex::new(github),
                slack: Mutex::new(SlackData::default()),
                jira: Mutex::new(JiraData::default()),
                sentry: Mutex::new(SentryData::default()),
            }),
        }
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}
