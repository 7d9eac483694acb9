//! `worker`: background jobs and operator commands, run beside the api against the
//! same database. It never talks to the api process.
//!
//! Commands: `migrate` (apply pending migrations and exit, for deployments that run
//! the api with `RUN_MIGRATIONS=false`). The scheduled orders sync, `sync`, `status`
//! and `ping` arrive with the sync engine.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use migration::MigratorTrait as _;
use service::Settings;

#[derive(Parser)]
#[command(about = "Background jobs and operator commands of the Amazon orders backend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply every pending database migration, print what is applied, and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let settings = Settings::load(|k| std::env::var(k).ok()).context("invalid configuration")?;
    service::telemetry::init(settings.log_format);
    for notice in &settings.notices {
        tracing::warn!("{notice}");
    }
    match cli.command {
        Command::Migrate => {
            let db = service::db::open(&settings.database_url).await?;
            migration::Migrator::up(&db, None)
                .await
                .context("applying migrations")?;
            let applied = migration::Migrator::get_applied_migrations(&db).await?;
            println!(
                "{} migrations applied; the database is current",
                applied.len()
            );
        }
    }
    Ok(())
}
