use agent_container::configuration::Settings;
use agent_container::containment;
use agent_container::startup::{Application, SERVICE_NAME};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(containment::SUBCOMMAND) {
        std::process::exit(containment::supervise(&args[2..]));
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    let _logs = service_kit::telemetry::init_tracing(SERVICE_NAME);
    let settings = Settings::from_env()?;
    let application = Application::build(settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}
