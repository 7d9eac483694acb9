//! `worker`: the scheduled orders sync and the operator's commands, run beside the
//! api against the same database. It never talks to the api process; the sync
//! lease keeps it from doubling a sync the api started.

mod progress;
mod run;
mod schedule;
mod status;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use entity::enums::{SyncStatus, SyncTrigger};
use migration::MigratorTrait as _;
use service::Settings;
use service::amazon_account::EncryptionKey;
use service::sync::{InventoryScan, ListingsScan, SyncOptions, SyncOutcome, SyncRequest};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    version,
    about = "Background jobs and operator commands of the Amazon orders backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scheduler until SIGTERM or Ctrl-C. Default plan: the freshness loop (an
    /// incremental orders sync each time a token of the orders search quota comes
    /// due, keeping FRESHNESS_RESERVE, default a quarter, of the burst for other runs,
    /// and waiting while another run holds the orders lease; the first at once), a re-sync of
    /// the last 48 hours daily at COMPREHENSIVE_SYNC_HOUR (default 3), an incremental
    /// FBA inventory sync every INVENTORY_INTERVAL_MINUTES (default 60, the first at
    /// once), a full inventory scan daily at INVENTORY_FULL_SYNC_HOUR (default 4), a
    /// financial transactions sync every TRANSACTIONS_INTERVAL_MINUTES (default 60),
    /// a re-pull of the last TRANSACTIONS_REPULL_DAYS (default 30) at
    /// TRANSACTIONS_REPULL_SCHEDULE (default "0 5 * * SUN": Sundays at 05:00), an
    /// incremental listings sync every LISTINGS_INTERVAL_MINUTES (default 60) and a
    /// full one daily at INVENTORY_FULL_SYNC_HOUR:30,
    /// in SELLER_TIMEZONE (default UTC). Before each run the quota Amazon has left is estimated from the
    /// recorded runs; a run that could only wait for it is skipped (logged, counted).
    /// Failures are retried after 1, 2, 4 … minutes and never stop the loop; a sync
    /// already running elsewhere (the api, another replica) is skipped, not doubled.
    /// Beside the plan, queued listing changes the owner submitted are pushed and
    /// followed until live, every LISTINGS_POLL_SECS (default 15).
    Run {
        /// The plan instead of the default: `interval` (orders every
        /// SYNC_INTERVAL_MINUTES, default 15, instead of the freshness loop),
        /// `seed-000` (orders only: every 2 h 09:00-19:00, every 4 h at night,
        /// comprehensive at 03:00), `default`, or cron
        /// entries such as "0 */2 * * * incremental; 0 3 * * * comprehensive; 30 * * * *
        /// inventory; 0 4 * * * inventory-full; 0 * * * * transactions; 0 5 * * SUN
        /// transactions-repull" (seller's time zone; an optional seconds
        /// field first). Overrides SYNC_SCHEDULE.
        #[arg(long, value_name = "PLAN")]
        schedule: Option<String>,
    },
    /// One sync now, with a summary; exit code 0 when it succeeded. `orders` (the
    /// default; then the stock of the FBA SKUs it sold), `inventory`, `transactions`
    /// or `listings`.
    Sync {
        /// What to sync.
        #[arg(value_enum, default_value_t = Dataset::Orders)]
        dataset: Dataset,
        /// Read Amazon and the database and report, writing nothing but the run.
        #[arg(long)]
        dry_run: bool,
        /// Orders: write orders only, no items.
        #[arg(long)]
        no_items: bool,
        /// Orders and transactions: start from this instant (RFC 3339) instead of the
        /// stored watermark (a back-fill or a re-pull).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Inventory and listings: read every SKU and mark those Amazon no longer lists
        /// as gone.
        #[arg(long)]
        full: bool,
    },
    /// Check the stored credentials with Amazon (the Sellers quota, never the orders quota).
    Ping,
    /// The sync monitor: freshness, the last runs, throttling, recommendations. Reads
    /// only: it refuses, saying so, when the database's schema is behind.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Apply every pending database migration and exit.
    Migrate,
    /// The recovery path for a lost password (the owner's too): print a one-time
    /// password for EMAIL and end every session of that user. Its holder signs in
    /// with it and must change it before doing anything else.
    ResetPassword {
        /// The user's email (any case).
        email: String,
    },
    /// Back up the database into DIR: SQLite with `VACUUM INTO`, PostgreSQL with
    /// `pg_dump -Fc` (the password through PGPASSWORD), and a manifest.json naming the
    /// encryption key by its fingerprint. Reads only: it never migrates. The key is
    /// not copied unless --include-key: keep APP_ENCRYPTION_KEY apart from backups.
    Backup {
        /// The directory to write (created 0700; must not hold a backup already).
        #[arg(long, value_name = "DIR")]
        to: std::path::PathBuf,
        /// Also copy the encryption key into DIR/encryption.key (mode 0600).
        #[arg(long)]
        include_key: bool,
    },
    /// Restore a `worker backup` into the configured database, which must be empty
    /// (SQLite: a file that does not exist yet; PostgreSQL: `pg_restore --no-owner`
    /// into a database without tables). Refuses a backup made with another
    /// encryption key. Stop the api and the worker first; it never migrates.
    Restore {
        /// The backup directory.
        #[arg(long, value_name = "DIR")]
        from: std::path::PathBuf,
    },
}

/// The datasets `worker sync` can sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Dataset {
    /// Orders and their items.
    Orders,
    /// FBA inventory.
    Inventory,
    /// Financial transactions.
    Transactions,
    /// The listings catalog.
    Listings,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Cancelled on SIGTERM or Ctrl-C.
fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let trip = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            if let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            } else {
                let _ = ctrl_c.await;
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested: stopping after the current page");
        trip.cancel();
    });
    token
}

fn summary(o: &SyncOutcome, records: &str) -> String {
    let p = &o.progress;
    let mut out = format!(
        "run {}: {:?}\n  window      {} .. {}\n  pages       {}\n  {records:<11} {} found, {} inserted, {} updated, {} unchanged\n",
        o.run_id,
        o.status,
        o.window_start.to_rfc3339(),
        o.window_end.to_rfc3339(),
        p.pages,
        p.found,
        p.inserted,
        p.updated,
        p.unchanged,
    );
    if records == "orders" {
        out += &format!("  items       {} written\n", p.items_upserted);
    }
    out += &format!(
        "  API calls   {} ({} throttled)\n",
        o.api_calls, o.throttled
    );
    if let Some(id) = o.stock_refresh_run_id {
        out += &format!(
            "  stock       run {id} refreshed {} FBA SKU(s) sold\n",
            o.stock_skus.len()
        );
    }
    for note in &o.notes {
        out += &format!("  note        {note}\n");
    }
    if let Some(e) = &o.error {
        out += &format!("  error       {e}\n");
    }
    out
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let _ = dotenvy::dotenv();
    let settings = Settings::load(|k| std::env::var(k).ok()).context("invalid configuration")?;
    service::telemetry::init(settings.log_format);
    for notice in &settings.notices {
        tracing::warn!("{notice}");
    }
    if let Command::Migrate = cli.command {
        let db = service::db::open(&settings.database.url).await?;
        migration::Migrator::up(&db, None)
            .await
            .context("applying migrations")?;
        let applied = migration::Migrator::get_applied_migrations(&db).await?;
        println!(
            "{} migrations applied; the database is current",
            applied.len()
        );
        return Ok(std::process::ExitCode::SUCCESS);
    }
    match &cli.command {
        Command::Backup { to, include_key } => {
            let report = service::backup::backup(&settings, to, *include_key)
                .await
                .context("backup failed")?;
            let m = &report.manifest;
            println!(
                "backed up the {} database (migration {}) into {}:",
                m.database,
                m.latest_migration,
                to.display()
            );
            for file in &report.files {
                println!("  {}", file.display());
            }
            println!("key {}: {}", m.key_fingerprint, m.key_note);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Command::Restore { from } => {
            let report = service::backup::restore(&settings, from)
                .await
                .context("restore failed")?;
            let m = &report.manifest;
            println!(
                "restored the {} backup of {} (migration {}): {} orders",
                m.database,
                m.created_at.to_rfc3339(),
                m.latest_migration,
                report.orders
            );
            if report.credentials_opened {
                println!(
                    "the stored Amazon credentials open with this configuration's key {}",
                    m.key_fingerprint
                );
            }
            if report.pending_migrations > 0 {
                println!(
                    "the database is {} migration(s) behind this worker: run `worker migrate` (or start the api)",
                    report.pending_migrations
                );
            }
            return Ok(std::process::ExitCode::SUCCESS);
        }
        _ => {}
    }
    // `status` only reads: it never changes the schema, and says when it is behind.
    let db = if matches!(cli.command, Command::Status { .. }) {
        let db = service::db::open(&settings.database.url).await?;
        let pending = migration::Migrator::get_pending_migrations(&db)
            .await?
            .len();
        if pending > 0 {
            anyhow::bail!(
                "the database is {pending} migration(s) behind this worker: run `worker migrate` (or start the api or `worker run`, which migrate unless RUN_MIGRATIONS=false); `status` does not change the database"
            );
        }
        db
    } else {
        service::db::connect(&settings).await?
    };
    if matches!(cli.command, Command::Run { .. } | Command::Sync { .. })
        && let Some(problem) = service::amazon_account::sealing_key_mismatch(
            &db,
            &settings.encryption_key,
            &settings.encryption_key_origin,
        )
        .await?
    {
        anyhow::bail!("{problem}");
    }
    match cli.command {
        Command::ResetPassword { email } => {
            use secrecy::ExposeSecret as _;
            let (user, password) = match service::auth::reset_password(&db, &email).await {
                Err(service::auth::AuthError::NoSuchUser) => {
                    anyhow::bail!("no user has the email {email:?}: nothing was changed")
                }
                other => other.context("resetting the password")?,
            };
            // The one place a password is printed: the operator asked for it, on
            // their own terminal; it is never logged.
            println!(
                "one-time password for {} ({}): {}",
                user.email,
                if user.role == entity::enums::Role::Owner {
                    "owner"
                } else {
                    "viewer"
                },
                password.expose_secret()
            );
            println!(
                "every session of this user has ended; sign in at the admin page with it: it must be changed before anything else"
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Migrate | Command::Backup { .. } | Command::Restore { .. } => {
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Run { schedule } => {
            let interval = chrono::Duration::from_std(settings.worker.sync_interval)
                .unwrap_or(chrono::Duration::minutes(15));
            let mut default = schedule::Schedule::fresh(
                interval,
                settings.worker.comprehensive_sync_hour,
                settings.worker.seller_timezone,
            );
            if let Some(every) = settings.worker.inventory_interval {
                default = default.with_inventory(
                    chrono::Duration::from_std(every).unwrap_or(chrono::Duration::hours(1)),
                    settings.worker.inventory_full_sync_hour,
                );
            }
            if let Some(every) = settings.worker.listings_interval {
                default = default.with_listings(
                    chrono::Duration::from_std(every).unwrap_or(chrono::Duration::hours(1)),
                    settings.worker.inventory_full_sync_hour,
                );
            }
            if let Some(every) = settings.worker.transactions_interval {
                let repull = &settings.worker.transactions_repull_schedule;
                default = default
                    .with_transactions(
                        chrono::Duration::from_std(every).unwrap_or(chrono::Duration::hours(1)),
                        repull,
                    )
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "TRANSACTIONS_REPULL_SCHEDULE {repull:?} is not a cron expression: {e}"
                        )
                    })?;
            }
            let plan = match schedule
                .as_deref()
                .or(settings.worker.sync_schedule.as_deref())
            {
                None => default,
                Some(spec) => {
                    schedule::Schedule::parse(spec, default, interval).with_context(|| {
                        format!("invalid schedule {spec:?} (--schedule or SYNC_SCHEDULE)")
                    })?
                }
            };
            let shutdown = shutdown_token();
            tokio::join!(
                run::scheduler(&db, &settings, &plan, shutdown.clone()),
                run::pusher(&db, &settings, shutdown),
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Sync {
            dataset,
            dry_run,
            no_items,
            since,
            full,
        } => {
            if dataset == Dataset::Inventory && (no_items || since.is_some()) {
                anyhow::bail!("--no-items and --since are for orders; inventory takes --full");
            }
            if dataset == Dataset::Transactions && no_items {
                anyhow::bail!("--no-items is for orders; transactions take --since");
            }
            if dataset == Dataset::Listings && (no_items || since.is_some()) {
                anyhow::bail!("--no-items and --since are for orders; listings take --full");
            }
            service::sync::check_since(since, chrono::Utc::now()).map_err(anyhow::Error::msg)?;
            if !matches!(dataset, Dataset::Inventory | Dataset::Listings) && full {
                anyhow::bail!(
                    "--full is for inventory and listings (`worker sync inventory --full`)"
                );
            }
            let reporter = progress::Reporter::new();
            let options = SyncOptions {
                dry_run,
                include_items: !no_items,
                since,
                trigger: SyncTrigger::Cli,
                cancel: shutdown_token(),
                progress: Some(reporter.callback()),
                ..SyncOptions::default()
            };
            let syncer = service::sync::Syncer::new(
                db.clone(),
                std::sync::Arc::new(EncryptionKey::from_bytes(*settings.encryption_key.expose())),
                settings.sync.clone(),
            );
            let (request, records) = match dataset {
                Dataset::Orders => (SyncRequest::Orders, "orders"),
                Dataset::Inventory => (
                    SyncRequest::Inventory(if full {
                        InventoryScan::Full
                    } else {
                        InventoryScan::Incremental
                    }),
                    "SKUs",
                ),
                Dataset::Transactions => (SyncRequest::Transactions, "transactions"),
                Dataset::Listings => (
                    SyncRequest::Listings(if full {
                        ListingsScan::Full
                    } else {
                        ListingsScan::Incremental
                    }),
                    "listings",
                ),
            };
            let outcome = syncer.run(request, options).await;
            reporter.finish();
            let outcome = outcome?;
            print!("{}", summary(&outcome, records));
            Ok(if outcome.status == SyncStatus::Succeeded {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            })
        }
        Command::Ping => {
            let result =
                service::ping::ping_sp_api(&db, &settings.encryption_key, settings.sync.endpoints)
                    .await?;
            if result.ok {
                println!(
                    "SP-API ping ok: participating in {}",
                    result.marketplaces.join(", ")
                );
                Ok(std::process::ExitCode::SUCCESS)
            } else {
                println!("SP-API ping failed: {}", result.error.unwrap_or_default());
                Ok(std::process::ExitCode::FAILURE)
            }
        }
        Command::Status { json } => {
            let report = status::report(&db, &settings.alerts).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}
