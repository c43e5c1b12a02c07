//! Range checks on what callers send: 422 `validation_failed` listing each field. Shape errors (malformed
//! JSON, unknown or missing fields, an unknown status) are answered 400 before these run, by `ValidatedJson`.

use contracts::sentry::{CommentRequest, UpdateAssigneeRequest};
use serde::Deserialize;
use service_kit::extract::{Validate, ValidationErrors};

/// Longest comment accepted.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// A request body of contracts' type, with this service's range checks (`ValidatedJson<Checked<T>>`).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Checked<T>(pub T);

/// An issue or comment id: digits (what may stand in a Sentry URL path).
pub fn numeric_id(errors: &mut ValidationErrors, field: &str, value: &str) {
    let well_formed = (1..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
    errors.check(
        well_formed,
        field,
        format!(
            "`{}` is not a numeric id",
            value.chars().take(60).collect::<String>()
        ),
    );
}

impl Validate for Checked<CommentRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check_text("text", &self.0.text, MAX_COMMENT_CHARS);
        errors.finish()
    }
}

impl Validate for Checked<UpdateAssigneeRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Some(assignee) = &self.0.assignee {
            errors.check_length("assignee", assignee, 1, 200);
            errors.check(
                !assignee
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control()),
                "assignee",
                "`user:<id>`, `team:<id>`, a username or an email, without spaces",
            );
        }
        errors.finish()
    }
}

impl Validate for Checked<contracts::sentry::UpdateStatusRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}
