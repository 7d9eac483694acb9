//! `api --demo`: everything a newcomer needs to try the product without Amazon.
//!
//! Starts spapi-sim in-process with a seeded seller (300 orders over 30 days in the
//! US and Canada, new orders arriving live, and FBA stock that the AFN orders
//! reserve and ship, inbound shipments refill and damage now and then, and the
//! financial transactions of those orders: shipments with their fees, refunds, the
//! monthly subscription and payouts, two orders left unsettled and two settled at
//! another price for the reconciliation list, and a catalog of MFN and FBA
//! listings with prices that an outside repricer moves now and then, so the queue
//! of price and quantity changes meets conflicts), uses a fresh SQLite database
//! `demo.sqlite` in the data directory (the real database is not touched), creates
//! the owner `demo@example.com` with a random password printed once, and points the
//! Amazon connection at the simulator. The simulator's buckets are more generous
//! than Amazon's so a newcomer can press "sync" often. Refused with
//! `APP_ENV=production`.

use anyhow::Context as _;
use entity::enums::{OrdersApiVersion, Region};
use secrecy::SecretString;
use service::Settings;
use service::amazon_account::{ConnectionInput, CredentialInput};
use spapi_sim::{LiveConfig, SimConfig, SimHandle, Simulator};
use std::collections::HashMap;

/// The demo seller's id (the simulator's and the connection's).
const SELLER_ID: &str = "A2DEMOSELLER";

/// The demo owner's email.
pub const EMAIL: &str = "demo@example.com";

/// What the demo set up; the simulator stops when this is dropped.
pub struct Demo {
    /// The simulated Amazon.
    pub sim: SimHandle,
    /// The owner's password, shown once.
    pub password: String,
}

/// Prepares the demo and points `settings` at its database.
///
/// # Errors
/// When the simulator, the database or the owner cannot be set up.
pub async fn prepare(settings: &mut Settings) -> anyhow::Result<Demo> {
    // The demo prints a password, trusts a simulator and replaces the database
    // URL: nothing a production deployment should ever do by a mistyped flag.
    if settings.app_env == service::settings::AppEnv::Production {
        anyhow::bail!(
            "--demo is refused with APP_ENV=production: run the demo with APP_ENV unset (development), or start production without --demo"
        );
    }
    let file = settings.data_dir.join("demo.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", file.display());
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e)
                    .with_context(|| format!("removing the previous demo database {path}"));
            }
            _ => {}
        }
    }
    settings.database.url = format!("sqlite://{}?mode=rwc", file.display());
    settings.database.run_migrations = true;
    // The simulated Amazon is a custom endpoint on this machine.
    settings.sync.endpoints = service::spapi::EndpointPolicy::AllowCustom;
    // Submitted listing changes are looked at often, so the demo's queue moves.
    settings.sync.listings_poll_interval = std::time::Duration::from_secs(3);

    let rates: HashMap<String, (f64, u32)> = [
        ("searchOrders", (1.0, 20)),
        ("getOrders", (1.0, 20)),
        ("getOrderItems", (5.0, 30)),
        ("listTransactions", (2.0, 20)),
    ]
    .into_iter()
    .map(|(op, plan)| (op.to_owned(), plan))
    .collect();
    let sim = Simulator::start(SimConfig {
        orders: 300,
        days: 30,
        seed: 7,
        marketplaces: vec!["ATVPDKIKX0DER".to_owned(), "A2EUQ1WTGCTBG2".to_owned()],
        rate_overrides: rates,
        // Two shipped orders without a settlement and two settled at another price,
        // so the reconciliation list has something to show.
        settlement_anomalies: 2,
        seller_id: SELLER_ID.to_owned(),
        // Amazon shows an accepted change minutes later; the demo in 20 seconds,
        // and an outside repricer moves a price every few minutes.
        listings_apply_delay_secs: 20,
        // A listings feed waits 5 seconds in Amazon's queue and takes 30 per 1,000
        // messages (Amazon: minutes to hours).
        feed_queue_secs: 5,
        feed_processing_secs_per_1000_messages: 30,
        reprices_per_hour: 20.0,
        live: Some(LiveConfig {
            orders_per_hour: 60.0,
            updates_per_hour: 120.0,
            ..LiveConfig::default()
        }),
        ..SimConfig::default()
    })
    .await
    .context("starting the simulated Amazon")?;

    let db = service::db::connect(settings).await?;
    let password = format!("demo-{:016x}", rand::random::<u64>());
    service::auth::register_owner(&db, EMAIL, &password)
        .await
        .context("creating the demo owner")?;
    service::amazon_account::upsert(
        &db,
        ConnectionInput {
            seller_id: SELLER_ID.to_owned(),
            region: Region::Na,
            sandbox: false,
            marketplace_ids: sim.config().marketplaces.clone(),
            orders_api_version: OrdersApiVersion::V2026_01_01,
            endpoint: Some(sim.base_url()),
            token_url: Some(sim.token_url()),
            timezone: None,
        },
        service::spapi::EndpointPolicy::AllowCustom,
    )
    .await
    .context("saving the demo connection")?;
    service::amazon_account::set_credential(
        &db,
        &settings.encryption_key,
        CredentialInput {
            lwa_client_id: spapi_sim::DEFAULT_CLIENT_ID.to_owned(),
            lwa_client_secret: SecretString::from(spapi_sim::DEFAULT_CLIENT_SECRET.to_owned()),
            refresh_token: SecretString::from(spapi_sim::DEFAULT_REFRESH_TOKEN.to_owned()),
        },
    )
    .await
    .context("storing the demo credentials")?;
    Ok(Demo { sim, password })
}
