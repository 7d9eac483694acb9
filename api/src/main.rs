//! `api`: the owner-only admin backend server. Loads settings, sets up logging,
//! opens (and migrates) the database, and serves until SIGTERM or Ctrl-C.

use anyhow::Context as _;
use service::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let settings = Settings::load(|k| std::env::var(k).ok()).context("invalid configuration")?;
    service::telemetry::init(settings.log_format);
    for notice in &settings.notices {
        tracing::warn!("{notice}");
    }
    let app = api::Application::build(&settings).await?;
    tracing::info!(addr = %app.addr(), database = if settings.is_sqlite() { "sqlite" } else { "postgres" }, "api listening");
    app.run().await.context("server failed")
}
