//! Sample webhook payloads in the shapes the providers send, built around a given text.

use serde_json::{Value, json};

/// The samples `agw send` knows, per provider.
pub const SAMPLES: &[(&str, &str)] = &[
    ("github", "issue-comment"),
    ("github", "issue-opened"),
    ("slack", "app-mention"),
    ("jira", "comment-created"),
    ("sentry", "issue-created"),
];

/// The sample repository, Slack channel, Jira project and Sentry org the local system uses.
pub const SAMPLE_REPO: &str = "demo/sample-repo";
pub const SAMPLE_SLACK_TEAM: &str = "T0LOCAL";
pub const SAMPLE_SLACK_CHANNEL: &str = "C0LOCAL";
pub const SAMPLE_SLACK_BOT_USER: &str = "U0AGENT";
pub const SAMPLE_JIRA_SITE: &str = "http://127.0.0.1:9100/jira";
pub const SAMPLE_SENTRY_ORG: &str = "demo-org";

/// A sample payload: the provider's event name (for its event header) and the JSON body.
pub struct Sample {
    pub event: &'static str,
    pub body: Value,
}

pub fn build(provider: &str, sample: &str, text: &str, unique: u64) -> Option<Sample> {
    let (owner, repo) = SAMPLE_REPO.split_once('/').expect("owner/name");
    let user = json!({"login": "octocat", "id": 583231, "type": "User"});
    let repository = json!({
        "id": 1296269, "name": repo, "full_name": SAMPLE_REPO, "private": false,
        "owner": {"login": owner, "id": 1, "type": "Organization"},
        "html_url": format!("https://github.com/{SAMPLE_REPO}"), "default_branch": "main"
    });
    let issue = |body: &str| {
        json!({
            "id": 1_000_000 + unique, "number": 1, "title": "Explain the sample repository",
            "state": "open", "user": user, "body": body, "author_association": "OWNER",
            "html_url": format!("https://github.com/{SAMPLE_REPO}/issues/1"),
        })
    };
    let sample = match (provider, sample) {
        ("github", "issue-comment") => Sample {
            event: "issue_comment",
            body: json!({
                "action": "created",
                "issue": issue("The README could say more."),
                "comment": {
                    "id": 2_000_000 + unique, "body": text, "user": user, "author_association": "OWNER",
                    "html_url": format!("https://github.com/{SAMPLE_REPO}/issues/1#issuecomment-{}", 2_000_000 + unique),
                },
                "repository": repository,
                "sender": user,
            }),
        },
        ("github", "issue-opened") => Sample {
            event: "issues",
            body: json!({"action": "opened", "issue": issue(text), "repository": repository, "sender": user}),
        },
        ("slack", "app-mention") => {
            let ts = format!(
                "{}.{:06}",
                chrono::Utc::now().timestamp(),
                unique % 1_000_000
            );
            Sample {
                event: "app_mention",
                body: json!({
                    "token": "unused", "team_id": SAMPLE_SLACK_TEAM, "api_app_id": "A0LOCAL",
                    "type": "event_callback", "event_id": format!("Ev{unique}"),
                    "event_time": chrono::Utc::now().timestamp(),
                    "authed_users": [SAMPLE_SLACK_BOT_USER],
                    "event": {
                        "type": "app_mention", "user": "U0PERSON",
                        "text": format!("<@{SAMPLE_SLACK_BOT_USER}> {}", text.trim_start_matches("@agent").trim()),
                        "ts": ts, "event_ts": ts, "channel": SAMPLE_SLACK_CHANNEL, "team": SAMPLE_SLACK_TEAM,
                    },
                }),
            }
        }
        ("jira", "comment-created") => Sample {
            event: "comment_created",
            body: json!({
                "timestamp": chrono::Utc::now().timestamp_millis(),
                "webhookEvent": "comment_created",
                "comment": {
                    "self": format!("{SAMPLE_JIRA_SITE}/rest/api/2/issue/10001/comment/{}", 30_000 + unique),
                    "id": (30_000 + unique).to_string(), "body": text,
                    "author": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Local Person", "accountType": "atlassian", "active": true},
                    "created": "2026-01-01T00:00:00.000+0000",
                },
                "issue": {
                    "id": "10001", "key": "DEMO-1",
                    "self": format!("{SAMPLE_JIRA_SITE}/rest/api/2/issue/10001"),
                    "fields": {"summary": "Explain the sample service", "project": {"id": "10000", "key": "DEMO", "name": "Demo"}},
                },
            }),
        },
        ("sentry", "issue-created") => Sample {
            event: "issue",
            body: json!({
                "action": "created",
                "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
                "installation": {"uuid": "7a485448-a9e2-4c85-8a3c-4f44175783c9"},
                "data": {"issue": {
                    "id": (4_000_000 + unique).to_string(), "shortId": "DEMO-1", "title": text,
                    "culprit": "src/main.rs in main", "level": "error", "status": "unresolved",
                    "platform": "rust", "project": {"id": "1", "name": "demo", "slug": "demo"},
                    "metadata": {"type": "Error", "value": text},
                    "web_url": format!("https://sentry.io/organizations/{SAMPLE_SENTRY_ORG}/issues/{}/", 4_000_000 + unique),
                }},
            }),
        },
        _ => return None,
    };
    Some(sample)
}
