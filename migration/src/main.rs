//! `cargo run -p migration -- up | down | status | fresh`: the schema's command line.
//!
//! Uses `DATABASE_URL` (or `--database-url`), and otherwise the same embedded SQLite
//! file a fresh `cargo run -p api` creates, so `status` shows the database you use.

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::Database;

#[derive(Parser)]
#[command(about = "Apply, revert and inspect the schema migrations")]
struct Cli {
    /// Database to migrate; defaults to the embedded SQLite file under ./data/.
    #[arg(long, short = 'u', env = "DATABASE_URL", default_value = migration::DEFAULT_SQLITE_URL)]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply every pending migration (or only the next N).
    Up {
        #[arg(short = 'n', long)]
        num: Option<u32>,
    },
    /// Revert the last applied migration (or the last N).
    Down {
        #[arg(short = 'n', long, default_value_t = 1)]
        num: u32,
    },
    /// List every migration and whether it is applied.
    Status,
    /// Drop every table and apply all migrations again (destroys data).
    Fresh,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    if cli.database_url == migration::DEFAULT_SQLITE_URL {
        std::fs::create_dir_all("data")?;
    }
    let db = Database::connect(&cli.database_url).await?;
    match cli.command {
        Command::Up { num } => Migrator::up(&db, num).await?,
        Command::Down { num } => Migrator::down(&db, Some(num)).await?,
        Command::Status => {}
        Command::Fresh => Migrator::fresh(&db).await?,
    }
    print_status(&db).await
}

/// One line per migration: applied or pending.
async fn print_status(
    db: &sea_orm_migration::sea_orm::DatabaseConnection,
) -> Result<(), Box<dyn std::error::Error>> {
    let all = Migrator::get_migration_with_status(db).await?;
    let pending = all
        .iter()
        .filter(|m| m.status() == sea_orm_migration::MigrationStatus::Pending)
        .count();
    for m in &all {
        let state = match m.status() {
            sea_orm_migration::MigrationStatus::Applied => "applied",
            sea_orm_migration::MigrationStatus::Pending => "pending",
        };
        println!("{state:<8} {}", m.name());
    }
    println!("{} applied, {pending} pending", all.len() - pending);
    Ok(())
}
