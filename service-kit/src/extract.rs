//! Request extractors that answer bad input in the common error shape.
//!
//! - [`ValidatedJson`]: a JSON body. Not JSON, malformed, the wrong shape or an unknown field (request types
//!   carry `#[serde(deny_unknown_fields)]`): 400 `malformed_body`. Parsed but a value out of range (checked
//!   by the type's [`Validate`]): 422 `validation_failed` with `details.errors: [{field, message}]`.
//!   Without `Content-Type: application/json`: 415. Larger than the route's body limit: 413.
//! - [`Path`], [`Query`]: axum's, with a 400 `invalid_path` / `invalid_query` JSON answer.
//! - [`Form`]: axum's, with 400 `malformed_body`, 415 `unsupported_media_type` or 413 `payload_too_large`.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ErrorResponse;

/// At most 60 characters of a rejected value, for an error message.
pub fn shown(value: &str) -> String {
    value.chars().take(60).collect()
}

/// Range and shape checks of a parsed request, beyond what its type says.
pub trait Validate {
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// One field out of range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Everything wrong with a request, collected before answering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.0.push(FieldError {
                field: field.to_owned(),
                message: message.into(),
            });
        }
        self
    }

    /// Records an error unless `value` has between `min` and `max` characters.
    pub fn check_length(&mut self, field: &str, value: &str, min: usize, max: usize) -> &mut Self {
        let length = value.chars().count();
        self.check(
            (min..=max).contains(&length),
            field,
            format!("must be {min} to {max} characters long (is {length})"),
        )
    }

    /// Records one error unless `value` holds more than whitespace and at most `max` characters.
    pub fn check_text(&mut self, field: &str, value: &str, max: usize) -> &mut Self {
        if value.trim().is_empty() {
            self.check(false, field, "must not be empty")
        } else {
            self.check_length(field, value, 1, max)
        }
    }

    /// `Ok` when nothing was recorded.
    pub fn finish(&mut self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(std::mem::take(self))
        }
    }
}

impl From<ValidationErrors> for ErrorResponse {
    fn from(errors: ValidationErrors) -> Self {
        let summary = errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        ErrorResponse::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            summary,
        )
        .with_details(serde_json::json!({ "errors": errors.0 }))
    }
}

/// A JSON body, parsed and validated. See the module documentation for the answers to bad input.
#[derive(Debug, Clone)]
pub struct ValidatedJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidatedJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ErrorResponse;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(ErrorResponse::unsupported_media_type("application/json"));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(ErrorResponse::from)?;
        let value: T = serde_json::from_slice(&bytes).map_err(|e| {
            ErrorResponse::bad_request(
                "malformed_body",
                format!("the body is not a valid request: {e}"),
            )
        })?;
        value.validate()?;
        Ok(Self(value))
    }
}

/// axum's `Path`, answering a bad segment with 400 `invalid_path`.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => {
                let route = parts.extensions.get::<MatchedPath>();
                let message = unparsable_segment(&rejection, route.map(MatchedPath::as_str))
                    .unwrap_or_else(|| rejection.body_text());
                Err(ErrorResponse::bad_request("invalid_path", message))
            }
        }
    }
}

/// For a segment that does not parse as its type: which parameter, what it held, what it must be. axum
/// names a tuple's parameters only by position, so the name comes from the route's template.
fn unparsable_segment(rejection: &PathRejection, route: Option<&str>) -> Option<String> {
    let PathRejection::FailedToDeserializePathParams(failure) = rejection else {
        return None;
    };
    let (name, value, expected_type) = match failure.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => (key.clone(), value, *expected_type),
        ErrorKind::ParseErrorAtIndex {
            index,
            value,
            expected_type,
        } => (
            route
                .and_then(|route| path_parameter_names(route).nth(*index))
                .map_or_else(|| format!("segment {}", index + 1), str::to_owned),
            value,
            *expected_type,
        ),
        _ => return None,
    };
    let expected = match expected_type {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        other => other,
    };
    Some(format!("{name}: `{}` is not {expected}", shown(value)))
}

/// The `{name}`s of a route template, in order.
fn path_parameter_names(route: &str) -> impl Iterator<Item = &str> {
    route.split('/').filter_map(|segment| {
        segment
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .map(|name| name.trim_start_matches('*'))
    })
}

/// axum's `Query`, answering a bad query string with 400 `invalid_query`.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                ErrorResponse::bad_request("invalid_query", rejection.body_text())
            })
    }
}

/// axum's `Form` (a URL-encoded body), answering a bad one in the common error shape.
#[derive(Debug, Clone)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ErrorResponse;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Form::<T>::from_request(request, state)
            .await
            .map(|axum::extract::Form(value)| Self(value))
            .map_err(|rejection| match rejection {
                FormRejection::InvalidFormContentType(_) => {
                    ErrorResponse::unsupported_media_type("application/x-www-form-urlencoded")
                }
                FormRejection::BytesRejection(rejection) => rejection.into(),
                other => ErrorResponse::bad_request("malformed_body", other.body_text()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_errors(value: &str) -> Vec<String> {
        let mut errors = ValidationErrors::new();
        errors.check_text("body", value, 5);
        errors.0.into_iter().map(|error| error.message).collect()
    }

    #[test]
    fn a_text_gets_at_most_one_error() {
        assert_eq!(text_errors(""), ["must not be empty"]);
        assert_eq!(text_errors(" \n\t"), ["must not be empty"]);
        assert_eq!(
            text_errors("héllo!"),
            ["must be 1 to 5 characters long (is 6)"]
        );
        assert!(text_errors("héllo").is_empty());
    }

    #[test]
    fn a_route_template_names_its_parameters_in_order() {
        let names: Vec<&str> =
            path_parameter_names("/api/v1/github/repos/{owner}/{repo}/issues/{number}/{*rest}")
                .collect();
        assert_eq!(names, ["owner", "repo", "number", "rest"]);
    }

    #[test]
    fn a_shown_value_is_cut_at_sixty_characters() {
        let long = "é".repeat(100);
        assert_eq!(shown(&long).chars().count(), 60);
        assert_eq!(shown("short"), "short");
    }
}
