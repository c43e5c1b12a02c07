//! Who is calling a provider service, and what they may do.
//!
//! Callers present `Authorization: Bearer <token>`. `CALLER_TOKENS` maps tokens to [`Role`]s
//! (`gateway:<tok>,agent:<tok>,dashboard:<tok>`; a role may appear more than once, so a token rotates
//! without downtime). Each service fixes in code which operations each role may perform (a
//! [`RolePolicy`]); a handler declares the operation it performs with [`Caller::require`].
//!
//! - no token, or a token nobody was given: 401 `unauthenticated`
//! - a known caller asking for an operation outside its role: 403 `forbidden`
//! - admin endpoints take `ADMIN_TOKEN` instead ([`require_admin`]); unset, they answer 403 `admin_disabled`.
//!
//! Tokens are compared as SHA-256 digests with a constant-time equality, so neither the content nor the
//! length of a configured token leaks through timing.
//!
//! ```ignore
//! const POLICY: RolePolicy = RolePolicy::new(&[
//!     (Role::Gateway, &[operation::ADD_REACTION]),
//!     (Role::Agent, &[operation::GET_ISSUE, operation::ADD_REACTION]),
//!     (Role::Dashboard, &[operation::GET_ISSUE]),
//! ]);
//! async fn get_issue(caller: Caller, ...) -> Result<Json<Issue>, Error> {
//!     caller.require(operation::GET_ISSUE)?;
//!     ...
//! }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::configuration::{self, ConfigError};
use crate::error::ErrorResponse;

/// The kinds of callers a provider service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// api-gateway: acknowledges and answers on the provider (reactions, comments, permission checks).
    Gateway,
    /// agent-container: the agent's work (reads, comments, branches, pull requests, ...).
    Agent,
    /// dashboard-api: reads only.
    Dashboard,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Gateway, Role::Agent, Role::Dashboard];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::Agent => "agent",
            Role::Dashboard => "dashboard",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (expected gateway, agent or dashboard)"))
    }
}

/// The operations each role may perform: a service's fixed table, usually a `const`.
/// Operation names are the service's own (`"get_issue"`, `"post_comment"`); a role not listed may do nothing.
#[derive(Debug)]
pub struct RolePolicy {
    grants: &'static [(Role, &'static [&'static str])],
}

impl RolePolicy {
    pub const fn new(grants: &'static [(Role, &'static [&'static str])]) -> Self {
        Self { grants }
    }

    /// Whether `role` may perform `operation`.
    pub fn allows(&self, role: Role, operation: &str) -> bool {
        self.grants
            .iter()
            .any(|(granted, operations)| *granted == role && operations.contains(&operation))
    }
}

type TokenDigest = [u8; 32];

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// The configured caller tokens (kept only as digests).
#[derive(Clone)]
pub struct CallerTokens {
    entries: Arc<Vec<(Role, TokenDigest)>>,
}

impl fmt::Debug for CallerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roles: Vec<Role> = self.entries.iter().map(|(role, _)| *role).collect();
        f.debug_struct("CallerTokens")
            .field("roles", &roles)
            .finish()
    }
}

impl CallerTokens {
    /// Parses `role:token,role:token`. `source` names the variable in errors.
    pub fn parse(source: &str, value: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            name: source.to_owned(),
            value: "(hidden)".to_owned(),
            reason,
        };
        let mut entries = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (role, token) = item
                .split_once(':')
                .ok_or_else(|| invalid("each item must be `role:token`".to_owned()))?;
            let role: Role = role.trim().parse().map_err(invalid)?;
            let token = token.trim();
            if token.len() < 16 {
                return Err(invalid(format!(
                    "the {role} token is shorter than 16 characters"
                )));
            }
            entries.push((role, digest(token)));
        }
        if entries.is_empty() {
            return Err(invalid("no `role:token` item".to_owned()));
        }
        Ok(Self {
            entries: Arc::new(entries),
        })
    }

    /// Reads `CALLER_TOKENS` (or `CALLER_TOKENS_FILE`); a service without it refuses to start.
    pub fn from_env() -> Result<Self, ConfigError> {
        let value =
            configuration::secret("CALLER_TOKENS")?.ok_or_else(|| ConfigError::Missing {
                name: "CALLER_TOKENS".to_owned(),
            })?;
        Self::parse("CALLER_TOKENS", &value)
    }

    /// The role of whoever presents `token`, in time independent of which token (if any) matches.
    pub fn role_of(&self, token: &str) -> Option<Role> {
        let presented = digest(token);
        let mut found = None;
        for (role, expected) in self.entries.iter() {
            if bool::from(expected.ct_eq(&presented)) {
                found = Some(*role);
            }
        }
        found
    }
}

/// The state of the authentication middlewares: tokens, the admin token and the service's policy.
#[derive(Clone)]
pub struct CallerAuth {
    tokens: CallerTokens,
    admin: Option<TokenDigest>,
    policy: &'static RolePolicy,
}

impl fmt::Debug for CallerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallerAuth")
            .field("tokens", &self.tokens)
            .field("admin_enabled", &self.admin.is_some())
            .finish()
    }
}

impl CallerAuth {
    pub fn new(
        tokens: CallerTokens,
        admin_token: Option<&str>,
        policy: &'static RolePolicy,
    ) -> Self {
        Self {
            tokens,
            admin: admin_token.map(digest),
            policy,
        }
    }

    /// `CALLER_TOKENS` (required) and `ADMIN_TOKEN` (optional; without it admin endpoints are off), each
    /// also readable from a `*_FILE`.
    pub fn from_env(policy: &'static RolePolicy) -> Result<Self, ConfigError> {
        let admin = configuration::secret("ADMIN_TOKEN")?;
        Ok(Self::new(
            CallerTokens::from_env()?,
            admin.as_deref(),
            policy,
        ))
    }
}

/// An authenticated caller, put in the request's extensions by [`authenticate`]; extract it in handlers.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub role: Role,
    policy: &'static RolePolicy,
}

impl Caller {
    /// `Ok` when the caller's role may perform `operation`; otherwise 403.
    pub fn require(&self, operation: &str) -> Result<(), AuthError> {
        if self.policy.allows(self.role, operation) {
            Ok(())
        } else {
            Err(AuthError::Forbidden {
                role: self.role,
                operation: operation.to_owned(),
            })
        }
    }
}

/// Why a caller was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("missing or unknown caller token")]
    Unauthenticated,
    #[error("the {role} role may not {operation}")]
    Forbidden { role: Role, operation: String },
    #[error("admin endpoints are disabled: ADMIN_TOKEN is not set")]
    AdminDisabled,
}

impl From<AuthError> for ErrorResponse {
    fn from(error: AuthError) -> Self {
        match &error {
            AuthError::Unauthenticated => ErrorResponse::unauthorized(
                "unauthenticated",
                "send `Authorization: Bearer <token>` with a token from CALLER_TOKENS (ADMIN_TOKEN for admin endpoints)",
            ),
            AuthError::Forbidden { role, operation } => {
                ErrorResponse::new(StatusCode::FORBIDDEN, "forbidden", error.to_string())
                    .with_details(serde_json::json!({ "role": role, "operation": operation }))
            }
            AuthError::AdminDisabled => {
                ErrorResponse::new(StatusCode::FORBIDDEN, "admin_disabled", error.to_string())
            }
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ErrorResponse::from(self).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .copied()
            .ok_or(AuthError::Unauthenticated)
    }
}

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Middleware for the API routes: 401 unless the bearer token is a caller token; puts the [`Caller`] in
/// the request's extensions. `axum::middleware::from_fn_with_state(auth, authenticate)`.
pub async fn authenticate(
    State(auth): State<CallerAuth>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(role) = bearer_token(&request).and_then(|token| auth.tokens.role_of(token)) else {
        return AuthError::Unauthenticated.into_response();
    };
    request.extensions_mut().insert(Caller {
        role,
        policy: auth.policy,
    });
    next.run(request).await
}

/// Middleware for admin routes: 401 unless the bearer token is `ADMIN_TOKEN`; 403 when it is unset.
pub async fn require_admin(
    State(auth): State<CallerAuth>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = auth.admin else {
        return AuthError::AdminDisabled.into_response();
    };
    let presented = bearer_token(&request).map(digest);
    match presented {
        Some(presented) if bool::from(presented.ct_eq(&expected)) => next.run(request).await,
        _ => AuthError::Unauthenticated.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RolePolicy = RolePolicy::new(&[
        (Role::Gateway, &["react"]),
        (Role::Agent, &["react", "read"]),
    ]);

    #[test]
    fn maps_tokens_to_roles() {
        let tokens = CallerTokens::parse(
            "CALLER_TOKENS",
            "gateway:gateway-token-0123456789, agent:agent-token-0123456789,agent:agent-token-next-0123456789",
        )
        .unwrap();
        assert_eq!(
            tokens.role_of("gateway-token-0123456789"),
            Some(Role::Gateway)
        );
        assert_eq!(
            tokens.role_of("agent-token-next-0123456789"),
            Some(Role::Agent)
        );
        assert_eq!(tokens.role_of("agent-token-012345678"), None);
        assert_eq!(tokens.role_of(""), None);
    }

    #[test]
    fn refuses_bad_configuration() {
        for bad in ["", "gateway", "boss:0123456789abcdef0123", "agent:short"] {
            assert!(CallerTokens::parse("CALLER_TOKENS", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_policy_is_a_closed_list() {
        assert!(POLICY.allows(Role::Agent, "read"));
        assert!(!POLICY.allows(Role::Gateway, "read"));
        assert!(!POLICY.allows(Role::Dashboard, "react"));
    }
}
