//! `spapi-sim`: runs the Selling Partner API simulator on 127.0.0.1 until Ctrl-C.

use anyhow::Context;
use clap::Parser;
use spapi_sim::{LiveConfig, SimConfig, Simulator};

/// A faithful local stand-in for Amazon's Selling Partner API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, env = "SPAPI_SIM_PORT", default_value_t = 8787)]
    port: u16,
    /// Orders in the generated history.
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// Seed of the generator (same seed, same history).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The history spans the last N days.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Marketplace ids, comma-separated; the first is the home marketplace.
    #[arg(long, value_delimiter = ',', default_value = "ATVPDKIKX0DER")]
    marketplaces: Vec<String>,
    /// K: the clock, rates and token lifetimes run K times faster.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Simulated Amazon clock minus the local clock, in seconds (may be negative).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_secs: i64,
    #[arg(long, env = "SPAPI_SIM_CLIENT_ID", default_value = spapi_sim::DEFAULT_CLIENT_ID)]
    client_id: String,
    #[arg(long, env = "SPAPI_SIM_CLIENT_SECRET", default_value = spapi_sim::DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    #[arg(long, env = "SPAPI_SIM_REFRESH_TOKEN", default_value = spapi_sim::DEFAULT_REFRESH_TOKEN)]
    refresh_token: String,
    /// Keep creating (per simulated hour) and advancing orders.
    #[arg(long)]
    live: bool,
    #[arg(long, default_value_t = 120.0)]
    live_orders_per_hour: f64,
    /// A seller without FBA: no inventory, getInventorySummaries answers 400 InvalidInput.
    #[arg(long)]
    no_fba: bool,
    /// N shipped orders whose Shipment transaction is never posted and N whose principal is
    /// off, for a settlement reconciliation to find (listed at /_sim/settlement-anomalies).
    #[arg(long, default_value_t = 0)]
    settlement_anomalies: usize,
    /// The seller id the Listings API answers to (the `sellerId` path parameter).
    #[arg(long, env = "SPAPI_SIM_SELLER_ID", default_value = spapi_sim::DEFAULT_SELLER_ID)]
    seller_id: String,
    /// Simulated seconds between an accepted listings patch and its change going live.
    #[arg(long, default_value_t = 300)]
    listings_apply_delay_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "spapi_sim=info".into()),
        )
        .init();
    let args = Args::parse();
    let config = SimConfig {
        port: args.port,
        orders: args.orders,
        seed: args.seed,
        days: args.days,
        marketplaces: args.marketplaces,
        time_scale: args.time_scale,
        clock_offset: chrono::Duration::seconds(args.clock_offset_secs),
        client_id: args.client_id,
        client_secret: args.client_secret,
        refresh_token: args.refresh_token,
        live: args.live.then(|| LiveConfig {
            orders_per_hour: args.live_orders_per_hour,
            ..LiveConfig::default()
        }),
        fba_inventory: !args.no_fba,
        settlement_anomalies: args.settlement_anomalies,
        seller_id: args.seller_id,
        listings_apply_delay_secs: args.listings_apply_delay_secs,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config)
        .await
        .context("starting spapi-sim")?;
    let cfg = sim.config();
    println!("spapi-sim listening");
    println!("  SP-API base URL : {}", sim.base_url());
    println!("  LWA token URL   : {}", sim.token_url());
    println!("  client_id       : {}", cfg.client_id);
    println!("  client_secret   : {}", cfg.client_secret);
    println!("  refresh_token   : {}", cfg.refresh_token);
    println!("  seller id       : {}", cfg.seller_id);
    println!("  marketplaces    : {}", cfg.marketplaces.join(","));
    println!(
        "  orders / seed   : {} / {}  time scale x{}",
        cfg.orders, cfg.seed, cfg.time_scale
    );
    println!(
        "  control API     : {}/_sim/ (ground-truth, inventory, transactions, settlement-anomalies, listings, stats, faults, reset)",
        sim.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    println!("spapi-sim stopped");
    Ok(())
}
