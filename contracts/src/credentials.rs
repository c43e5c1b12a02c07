//! What a provider service says about a credential it holds: metadata only, never the secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stored credential's metadata, as the admin endpoints answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CredentialMetadata {
    /// The credential's name within its service, e.g. `github_token`.
    pub name: String,
    /// `sha256:` and the first 12 hex digits of the secret's SHA-256: tells two secrets apart, reveals neither.
    pub fingerprint: String,
    /// When this value was stored.
    pub set_at: DateTime<Utc>,
    /// Id of the encryption key it is stored under (first 8 hex digits of that key's SHA-256).
    pub key_id: String,
    /// Where the value came from: `environment` (read at start) or `rotation` (the admin endpoint).
    pub source: CredentialSource,
}

/// Where a stored credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    Environment,
    Rotation,
}

/// Body of a credential rotation: the new secret value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateCredentialRequest {
    /// The new value (a token, or a PEM private key).
    pub value: String,
}
