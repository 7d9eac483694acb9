//! `api`: the owner-only admin backend server. Loads settings, sets up logging,
//! opens (and migrates) the database, and serves until SIGTERM or Ctrl-C.
//! `--demo` runs it against a simulated Amazon on a throwaway database.

mod demo;

use anyhow::Context as _;
use clap::Parser;
use service::Settings;

/// A GraphQL answer is built from thousands of small allocations (a value tree,
/// then its JSON); glibc's malloc was a quarter of the api's CPU time serving
/// order pages (perf, docs/PERFORMANCE.md), mimalloc is made for this pattern.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "The Amazon orders admin backend: the admin page at /admin, GraphQL at /graphql"
)]
struct Args {
    /// Try it without Amazon: a simulated seller, a throwaway database and a demo owner.
    #[arg(long)]
    demo: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let mut settings =
        Settings::load(|k| std::env::var(k).ok()).context("invalid configuration")?;
    service::telemetry::init(settings.log_format);
    for notice in &settings.notices {
        tracing::warn!("{notice}");
    }
    let demo = match args.demo {
        true => Some(demo::prepare(&mut settings).await?),
        false => None,
    };
    let app = api::Application::build(&settings).await?;
    let admin = format!("http://{}/admin", app.addr());
    tracing::info!(addr = %app.addr(), admin = %admin, database = if settings.is_sqlite() { "sqlite" } else { "postgres" }, "api listening");
    match app.owner_exists().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            admin = %admin,
            "no owner yet: open the admin page and create the owner (the first account to register becomes the owner)"
        ),
        Err(e) => tracing::warn!(error = %e, "could not tell whether an owner exists"),
    }
    if let Some(d) = &demo {
        println!("demo: the admin page at http://{}/admin", app.addr());
        println!("demo: GraphiQL at http://{}/graphql", app.addr());
        println!(
            "demo: sign in as {} with password {}",
            demo::EMAIL,
            d.password
        );
        println!(
            "demo: simulated Amazon at {} (300 orders, live)",
            d.sim.base_url()
        );
    }
    app.run().await.context("server failed")
}
