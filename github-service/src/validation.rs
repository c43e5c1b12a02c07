//! Range checks on what callers send: 422 `validation_failed` listing each field. Shape errors (malformed
//! JSON, unknown or missing fields) are answered 400 before these run, by `ValidatedJson`.

use contracts::credentials::RotateCredentialRequest;
use contracts::github::{
    AddReactionRequest, CommentRequest, CreateBranchRequest, CreatePullRequestRequest,
};
use serde::Deserialize;
use service_kit::extract::{Validate, ValidationErrors, shown};

/// GitHub's limit on a comment's (and a pull request body's) length.
pub const MAX_BODY_CHARS: usize = 65_536;
/// GitHub's limit on a pull request title.
pub const MAX_TITLE_CHARS: usize = 256;
/// The reactions GitHub knows.
pub const REACTIONS: [&str; 8] = [
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];
/// The longest credential value accepted by a rotation (a 4096-bit PEM key is about 3.3 KB).
pub const MAX_CREDENTIAL_CHARS: usize = 16_384;

/// A request body of contracts' type, with this service's range checks (`ValidatedJson<Checked<T>>`).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Checked<T>(pub T);

/// An owner (user or organization) and a repository name: letters, digits, `-`, `_`, `.`; never `.`/`..`.
pub fn repository(errors: &mut ValidationErrors, owner: &str, repo: &str) {
    for (field, value, max) in [("owner", owner, 39), ("repo", repo, 100)] {
        let well_formed = (1..=max).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && value != "."
            && value != "..";
        errors.check(
            well_formed,
            field,
            format!(
                "`{}` is not a GitHub {field} name (letters, digits, `-`, `_`, `.`)",
                shown(value)
            ),
        );
    }
}

/// A GitHub login: letters, digits and `-` (bots end in `[bot]`), at most 39 characters before that.
pub fn username(errors: &mut ValidationErrors, value: &str) {
    let name = value.strip_suffix("[bot]").unwrap_or(value);
    let well_formed = (1..=39).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    errors.check(
        well_formed,
        "username",
        format!("`{}` is not a GitHub login", shown(value)),
    );
}

/// A branch name git and GitHub accept (the rules of `git check-ref-format`, simplified).
pub fn branch_name(errors: &mut ValidationErrors, field: &str, value: &str) {
    let well_formed = (1..=250).contains(&value.len())
        && !value.starts_with(['-', '/', '.'])
        && !value.ends_with(['/', '.'])
        && !value.ends_with(".lock")
        && !value.contains("..")
        && !value.contains("//")
        && !value.contains("@{")
        && value
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && !"~^:?*[\\#%".contains(c));
    errors.check(
        well_formed,
        field,
        format!("`{}` is not a valid branch name", shown(value)),
    );
}

/// A commit id: 40 (SHA-1) or 64 (SHA-256) hex digits.
fn commit_sha(errors: &mut ValidationErrors, value: &str) {
    let well_formed =
        matches!(value.len(), 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit());
    errors.check(
        well_formed,
        "sha",
        "must be a full commit id (40 or 64 hex digits)",
    );
}

fn comment_body(errors: &mut ValidationErrors, value: &str) {
    errors.check_text("body", value, MAX_BODY_CHARS);
}

impl Validate for Checked<CommentRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        comment_body(&mut errors, &self.0.body);
        errors.finish()
    }
}

impl Validate for Checked<AddReactionRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check(
            REACTIONS.contains(&self.0.content.as_str()),
            "content",
            format!("must be one of {}", REACTIONS.join(", ")),
        );
        errors.finish()
    }
}

impl Validate for Checked<CreateBranchRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        branch_name(&mut errors, "name", &self.0.name);
        if let Some(from) = &self.0.from_branch {
            branch_name(&mut errors, "from_branch", from);
        }
        if let Some(sha) = &self.0.sha {
            commit_sha(&mut errors, sha);
        }
        errors.finish()
    }
}

impl Validate for Checked<CreatePullRequestRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let request = &self.0;
        let mut errors = ValidationErrors::new();
        errors.check_text("title", &request.title, MAX_TITLE_CHARS);
        let head_branch = request
            .head
            .split_once(':')
            .map_or(request.head.as_str(), |(_, branch)| branch);
        branch_name(&mut errors, "head", head_branch);
        branch_name(&mut errors, "base", &request.base);
        if let Some(body) = &request.body {
            errors.check_length("body", body, 0, MAX_BODY_CHARS);
        }
        errors.finish()
    }
}

impl Validate for Checked<RotateCredentialRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check_text("value", &self.0.value, MAX_CREDENTIAL_CHARS);
        errors.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_that_could_leave_the_repository_path() {
        let mut errors = ValidationErrors::new();
        repository(&mut errors, "octo-org", "hello.world_2");
        assert!(errors.finish().is_ok());
        for (owner, repo) in [
            ("..", "x"),
            ("octo", ".."),
            ("a/b", "x"),
            ("octo", "x?y"),
            ("", "x"),
        ] {
            let mut errors = ValidationErrors::new();
            repository(&mut errors, owner, repo);
            assert!(errors.finish().is_err(), "{owner}/{repo}");
        }
    }

    #[test]
    fn checks_branch_names_like_git() {
        for good in ["main", "agent/fix-123", "release-1.2"] {
            let mut errors = ValidationErrors::new();
            branch_name(&mut errors, "name", good);
            assert!(errors.finish().is_ok(), "{good}");
        }
        for bad in [
            "", "-x", "a..b", "a b", "x.lock", "a/", "a?b", "a%2fb", "a~1",
        ] {
            let mut errors = ValidationErrors::new();
            branch_name(&mut errors, "name", bad);
            assert!(errors.finish().is_err(), "{bad}");
        }
    }
}
