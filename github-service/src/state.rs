//! What every handler shares.

use std::sync::Arc;

use service_kit::vault::Vault;

use crate::git_access::GitAccess;
use crate::github_api::GithubApi;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    github: GithubApi,
    vault: Vault,
    git: GitAccess,
}

impl AppState {
    pub fn new(github: GithubApi, vault: Vault, git: GitAccess) -> Self {
        Self {
            inner: Arc::new(Inner { github, vault, git }),
        }
    }

    pub fn github(&self) -> &GithubApi {
        &self.inner.github
    }

    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    pub fn git(&self) -> &GitAccess {
        &self.inner.git
    }
}
