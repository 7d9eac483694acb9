//! `chaos`: the real `worker run` binary against spapi-sim under faults, live
//! updates and `kill -9`, then a comparison of our tables with the simulator's
//! ground truth (orders, and the FBA stock and financial transactions the worker
//! syncs beside them, and the listing changes it pushes). Exits non-zero when a
//! single order, SKU or transaction is lost, duplicated or stale, or a queued price
//! or quantity change does not end live on Amazon.
//!
//! ```sh
//! cargo build -p worker && cargo run -p e2e --bin chaos -- --orders 1000 --kills 3   # short form
//! cargo build --release -p worker && cargo run --release -p e2e --bin chaos -- \
//!     --orders 10000 --days 60 --kills 10 --chaos-secs 240 --time-scale 200          # long form
//! ```
//!
//! Per API version: a fresh database (a new one on the cluster at `--pg-url` /
//! `TEST_PG_URL`, else a temporary SQLite file), spapi-sim in-process with live new
//! orders and status changes, `--fault-rate` of SP-API answers faulted (500, 503,
//! timeouts, cut-off bodies, dropped connections, 429s, plus 429 bursts and early
//! token expiry), the connection and sealed credentials stored as an operator
//! would, and the worker binary started as a child process. During `--chaos-secs`
//! the worker is SIGKILLed `--kills` times at seeded random moments and restarted at
//! once. As soon as the worker's first listings sync has stored the catalog, price
//! changes of up to 40 listings are queued and submitted (the MFN ones also set a
//! quantity after a raised price: two phases), so kills land in the middle of the
//! push. Then the live updates stop, the faults clear, the simulator settles, a
//! clean sync that started after that must succeed (for orders: one whose window
//! reached past the last change) and every queued change must end, and the tables
//! are compared.

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use chrono::Utc;
use clap::{Parser, ValueEnum};
use e2e::TestDb;
use e2e::truth::Comparison;
use entity::enums::{OrdersApiVersion, SyncKind};
use entity::sync_runs;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use service::amazon_account::EncryptionKey;
use spapi_sim::{FaultKind, Faults, LiveConfig, ScheduledFault, SimConfig, SimHandle, Simulator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEY: [u8; 32] = [42; 32];
const US: &str = "ATVPDKIKX0DER";
const CA: &str = "A2EUQ1WTGCTBG2";
const SELLER_ID: &str = "A2CHAOS";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Version {
    V0,
    V2026,
    Both,
}

#[derive(Debug, Parser)]
#[command(
    about = "Kill -9, faults and live updates against the real worker; then compare with the truth"
)]
struct Args {
    /// Orders in the simulator's history.
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// Days of simulated history the orders spread over.
    #[arg(long, default_value_t = 10)]
    days: u32,
    /// How many times the worker is killed with SIGKILL (and restarted).
    #[arg(long, default_value_t = 3)]
    kills: u32,
    /// Share of SP-API answers that get a fault (0..1).
    #[arg(long, default_value_t = 0.2)]
    fault_rate: f64,
    /// Orders API version(s) to run.
    #[arg(long, value_enum, default_value_t = Version::Both)]
    version: Version,
    /// The simulated clock, quota and token lifetimes run this many times faster.
    #[arg(long, default_value_t = 100.0)]
    time_scale: f64,
    /// Real seconds of chaos (faults, live updates, kills) before the clean phase.
    #[arg(long, default_value_t = 40)]
    chaos_secs: u64,
    /// New orders per simulated hour while live.
    #[arg(long, default_value_t = 30.0)]
    live_orders_per_hour: f64,
    /// Status changes per simulated hour while live.
    #[arg(long, default_value_t = 60.0)]
    live_updates_per_hour: f64,
    /// Seed of the simulator, the faults and the kill moments.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// PostgreSQL admin URL: each version gets a new database there. Without it, a
    /// temporary SQLite file.
    #[arg(long, env = "TEST_PG_URL")]
    pg_url: Option<String>,
    /// Seconds to wait for the final clean sync.
    #[arg(long, default_value_t = 300)]
    final_timeout_secs: u64,
    /// The worker binary (default: `worker` next to this executable).
    #[arg(long, env = "CHAOS_WORKER_BIN")]
    worker: Option<PathBuf>,
}

/// What one version's run measured.
struct Report {
    version: OrdersApiVersion,
    comparison: Comparison,
    inventory: e2e::truth::InventoryComparison,
    transactions: e2e::truth::TransactionsComparison,
    listings: ListingsReport,
    kills: u32,
    kills_mid_run: u32,
    takeovers: u64,
    runs: BTreeMap<String, u64>,
    faults: BTreeMap<String, u64>,
    calls: u64,
    faulted_calls: u64,
    throttled: u64,
    live_orders_added: usize,
    chaos_wall: Duration,
    wall: Duration,
    logs: PathBuf,
}

/// What became of the queued listing changes.
#[derive(Debug, Default)]
struct ListingsReport {
    queued: u64,
    done: u64,
    not_applied: u64,
    failed: u64,
    /// Not in a final state when the run ended.
    stuck: u64,
    /// Done, but Amazon's price or quantity is not the desired one.
    wrong_on_amazon: u64,
    /// Patches Amazon accepted (a change needs one, or two in two phases).
    patches_accepted: u64,
    /// Feeds Amazon received, and those it processed to DONE.
    feeds: u64,
    feeds_done: u64,
    /// Patches the changes needed at least.
    patches_needed: u64,
    examples: Vec<String>,
}

impl ListingsReport {
    fn is_good(&self) -> bool {
        self.queued > 0 && self.done == self.queued && self.stuck == 0 && self.wrong_on_amazon == 0
    }
}

/// Queues and submits price changes of up to 40 listings the worker has synced:
/// MFN ones raise the price by 1 and set a quantity (two phases); of the FBA ones,
/// the even raise the price by 1 and the odd lower it by 0.50. False until a listings sync has succeeded.
async fn queue_listing_changes(t: &TestDb) -> Result<bool> {
    use entity::amazon_listing;
    use rust_decimal::Decimal;
    let synced = sync_runs::Entity::find()
        .filter(sync_runs::Column::Kind.eq(SyncKind::Listings))
        .filter(sync_runs::Column::Status.eq(entity::enums::SyncStatus::Succeeded))
        .count(&t.db)
        .await?;
    if synced == 0 {
        return Ok(false);
    }
    let listings = amazon_listing::Entity::find()
        .filter(amazon_listing::Column::PriceAmount.is_not_null())
        .all(&t.db)
        .await?;
    if listings.is_empty() {
        return Ok(false);
    }
    // The MFN ones first: they carry the two-phase changes.
    let mut listings = listings;
    listings.sort_by_key(|l| l.fulfillment_channel.as_deref() != Some("MFN"));
    let changes = listings
        .iter()
        .filter(|l| l.price_amount.is_some_and(|p| p.0 > Decimal::ONE))
        .take(40)
        .enumerate()
        .map(|(i, l)| {
            let price = l.price_amount.map(|p| p.0).unwrap_or_default();
            let decimals =
                service::listings::currency_decimals(l.price_currency.as_deref().unwrap_or("USD"));
            let mfn = l.fulfillment_channel.as_deref() == Some("MFN");
            let raise = i % 2 == 0 || mfn;
            let step = if decimals == 0 {
                Decimal::from(50)
            } else {
                Decimal::new(50, 2)
            };
            service::listings::ChangeRequest {
                marketplace_id: l.marketplace_id.clone(),
                seller_sku: l.seller_sku.clone(),
                price: Some(
                    if raise {
                        price + step + step
                    } else {
                        price - step
                    }
                    .to_string(),
                ),
                quantity: mfn.then_some(10 + i as i64),
            }
        })
        .collect();
    let queued = service::listings::queue_changes(&t.db, changes, "chaos")
        .await
        .context("queue listing changes")?;
    // Half go as one JSON_LISTINGS_FEED per marketplace, the rest by patch.
    let ids: Vec<i64> = queued.iter().map(|c| c.id).collect();
    let (by_feed, by_patch) = ids.split_at(ids.len() / 2);
    for (ids, via) in [
        (by_feed, entity::enums::SubmitVia::Feed),
        (by_patch, entity::enums::SubmitVia::Patch),
    ] {
        service::listings::request_submit(&t.db, Some(ids), true, via)
            .await
            .context("submit listing changes")?;
    }
    Ok(true)
}

/// How many queued listing changes are not final yet.
async fn unfinished_listing_changes(t: &TestDb) -> Result<u64> {
    Ok(entity::listing_change::Entity::find()
        .filter(entity::listing_change::Column::State.is_not_in(service::listings::FINAL_STATES))
        .count(&t.db)
        .await?)
}

/// The queued changes against what Amazon shows now.
async fn compare_listings(t: &TestDb, sim: &SimHandle) -> Result<ListingsReport> {
    use entity::enums::ListingChangeState as State;
    let truth: BTreeMap<(String, String), spapi_sim::SimListing> = sim
        .listings_ground_truth()
        .into_iter()
        .map(|l| ((l.marketplace_id.clone(), l.sku.clone()), l))
        .collect();
    let mut r = ListingsReport::default();
    for c in entity::listing_change::Entity::find().all(&t.db).await? {
        r.queued += 1;
        r.patches_needed += if c.desired_quantity.is_some() { 2 } else { 1 };
        match c.state {
            State::Done => r.done += 1,
            State::NotApplied => r.not_applied += 1,
            State::Failed => r.failed += 1,
            s if !s.is_final() => r.stuck += 1,
            _ => {}
        }
        if c.state != State::Done {
            r.examples.push(format!(
                "{} {} ended {:?}",
                c.marketplace_id, c.seller_sku, c.state
            ));
            continue;
        }
        let live = truth.get(&(c.marketplace_id.clone(), c.seller_sku.clone()));
        let price_ok = live
            .and_then(|l| l.price.as_ref())
            .and_then(|p| p.amount.parse::<rust_decimal::Decimal>().ok())
            == c.desired_price.map(|p| p.0);
        let quantity_ok =
            c.desired_quantity.is_none() || live.and_then(|l| l.quantity) == c.desired_quantity;
        if !(price_ok && quantity_ok) {
            r.wrong_on_amazon += 1;
            r.examples.push(format!(
                "{} {}: DONE but Amazon shows {:?}",
                c.marketplace_id,
                c.seller_sku,
                live.map(|l| (l.price.as_ref().map(|p| p.amount.clone()), l.quantity))
            ));
        }
    }
    r.patches_accepted = sim
        .listing_submissions()
        .iter()
        .filter(|s| !s.preview && s.status == "ACCEPTED")
        .count() as u64;
    let feeds = sim.feeds();
    r.feeds = feeds.len() as u64;
    r.feeds_done = feeds.iter().filter(|f| f.status == "DONE").count() as u64;
    Ok(r)
}

fn worker_binary(arg: Option<PathBuf>) -> Result<PathBuf> {
    let path = match arg {
        Some(p) => p,
        None => std::env::current_exe()
            .context("cannot find this executable's path")?
            .parent()
            .context("this executable has no directory")?
            .join(format!("worker{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        bail!(
            "the worker binary is missing at {}: build it first with the same profile \
             (`cargo build -p worker`, or `cargo build --release -p worker` for a release \
             chaos run), or pass --worker / CHAOS_WORKER_BIN",
            path.display()
        );
    }
    Ok(path)
}

/// The faults of the chaos phase: six kinds sharing `rate` (independent draws, so
/// together about `rate` of the answers), early token expiry on top, and optionally a
/// scheduled burst of 429s first.
fn chaos_faults(rate: f64, seed: u64, latency_ms: u64, burst: u32) -> Faults {
    let each = 1.0 - (1.0 - rate.clamp(0.0, 0.99)).powf(1.0 / 6.0);
    Faults {
        seed: Some(seed),
        error_500: each,
        error_503: each,
        latency: each,
        latency_ms,
        cut_body: each,
        drop_connection: each,
        throttle: each,
        early_token_expiry: 0.01,
        schedule: if burst > 0 {
            vec![ScheduledFault {
                operation: "*".into(),
                fault: FaultKind::Throttle,
                count: burst,
            }]
        } else {
            Vec::new()
        },
        ..Faults::default()
    }
}

struct Worker {
    bin: PathBuf,
    db_url: String,
    dir: PathBuf,
    lookback_days: u32,
    child: Option<tokio::process::Child>,
    starts: u32,
}

/// The SP-API request timeout given to the worker; latency faults wait longer, so
/// they are timeouts.
const REQUEST_TIMEOUT_MS: u64 = 500;

impl Worker {
    fn start(&mut self) -> Result<()> {
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("worker.log"))
            .context("worker log")?;
        let child = tokio::process::Command::new(&self.bin)
            .arg("run")
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.db_url)
            .env("DATA_DIR", &self.dir)
            .env(
                "APP_ENCRYPTION_KEY",
                base64::engine::general_purpose::STANDARD.encode(KEY),
            )
            .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
            .env("RUN_MIGRATIONS", "false")
            .env("SPAPI_ALLOW_CUSTOM_ENDPOINTS", "true")
            // A poll every 2 s, whatever the quota: chaos wants many runs to kill.
            .env("SYNC_SCHEDULE", "interval")
            .env("SYNC_INTERVAL_SECS", "2")
            .env("INVENTORY_INTERVAL_SECS", "3")
            .env("TRANSACTIONS_INTERVAL_SECS", "3")
            // The weekly re-pull every 10 seconds, so releases are caught within the run.
            .env("TRANSACTIONS_REPULL_SCHEDULE", "*/10 * * * * *")
            .env(
                "TRANSACTIONS_REPULL_DAYS",
                self.lookback_days.clamp(30, 180).to_string(),
            )
            .env("LISTINGS_INTERVAL_SECS", "3")
            .env("LISTINGS_POLL_SECS", "1")
            // Generous (simulated minutes): a change ends NOT_APPLIED only if Amazon
            // never shows it, not because kills and faults slowed the push.
            .env("LISTINGS_APPLY_TIMEOUT_MINUTES", "600")
            .env("SYNC_LEASE_TTL_SECS", "5")
            .env("SYNC_FIRST_LOOKBACK_DAYS", self.lookback_days.to_string())
            .env("SPAPI_REQUEST_TIMEOUT_MS", REQUEST_TIMEOUT_MS.to_string())
            .env("SPAPI_RETRY_BASE_MS", "20")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(log.try_clone().context("worker log")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("could not start {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }

    /// SIGKILL, then reap.
    async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill().context("kill -9 the worker")?;
            child.wait().await.context("reap the worker")?;
        }
        Ok(())
    }

    /// Restarts the worker if it exited on its own (it should not).
    async fn ensure_running(&mut self) -> Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            eprintln!("worker exited on its own ({status}); restarting");
            self.child = None;
            self.start()?;
        }
        Ok(())
    }
}

async fn run_version(args: &Args, version: OrdersApiVersion, bin: &Path) -> Result<Report> {
    let started = Instant::now();
    let sim = Simulator::start(SimConfig {
        orders: args.orders,
        seed: args.seed,
        days: args.days,
        marketplaces: vec![US.to_owned(), CA.to_owned()],
        time_scale: args.time_scale,
        faults: chaos_faults(args.fault_rate, args.seed, REQUEST_TIMEOUT_MS * 2, 0),
        live: Some(LiveConfig {
            orders_per_hour: args.live_orders_per_hour,
            updates_per_hour: args.live_updates_per_hour,
            tick: Duration::from_millis(200),
        }),
        seller_id: SELLER_ID.to_owned(),
        // Conflicts have their own tests: here every queued change must go live.
        reprices_per_hour: 0.0,
        ..SimConfig::default()
    })
    .await
    .context("start spapi-sim")?;
    let initial_orders = sim.ground_truth().len();

    let t = TestDb::migrated_on(args.pg_url.as_deref()).await;
    store_connection(&t, &sim, version).await?;

    let dir = std::env::temp_dir().join(format!(
        "chaos-{}-{}-{}",
        std::process::id(),
        version.as_str(),
        Utc::now().timestamp()
    ));
    std::fs::create_dir_all(&dir).context("worker data dir")?;
    let mut worker = Worker {
        bin: bin.to_owned(),
        db_url: t.url.clone(),
        dir: dir.clone(),
        lookback_days: args.days + 2,
        child: None,
        starts: 0,
    };

    // Kill moments: seeded, one at a random moment in each of `kills` equal slices
    // of the chaos phase, so restarted workers get the time to take the lease over.
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed ^ 0xC4A0_5EED);
    let chaos = Duration::from_secs(args.chaos_secs);
    let slice = chaos.as_millis() as u64 / u64::from(args.kills.max(1));
    let mut kill_at: Vec<Duration> = (0..u64::from(args.kills))
        .map(|k| Duration::from_millis(k * slice + rng.random_range(slice / 4..slice.max(1))))
        .collect();
    kill_at.sort();

    worker.start()?;
    let chaos_start = Instant::now();
    let (mut kills, mut kills_mid_run, mut burst_no) = (0u32, 0u32, 0u64);
    let mut next_burst = Duration::from_secs(8);
    let mut listings_queued = false;
    while chaos_start.elapsed() < chaos {
        tokio::time::sleep(Duration::from_millis(100)).await;
        worker.ensure_running().await?;
        if !listings_queued {
            listings_queued = queue_listing_changes(&t).await?;
        }
        let now = chaos_start.elapsed();
        if kill_at.first().is_some_and(|k| *k <= now) {
            kill_at.remove(0);
            // Mid-run: this worker holds the sync lease (its holder id is host:pid:…).
            let pid = worker.pid();
            let mid_run = entity::sync_lease::Entity::find()
                .all(&t.db)
                .await?
                .iter()
                .any(|l| pid.is_some_and(|p| l.holder.contains(&format!(":{p}:"))));
            worker.kill().await?;
            kills += 1;
            if mid_run {
                kills_mid_run += 1;
            }
            println!(
                "  {:>5.1}s kill -9 #{kills} ({})",
                now.as_secs_f64(),
                if mid_run {
                    "mid-run: it held the sync lease"
                } else {
                    "between runs or waiting for the lease"
                }
            );
            worker.start()?;
        }
        if now >= next_burst {
            // A burst of 429s on whatever is called next, with fresh fault draws.
            burst_no += 1;
            let burst = rng.random_range(2..=5);
            sim.set_faults(chaos_faults(
                args.fault_rate,
                args.seed.wrapping_add(burst_no),
                REQUEST_TIMEOUT_MS * 2,
                burst,
            ));
            next_burst = now + Duration::from_secs(rng.random_range(8..=15));
        }
    }
    let chaos_wall = chaos_start.elapsed();
    // Faults are reset with each burst; read the counters before the clean phase.
    let stats = sim.stats();

    // The clean phase: no more changes or faults; the last changes become listable;
    // a sync that starts after that must succeed and bring everything in.
    sim.stop_live();
    sim.set_faults(Faults::none());
    sim.settle(chrono::Duration::seconds(200)).await;
    let mark = Utc::now();
    let mark_sim = sim.now();
    // The last change Amazon made. A long-lived client knows Amazon's clock from the
    // last answer it saw, and the simulated clock runs `time_scale` times faster than
    // ours, so a run that starts just after the mark may still end its window before
    // the last changes: the clean orders run must have read past them.
    let newest_change = sim.ground_truth().iter().map(|o| o.last_update_date).max();
    let deadline = Instant::now() + Duration::from_secs(args.final_timeout_secs);
    loop {
        worker.ensure_running().await?;
        // The runs that started after the mark and succeeded, of every kind.
        let clean = sync_runs::Entity::find()
            .filter(sync_runs::Column::StartedAt.gt(mark))
            .filter(sync_runs::Column::Status.eq(entity::enums::SyncStatus::Succeeded))
            .all(&t.db)
            .await?;
        let clean = |kind: SyncKind| clean.iter().filter(move |r| r.kind == kind);
        // A transactions re-pull (a run with `since`) that started after the mark.
        let repulled = clean(SyncKind::Transactions)
            .any(|r| service::sync::RunMetadata::of(r).is_some_and(|m| m.since.is_some()));
        let orders_read_to_the_end = clean(SyncKind::Orders)
            .any(|r| newest_change.is_none_or(|n| r.window_end.is_some_and(|end| end >= n)));
        if orders_read_to_the_end
            && clean(SyncKind::Inventory).next().is_some()
            && clean(SyncKind::Transactions).next().is_some()
            && repulled
            && unfinished_listing_changes(&t).await? == 0
        {
            break;
        }
        if Instant::now() > deadline {
            worker.kill().await?;
            bail!(
                "{}: no clean orders (read past the last change), inventory and transactions syncs (and re-pull) succeeded, or listing changes were still unfinished, {} s after the chaos; worker log: {}",
                version.as_str(),
                args.final_timeout_secs,
                dir.join("worker.log").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let read_to = sim.now();
    worker.kill().await?;

    let truth = sim.ground_truth();
    let live_orders_added = truth.len() - initial_orders;
    let comparison = e2e::truth::compare(&t.db, truth).await?;
    let inventory = e2e::truth::compare_inventory(&t.db, sim.inventory_ground_truth()).await?;
    let transactions =
        e2e::truth::compare_transactions(&t.db, sim.transactions_ground_truth(), mark_sim, read_to)
            .await?;
    let listings = compare_listings(&t, &sim).await?;
    let mut runs = BTreeMap::new();
    let mut takeovers = 0;
    for run in sync_runs::Entity::find().all(&t.db).await? {
        *runs.entry(run.status.as_str().to_owned()).or_default() += 1;
        if run
            .error
            .as_deref()
            .is_some_and(|e| e.contains("stopped before it finished"))
        {
            takeovers += 1;
        }
    }
    let calls = stats.operations.values().map(|s| s.calls).sum();
    let faulted_calls = stats.operations.values().map(|s| s.faults_injected).sum();
    let throttled = stats.operations.values().map(|s| s.throttled).sum();
    Ok(Report {
        version,
        comparison,
        inventory,
        transactions,
        listings,
        kills,
        kills_mid_run,
        takeovers,
        runs,
        faults: stats.faults_by_kind,
        calls,
        faulted_calls,
        throttled,
        live_orders_added,
        chaos_wall,
        wall: started.elapsed(),
        logs: dir,
    })
}

async fn store_connection(t: &TestDb, sim: &SimHandle, version: OrdersApiVersion) -> Result<()> {
    e2e::connect_to_simulator(
        &t.db,
        &EncryptionKey::from_bytes(KEY),
        sim,
        SELLER_ID,
        sim.config().marketplaces.clone(),
        version,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await
    .context("store the connection and its sealed credentials")?;
    Ok(())
}

fn print_table(reports: &[Report], backend: &str, args: &Args) {
    let kinds: Vec<String> = {
        let mut k: Vec<String> = reports
            .iter()
            .flat_map(|r| r.faults.keys().cloned())
            .collect();
        k.sort();
        k.dedup();
        k
    };
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: &str, f: &dyn Fn(&Report) -> String| {
        rows.push((name.to_owned(), reports.iter().map(f).collect()));
    };
    row("orders in truth", &|r| r.comparison.in_truth.to_string());
    row("  of which arrived live", &|r| {
        r.live_orders_added.to_string()
    });
    row("orders in db", &|r| r.comparison.in_db.to_string());
    row("lost", &|r| r.comparison.lost.to_string());
    row("duplicated", &|r| r.comparison.duplicated.to_string());
    row("unknown to Amazon", &|r| r.comparison.unknown.to_string());
    row("stale status", &|r| r.comparison.stale_status.to_string());
    row("stale price", &|r| r.comparison.stale_price.to_string());
    row("stale items", &|r| r.comparison.stale_items.to_string());
    row("stale other fields", &|r| {
        r.comparison.stale_other.to_string()
    });
    row("FBA SKUs in truth", &|r| r.inventory.in_truth.to_string());
    row("FBA SKUs in db", &|r| r.inventory.in_db.to_string());
    row("SKUs lost", &|r| r.inventory.lost.to_string());
    row("SKUs stale", &|r| r.inventory.stale.to_string());
    row("SKUs unknown to Amazon", &|r| {
        r.inventory.unknown.to_string()
    });
    row("transactions in truth", &|r| {
        r.transactions.in_truth.to_string()
    });
    row("transactions in db", &|r| r.transactions.in_db.to_string());
    row("transactions lost", &|r| r.transactions.lost.to_string());
    row("transactions duplicated", &|r| {
        r.transactions.duplicated.to_string()
    });
    row("transactions stale", &|r| r.transactions.stale.to_string());
    row("transactions unknown", &|r| {
        r.transactions.unknown.to_string()
    });
    row("listing changes queued", &|r| r.listings.queued.to_string());
    row("  done (live on Amazon)", &|r| r.listings.done.to_string());
    row("  not applied / failed", &|r| {
        format!("{} / {}", r.listings.not_applied, r.listings.failed)
    });
    row("  stuck (not final)", &|r| r.listings.stuck.to_string());
    row("  done, Amazon differs", &|r| {
        r.listings.wrong_on_amazon.to_string()
    });
    row("  patches + feed messages accepted / needed", &|r| {
        format!(
            "{} / {}",
            r.listings.patches_accepted, r.listings.patches_needed
        )
    });
    row("  feeds sent / done", &|r| {
        format!("{} / {}", r.listings.feeds, r.listings.feeds_done)
    });
    row("kills (kill -9)", &|r| r.kills.to_string());
    row("  of which mid-run (lease held)", &|r| {
        r.kills_mid_run.to_string()
    });
    row("runs taken over after a kill", &|r| r.takeovers.to_string());
    row("runs succeeded/failed/interrupted", &|r| {
        format!(
            "{}/{}/{}",
            r.runs.get("succeeded").unwrap_or(&0),
            r.runs.get("failed").unwrap_or(&0),
            r.runs.get("interrupted").unwrap_or(&0)
        )
    });
    row("SP-API calls (chaos phase)", &|r| r.calls.to_string());
    row("  answers faulted", &|r| {
        format!(
            "{} ({:.1}%)",
            r.faulted_calls,
            100.0 * r.faulted_calls as f64 / r.calls.max(1) as f64
        )
    });
    for kind in &kinds {
        let label = format!("  fault {kind}");
        row(&label, &|r| {
            r.faults.get(kind).copied().unwrap_or(0).to_string()
        });
    }
    row("429s answered (injected + quota)", &|r| {
        r.throttled.to_string()
    });
    row("chaos phase (s)", &|r| {
        format!("{:.1}", r.chaos_wall.as_secs_f64())
    });
    row("wall time (s)", &|r| format!("{:.1}", r.wall.as_secs_f64()));

    println!();
    println!(
        "chaos: {} orders over {} days, {} kills, fault rate {}, time scale {}, seed {}, on {backend}",
        args.orders, args.days, args.kills, args.fault_rate, args.time_scale, args.seed
    );
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(10);
    print!("{:width$}", "");
    for r in reports {
        print!(" | {:>12}", r.version.as_str());
    }
    println!();
    for (name, values) in rows {
        print!("{name:width$}");
        for v in values {
            print!(" | {v:>12}");
        }
        println!();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let bin = worker_binary(args.worker.clone())?;
    let versions = match args.version {
        Version::V0 => vec![OrdersApiVersion::V0],
        Version::V2026 => vec![OrdersApiVersion::V2026_01_01],
        Version::Both => vec![OrdersApiVersion::V2026_01_01, OrdersApiVersion::V0],
    };
    let backend = if args.pg_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut reports = Vec::new();
    for version in versions {
        println!(
            "chaos {} on {backend}: worker {}",
            version.as_str(),
            bin.display()
        );
        reports.push(run_version(&args, version, &bin).await?);
    }
    print_table(&reports, backend, &args);
    let mut failed = false;
    for r in &reports {
        if !r.comparison.is_equal() {
            failed = true;
            eprintln!(
                "{}: our tables differ from Amazon's: {:?} (worker log: {})",
                r.version.as_str(),
                r.comparison.examples,
                r.logs.join("worker.log").display()
            );
        }
        if !r.transactions.is_equal() {
            failed = true;
            eprintln!(
                "{}: our transactions differ from Amazon's: {:?} (worker log: {})",
                r.version.as_str(),
                r.transactions.examples,
                r.logs.join("worker.log").display()
            );
        }
        if !r.listings.is_good() {
            failed = true;
            eprintln!(
                "{}: queued listing changes did not all end live on Amazon: {:?} (worker log: {})",
                r.version.as_str(),
                r.listings,
                r.logs.join("worker.log").display()
            );
        }
        if !r.inventory.is_equal() {
            failed = true;
            eprintln!(
                "{}: our FBA stock differs from Amazon's: {:?} (worker log: {})",
                r.version.as_str(),
                r.inventory.examples,
                r.logs.join("worker.log").display()
            );
        }
    }
    if failed {
        bail!("chaos found differences");
    }
    for r in &reports {
        let _ = std::fs::remove_dir_all(&r.logs);
    }
    println!("chaos: our tables equal Amazon's ground truth");
    Ok(())
}
