use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = launcher::Cli::parse();
    launcher::run(cli).await
}
