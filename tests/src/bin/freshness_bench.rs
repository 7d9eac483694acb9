//! `freshness-bench`: how soon after Amazon changes an order it is in our database,
//! with the real `worker run` and its default schedule (the freshness loop), against
//! the floor the usage plan allows, for both Orders API versions at once.
//!
//! `cargo build -p worker && cargo run -p e2e --bin freshness-bench -- --minutes 20`
//!
//! Each API version gets its own spapi-sim, database and worker. New orders and
//! status changes arrive as a Poisson process; a watcher reads our database every
//! 200 ms and notes, for each version of each order (its `LastUpdateDate`), when it
//! was committed, in Amazon's clock. The lag of a change is that instant minus its
//! `LastUpdateDate`. A third of the way in, `worker sync` (a manual sync) runs
//! beside the loop, and half way a comprehensive one (`--since` 48 hours back).
//!
//! The floor: an order can be listed 120 s after its change, and a poll per refill
//! interval R of the search operation catches it, on average, R/2 later: p50 floor
//! 120 s + R/2, p95 floor 120 s + R. The 15-minute interval and seed 000's plan are
//! modelled from the same changes (a run at each tick reading up to 150 s before it,
//! no processing time): they are not run.
//!
//! Run it at `--time-scale 1`, the default. The loop reads Amazon's clock from the
//! `Date` of its last answer and no longer probes it per run, which is exact when
//! Amazon's clock runs at ours; a simulator running K times faster makes that
//! clock stale between answers, and the measured lag a measurement of that.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a benchmark binary: any failure aborts the measurement"
)]

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use chrono::{DateTime, Duration as Chrono, Timelike as _, Utc};
use clap::Parser;
use entity::enums::OrdersApiVersion;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Statement};
use service::amazon_account::EncryptionKey;
use spapi_sim::{SimConfig, Simulator};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: [u8; 32] = [7; 32];
const SELLER_ID: &str = "A2FRESH";
const US: &str = "ATVPDKIKX0DER";
/// Amazon lists an order this long after its change.
const LISTING_LAG: f64 = 120.0;
/// How far before its start the interval plan and seed 000 read (the lag and the
/// sync's default 30 s margin).
const MODEL_REACH: f64 = 150.0;

#[derive(Parser)]
#[command(about = "Measure how fresh the worker's default schedule keeps the orders")]
struct Args {
    /// Simulated minutes of measurement (after the first back-fill).
    #[arg(long, default_value_t = 20.0)]
    minutes: f64,
    /// New orders per simulated hour (Poisson).
    #[arg(long, default_value_t = 90.0)]
    orders_per_hour: f64,
    /// Status changes per simulated hour (Poisson).
    #[arg(long, default_value_t = 90.0)]
    changes_per_hour: f64,
    /// How many times faster than Amazon the simulator runs (see the header: 1).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// FRESHNESS_RESERVE for the worker.
    #[arg(long, default_value_t = 0.25)]
    reserve: f64,
    /// Generator seed.
    #[arg(long, default_value_t = 21)]
    seed: u64,
    /// The worker binary (default: `worker` next to this executable).
    #[arg(long)]
    worker: Option<PathBuf>,
}

/// (order, `LastUpdateDate`) -> when that version was committed, in Amazon's clock.
type Commits = HashMap<(String, DateTime<Utc>), DateTime<Utc>>;

/// A change Amazon made: the order and its new `LastUpdateDate`.
struct Change {
    id: String,
    at: DateTime<Utc>,
}

struct Measured {
    version: OrdersApiVersion,
    changes: Vec<Change>,
    commits: Commits,
    calls: u64,
    throttled: u64,
    min_tokens: f64,
    burst: u32,
    manual: String,
    comprehensive: String,
    start: DateTime<Utc>,
}

fn worker_binary(arg: Option<PathBuf>) -> Result<PathBuf> {
    let path = match arg {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .context("this executable has no directory")?
            .join(format!("worker{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        bail!(
            "the worker binary is missing at {}: `cargo build -p worker` first (same profile), or pass --worker",
            path.display()
        );
    }
    Ok(path)
}

fn worker(
    bin: &PathBuf,
    url: &str,
    dir: &std::path::Path,
    args: &[&str],
    reserve: f64,
    log: &str,
) -> Result<std::process::Child> {
    let out = std::fs::File::create(dir.join(log))?;
    Ok(std::process::Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("DATA_DIR", dir)
        .env(
            "APP_ENCRYPTION_KEY",
            base64::engine::general_purpose::STANDARD.encode(KEY),
        )
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
        .env("RUN_MIGRATIONS", "false")
        .env("SPAPI_ALLOW_CUSTOM_ENDPOINTS", "true")
        .env("INVENTORY_INTERVAL_MINUTES", "0")
        .env("TRANSACTIONS_INTERVAL_MINUTES", "0")
        .env("LISTINGS_INTERVAL_MINUTES", "0")
        .env("FRESHNESS_RESERVE", reserve.to_string())
        .env("RUST_LOG", "info")
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()?)
}

/// Amazon's clock at a local instant: the simulator's clock is linear in ours.
#[derive(Clone, Copy)]
struct ClockMap {
    local: DateTime<Utc>,
    sim: DateTime<Utc>,
    scale: f64,
}

impl ClockMap {
    fn amazon(&self, local: DateTime<Utc>) -> DateTime<Utc> {
        let real_ms = (local - self.local).num_milliseconds() as f64;
        self.sim + Chrono::milliseconds((real_ms * self.scale) as i64)
    }
}

async fn succeeded_orders_runs(db: &sea_orm::DatabaseConnection) -> usize {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM sync_runs WHERE kind = 'orders' AND status = 'succeeded'".to_owned(),
        ))
        .await
        .unwrap_or_default();
    rows.len()
}

async fn measure(version: OrdersApiVersion, args: &Args, bin: PathBuf) -> Result<Measured> {
    let sim = Arc::new(
        Simulator::start(SimConfig {
            orders: 40,
            seed: args.seed,
            days: 2,
            marketplaces: vec![US.to_owned()],
            time_scale: args.time_scale,
            ..SimConfig::default()
        })
        .await?,
    );
    // Past the listing lag at once (the history's newest order may be minutes old).
    sim.advance_clock(Chrono::seconds(200));
    let t = e2e::TestDb::migrated().await;
    e2e::connect_to_simulator(
        &t.db,
        &EncryptionKey::from_bytes(KEY),
        &sim,
        SELLER_ID,
        vec![US.to_owned()],
        version,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let mut run = worker(&bin, &t.url, dir.path(), &["run"], args.reserve, "run.log")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while succeeded_orders_runs(&t.db).await == 0 {
        if tokio::time::Instant::now() > deadline {
            bail!("the worker's first orders sync did not finish within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sim.reset_stats();
    let op = match version {
        OrdersApiVersion::V2026_01_01 => "searchOrders",
        OrdersApiVersion::V0 => "getOrders",
    };
    let map = ClockMap {
        local: Utc::now(),
        sim: sim.now(),
        scale: args.time_scale,
    };
    let start = map.sim;

    // The watcher: commits and the bucket's lowest level.
    let commits: Arc<Mutex<Commits>> = Arc::default();
    let min_tokens = Arc::new(Mutex::new(f64::MAX));
    let stop = tokio_util::sync::CancellationToken::new();
    let watcher = {
        let (db, commits, min_tokens, stop, sim) = (
            t.db.clone(),
            Arc::clone(&commits),
            Arc::clone(&min_tokens),
            stop.clone(),
            Arc::clone(&sim),
        );
        tokio::spawn(async move {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
            let mut cursor: Option<DateTime<Utc>> = None;
            while !stop.is_cancelled() {
                let mut q = entity::amazon_order::Entity::find().select_only().columns([
                    entity::amazon_order::Column::AmazonOrderId,
                    entity::amazon_order::Column::LastUpdateDate,
                    entity::amazon_order::Column::UpdatedAt,
                ]);
                if let Some(c) = cursor {
                    q = q.filter(entity::amazon_order::Column::UpdatedAt.gt(c));
                }
                let rows: Vec<(String, DateTime<Utc>, DateTime<Utc>)> =
                    q.into_tuple().all(&db).await.unwrap_or_default();
                {
                    let mut seen = commits.lock().unwrap();
                    for (id, last, written) in rows {
                        cursor = Some(cursor.map_or(written, |c| c.max(written)));
                        seen.entry((id, last))
                            .or_insert_with(|| map.amazon(written));
                    }
                }
                if let Some(s) = sim.stats().operations.get(op) {
                    let mut m = min_tokens.lock().unwrap();
                    *m = m.min(s.bucket_level);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    // The changes, as a Poisson process in Amazon's clock.
    let mut rng =
        rand::rngs::StdRng::seed_from_u64(args.seed ^ u64::from(version == OrdersApiVersion::V0));
    let lambda = (args.orders_per_hour + args.changes_per_hour) / 3600.0;
    let span = args.minutes * 60.0;
    let mut elapsed = 0.0;
    let mut changes = Vec::new();
    let (mut manual, mut comprehensive) = (None, None);
    loop {
        let u: f64 = rng.random_range(f64::EPSILON..1.0);
        elapsed += -u.ln() / lambda;
        if elapsed > span {
            break;
        }
        let real = Duration::from_secs_f64(elapsed / args.time_scale);
        let since_start = (Utc::now() - map.local).to_std().unwrap_or_default();
        tokio::time::sleep(real.saturating_sub(since_start)).await;
        if manual.is_none() && elapsed > span / 3.0 {
            manual = Some(worker(
                &bin,
                &t.url,
                dir.path(),
                &["sync"],
                args.reserve,
                "manual.log",
            )?);
        }
        if comprehensive.is_none() && elapsed > span / 2.0 {
            let since = (Utc::now() - Chrono::hours(48)).to_rfc3339();
            comprehensive = Some(worker(
                &bin,
                &t.url,
                dir.path(),
                &["sync", "--since", &since],
                args.reserve,
                "comprehensive.log",
            )?);
        }
        let truth = sim.ground_truth();
        let id = if rng.random_bool(args.orders_per_hour / (lambda * 3600.0)) {
            sim.add_orders(1).pop()
        } else {
            let open: Vec<&String> = truth
                .iter()
                .filter(|o| {
                    matches!(
                        o.order_status.as_str(),
                        "Pending" | "Unshipped" | "PartiallyShipped"
                    )
                })
                .map(|o| &o.amazon_order_id)
                .collect();
            if open.is_empty() {
                continue;
            }
            let id = open[rng.random_range(0..open.len())].clone();
            sim.advance_order(&id).then_some(id)
        };
        if let Some(id) = id
            && let Some(o) = sim
                .ground_truth()
                .into_iter()
                .find(|o| o.amazon_order_id == id)
        {
            changes.push(Change {
                id,
                at: o.last_update_date,
            });
        }
    }
    // Let the last changes through: the listing lag and two refill intervals.
    let drain = (LISTING_LAG + 2.0 * refill(version) + 30.0) / args.time_scale;
    tokio::time::sleep(Duration::from_secs_f64(drain)).await;
    stop.cancel();
    let _ = watcher.await;
    let outcome = |child: Option<std::process::Child>| -> String {
        match child.map(|mut c| c.wait()) {
            Some(Ok(s)) if s.success() => "ok".to_owned(),
            Some(Ok(s)) => format!("exit {s}"),
            Some(Err(e)) => format!("{e}"),
            None => "not run".to_owned(),
        }
    };
    let manual = outcome(manual);
    let comprehensive = outcome(comprehensive);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status();
    let _ = run.wait();
    let stats = sim.stats();
    let s = stats.operations.get(op).cloned().unwrap_or_default();
    let throttled = stats.operations.values().map(|s| s.throttled).sum();
    let commits = commits.lock().unwrap().clone();
    let min_tokens = *min_tokens.lock().unwrap();
    if std::env::var_os("FRESHNESS_BENCH_KEEP").is_some() {
        let kept = dir.keep();
        eprintln!("{}: logs kept in {}", version.as_str(), kept.display());
    }
    Ok(Measured {
        version,
        changes,
        commits,
        calls: s.calls,
        throttled,
        min_tokens,
        burst: s.burst,
        manual,
        comprehensive,
        start,
    })
}

/// The refill interval of the version's search operation, from the usage plan.
fn refill(version: OrdersApiVersion) -> f64 {
    let op = service::sync::freshness::search_operation(version);
    1.0 / op.usage_plan().0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Lags (seconds) of the changes: each is in once a version of its order at least
/// as new is committed.
fn measured_lags(m: &Measured) -> (Vec<f64>, usize) {
    // Per order: (LastUpdateDate, committed at) of each version seen.
    let mut by_order: HashMap<&str, Vec<_>> = HashMap::new();
    for ((id, last), at) in &m.commits {
        by_order.entry(id.as_str()).or_default().push((*last, *at));
    }
    let mut lags = Vec::new();
    let mut missing = 0;
    for c in &m.changes {
        let committed = by_order.get(c.id.as_str()).and_then(|v| {
            v.iter()
                .filter(|(l, _)| *l >= c.at)
                .map(|(_, at)| *at)
                .min()
        });
        match committed {
            Some(at) => lags.push((at - c.at).num_milliseconds() as f64 / 1000.0),
            None => missing += 1,
        }
    }
    lags.sort_by(f64::total_cmp);
    (lags, missing)
}

/// Lags of the same changes under a plan polling at `ticks` (Amazon's clock), each
/// run reading up to [`MODEL_REACH`] before its tick.
fn modelled_lags(m: &Measured, ticks: &[DateTime<Utc>]) -> Vec<f64> {
    let mut lags: Vec<f64> = m
        .changes
        .iter()
        .filter_map(|c| {
            ticks
                .iter()
                .find(|t| **t - Chrono::milliseconds((MODEL_REACH * 1000.0) as i64) >= c.at)
                .map(|t| (*t - c.at).num_milliseconds() as f64 / 1000.0)
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    lags
}

fn interval_ticks(start: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    (0..2000).map(|k| start + Chrono::minutes(15 * k)).collect()
}

/// Seed 000's incremental and comprehensive hours (UTC as the seller's zone).
fn seed_000_ticks(start: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let hours = [1, 3, 5, 9, 11, 13, 15, 17, 19, 21];
    let day = start
        .with_hour(0)
        .and_then(|d| d.with_minute(0))
        .and_then(|d| d.with_second(0))
        .and_then(|d| d.with_nanosecond(0))
        .unwrap_or(start);
    (0..10)
        .flat_map(|d| {
            hours
                .iter()
                .map(move |h| day + Chrono::days(d) + Chrono::hours(*h))
        })
        .filter(|t| *t >= start)
        .collect()
}

fn row(
    version: &str,
    plan: &str,
    lags: &[f64],
    r: f64,
    calls: &str,
    throttled: &str,
    reserve: &str,
) -> String {
    let floor50 = LISTING_LAG + r / 2.0;
    let floor95 = LISTING_LAG + r;
    let (p50, p95) = (percentile(lags, 0.5), percentile(lags, 0.95));
    let max = lags.last().copied().unwrap_or(f64::NAN);
    format!(
        "| {version} | {plan} | {} | {p50:.0} | {p95:.0} | {max:.0} | {floor50:.0} | {:.2} | {floor95:.0} | {:.2} | {calls} | {throttled} | {reserve} |",
        lags.len(),
        p50 / floor50,
        p95 / floor95,
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let bin = worker_binary(args.worker.clone())?;
    let (a, b) = tokio::join!(
        measure(OrdersApiVersion::V2026_01_01, &args, bin.clone()),
        measure(OrdersApiVersion::V0, &args, bin),
    );
    let measured = [a?, b?];
    println!(
        "freshness-bench: {} simulated minutes per version, {} new orders and {} status changes an hour (Poisson), time scale {}, reserve {}",
        args.minutes, args.orders_per_hour, args.changes_per_hour, args.time_scale, args.reserve
    );
    println!(
        "| API | schedule | changes | p50 s | p95 s | max s | floor p50 s | p50/floor | floor p95 s | p95/floor | search calls | 429s | reserve left (min tokens) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for m in &measured {
        let r = refill(m.version);
        let v = m.version.as_str();
        let (lags, missing) = measured_lags(m);
        println!(
            "{}",
            row(
                v,
                "freshness loop (measured)",
                &lags,
                r,
                &m.calls.to_string(),
                &m.throttled.to_string(),
                &format!("{:.1} of {}", m.min_tokens, m.burst),
            )
        );
        println!(
            "{}",
            row(
                v,
                "every 15 min (model)",
                &modelled_lags(m, &interval_ticks(m.start)),
                r,
                "-",
                "-",
                "-"
            )
        );
        println!(
            "{}",
            row(
                v,
                "seed 000 (model)",
                &modelled_lags(m, &seed_000_ticks(m.start)),
                r,
                "-",
                "-",
                "-"
            )
        );
        if missing > 0 {
            println!("  {v}: {missing} change(s) never committed during the measurement");
        }
        println!(
            "  {v}: manual sync during the loop: {}; comprehensive (48 h) during the loop: {}",
            m.manual, m.comprehensive
        );
    }
    Ok(())
}
