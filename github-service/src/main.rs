use anyhow::Context;
use github_service::configuration::{SERVICE_NAME, Settings};
use github_service::startup::Application;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = service_kit::telemetry::init_tracing(SERVICE_NAME);
    let settings = Settings::from_env().context("reading the configuration")?;
    let application = Application::build(settings).await?;
    tracing::info!(port = application.port(), "github-service listening");
    application.run_until_stopped().await.context("serving")
}
