//! The topology of a local system: which services run, on which ports, with which settings.
//! `agw up` uses [`Topology::local`] (documented ports, SQLite under `./data`, the fake providers);
//! the cross-process tests build their own (free ports, a unique Redis prefix, PostgreSQL databases).
//! Every secret here is for a loopback-only development system and is printed in README as such.

use std::path::{Path, PathBuf};

/// The webhook secret of every provider in local mode (`agw send` signs with it).
pub const WEBHOOK_SECRET: &str = "local-dev-webhook-secret";
pub const GATEWAY_TOKEN: &str = "local-dev-gateway-token";
pub const AGENT_TOKEN: &str = "local-dev-agent-token";
pub const DASHBOARD_TOKEN: &str = "local-dev-dashboard-token";
pub const ADMIN_TOKEN: &str = "local-dev-admin-token";
/// 32 bytes, base64: encrypts the local credential vaults.
pub const CREDENTIALS_KEY: &str = "bG9jYWwtZGV2LWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=";
pub const FAKE_PROVIDERS_PORT: u16 = 9100;

/// One process to start.
pub struct ServiceSpec {
    /// The binary's name (also the service's name).
    pub name: &'static str,
    /// Distinguishes replicas of one binary (`agent-container-2`).
    pub instance: String,
    pub port: u16,
    /// A browsable page, when the service has one beyond Swagger UI.
    pub page: Option<&'static str>,
    /// Extra arguments.
    pub args: Vec<String>,
    pub env: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub gateway: u16,
    pub github: u16,
    pub jira: u16,
    pub slack: u16,
    pub sentry: u16,
    /// The first agent replica's port; replica `n` listens on `agent + n`.
    pub agent: u16,
    pub dashboard: u16,
    pub fake_providers: u16,
}

impl Ports {
    pub const DOCUMENTED: Ports = Ports {
        gateway: 8080,
        github: 8081,
        jira: 8082,
        slack: 8083,
        sentry: 8084,
        agent: 8085,
        dashboard: 8090,
        fake_providers: FAKE_PROVIDERS_PORT,
    };
}

/// Where the data-owning services keep their data.
#[derive(Debug, Clone)]
pub enum Databases {
    /// `{data_dir}/{service}.db`.
    Sqlite,
    /// `{base}/{database}` with one database per service, e.g. base `postgres://postgres@127.0.0.1:5432`
    /// and names `{prefix}_{service}`.
    Postgres { base: String, name_prefix: String },
}

pub struct Topology {
    pub data_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub ports: Ports,
    pub redis_url: String,
    pub redis_key_prefix: String,
    pub databases: Databases,
    pub agent_replicas: usize,
    /// Environment for every agent replica on top of the defaults (tests pick runners and leases here).
    pub agent_env: Vec<(&'static str, String)>,
}

impl Topology {
    /// What `agw up` runs.
    pub fn local(data_dir: &Path, bin_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            bin_dir: bin_dir.to_path_buf(),
            ports: Ports::DOCUMENTED,
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_key_prefix: "agw:".to_owned(),
            databases: Databases::Sqlite,
            agent_replicas: 1,
            agent_env: Vec::new(),
        }
    }

    pub fn url(&self, port: u16) -> String {
        format!("http://127.0.0.1:{port}")
    }

    pub fn fake_providers_url(&self) -> String {
        self.url(self.ports.fake_providers)
    }

    pub fn database_url(&self, service: &str) -> String {
        match &self.databases {
            Databases::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join(format!("{service}.db")).display()
            ),
            Databases::Postgres { base, name_prefix } => {
                format!("{base}/{}", database_name(name_prefix, service))
            }
        }
    }

    /// The services, in start order: fake providers, provider services, gateway, agents, dashboard.
    pub fn services(&self) -> Vec<ServiceSpec> {
        let p = self.ports;
        let fake = self.fake_providers_url();
        let mut services = vec![ServiceSpec {
            name: "fake-providers",
            instance: "fake-providers".to_owned(),
            port: p.fake_providers,
            page: Some("/_fake/"),
            args: Vec::new(),
            env: vec![
                ("BIND_ADDR", format!("127.0.0.1:{}", p.fake_providers)),
                (
                    "FAKE_PROVIDERS_DATA_DIR",
                    self.data_dir.join("fake-providers").display().to_string(),
                ),
            ],
        }];
        services.push(self.provider_service(
            "github-service",
            p.github,
            vec![
                ("GITHUB_API_URL", format!("{fake}/github/api")),
                ("GITHUB_GIT_URL", format!("{fake}/github/git")),
                ("GITHUB_TOKEN", "local-dev-github-token".to_owned()),
            ],
        ));
        services.push(self.provider_service(
            "jira-service",
            p.jira,
            vec![
                ("JIRA_BASE_URL", format!("{fake}/jira")),
                ("JIRA_EMAIL", "agent@example.com".to_owned()),
                ("JIRA_API_TOKEN", "local-dev-jira-token".to_owned()),
            ],
        ));
        services.push(self.provider_service(
            "slack-service",
            p.slack,
            vec![
                ("SLACK_API_URL", format!("{fake}/slack/api")),
                ("SLACK_BOT_TOKEN", "xoxb-local-dev".to_owned()),
            ],
        ));
        services.push(self.provider_service(
            "sentry-service",
            p.sentry,
            vec![
                ("SENTRY_API_URL", format!("{fake}/sentry")),
                ("SENTRY_AUTH_TOKEN", "local-dev-sentry-token".to_owned()),
                ("SENTRY_ORG", crate::samples::SAMPLE_SENTRY_ORG.to_owned()),
            ],
        ));
        let mut gateway = self.common_env(p.gateway);
        gateway.extend([
            ("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("SLACK_SIGNING_SECRET", WEBHOOK_SECRET.to_owned()),
            ("JIRA_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("SENTRY_CLIENT_SECRET", WEBHOOK_SECRET.to_owned()),
            ("SENTRY_ORG", crate::samples::SAMPLE_SENTRY_ORG.to_owned()),
            (
                "SLACK_BOT_USER_IDS",
                crate::samples::SAMPLE_SLACK_BOT_USER.to_owned(),
            ),
            ("SERVICE_TOKEN", GATEWAY_TOKEN.to_owned()),
        ]);
        services.push(ServiceSpec {
            name: "api-gateway",
            instance: "api-gateway".to_owned(),
            port: p.gateway,
            page: None,
            args: Vec::new(),
            env: gateway,
        });
        for replica in 0..self.agent_replicas {
            let port = p.agent + u16::try_from(replica).unwrap_or(0);
            let instance = if replica == 0 {
                "agent-container".to_owned()
            } else {
                format!("agent-container-{}", replica + 1)
            };
            let mut agent = self.common_env(port);
            agent.extend([
                ("AGENT_WORKER_ID", instance.clone()),
                ("SERVICE_TOKEN", AGENT_TOKEN.to_owned()),
                ("AGENT_RUNNER", "claude".to_owned()),
                (
                    "AGENT_CLAUDE_BIN",
                    self.bin_dir.join("demo-agent").display().to_string(),
                ),
                (
                    "AGENT_WORKDIR",
                    self.data_dir.join("workspaces").display().to_string(),
                ),
            ]);
            agent.extend(self.agent_env.iter().cloned());
            services.push(ServiceSpec {
                name: "agent-container",
                instance,
                port,
                page: Some("/status"),
                args: Vec::new(),
                env: agent,
            });
        }
        let mut dashboard = self.common_env(p.dashboard);
        dashboard.extend([
            ("DATABASE_URL", self.database_url("dashboard")),
            ("SERVICE_TOKEN", DASHBOARD_TOKEN.to_owned()),
        ]);
        services.push(ServiceSpec {
            name: "dashboard-api",
            instance: "dashboard-api".to_owned(),
            port: p.dashboard,
            page: Some("/"),
            args: Vec::new(),
            env: dashboard,
        });
        services
    }

    fn common_env(&self, port: u16) -> Vec<(&'static str, String)> {
        let p = self.ports;
        vec![
            ("BIND_ADDR", format!("127.0.0.1:{port}")),
            ("REDIS_URL", self.redis_url.clone()),
            ("REDIS_KEY_PREFIX", self.redis_key_prefix.clone()),
            (
                "TASK_LOGS_DIR",
                self.data_dir.join("logs/tasks").display().to_string(),
            ),
            ("DASHBOARD_PUBLIC_URL", self.url(p.dashboard)),
            ("GITHUB_SERVICE_URL", self.url(p.github)),
            ("JIRA_SERVICE_URL", self.url(p.jira)),
            ("SLACK_SERVICE_URL", self.url(p.slack)),
            ("SENTRY_SERVICE_URL", self.url(p.sentry)),
        ]
    }

    fn provider_service(
        &self,
        name: &'static str,
        port: u16,
        credentials: Vec<(&'static str, String)>,
    ) -> ServiceSpec {
        let mut env = self.common_env(port);
        env.extend([
            (
                "CALLER_TOKENS",
                format!("gateway:{GATEWAY_TOKEN},agent:{AGENT_TOKEN},dashboard:{DASHBOARD_TOKEN}"),
            ),
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("CREDENTIALS_KEY", CREDENTIALS_KEY.to_owned()),
            ("DATABASE_URL", self.database_url(name)),
        ]);
        env.extend(credentials);
        ServiceSpec {
            name,
            instance: name.to_owned(),
            port,
            page: None,
            args: Vec::new(),
            env,
        }
    }
}

/// The PostgreSQL database of one service: `{prefix}_{service}` with `-` as `_`.
pub fn database_name(prefix: &str, service: &str) -> String {
    format!("{prefix}_{}", service.replace('-', "_"))
}

/// The services that own a database.
pub const DATA_OWNING_SERVICES: [&str; 5] = [
    "github-service",
    "jira-service",
    "slack-service",
    "sentry-service",
    "dashboard",
];
