use clap::{Parser, Subcommand};
use dashboard_api::configuration::Settings;
use dashboard_api::index::{self, TaskIndex};
use dashboard_api::startup::{Application, SERVICE_NAME};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// dashboard-api: the task index, log viewer and live tail of agent-gateway. Configured by environment
/// variables (see docs/dashboard-api.md).
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
}

#[derive(Subcommand)]
enum Commands {
    /// Serve the API and the page (the default).
    Serve,
    /// Rebuild the task index from TASK_LOGS_DIR, replacing what it held, and exit.
    Reindex,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _logs = service_kit::telemetry::init_tracing(SERVICE_NAME);
    let settings = Settings::from_env()?;
    match cli.command.unwrap_or(Commands::Serve) {
        Commands::Serve => {
            let application = Application::build(settings).await?;
            let shutdown = application.shutdown_token();
            tokio::spawn(async move {
                service_kit::server::shutdown_signal().await;
                shutdown.cancel();
            });
            application.run_until_stopped().await?;
        }
        Commands::Reindex => {
            let index = TaskIndex::connect_lazy(&settings.database_url)?;
            index.ensure_schema().await?;
            let count = index::reindex(&index, &settings.common.task_logs_dir).await?;
            println!(
                "indexed {count} tasks from {}",
                settings.common.task_logs_dir.display()
            );
        }
    }
    Ok(())
}
