//! The bare git repositories behind the fake GitHub: creating the sample one, and reading refs and diffs
//! with the `git` command line (the REST API answers from the same repositories git clients push to).

use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::{Context, bail};
use tokio::process::Command;

/// The sample repository every fresh start serves.
pub const SAMPLE_OWNER: &str = "demo";
pub const SAMPLE_REPO: &str = "sample-repo";
pub const DEFAULT_BRANCH: &str = "main";

/// A small Rust project whose one test fails until `add` is fixed.
const SAMPLE_FILES: &[(&str, &str)] = &[
    (
        "README.md",
        "# sample-repo\n\nA tiny Rust program served by fake-providers for local runs of agent-gateway.\n\n\
         `cargo test` fails: `add` subtracts. Ask the agent to fix it.\n",
    ),
    (
        "Cargo.toml",
        "[package]\nname = \"sample-repo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
    ),
    (
        "src/main.rs",
        "/// Adds two numbers.\nfn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\nfn main() {\n    \
         println!(\"2 + 3 = {}\", add(2, 3));\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    \
         #[test]\n    fn adds_two_numbers() {\n        assert_eq!(add(2, 3), 5);\n    }\n}\n",
    ),
    (".gitignore", "/target\n"),
];

/// Runs `git` in `dir` with a fixed identity and no user or system configuration.
#[derive(Debug, Clone)]
pub struct Git {
    program: PathBuf,
}

impl Git {
    pub fn new(program: &Path) -> Self {
        Self {
            program: program.to_path_buf(),
        }
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    fn command(&self, dir: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Octo Cat")
            .env("GIT_AUTHOR_EMAIL", "octocat@example.com")
            .env("GIT_COMMITTER_NAME", "Octo Cat")
            .env("GIT_COMMITTER_EMAIL", "octocat@example.com")
            .env("GIT_TERMINAL_PROMPT", "0")
            .kill_on_drop(true);
        command
    }

    async fn output(&self, dir: &Path, args: &[&str]) -> anyhow::Result<Output> {
        self.command(dir)
            .args(args)
            .output()
            .await
            .with_context(|| format!("running {} {}", self.program.display(), args.join(" ")))
    }

    /// Runs git and returns its stdout, failing with its stderr when it fails.
    pub async fn run(&self, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
        let output = self.output(dir, args).await?;
        if !output.status.success() {
            bail!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Fails with a clear message when git is not installed.
    pub async fn check_installed(&self) -> anyhow::Result<String> {
        let version = self
            .run(Path::new("."), &["--version"])
            .await
            .context("fake-providers needs git (for `git http-backend`); install it or set FAKE_PROVIDERS_GIT")?;
        Ok(version.trim().to_owned())
    }

    /// The commit a branch points at, if the branch exists.
    pub async fn branch_sha(&self, git_dir: &Path, branch: &str) -> anyhow::Result<Option<String>> {
        let reference = format!("refs/heads/{branch}^{{commit}}");
        let output = self
            .output(git_dir, &["rev-parse", "--verify", "--quiet", &reference])
            .await?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
    }

    /// The commit or tag object a full ref name (`refs/heads/main`, `refs/tags/v1`) points at.
    pub async fn ref_sha(&self, git_dir: &Path, full_ref: &str) -> anyhow::Result<Option<String>> {
        let output = self
            .output(git_dir, &["rev-parse", "--verify", "--quiet", full_ref])
            .await?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
    }

    /// Whether `sha` names a commit in the repository.
    pub async fn commit_exists(&self, git_dir: &Path, sha: &str) -> anyhow::Result<bool> {
        let object = format!("{sha}^{{commit}}");
        let output = self.output(git_dir, &["cat-file", "-e", &object]).await?;
        Ok(output.status.success())
    }

    /// Creates `full_ref` at `sha`; fails when it already exists.
    pub async fn create_ref(
        &self,
        git_dir: &Path,
        full_ref: &str,
        sha: &str,
    ) -> anyhow::Result<()> {
        let zero = "0000000000000000000000000000000000000000";
        self.run(git_dir, &["update-ref", full_ref, sha, zero])
            .await
            .map(drop)
    }

    /// `git diff base...head`: what the head branch changed since it left the base.
    pub async fn diff(&self, git_dir: &Path, base: &str, head: &str) -> anyhow::Result<String> {
        self.run(
            git_dir,
            &[
                "diff",
                "--no-color",
                "--no-ext-diff",
                &format!("{base}...{head}"),
            ],
        )
        .await
    }

    /// Per changed file: status letter, additions, deletions and path.
    pub async fn changed_files(
        &self,
        git_dir: &Path,
        base: &str,
        head: &str,
    ) -> anyhow::Result<Vec<ChangedFile>> {
        let range = format!("{base}...{head}");
        let statuses = self
            .run(git_dir, &["diff", "--name-status", "--no-renames", &range])
            .await?;
        let counts = self
            .run(git_dir, &["diff", "--numstat", "--no-renames", &range])
            .await?;
        let mut files: Vec<ChangedFile> = statuses
            .lines()
            .filter_map(|line| {
                let (status, path) = line.split_once('\t')?;
                Some(ChangedFile {
                    path: path.to_owned(),
                    status: match status {
                        "A" => "added",
                        "D" => "removed",
                        _ => "modified",
                    },
                    additions: 0,
                    deletions: 0,
                })
            })
            .collect();
        for line in counts.lines() {
            let mut parts = line.splitn(3, '\t');
            let (Some(added), Some(deleted), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let Some(file) = files.iter_mut().find(|f| f.path == path) {
                file.additions = added.parse().unwrap_or(0);
                file.deletions = deleted.parse().unwrap_or(0);
            }
        }
        Ok(files)
    }

    /// How many commits `head` has that `base` does not.
    pub async fn commits_ahead(
        &self,
        git_dir: &Path,
        base: &str,
        head: &str,
    ) -> anyhow::Result<u64> {
        let count = self
            .run(
                git_dir,
                &["rev-list", "--count", &format!("{base}..{head}")],
            )
            .await?;
        Ok(count.trim().parse().unwrap_or(0))
    }

    /// Creates the sample repository as a bare repository at `git_dir` unless it already exists.
    pub async fn ensure_sample_repository(&self, git_dir: &Path) -> anyhow::Result<()> {
        // A start interrupted half-way leaves a repository without its branch: finish it then.
        if git_dir.join("HEAD").exists()
            && self.branch_sha(git_dir, DEFAULT_BRANCH).await?.is_some()
        {
            return Ok(());
        }
        let work = tempfile::tempdir().context("creating a work tree for the sample repository")?;
        for (path, contents) in SAMPLE_FILES {
            let file = work.path().join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&file, contents)
                .with_context(|| format!("writing {}", file.display()))?;
        }
        self.run(
            work.path(),
            &["init", "--quiet", "--initial-branch", DEFAULT_BRANCH],
        )
        .await?;
        self.run(work.path(), &["add", "--all"]).await?;
        self.run(
            work.path(),
            &[
                "commit",
                "--quiet",
                "-m",
                "A tiny Rust program with a failing test",
            ],
        )
        .await?;
        std::fs::create_dir_all(git_dir)
            .with_context(|| format!("creating {}", git_dir.display()))?;
        self.run(
            git_dir,
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch",
                DEFAULT_BRANCH,
            ],
        )
        .await?;
        // Re-initialising keeps an existing HEAD: point it at the default branch either way.
        let head = format!("refs/heads/{DEFAULT_BRANCH}");
        self.run(git_dir, &["symbolic-ref", "HEAD", &head]).await?;
        let destination = git_dir.display().to_string();
        self.run(
            work.path(),
            &["push", "--quiet", &destination, DEFAULT_BRANCH],
        )
        .await?;
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct ChangedFile {
    pub path: String,
    /// GitHub's word: `added`, `removed` or `modified`.
    pub status: &'static str,
    pub additions: u64,
    pub deletions: u64,
}

/// Where a repository's bare directory lives under the repositories root.
pub fn git_dir(root: &Path, owner: &str, repo: &str) -> PathBuf {
    root.join(owner).join(format!("{repo}.git"))
}
