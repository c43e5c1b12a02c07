//! Range checks on what callers send: 422 `validation_failed` listing each field. Shape errors (malformed
//! JSON, unknown or missing fields) are answered 400 before these run, by `ValidatedJson`.

use contracts::jira::{ApplyTransitionRequest, CommentRequest};
use serde::Deserialize;
use service_kit::extract::{Validate, ValidationErrors, shown};

/// Jira refuses comments longer than 32,767 characters; markup conversion adds a little.
pub const MAX_COMMENT_CHARS: usize = 32_000;

/// A request body of contracts' type, with this service's range checks (`ValidatedJson<Checked<T>>`).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Checked<T>(pub T);

/// An issue key (`PROJ-42`) or numeric id (`10002`): what may stand in a Jira URL path.
pub fn issue_key(errors: &mut ValidationErrors, field: &str, value: &str) {
    let is_id = !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit());
    let is_key = value.split_once('-').is_some_and(|(project, number)| {
        project
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && project.len() <= 255
            && project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && (1..=20).contains(&number.len())
            && number.bytes().all(|b| b.is_ascii_digit())
    });
    errors.check(
        is_id || is_key,
        field,
        format!(
            "`{}` is not an issue key like PROJ-42 or an issue id",
            shown(value)
        ),
    );
}

/// A comment or transition id: digits.
pub fn numeric_id(errors: &mut ValidationErrors, field: &str, value: &str) {
    let well_formed = (1..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
    errors.check(
        well_formed,
        field,
        format!("`{}` is not a numeric id", shown(value)),
    );
}

impl Validate for Checked<CommentRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check_text("body", &self.0.body, MAX_COMMENT_CHARS);
        errors.finish()
    }
}

impl Validate for Checked<ApplyTransitionRequest> {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let request = &self.0;
        let mut errors = ValidationErrors::new();
        match (&request.transition_id, &request.transition_name) {
            (Some(id), None) => numeric_id(&mut errors, "transition_id", id),
            (None, Some(name)) => {
                errors.check_text("transition_name", name, 255);
            }
            _ => {
                errors.check(
                    false,
                    "transition_id",
                    "give exactly one of transition_id and transition_name",
                );
            }
        }
        errors.finish()
    }
}
