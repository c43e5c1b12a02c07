//! Keeps secrets out of the task log: the worker's own secret values, and anything shaped like a token.

use regex::Regex;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

/// Token shapes agents tend to echo: GitHub, Slack, Anthropic/OpenAI, AWS access keys, bearer headers,
/// and private key blocks.
const TOKEN_PATTERN: &str = concat!(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}",
    r"|github_pat_[A-Za-z0-9_]{20,}",
    r"|xox[abposr]-[A-Za-z0-9-]{10,}",
    r"|sk-ant-[A-Za-z0-9_-]{10,}",
    r"|sk-[A-Za-z0-9_-]{20,}",
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}",
    r"|[Bb]earer\s+[A-Za-z0-9._~+/=-]{8,})",
    r"|(?:-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))",
);

#[derive(Clone)]
pub struct Redactor {
    secrets: Vec<SecretString>,
    tokens: Regex,
}

impl Redactor {
    /// `secrets`: exact values to hide, longest first (so a secret containing another is hidden whole).
    pub fn new(mut secrets: Vec<SecretString>) -> Self {
        secrets.retain(|s| !s.expose_secret().is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.expose_secret().len()));
        Self {
            secrets,
            tokens: Regex::new(TOKEN_PATTERN).expect("the token pattern is valid"),
        }
    }

    pub fn redact_text(&self, text: &str) -> String {
        let mut out = std::borrow::Cow::Borrowed(text);
        for secret in &self.secrets {
            let secret = secret.expose_secret();
            if out.contains(secret) {
                out = std::borrow::Cow::Owned(out.replace(secret, REDACTED));
            }
        }
        match self.tokens.replace_all(&out, REDACTED) {
            std::borrow::Cow::Borrowed(_) => out.into_owned(),
            std::borrow::Cow::Owned(replaced) => replaced,
        }
    }

    /// Redacts every string (and object key) inside `value`.
    pub fn redact_value(&self, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.redact_text(&text)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.redact_text(&k), self.redact_value(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hides_own_secrets_and_token_shapes() {
        let redactor = Redactor::new(vec![SecretString::from("hunter2-very-secret".to_owned())]);
        let samples = [
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
            "xoxb-1234567890-abcdefghij",
            "sk-ant-api03-abcdefghijklmnop",
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "AKIAIOSFODNN7EXAMPLE",
            "Authorization: Bearer abc.def.ghi-123",
            "hunter2-very-secret",
        ];
        for sample in samples {
            let out = redactor.redact_text(&format!("before {sample} after"));
            assert!(out.contains(REDACTED), "{sample} -> {out}");
            assert!(
                out.starts_with("before ") && out.ends_with(" after")
                    || sample.starts_with("Authorization"),
                "{out}"
            );
        }
        let value = redactor.redact_value(json!({"content": [{"text": "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}], "n": 3}));
        assert_eq!(
            value,
            json!({"content": [{"text": format!("token={REDACTED}")}], "n": 3})
        );
        for ordinary in [
            "an ordinary sentence about skills",
            "task-0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        ] {
            assert_eq!(redactor.redact_text(ordinary), ordinary);
        }
    }
}
