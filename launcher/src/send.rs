//! `agw send`: sign a sample payload the way its provider does and post it to the gateway.

use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;

use crate::samples::{self, SAMPLES};

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// The headers a provider sends with `body`, signed with `secret`.
pub fn signed_headers(
    provider: &str,
    event: &str,
    body: &[u8],
    secret: &str,
    now_unix: i64,
) -> HeaderMap {
    let delivery = uuid::Uuid::now_v7().to_string();
    let mut pairs: Vec<(&str, String)> = vec![("content-type", "application/json".to_owned())];
    match provider {
        "github" => {
            pairs.push(("x-github-event", event.to_owned()));
            pairs.push(("x-github-delivery", delivery));
            pairs.push(("x-github-hook-id", "1".to_owned()));
            pairs.push((
                "x-hub-signature-256",
                format!("sha256={}", hmac_hex(secret, body)),
            ));
        }
        "slack" => {
            let mut signed = format!("v0:{now_unix}:").into_bytes();
            signed.extend_from_slice(body);
            pairs.push(("x-slack-request-timestamp", now_unix.to_string()));
            pairs.push((
                "x-slack-signature",
                format!("v0={}", hmac_hex(secret, &signed)),
            ));
        }
        "jira" => {
            pairs.push(("x-atlassian-webhook-identifier", delivery));
            pairs.push((
                "x-hub-signature",
                format!("sha256={}", hmac_hex(secret, body)),
            ));
        }
        "sentry" => {
            pairs.push(("sentry-hook-resource", event.to_owned()));
            pairs.push(("sentry-hook-timestamp", now_unix.to_string()));
            pairs.push(("request-id", delivery));
            pairs.push(("sentry-hook-signature", hmac_hex(secret, body)));
        }
        _ => {}
    }
    pairs
        .into_iter()
        .map(|(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).expect("header values are ASCII"),
            )
        })
        .collect()
}

pub async fn run(
    provider: &str,
    sample: &str,
    text: &str,
    gateway: &str,
    secret: &str,
    dashboard: &str,
) -> anyhow::Result<()> {
    let unique =
        u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or_default() % 1_000_000_000;
    let Some(sample_payload) = samples::build(provider, sample, text, unique) else {
        let known: Vec<String> = SAMPLES.iter().map(|(p, s)| format!("{p} {s}")).collect();
        anyhow::bail!(
            "unknown sample `{provider} {sample}`; known samples: {}",
            known.join(", ")
        );
    };
    let body = serde_json::to_vec(&sample_payload.body)?;
    let headers = signed_headers(
        provider,
        sample_payload.event,
        &body,
        secret,
        chrono::Utc::now().timestamp(),
    );
    let url = format!("{}/webhooks/{provider}", gateway.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!("could not reach the gateway at {url}: {e} (is `agw up` running?)")
        })?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await.unwrap_or_default();
    println!("{status} {answer}");
    match answer.get("task_id").and_then(|v| v.as_str()) {
        Some(task_id) => {
            println!("task:      {task_id}");
            println!(
                "dashboard: {}/tasks/{task_id}",
                dashboard.trim_end_matches('/')
            );
            Ok(())
        }
        None if status.is_success() => Ok(()),
        None => anyhow::bail!("the gateway refused the webhook"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_signature_matches_the_published_vector() {
        let headers = signed_headers(
            "github",
            "ping",
            b"Hello, World!",
            "It's a Secret to Everybody",
            0,
        );
        assert_eq!(
            headers["x-hub-signature-256"],
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn every_listed_sample_builds_and_carries_the_text() {
        for (provider, sample) in SAMPLES {
            let built = samples::build(provider, sample, "@agent explain src/main.rs", 7).unwrap();
            assert!(
                built.body.to_string().contains("explain src/main.rs"),
                "{provider} {sample}"
            );
        }
        assert!(samples::build("github", "nope", "x", 1).is_none());
    }
}
