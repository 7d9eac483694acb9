//! `sync-bench`: how fast the orders sync pulls a seller's history from spapi-sim
//! (and the inventory sync its FBA stock, and the transactions sync a 90-day
//! back-fill of the seller's money, in the fewest calls, and the push of a price
//! change of a whole catalog against the floor of the patch bucket),
//! compared with the floor the usage plans allow and with the strategy of the
//! original design (seed 001: v0, items for every order, backoff 2-4-8-16-32 s on
//! 429).
//!
//! `cargo run --release -p e2e --bin sync-bench -- --orders 2000 --days 14 --time-scale 200`
//!
//! Each strategy gets its own simulator (same seed, so the same orders) and a fresh
//! SQLite database. The floor of a run is the least time any client making the same
//! calls could take given the buckets: for each operation, (calls - burst) / rate,
//! and the largest of those (operations have separate buckets). All times are real
//! seconds under the time scale; multiply by the scale for Amazon's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark binary: any failure aborts the measurement"
)]

use chrono::{SecondsFormat, Utc};
use clap::Parser;
use entity::amazon_connection;
use entity::enums::{OrdersApiVersion, Region};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use secrecy::SecretString;
use serde_json::{Value, json};
use service::spapi::lwa::LwaCredentials;
use service::spapi::{ClientConfig, Operation, SpApiClient};
use service::sync::{
    InventoryScan, SyncConfig, SyncOptions, run_inventory_sync_with, run_orders_sync_with,
    run_transactions_sync_with,
};
use spapi_sim::{SimConfig, SimHandle, Simulator};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Benchmark the orders sync against spapi-sim")]
struct Args {
    /// Orders in the seller's history.
    #[arg(long, default_value_t = 2000)]
    orders: usize,
    /// Days the history spans.
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// How many times faster than Amazon the simulator's clock and buckets run.
    #[arg(long, default_value_t = 200.0)]
    time_scale: f64,
    /// Generator seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Products in the catalog of the inventory benchmark (its FBA SKUs are those
    /// the orders sold through Amazon's network).
    #[arg(long, default_value_t = 1000)]
    catalog: usize,
    /// Which benchmarks to run.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "orders,inventory,transactions,listings"
    )]
    only: Vec<String>,
    /// Listings whose price the push benchmark changes at once.
    #[arg(long, default_value_t = 500)]
    push_skus: usize,
    /// Days of history of the transactions back-fill (the orders of that span,
    /// `--orders` per `--days`, and their transactions).
    #[arg(long, default_value_t = 90)]
    finance_days: u32,
}

struct Row {
    name: &'static str,
    wall: f64,
    floor: f64,
    calls: u64,
    throttled: u64,
    inc_calls: u64,
    inc_rows: u64,
}

async fn start_sim(args: &Args) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        orders: args.orders,
        days: args.days,
        seed: args.seed,
        time_scale: args.time_scale,
        marketplaces: vec!["ATVPDKIKX0DER".to_owned()],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    // Let the newest order age past Amazon's two-minute listing lag.
    sim.settle(chrono::Duration::seconds(200)).await;
    sim
}

fn floor_seconds(sim: &SimHandle, scale: f64) -> f64 {
    let stats = sim.stats();
    Operation::ALL
        .iter()
        .map(|op| {
            let (rate, burst) = op.usage_plan();
            // Only the answers a client needed count: a 429 is not progress.
            let calls = stats.operations.get(op.name()).map_or(0, |s| s.ok);
            calls.saturating_sub(u64::from(burst)) as f64 / (rate * scale)
        })
        .fold(0.0, f64::max)
}

fn totals(sim: &SimHandle) -> (u64, u64) {
    let stats = sim.stats();
    let ops = ["getOrders", "getOrderItems", "searchOrders"];
    let calls = ops
        .iter()
        .map(|o| stats.operations.get(*o).map_or(0, |s| s.calls))
        .sum();
    let throttled = ops
        .iter()
        .map(|o| stats.operations.get(*o).map_or(0, |s| s.throttled))
        .sum();
    (calls, throttled)
}

async fn ours(args: &Args, name: &'static str, version: OrdersApiVersion) -> Row {
    let sim = start_sim(args).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.sqlite?mode=rwc", dir.path().display());
    let db = service::db::open(&url).await.unwrap();
    <migration::Migrator as migration::MigratorTrait>::up(&db, None)
        .await
        .unwrap();
    let conn = connection(&db, &sim, version).await;
    let client = client(&conn);
    let settings = SyncConfig {
        first_lookback: Duration::from_secs(u64::from(args.days + 1) * 86_400),
        ..SyncConfig::default()
    };
    let started = Instant::now();
    let outcome = run_orders_sync_with(&db, &client, &conn, &settings, SyncOptions::default())
        .await
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert!(outcome.error.is_none(), "{name}: {:?}", outcome.error);
    let floor = floor_seconds(&sim, args.time_scale);
    let (calls, throttled) = totals(&sim);

    sim.reset_stats();
    let again = run_orders_sync_with(&db, &client, &conn, &settings, SyncOptions::default())
        .await
        .unwrap();
    let (inc_calls, _) = totals(&sim);
    let p = again.progress;
    Row {
        name,
        wall,
        floor,
        calls,
        throttled,
        inc_calls,
        inc_rows: p.inserted + p.updated + p.items_upserted,
    }
}

fn inventory_calls(sim: &SimHandle) -> u64 {
    sim.stats()
        .operations
        .get(Operation::GetInventorySummaries.name())
        .map_or(0, |s| s.calls)
}

/// The inventory sync on the same history with a larger catalog: a full scan, an
/// incremental run with nothing changed, and the refresh after an orders sync.
async fn inventory(args: &Args) {
    let sim = Simulator::start(SimConfig {
        orders: args.orders,
        days: args.days,
        seed: args.seed,
        time_scale: args.time_scale,
        marketplaces: vec!["ATVPDKIKX0DER".to_owned()],
        catalog_size: args.catalog,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    sim.settle(chrono::Duration::seconds(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.sqlite?mode=rwc", dir.path().display());
    let db = service::db::open(&url).await.unwrap();
    <migration::Migrator as migration::MigratorTrait>::up(&db, None)
        .await
        .unwrap();
    let conn = connection(&db, &sim, OrdersApiVersion::V2026_01_01).await;
    let client = client(&conn);
    let settings = SyncConfig {
        first_lookback: Duration::from_secs(u64::from(args.days + 1) * 86_400),
        ..SyncConfig::default()
    };
    let skus = sim.inventory_ground_truth().len() as u64;
    let (rate, burst) = Operation::GetInventorySummaries.usage_plan();

    sim.reset_stats();
    let started = Instant::now();
    let full = run_inventory_sync_with(
        &db,
        &client,
        &conn,
        &settings,
        InventoryScan::Full,
        SyncOptions::default(),
    )
    .await
    .unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert!(full.error.is_none(), "{:?}", full.error);
    let calls = inventory_calls(&sim);
    let pages = skus.div_ceil(50).max(1);
    let floor = pages.saturating_sub(u64::from(burst)) as f64 / (rate * args.time_scale);

    sim.reset_stats();
    let incremental = run_inventory_sync_with(
        &db,
        &client,
        &conn,
        &settings,
        InventoryScan::Incremental,
        SyncOptions::default(),
    )
    .await
    .unwrap();
    let inc_calls = inventory_calls(&sim);

    let orders = run_orders_sync_with(&db, &client, &conn, &settings, SyncOptions::default())
        .await
        .unwrap();
    sim.add_orders(args.orders / 20);
    sim.settle(chrono::Duration::seconds(200)).await;
    // A new client, as each run has: it learns the (time-scaled) simulator's clock.
    let client = self::client(&conn);
    let sold = run_orders_sync_with(&db, &client, &conn, &settings, SyncOptions::default())
        .await
        .unwrap();
    assert!(orders.error.is_none() && sold.error.is_none());
    sim.reset_stats();
    let refresh = run_inventory_sync_with(
        &db,
        &client,
        &conn,
        &settings,
        InventoryScan::Skus(sold.stock_skus.clone()),
        SyncOptions::default(),
    )
    .await
    .unwrap();
    assert!(refresh.error.is_none(), "{:?}", refresh.error);
    let refresh_calls = inventory_calls(&sim);
    let sold_skus = sold.stock_skus.len() as u64;

    println!(
        "\ninventory: {skus} FBA SKUs in one marketplace (catalog of {})\n",
        args.catalog
    );
    println!("| run | SKUs read | API calls | floor calls | wall s | floor s | 429s |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| full scan | {} | {calls} | {pages} (SKUs / 50) | {wall:.2} | {floor:.2} | {} |",
        full.progress.found, full.throttled
    );
    println!(
        "| incremental, nothing changed | {} | {inc_calls} | 1 | - | - | {} |",
        incremental.progress.found, incremental.throttled
    );
    println!(
        "| refresh after an orders sync that sold {sold_skus} FBA SKUs | {} | {refresh_calls} | {} (SKUs / 50) | - | - | {} |",
        refresh.progress.found,
        sold_skus.div_ceil(50),
        refresh.throttled
    );
}

/// A back-fill of `--finance-days` of transactions: API calls and time against
/// the floor (one call per page of 100 listable transactions; the bucket's burst,
/// then its rate), and an incremental run with nothing new.
async fn transactions(args: &Args) {
    let orders = args.orders * args.finance_days as usize / args.days.max(1) as usize;
    let sim = Simulator::start(SimConfig {
        orders,
        days: args.finance_days,
        seed: args.seed,
        time_scale: args.time_scale,
        marketplaces: vec!["ATVPDKIKX0DER".to_owned()],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.sqlite?mode=rwc", dir.path().display());
    let db = service::db::open(&url).await.unwrap();
    <migration::Migrator as migration::MigratorTrait>::up(&db, None)
        .await
        .unwrap();
    let conn = connection(&db, &sim, OrdersApiVersion::V2026_01_01).await;
    let client = client(&conn);
    let settings = SyncConfig::default();
    let now = sim.now();
    let since = now - chrono::Duration::days(i64::from(args.finance_days));
    let listable = sim
        .transactions_ground_truth()
        .iter()
        .filter(|t| t.visible_at <= now && t.posted_date >= since)
        .count() as u64;
    let (rate, burst) = Operation::ListTransactions.usage_plan();
    let calls_of = |sim: &SimHandle| {
        sim.stats()
            .operations
            .get(Operation::ListTransactions.name())
            .map_or(0, |s| s.calls)
    };

    sim.reset_stats();
    let counting = Counting {
        inner: &client,
        empty_pages: std::sync::atomic::AtomicU64::new(0),
    };
    let started = Instant::now();
    let fill = run_transactions_sync_with(
        &db,
        &counting,
        &conn,
        &settings,
        SyncOptions {
            since: Some(since),
            ..SyncOptions::default()
        },
    )
    .await
    .unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert!(fill.error.is_none(), "{:?}", fill.error);
    let calls = calls_of(&sim);
    let empty = counting.empty_pages.into_inner();
    let pages = listable.div_ceil(100).max(1);
    let floor = pages.saturating_sub(u64::from(burst)) as f64 / (rate * args.time_scale);

    let client = self::client(&conn);
    sim.reset_stats();
    let incremental =
        run_transactions_sync_with(&db, &client, &conn, &settings, SyncOptions::default())
            .await
            .unwrap();
    assert!(incremental.error.is_none(), "{:?}", incremental.error);
    let inc_calls = calls_of(&sim);

    println!(
        "
transactions: a {}-day back-fill, {orders} orders, {listable} transactions listable
",
        args.finance_days
    );
    println!(
        "| run | transactions read | windows | API calls | of which empty pages (Amazon's) | floor calls | wall s | floor s | 429s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| back-fill | {} | {} | {calls} | {empty} | {pages} (transactions / 100) | {wall:.2} | {floor:.2} | {} |",
        fill.progress.found, fill.progress.windows_total, fill.throttled
    );
    println!(
        "| incremental, nothing new (48 h overlap) | {} | {} | {inc_calls} | - | 1 | - | - | {} |",
        incremental.progress.found, incremental.progress.windows_total, incremental.throttled
    );
    println!(
        "\nAt Amazon's 0.5 requests/s the back-fill's {calls} calls take about {:.0} s; the floor's {pages}, {:.0} s.",
        calls.saturating_sub(u64::from(burst)) as f64 / rate,
        pages.saturating_sub(u64::from(burst)) as f64 / rate
    );
}

/// The real client, counting the empty pages Amazon answers (with a `nextToken`:
/// the model warns of them) and the windows' first pages.
struct Counting<'a> {
    inner: &'a SpApiClient,
    empty_pages: std::sync::atomic::AtomicU64,
}

#[async_trait::async_trait]
impl service::spapi::SpApi for Counting<'_> {
    async fn marketplace_participations(
        &self,
    ) -> Result<Vec<service::spapi::Participation>, service::spapi::SpApiError> {
        self.inner.marketplace_participations().await
    }
    fn amazon_now(&self) -> chrono::DateTime<Utc> {
        self.inner.amazon_now()
    }
    fn clock_known(&self) -> bool {
        self.inner.clock_known()
    }
    fn stats(&self) -> service::spapi::ClientStats {
        self.inner.stats()
    }
}

#[async_trait::async_trait]
impl service::spapi::TransactionsApi for Counting<'_> {
    async fn transactions_page(
        &self,
        query: &service::spapi::TransactionsQuery,
        token: Option<&str>,
    ) -> Result<service::spapi::TransactionsPage, service::spapi::SpApiError> {
        let page = self.inner.transactions_page(query, token).await?;
        if page.transactions.is_empty() && page.next_token.is_some() {
            self.empty_pages
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(page)
    }
}

async fn connection(
    db: &sea_orm::DatabaseConnection,
    sim: &SimHandle,
    version: OrdersApiVersion,
) -> amazon_connection::Model {
    amazon_connection::ActiveModel {
        id: Set(1),
        seller_id: Set("A2BENCH".into()),
        region: Set(Region::Na),
        sandbox: Set(false),
        marketplace_ids: Set(json!(["ATVPDKIKX0DER"])),
        orders_api_version: Set(version),
        endpoint: Set(Some(sim.base_url())),
        token_url: Set(Some(sim.token_url())),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

fn client(conn: &amazon_connection::Model) -> SpApiClient {
    SpApiClient::new(
        ClientConfig::for_connection(
            conn,
            LwaCredentials {
                client_id: spapi_sim::DEFAULT_CLIENT_ID.to_owned(),
                client_secret: SecretString::from(spapi_sim::DEFAULT_CLIENT_SECRET.to_owned()),
                refresh_token: SecretString::from(spapi_sim::DEFAULT_REFRESH_TOKEN.to_owned()),
            },
            service::spapi::EndpointPolicy::AllowCustom,
        )
        .unwrap(),
    )
    .unwrap()
}

/// The original design's client: v0, items for every order in the window, no
/// limiter, backoff 2, 4, 8, 16, 32 s (scaled) on 429. It writes nothing, which
/// only flatters it.
struct Seed {
    http: reqwest::Client,
    base: String,
    token_url: String,
    token: std::sync::Mutex<String>,
    scale: f64,
}

async fn exchange(http: &reqwest::Client, token_url: &str) -> String {
    let token: Value = http
        .post(token_url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", spapi_sim::DEFAULT_REFRESH_TOKEN),
            ("client_id", spapi_sim::DEFAULT_CLIENT_ID),
            ("client_secret", spapi_sim::DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

impl Seed {
    async fn new(sim: &SimHandle, scale: f64) -> Self {
        let http = reqwest::Client::new();
        let token = exchange(&http, &sim.token_url()).await;
        Self {
            http,
            base: sim.base_url(),
            token_url: sim.token_url(),
            token: std::sync::Mutex::new(token),
            scale,
        }
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        for backoff in [2.0, 4.0, 8.0, 16.0, 32.0, 0.0] {
            let r = loop {
                let token = self.token.lock().unwrap().clone();
                let r = self
                    .http
                    .get(format!("{}{path}", self.base))
                    .query(query)
                    .header("x-amz-access-token", token)
                    .send()
                    .await
                    .unwrap();
                // Its helper refreshes an expired access token and tries again.
                if r.status().as_u16() != 403 {
                    break r;
                }
                let fresh = exchange(&self.http, &self.token_url).await;
                *self.token.lock().unwrap() = fresh;
            };
            if r.status().as_u16() != 429 {
                assert!(
                    r.status().is_success(),
                    "seed strategy: {} on {path}",
                    r.status()
                );
                return r.json().await.unwrap();
            }
            if backoff == 0.0 {
                break;
            }
            tokio::time::sleep(Duration::from_secs_f64(backoff / self.scale)).await;
        }
        panic!("seed strategy: still throttled after its 5 retries");
    }

    async fn sync(&self, after: chrono::DateTime<Utc>, before: chrono::DateTime<Utc>) {
        let mut token: Option<String> = None;
        loop {
            let mut q = vec![
                ("MarketplaceIds", "ATVPDKIKX0DER".to_owned()),
                (
                    "LastUpdatedAfter",
                    after.to_rfc3339_opts(SecondsFormat::Secs, true),
                ),
                (
                    "LastUpdatedBefore",
                    before.to_rfc3339_opts(SecondsFormat::Secs, true),
                ),
            ];
            if let Some(t) = &token {
                q.push(("NextToken", t.clone()));
            }
            let page = self.get("/orders/v0/orders", &q).await;
            for order in page["payload"]["Orders"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let id = order["AmazonOrderId"].as_str().unwrap().to_owned();
                self.get(&format!("/orders/v0/orders/{id}/orderItems"), &[])
                    .await;
            }
            match page["payload"]["NextToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => return,
            }
        }
    }
}

async fn seed_strategy(args: &Args) -> Row {
    let sim = start_sim(args).await;
    let seed = Seed::new(&sim, args.time_scale).await;
    let before = sim.now() - chrono::Duration::minutes(3);
    let after = before - chrono::Duration::days(i64::from(args.days) + 1);
    let started = Instant::now();
    seed.sync(after, before).await;
    let wall = started.elapsed().as_secs_f64();
    let floor = floor_seconds(&sim, args.time_scale);
    let (calls, throttled) = totals(&sim);
    // Its incremental run: the last 2 hours again, items for every order in them.
    sim.reset_stats();
    let before = sim.now() - chrono::Duration::minutes(3);
    seed.sync(before - chrono::Duration::hours(2), before).await;
    let (inc_calls, _) = totals(&sim);
    Row {
        name: "seed 001 (v0, items always, 2-32 s backoff)",
        wall,
        floor,
        calls,
        throttled,
        inc_calls,
        inc_rows: 0,
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!(
        "sync-bench: {} orders over {} days, time scale {}x (real seconds; x{} for Amazon's)\n",
        args.orders, args.days, args.time_scale, args.time_scale
    );
    let wants = |name: &str| args.only.iter().any(|o| o == name);
    if wants("orders") {
        orders(&args).await;
    }
    if wants("inventory") {
        inventory(&args).await;
    }
    if wants("transactions") {
        transactions(&args).await;
    }
    if wants("listings") {
        listings_push(&args).await;
    }
}

async fn orders(args: &Args) {
    let rows = vec![
        ours(args, "ours, 2026-01-01", OrdersApiVersion::V2026_01_01).await,
        ours(args, "ours, v0", OrdersApiVersion::V0).await,
        seed_strategy(args).await,
    ];
    println!(
        "| strategy | wall s | floor s | wall/floor | API calls | 429s | incremental calls | incremental rows written |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let ratio = if r.floor > 0.0 {
            format!("{:.3}", r.wall / r.floor)
        } else {
            "within burst".to_owned()
        };
        println!(
            "| {} | {:.2} | {:.2} | {ratio} | {} | {} | {} | {} |",
            r.name, r.wall, r.floor, r.calls, r.throttled, r.inc_calls, r.inc_rows
        );
    }
    let seed = &rows[2];
    println!(
        "\nseed wall / ours 2026-01-01 wall: {:.1}x; seed wall / ours v0 wall: {:.2}x",
        seed.wall / rows[0].wall,
        seed.wall / rows[1].wall
    );
}

/// Push passes after `first`, as the worker runs them (every LISTINGS_POLL_SECS,
/// 15 s, in simulated time), until nothing is in flight: the passes and the
/// changes that ended live.
async fn push_until_live(
    db: &sea_orm::DatabaseConnection,
    client: &SpApiClient,
    conn: &amazon_connection::Model,
    time_scale: f64,
    first: service::listings::PushReport,
) -> (u64, u64) {
    let config = service::listings::PushConfig::default();
    let (mut passes, mut done) = (1, first.done);
    let mut in_flight = first.in_flight;
    while in_flight > 0 {
        tokio::time::sleep(Duration::from_secs_f64(15.0 / time_scale)).await;
        let report = service::listings::push_once_with(
            db,
            client,
            conn,
            &config,
            service::listings::PushMode::Submit,
        )
        .await
        .unwrap();
        passes += 1;
        done += report.done;
        in_flight = report.in_flight;
    }
    (passes, done)
}

/// A price change of every listing of a `--push-skus` catalog: queued, submitted,
/// and followed until Amazon shows each (the simulator applies an accepted patch
/// 300 simulated seconds after it, as Amazon does minutes later).
async fn listings_push(args: &Args) {
    use service::listings::{self, ChangeRequest, PushConfig, PushMode};
    let sim = Simulator::start(SimConfig {
        orders: 50,
        days: 7,
        seed: args.seed,
        time_scale: args.time_scale,
        catalog_size: args.push_skus,
        seller_id: "A2BENCH".to_owned(),
        marketplaces: vec!["ATVPDKIKX0DER".to_owned()],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.sqlite?mode=rwc", dir.path().display());
    let db = service::db::open(&url).await.unwrap();
    <migration::Migrator as migration::MigratorTrait>::up(&db, None)
        .await
        .unwrap();
    let conn = connection(&db, &sim, OrdersApiVersion::V2026_01_01).await;
    let client = client(&conn);
    let calls_of = |sim: &SimHandle, op: Operation| {
        sim.stats().operations.get(op.name()).map_or(0, |s| s.calls)
    };
    let seconds = |real: f64| real * args.time_scale;

    sim.reset_stats();
    let started = Instant::now();
    let sync = service::sync::run_listings_sync_with(
        &db,
        &client,
        &conn,
        &SyncConfig::default(),
        service::sync::ListingsScan::Full,
        SyncOptions::default(),
    )
    .await
    .unwrap();
    assert!(sync.error.is_none(), "{:?}", sync.error);
    let sync_wall = seconds(started.elapsed().as_secs_f64());
    let sync_calls = calls_of(&sim, Operation::SearchListingsItems);
    let listed = sync.progress.found;
    let (search_rate, search_burst) = Operation::SearchListingsItems.usage_plan();
    let sync_floor_calls = listed.div_ceil(20);
    let sync_floor = sync_floor_calls.saturating_sub(u64::from(search_burst)) as f64 / search_rate;

    let changes: Vec<ChangeRequest> = sim
        .listings_ground_truth()
        .iter()
        .filter_map(|l| {
            let price: rust_decimal::Decimal = l.price.as_ref()?.amount.parse().ok()?;
            Some(ChangeRequest {
                marketplace_id: l.marketplace_id.clone(),
                seller_sku: l.sku.clone(),
                price: Some((price + rust_decimal::Decimal::ONE).to_string()),
                quantity: None,
            })
        })
        .collect();
    let queued = changes.len() as u64;
    for chunk in changes.chunks(listings::MAX_CHANGES_PER_CALL) {
        listings::queue_changes(&db, chunk.to_vec(), "bench")
            .await
            .unwrap();
    }
    listings::request_submit(&db, None, true, entity::enums::SubmitVia::Patch)
        .await
        .unwrap();

    sim.reset_stats();
    let config = PushConfig::default();
    let started = Instant::now();
    let first = listings::push_once_with(&db, &client, &conn, &config, PushMode::Submit)
        .await
        .unwrap();
    let send_wall = seconds(started.elapsed().as_secs_f64());
    let send_patches = calls_of(&sim, Operation::PatchListingsItem);
    let send_searches = calls_of(&sim, Operation::SearchListingsItems);
    let (passes, done) = push_until_live(&db, &client, &conn, args.time_scale, first).await;
    let live_wall = seconds(started.elapsed().as_secs_f64());
    let stats = sim.stats();
    let throttled: u64 = stats.operations.values().map(|s| s.throttled).sum();
    let patches = calls_of(&sim, Operation::PatchListingsItem);
    let searches = calls_of(&sim, Operation::SearchListingsItems);
    let (patch_rate, patch_burst) = Operation::PatchListingsItem.usage_plan();
    let patch_floor = queued.saturating_sub(u64::from(patch_burst)) as f64 / patch_rate;
    assert_eq!(done, queued, "every change ends live");

    println!(
        "
listings: a price change of {queued} listings (one marketplace), in Amazon's seconds (real x {})
",
        args.time_scale
    );
    println!("| step | patch calls | search calls | 429s | seconds | floor s | /floor |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| catalog sync ({listed} listings) | 0 | {sync_calls} | {} | {sync_wall:.0} | {sync_floor:.0} ({sync_floor_calls} pages of 20) | {:.2} |",
        sync.throttled,
        sync_wall / sync_floor.max(1e-9)
    );
    println!(
        "| send: checks + one patch per SKU | {send_patches} | {send_searches} | - | {send_wall:.0} | {patch_floor:.0} ({queued} patches at {patch_rate}/s, burst {patch_burst}) | {:.2} |",
        send_wall / patch_floor.max(1e-9)
    );
    println!(
        "| until all live ({passes} passes, 300 s for Amazon to apply) | {patches} | {searches} | {throttled} | {live_wall:.0} | {:.0} (send floor + 300) | {:.2} |",
        patch_floor + 300.0,
        live_wall / (patch_floor + 300.0)
    );
    println!(
        "\n{queued} price changes: {:.1} minutes to send (floor {:.1}), {:.1} minutes until Amazon shows them all.",
        send_wall / 60.0,
        patch_floor / 60.0,
        live_wall / 60.0
    );
    let patch_calls: u64 = stats.operations.values().map(|s| s.calls).sum();

    // The same catalog again, one more unit each, as one JSON_LISTINGS_FEED.
    let changes: Vec<ChangeRequest> = sim
        .listings_ground_truth()
        .iter()
        .filter_map(|l| {
            let price: rust_decimal::Decimal = l.price.as_ref()?.amount.parse().ok()?;
            Some(ChangeRequest {
                marketplace_id: l.marketplace_id.clone(),
                seller_sku: l.sku.clone(),
                price: Some((price + rust_decimal::Decimal::ONE).to_string()),
                quantity: None,
            })
        })
        .collect();
    for chunk in changes.chunks(listings::MAX_CHANGES_PER_CALL) {
        listings::queue_changes(&db, chunk.to_vec(), "bench")
            .await
            .unwrap();
    }
    listings::request_submit(&db, None, true, entity::enums::SubmitVia::Feed)
        .await
        .unwrap();
    sim.reset_stats();
    let started = Instant::now();
    let first = listings::push_once_with(&db, &client, &conn, &config, PushMode::Submit)
        .await
        .unwrap();
    assert_eq!(first.feeds_sent, 1, "{first:?}");
    let feed_send_wall = seconds(started.elapsed().as_secs_f64());
    let (feed_passes, feed_done) =
        push_until_live(&db, &client, &conn, args.time_scale, first).await;
    let feed_live_wall = seconds(started.elapsed().as_secs_f64());
    let fstats = sim.stats();
    let feed_calls: u64 = fstats.operations.values().map(|s| s.calls).sum();
    let feed_throttled: u64 = fstats.operations.values().map(|s| s.throttled).sum();
    assert_eq!(feed_done, queued, "every change ends live");
    let per_op = |st: &spapi_sim::SimStats| {
        let mut ops: Vec<String> = st
            .operations
            .iter()
            .filter(|(_, s)| s.calls > 0)
            .map(|(name, s)| format!("{name} {}", s.calls))
            .collect();
        ops.sort();
        ops.join(", ")
    };
    println!(
        "\n{queued} price changes by patch and by feed (Amazon's seconds; the simulator processes a feed after 60 s in its queue at 120 s per 1,000 messages and applies accepted changes 300 s later):\n"
    );
    println!(
        "| way | SP-API calls | 429s | sent after (min) | all live after (min) | passes | calls by operation |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| patch (one per SKU) | {patch_calls} | {throttled} | {:.1} | {:.1} | {passes} | {} |",
        send_wall / 60.0,
        live_wall / 60.0,
        per_op(&stats)
    );
    println!(
        "| JSON_LISTINGS_FEED | {feed_calls} | {feed_throttled} | {:.1} | {:.1} | {feed_passes} | {} |",
        feed_send_wall / 60.0,
        feed_live_wall / 60.0,
        per_op(&fstats)
    );
}
