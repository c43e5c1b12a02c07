//! The embedded defaults of the local system: which services run, on which ports, with which settings.
//! Every secret here is for a loopback-only development system and is printed in README as such.

use std::path::Path;

/// The webhook secret of every provider in local mode (`agw send` signs with it).
pub const WEBHOOK_SECRET: &str = "local-dev-webhook-secret";
const GATEWAY_TOKEN: &str = "local-dev-gateway-token";
const AGENT_TOKEN: &str = "local-dev-agent-token";
const DASHBOARD_TOKEN: &str = "local-dev-dashboard-token";
const ADMIN_TOKEN: &str = "local-dev-admin-token";
/// 32 zero-free bytes, base64: encrypts the local SQLite credential vaults.
const CREDENTIALS_KEY: &str = "bG9jYWwtZGV2LWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=";

/// One process `agw up` starts.
pub struct ServiceSpec {
    pub name: &'static str,
    pub port: u16,
    /// A browsable page, when the service has one beyond Swagger UI.
    pub page: Option<&'static str>,
    pub env: Vec<(&'static str, String)>,
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn sqlite(data_dir: &Path, name: &str) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(format!("{name}.db")).display()
    )
}

/// The services, in start order (providers' services before their callers).
pub fn services(data_dir: &Path, bin_dir: &Path) -> Vec<ServiceSpec> {
    let logs = data_dir.join("logs/tasks").display().to_string();
    let common = |port: u16| -> Vec<(&'static str, String)> {
        vec![
            ("BIND_ADDR", format!("127.0.0.1:{port}")),
            ("TASK_LOGS_DIR", logs.clone()),
            ("DASHBOARD_PUBLIC_URL", url(8090)),
            ("GITHUB_SERVICE_URL", url(8081)),
            ("JIRA_SERVICE_URL", url(8082)),
            ("SLACK_SERVICE_URL", url(8083)),
            ("SENTRY_SERVICE_URL", url(8084)),
        ]
    };
    let provider_service = |name: &'static str,
                            port: u16,
                            credentials: Vec<(&'static str, String)>| {
        let mut env = common(port);
        env.extend([
            (
                "CALLER_TOKENS",
                format!("gateway:{GATEWAY_TOKEN},agent:{AGENT_TOKEN},dashboard:{DASHBOARD_TOKEN}"),
            ),
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("CREDENTIALS_KEY", CREDENTIALS_KEY.to_owned()),
            ("DATABASE_URL", sqlite(data_dir, name)),
        ]);
        env.extend(credentials);
        ServiceSpec {
            name,
            port,
            page: None,
            env,
        }
    };
    let mut gateway = common(8080);
    gateway.extend([
        ("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ("SLACK_SIGNING_SECRET", WEBHOOK_SECRET.to_owned()),
        ("JIRA_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ("SENTRY_CLIENT_SECRET", WEBHOOK_SECRET.to_owned()),
        ("SERVICE_TOKEN", GATEWAY_TOKEN.to_owned()),
    ]);
    let mut agent = common(8085);
    agent.extend([
        ("SERVICE_TOKEN", AGENT_TOKEN.to_owned()),
        ("AGENT_RUNNER", "claude".to_owned()),
        (
            "CLAUDE_BIN",
            bin_dir.join("demo-agent").display().to_string(),
        ),
        (
            "AGENT_WORKDIR",
            data_dir.join("workspaces").display().to_string(),
        ),
    ]);
    let mut dashboard = common(8090);
    dashboard.extend([
        ("DATABASE_URL", sqlite(data_dir, "dashboard")),
        ("SERVICE_TOKEN", DASHBOARD_TOKEN.to_owned()),
    ]);
    vec![
        provider_service(
            "github-service",
            8081,
            vec![("GITHUB_TOKEN", "local-dev-github-token".to_owned())],
        ),
        provider_service(
            "jira-service",
            8082,
            vec![
                ("JIRA_BASE_URL", crate::samples::SAMPLE_JIRA_SITE.to_owned()),
                ("JIRA_EMAIL", "agent@example.com".to_owned()),
                ("JIRA_API_TOKEN", "local-dev-jira-token".to_owned()),
            ],
        ),
        provider_service(
            "slack-service",
            8083,
            vec![("SLACK_BOT_TOKEN", "xoxb-local-dev".to_owned())],
        ),
        provider_service(
            "sentry-service",
            8084,
            vec![
                ("SENTRY_AUTH_TOKEN", "local-dev-sentry-token".to_owned()),
                ("SENTRY_ORG", crate::samples::SAMPLE_SENTRY_ORG.to_owned()),
            ],
        ),
        ServiceSpec {
            name: "api-gateway",
            port: 8080,
            page: None,
            env: gateway,
        },
        ServiceSpec {
            name: "agent-container",
            port: 8085,
            page: Some("/status"),
            env: agent,
        },
        ServiceSpec {
            name: "dashboard-api",
            port: 8090,
            page: Some("/"),
            env: dashboard,
        },
    ]
}
