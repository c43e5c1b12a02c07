use slack_service::configuration::Settings;
use slack_service::startup::Application;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = service_kit::telemetry::init_tracing("slack-service");
    let settings = Settings::from_env()?;
    let application = Application::build(settings).await?;
    tracing::info!(port = application.port(), "slack-service listening");
    application.run_until_stopped().await?;
    Ok(())
}
