use sentry_service::configuration::Settings;
use sentry_service::startup::Application;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = service_kit::telemetry::init_tracing("sentry-service");
    let settings = Settings::from_env()?;
    let application = Application::build(settings).await?;
    tracing::info!(port = application.port(), "sentry-service listening");
    application.run_until_stopped().await?;
    Ok(())
}
