//! Sentry's web API (https://docs.sentry.io/api/), organization-scoped, called through service-kit's
//! retrying client with the auth token as Bearer.

pub mod wire;

use axum::http::Method;
use contracts::sentry::{SentryComment, SentryEvent, SentryIssue, SentryIssueStatus};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use service_kit::call_log::CallContext;
use service_kit::http_client::{Idempotence, UpstreamClient, UpstreamError};

/// The provider's name in errors, logs and metrics.
pub const PROVIDER: &str = "Sentry";

#[derive(Debug, Clone)]
pub struct SentryApi {
    http: UpstreamClient,
    base_url: String,
    organization: String,
}

impl SentryApi {
    pub fn new(http: UpstreamClient, base_url: &str, organization: &str) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            organization: organization.to_owned(),
        }
    }

    /// `/api/0/organizations/{org}/issues/{issue_id}/{rest}` (Sentry's paths end with a slash).
    fn issue_url(&self, issue_id: &str, rest: &str) -> String {
        format!(
            "{}/api/0/organizations/{}/issues/{issue_id}/{rest}",
            self.base_url, self.organization
        )
    }

    fn request(&self, method: Method, url: &str, token: &SecretString) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(token.expose_secret())
    }

    pub async fn issue(
        &self,
        issue_id: &str,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<SentryIssue, UpstreamError> {
        let request = self.request(Method::GET, &self.issue_url(issue_id, ""), token);
        let issue: wire::Issue = self
            .http
            .send(request, Idempotence::Idempotent, context)
            .await?
            .json()?;
        Ok(issue.into())
    }

    pub async fn latest_event(
        &self,
        issue_id: &str,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<SentryEvent, UpstreamError> {
        let request = self.request(
            Method::GET,
            &self.issue_url(issue_id, "events/latest/"),
            token,
        );
        let event: wire::Event = self
            .http
            .send(request, Idempotence::Idempotent, context)
            .await?
            .json()?;
        Ok(event.into_contract(issue_id))
    }

    /// Sets fields of the issue; Sentry answers the whole updated issue.
    async fn update(
        &self,
        issue_id: &str,
        change: Value,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<SentryIssue, UpstreamError> {
        let request = self
            .request(Method::PUT, &self.issue_url(issue_id, ""), token)
            .json(&change);
        let issue: wire::Issue = self
            .http
            .send(request, Idempotence::Idempotent, context)
            .await?
            .json()?;
        Ok(issue.into())
    }

    pub async fn update_status(
        &self,
        issue_id: &str,
        status: SentryIssueStatus,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<SentryIssue, UpstreamError> {
        self.update(issue_id, wire::status_update(status), token, context)
            .await
    }

    pub async fn update_assignee(
        &self,
        issue_id: &str,
        assignee: Option<&str>,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<SentryIssue, UpstreamError> {
        self.update(issue_id, wire::assignee_update(assignee), token, context)
            .await
    }

    /// Retried only when Sentry surely did not add it (no connection, rate limit).
    pub async fn add_comment(
        &self,
        issue_id: &str,
        text: &str,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<SentryComment, UpstreamError> {
        let request = self
            .request(Method::POST, &self.issue_url(issue_id, "comments/"), token)
            .json(&json!({ "text": text }));
        let note: wire::Note = self
            .http
            .send(request, Idempotence::Creates, context)
            .await?
            .json()?;
        Ok(note.into())
    }

    /// Replaces a comment's text (a note the integration wrote).
    pub async fn update_comment(
        &self,
        issue_id: &str,
        comment_id: &str,
        text: &str,
        token: &SecretString,
        context: &CallContext,
    ) -> Result<SentryComment, UpstreamError> {
        let url = self.issue_url(issue_id, &format!("comments/{comment_id}/"));
        let request = self
            .request(Method::PUT, &url, token)
            .json(&json!({ "text": text }));
        let note: wire::Note = self
            .http
            .send(request, Idempotence::Idempotent, context)
            .await?
            .json()?;
        Ok(note.into())
    }
}
