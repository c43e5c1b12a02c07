use api_gateway::configuration::Settings;
use api_gateway::startup::Application;
use api_gateway::state::SERVICE_NAME;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Blocking-pool threads (tokio's default is 512), which take the task-log file work while the storage is
/// slow (see `file_work`): more would not make the disk faster, and each keeps its own allocator heap.
const FILE_WORK_THREADS: usize = 8;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(FILE_WORK_THREADS)
        .build()?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    let _logs = service_kit::telemetry::init_tracing(SERVICE_NAME);
    let settings = Settings::from_env()?;
    for provider in contracts::Provider::ALL {
        if !settings.is_configured(provider) {
            tracing::warn!(
                provider = provider.as_str(),
                "no secret configured: its deliveries get 401"
            );
        }
    }
    let application = Application::build(settings).await?;
    let shutdown = application.shutdown_token();
    tokio::spawn(async move {
        service_kit::server::shutdown_signal().await;
        shutdown.cancel();
    });
    application.run_until_stopped().await?;
    Ok(())
}
