use clap::Parser;
use fake_providers::configuration::Settings;
use fake_providers::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = service_kit::telemetry::init_tracing("fake-providers");
    let settings = Settings::parse();
    let application = Application::build(settings).await?;
    tracing::info!(
        port = application.port(),
        data_dir = %application.data_dir().display(),
        "fake-providers listening"
    );
    application.run_until_stopped().await?;
    Ok(())
}
