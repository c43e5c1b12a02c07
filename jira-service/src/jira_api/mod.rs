//! Jira's REST API, called through service-kit's retrying client: v3 with Basic auth and ADF on Cloud,
//! v2 with a Bearer personal access token and wiki markup on Server/Data Center.

pub mod wire;

use axum::http::{Method, StatusCode};
use contracts::jira::{JiraComment, JiraIssue, JiraTransition};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use service_kit::call_log::CallContext;
use service_kit::http_client::{
    Idempotence, UpstreamClient, UpstreamError, UpstreamErrorKind, UpstreamResponse,
};

use crate::configuration::Deployment;
use crate::markup;

/// The provider's name in errors, logs and metrics.
pub const PROVIDER: &str = "Jira";

#[derive(Debug, Clone)]
pub struct JiraApi {
    http: UpstreamClient,
    base_url: String,
    deployment: Deployment,
}

impl JiraApi {
    pub fn new(http: UpstreamClient, base_url: &str, deployment: Deployment) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            deployment,
        }
    }

    /// `/rest/api/3/…` on Cloud, `/rest/api/2/…` on Server.
    fn url(&self, path: &str) -> String {
        let version = match self.deployment {
            Deployment::Cloud { .. } => 3,
            Deployment::Server => 2,
        };
        format!("{}/rest/api/{version}/{path}", self.base_url)
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        secret: &SecretString,
    ) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, &self.url(path))
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.deployment {
            Deployment::Cloud { email } => request.basic_auth(email, Some(secret.expose_secret())),
            Deployment::Server => request.bearer_auth(secret.expose_secret()),
        }
    }

    /// The comment body in the deployment's format.
    fn comment_body(&self, text: &str) -> Value {
        match self.deployment {
            Deployment::Cloud { .. } => json!({ "body": markup::to_adf(text) }),
            Deployment::Server => json!({ "body": markup::to_wiki(text) }),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        idempotence: Idempotence,
        context: &CallContext,
    ) -> Result<UpstreamResponse, UpstreamError> {
        self.http.send(request, idempotence, context).await
    }

    pub async fn get_issue(
        &self,
        key: &str,
        secret: &SecretString,
        context: &CallContext,
    ) -> Result<JiraIssue, UpstreamError> {
        let request = self
            .request(Method::GET, &format!("issue/{key}"), secret)
            .query(&[("fields", wire::ISSUE_FIELDS)]);
        let issue: wire::Issue = self
            .send(request, Idempotence::Idempotent, context)
            .await?
            .json()?;
        Ok(issue.into_contract(&self.base_url))
    }

    /// Retried only when Jira surely did not add it (no connection, rate limit).
    pub async fn add_comment(
        &self,
        key: &str,
        text: &str,
        secret: &SecretString,
        context: &CallContext,
    ) -> Result<JiraComment, UpstreamError> {
        let request = self
            .request(Method::POST, &format!("issue/{key}/comment"), secret)
            .json(&self.comment_body(text));
        let comment: wire::Comment = self
            .send(request, Idempotence::Creates, context)
            .await?
            .json()?;
        Ok(comment.into())
    }

    pub async fn update_comment(
        &self,
        key: &str,
        comment_id: &str,
        text: &str,
        secret: &SecretString,
        context: &CallContext,
    ) -> Result<JiraComment, UpstreamError> {
        let request = self
            .request(
                Method::PUT,
                &format!("issue/{key}/comment/{comment_id}"),
                secret,
            )
            .json(&self.comment_body(text));
        let comment: wire::Comment = self
            .send(request, Idempotence::Idempotent, context)
            .await?
            .json()?;
        Ok(comment.into())
    }

    pub async fn transitions(
        &self,
        key: &str,
        secret: &SecretString,
        context: &CallContext,
    ) -> Result<Vec<JiraTransition>, UpstreamError> {
        let request = self.request(Method::GET, &format!("issue/{key}/transitions"), secret);
        let transitions: wire::Transitions = self
            .send(request, Idempotence::Idempotent, context)
            .await?
            .json()?;
        Ok(transitions
            .transitions
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Applying a transition twice fails the second time (the issue moved on), so it counts as creating.
    pub async fn apply_transition(
        &self,
        key: &str,
        transition_id: &str,
        secret: &SecretString,
        context: &CallContext,
    ) -> Result<(), UpstreamError> {
        let request = self
            .request(Method::POST, &format!("issue/{key}/transitions"), secret)
            .json(&json!({ "transition": { "id": transition_id } }));
        let response = self.send(request, Idempotence::Creates, context).await?;
        if response.status == StatusCode::NO_CONTENT || response.status == StatusCode::OK {
            Ok(())
        } else {
            Err(UpstreamError::new(
                PROVIDER,
                UpstreamErrorKind::InvalidResponse {
                    reason: format!("unexpected status {} for a transition", response.status),
                },
            ))
        }
    }
}
