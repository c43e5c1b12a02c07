//! The task's workspace: a fresh directory under `AGENT_WORKDIR`, the repository cloned into it, and what the
//! agent changed there.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use contracts::TaskId;
use contracts::task_log::WorkspaceChanges;

/// A clone that takes longer than this has failed.
const CLONE_TIMEOUT: Duration = Duration::from_secs(600);

pub struct Workspace {
    pub path: PathBuf,
}

impl Workspace {
    /// A fresh, empty directory `{root}/{task_id}` (whatever a previous attempt left there is removed).
    /// `root` exists and is absolute (made so at start).
    pub fn create(root: &Path, task_id: &TaskId) -> std::io::Result<Self> {
        let path = root.join(task_id.to_string());
        match std::fs::create_dir(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                remove_dir(&path)?;
                std::fs::create_dir(&path)?;
            }
            other => other?,
        }
        Ok(Self { path })
    }

    /// Where the containment supervisor records the agent's exit status (outside the workspace).
    pub fn status_file(root: &Path, task_id: &TaskId) -> PathBuf {
        root.join(format!(".{task_id}.exit"))
    }

    pub fn remove(&self) {
        if let Err(e) = remove_dir(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a workspace");
        }
    }

    /// `git clone <url> .` with nothing of the worker's environment but `PATH`. `auth` is an HTTP
    /// `Authorization` header value sent with every request (given to git through its environment, so it is
    /// neither on a command line nor in the workspace's git config).
    pub async fn clone_repository(
        &self,
        url: &str,
        auth: Option<&str>,
        path_var: &str,
    ) -> Result<(), String> {
        let output = self
            .git_with(path_var, auth, &["clone", "--quiet", "--no-tags", url, "."])
            .await?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "git clone failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    /// Files the agent changed, added or removed, and `git diff --stat`'s summary; `None` when nothing changed.
    pub async fn changes(&self, path_var: &str) -> Option<WorkspaceChanges> {
        self.git(path_var, &["add", "--all"]).await.ok()?;
        let names = self
            .git(path_var, &["diff", "--cached", "--name-only", "HEAD"])
            .await
            .ok()?;
        let changed_files: Vec<String> = String::from_utf8_lossy(&names.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if changed_files.is_empty() {
            return None;
        }
        let stat = self
            .git(path_var, &["diff", "--cached", "--shortstat", "HEAD"])
            .await
            .ok()?;
        Some(WorkspaceChanges {
            changed_files,
            diff_stat: String::from_utf8_lossy(&stat.stdout).trim().to_owned(),
        })
    }

    /// The branch the clone checked out.
    pub async fn current_branch(&self, path_var: &str) -> Option<String> {
        let output = self
            .git(path_var, &["symbolic-ref", "--short", "HEAD"])
            .await
            .ok()?;
        let branch = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !branch.is_empty()).then_some(branch)
    }

    /// Commits what [`Self::changes`] staged, as `author`, and pushes it to `origin` as `branch`.
    pub async fn commit_and_push(
        &self,
        path_var: &str,
        auth: Option<&str>,
        author: (&str, &str),
        message: &str,
        branch: &str,
    ) -> Result<(), String> {
        let name = format!("user.name={}", author.0);
        let email = format!("user.email={}", author.1);
        let commit = self
            .git(
                path_var,
                &[
                    "-c",
                    &name,
                    "-c",
                    &email,
                    "commit",
                    "--quiet",
                    "--no-verify",
                    "-m",
                    message,
                ],
            )
            .await?;
        if !commit.status.success() {
            return Err(format!(
                "git commit failed ({}): {}",
                commit.status,
                String::from_utf8_lossy(&commit.stderr).trim()
            ));
        }
        let refspec = format!("HEAD:refs/heads/{branch}");
        let push = self
            .git_with(path_var, auth, &["push", "--quiet", "origin", &refspec])
            .await?;
        if push.status.success() {
            Ok(())
        } else {
            Err(format!(
                "git push failed ({}): {}",
                push.status,
                String::from_utf8_lossy(&push.stderr).trim()
            ))
        }
    }

    async fn git(&self, path_var: &str, args: &[&str]) -> Result<std::process::Output, String> {
        self.git_with(path_var, None, args).await
    }

    async fn git_with(
        &self,
        path_var: &str,
        auth: Option<&str>,
        args: &[&str],
    ) -> Result<std::process::Output, String> {
        let mut command = tokio::process::Command::new("git");
        command
            .args(args)
            .current_dir(&self.path)
            .env_clear()
            .env("PATH", path_var)
            .env("HOME", &self.path)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(header) = auth {
            command
                .env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", format!("Authorization: {header}"));
        }
        tokio::time::timeout(CLONE_TIMEOUT, command.output())
            .await
            .map_err(|_| {
                format!(
                    "git {} took longer than {}s",
                    args[0],
                    CLONE_TIMEOUT.as_secs()
                )
            })?
            .map_err(|e| format!("cannot run git: {e}"))
    }
}

fn remove_dir(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
