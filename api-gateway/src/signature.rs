//! Webhook signature verification: one verifier per provider behind [`SignatureVerifier`].
//!
//! Every verifier checks the raw body exactly as received, accepts any of its configured secrets (so a
//! secret rotates without downtime), compares in constant time, and never reveals the expected value.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Slack's replay window: a timestamp further than this from now, either way, is refused.
pub const SLACK_MAX_CLOCK_SKEW_SECONDS: i64 = 5 * 60;

pub const GITHUB_SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const SLACK_SIGNATURE_HEADER: &str = "x-slack-signature";
pub const SLACK_TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
pub const JIRA_SIGNATURE_HEADER: &str = "x-hub-signature";
pub const SENTRY_SIGNATURE_HEADER: &str = "sentry-hook-signature";
/// Older Sentry deliveries carry the signature under this name.
pub const SENTRY_LEGACY_SIGNATURE_HEADER: &str = "sentry-app-signature";
/// The query parameter carrying Jira Server's shared token.
pub const JIRA_TOKEN_QUERY_PARAMETER: &str = "token";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no secret is configured for this provider")]
    NotConfigured,
    #[error("the request carries no `{0}`")]
    Missing(&'static str),
    #[error("the signature does not match the body")]
    Invalid,
    #[error("`{0}` is malformed")]
    Malformed(&'static str),
    #[error("the request timestamp is more than five minutes away from now")]
    StaleTimestamp,
}

impl SignatureError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConfigured => "provider_not_configured",
            Self::Missing(_) => "missing_signature",
            Self::Invalid | Self::Malformed(_) => "invalid_signature",
            Self::StaleTimestamp => "stale_timestamp",
        }
    }
}

/// What a verifier may look at: the headers, the query string and the raw body.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

pub trait SignatureVerifier: Send + Sync {
    fn verify(&self, request: &SignedRequest<'_>) -> Result<(), SignatureError>;
}

/// The time in Unix seconds; injectable so a fixed vector (Slack's is from 2018) can be checked.
pub trait Clock: Send + Sync {
    fn now_unix_seconds(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> i64 {
        chrono::Utc::now().timestamp()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_unix_seconds(&self) -> i64 {
        self.0
    }
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
pub struct GithubVerifier {
    pub secrets: Vec<SecretString>,
}

impl SignatureVerifier for GithubVerifier {
    fn verify(&self, request: &SignedRequest<'_>) -> Result<(), SignatureError> {
        require_secrets(&self.secrets)?;
        let header = header_str(request.headers, GITHUB_SIGNATURE_HEADER)?;
        let signature = decode_prefixed_hex(header, "sha256=", GITHUB_SIGNATURE_HEADER)?;
        verify_hmac(&self.secrets, &[request.body], &signature)
    }
}

/// Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")>`, timestamp within 5 minutes.
pub struct SlackVerifier {
    pub secrets: Vec<SecretString>,
    pub clock: Arc<dyn Clock>,
}

impl SignatureVerifier for SlackVerifier {
    fn verify(&self, request: &SignedRequest<'_>) -> Result<(), SignatureError> {
        require_secrets(&self.secrets)?;
        let header = header_str(request.headers, SLACK_SIGNATURE_HEADER)?;
        let timestamp_text = header_str(request.headers, SLACK_TIMESTAMP_HEADER)?;
        let timestamp: i64 = timestamp_text
            .trim()
            .parse()
            .map_err(|_| SignatureError::Malformed(SLACK_TIMESTAMP_HEADER))?;
        if (self.clock.now_unix_seconds() - timestamp).abs() > SLACK_MAX_CLOCK_SKEW_SECONDS {
            return Err(SignatureError::StaleTimestamp);
        }
        let signature = decode_prefixed_hex(header, "v0=", SLACK_SIGNATURE_HEADER)?;
        verify_hmac(
            &self.secrets,
            &[b"v0:", timestamp_text.as_bytes(), b":", request.body],
            &signature,
        )
    }
}

/// Jira: Cloud signs with `X-Hub-Signature: sha256=<hex>`; Server/Data Center cannot sign, so a shared token
/// in the webhook URL's query (`?token=…`) stands in for it when one is configured.
pub struct JiraVerifier {
    pub secrets: Vec<SecretString>,
    pub query_tokens: Vec<SecretString>,
}

impl SignatureVerifier for JiraVerifier {
    fn verify(&self, request: &SignedRequest<'_>) -> Result<(), SignatureError> {
        if self.secrets.is_empty() && self.query_tokens.is_empty() {
            return Err(SignatureError::NotConfigured);
        }
        let signed = request.headers.contains_key(JIRA_SIGNATURE_HEADER);
        if !self.secrets.is_empty() && (signed || self.query_tokens.is_empty()) {
            let header = header_str(request.headers, JIRA_SIGNATURE_HEADER)?;
            let signature = decode_prefixed_hex(header, "sha256=", JIRA_SIGNATURE_HEADER)?;
            return verify_hmac(&self.secrets, &[request.body], &signature);
        }
        let token = request
            .query
            .and_then(|query| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                    .ok()?
                    .into_iter()
                    .find(|(name, _)| name == JIRA_TOKEN_QUERY_PARAMETER)
            })
            .map(|(_, value)| value)
            .ok_or(SignatureError::Missing("token query parameter"))?;
        // Comparing digests keeps the comparison constant-time whatever the lengths.
        let offered = Sha256::digest(token.as_bytes());
        let matches = self.query_tokens.iter().fold(0u8, |found, expected| {
            let expected = Sha256::digest(expected.expose_secret().as_bytes());
            found | offered.ct_eq(&expected).unwrap_u8()
        });
        if matches == 1 {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        }
    }
}

/// Sentry: `Sentry-Hook-Signature: <bare hex HMAC-SHA256(client secret, body)>`.
pub struct SentryVerifier {
    pub secrets: Vec<SecretString>,
}

impl SignatureVerifier for SentryVerifier {
    fn verify(&self, request: &SignedRequest<'_>) -> Result<(), SignatureError> {
        require_secrets(&self.secrets)?;
        let header = header_str(request.headers, SENTRY_SIGNATURE_HEADER)
            .or_else(|_| header_str(request.headers, SENTRY_LEGACY_SIGNATURE_HEADER))
            .map_err(|_| SignatureError::Missing(SENTRY_SIGNATURE_HEADER))?;
        let signature = decode_prefixed_hex(header, "", SENTRY_SIGNATURE_HEADER)?;
        verify_hmac(&self.secrets, &[request.body], &signature)
    }
}

fn require_secrets(secrets: &[SecretString]) -> Result<(), SignatureError> {
    if secrets.is_empty() {
        Err(SignatureError::NotConfigured)
    } else {
        Ok(())
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, SignatureError> {
    let value = headers.get(name).ok_or(SignatureError::Missing(name))?;
    value.to_str().map_err(|_| SignatureError::Malformed(name))
}

fn decode_prefixed_hex(
    value: &str,
    prefix: &str,
    name: &'static str,
) -> Result<Vec<u8>, SignatureError> {
    let hex_digits = value
        .trim()
        .strip_prefix(prefix)
        .ok_or(SignatureError::Malformed(name))?;
    let signature = hex::decode(hex_digits).map_err(|_| SignatureError::Malformed(name))?;
    if signature.len() != 32 {
        return Err(SignatureError::Malformed(name));
    }
    Ok(signature)
}

/// Accepts when any secret's HMAC over the concatenated `parts` equals `signature` (constant-time per secret).
fn verify_hmac(
    secrets: &[SecretString],
    parts: &[&[u8]],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let mut accepted = false;
    for secret in secrets {
        let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        accepted |= mac.verify_slice(signature).is_ok();
    }
    if accepted {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

/// `hex(HMAC-SHA256(secret, body))`: how a provider signs, for tests and benchmarks that play one.
pub fn hmac_sha256_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn secrets(list: &[&str]) -> Vec<SecretString> {
        list.iter()
            .map(|s| SecretString::from((*s).to_owned()))
            .collect()
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn github_accepts_any_rotated_secret_and_refuses_others() {
        let body = b"{\"a\":1}";
        let signature = format!("sha256={}", hmac_sha256_hex("new", &[body]));
        let map = headers(&[(GITHUB_SIGNATURE_HEADER, signature)]);
        let request = SignedRequest {
            headers: &map,
            query: None,
            body,
        };
        assert!(
            GithubVerifier {
                secrets: secrets(&["old", "new"])
            }
            .verify(&request)
            .is_ok()
        );
        assert_eq!(
            GithubVerifier {
                secrets: secrets(&["old"])
            }
            .verify(&request),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            GithubVerifier { secrets: vec![] }.verify(&request),
            Err(SignatureError::NotConfigured)
        );
    }

    #[test]
    fn malformed_signatures_are_refused() {
        let body = b"x";
        for bad in [
            "sha1=abcd",
            "sha256=zz",
            "sha256=",
            "abcdef",
            &format!("sha256={}", "ab".repeat(31)),
        ] {
            let map = headers(&[(GITHUB_SIGNATURE_HEADER, bad.to_owned())]);
            let request = SignedRequest {
                headers: &map,
                query: None,
                body,
            };
            assert!(
                GithubVerifier {
                    secrets: secrets(&["s"])
                }
                .verify(&request)
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn slack_refuses_timestamps_outside_the_window_both_ways() {
        let body = b"a=b";
        let sign = |ts: i64| {
            headers(&[
                (SLACK_TIMESTAMP_HEADER, ts.to_string()),
                (
                    SLACK_SIGNATURE_HEADER,
                    format!(
                        "v0={}",
                        hmac_sha256_hex("s", &[b"v0:", ts.to_string().as_bytes(), b":", body])
                    ),
                ),
            ])
        };
        let verifier = SlackVerifier {
            secrets: secrets(&["s"]),
            clock: Arc::new(FixedClock(1_000_000)),
        };
        for (ts, ok) in [
            (1_000_000, true),
            (1_000_000 - 300, true),
            (1_000_000 - 301, false),
            (1_000_000 + 301, false),
        ] {
            let map = sign(ts);
            let result = verifier.verify(&SignedRequest {
                headers: &map,
                query: None,
                body,
            });
            assert_eq!(result.is_ok(), ok, "{ts}");
        }
    }

    #[test]
    fn jira_server_token_mode_compares_the_query_token() {
        let map = HeaderMap::new();
        let verifier = JiraVerifier {
            secrets: vec![],
            query_tokens: secrets(&["t0ken", "next"]),
        };
        let with = |query| SignedRequest {
            headers: &map,
            query,
            body: b"{}",
        };
        assert!(verifier.verify(&with(Some("token=next"))).is_ok());
        assert!(verifier.verify(&with(Some("a=1&token=t0ken"))).is_ok());
        assert_eq!(
            verifier.verify(&with(Some("token=t0ke"))),
            Err(SignatureError::Invalid)
        );
        assert!(matches!(
            verifier.verify(&with(None)),
            Err(SignatureError::Missing(_))
        ));
    }
}
