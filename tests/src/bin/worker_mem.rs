//! `worker-mem`: the worker's peak memory during a back-fill, as the history grows.
//!
//! `cargo build --release -p worker && cargo run --release -p e2e --bin worker-mem -- --orders 10000,50000,100000`
//!
//! For each N, spapi-sim (in this process) serves a seller with N orders over 30
//! days at a high time scale with generous buckets, and the release `worker sync`
//! binary runs as a child process against a fresh database (SQLite by default,
//! PostgreSQL with `--pg-url`). Its peak resident set (`VmHWM` in
//! `/proc/<pid>/status`, polled every 5 ms; the kernel keeps it as a high-water
//! mark, so polling can miss only the last few milliseconds) is the worker's
//! alone: the simulator runs in this bench process, not in the worker.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    reason = "a benchmark binary: any failure aborts the measurement"
)]

use base64::Engine as _;
use clap::Parser;
use entity::enums::OrdersApiVersion;
use sea_orm::ConnectionTrait;
use service::amazon_account::EncryptionKey;
use spapi_sim::{SimConfig, Simulator};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Peak RSS of `worker sync` during back-fills of growing size")]
struct Args {
    /// History sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,50000,100000")]
    orders: Vec<usize>,
    /// Orders API versions to run, comma-separated (`2026-01-01`, `v0`).
    #[arg(long, value_delimiter = ',', default_value = "2026-01-01")]
    versions: Vec<String>,
    /// How many times faster than Amazon the simulator runs.
    #[arg(long, default_value_t = 1000.0)]
    time_scale: f64,
    /// The worker binary (default: `worker` next to this binary).
    #[arg(long)]
    worker: Option<PathBuf>,
    /// A PostgreSQL URL whose user may create databases; SQLite when absent.
    #[arg(long)]
    pg_url: Option<String>,
}

struct Row {
    version: String,
    orders: usize,
    synced: i64,
    items: i64,
    wall: f64,
    peak_kib: u64,
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn database(args: &Args, name: &str, dir: &std::path::Path) -> String {
    match &args.pg_url {
        None => format!("sqlite://{}/worker.sqlite?mode=rwc", dir.display()),
        Some(admin) => {
            let admin_db = service::db::open(admin).await.unwrap();
            let db_name = format!("worker_mem_{}_{name}", std::process::id());
            admin_db
                .execute_unprepared(&format!("CREATE DATABASE \"{db_name}\""))
                .await
                .unwrap();
            let mut url = url::Url::parse(admin).unwrap();
            url.set_path(&db_name);
            url.to_string()
        }
    }
}

async fn one(args: &Args, version: &str, n: usize) -> Row {
    let api_version = match version {
        "v0" => OrdersApiVersion::V0,
        _ => OrdersApiVersion::V2026_01_01,
    };
    // Generous buckets: this measures memory, not quota.
    let rates: HashMap<String, (f64, u32)> = [
        ("searchOrders", (5.0, 50)),
        ("getOrders", (5.0, 50)),
        ("getOrderItems", (50.0, 100)),
    ]
    .into_iter()
    .map(|(op, plan)| (op.to_owned(), plan))
    .collect();
    let sim = Simulator::start(SimConfig {
        orders: n,
        days: 30,
        seed: 7,
        time_scale: args.time_scale,
        marketplaces: vec!["ATVPDKIKX0DER".to_owned(), "A2EUQ1WTGCTBG2".to_owned()],
        rate_overrides: rates,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.settle(chrono::Duration::seconds(200)).await;

    let dir = tempfile::tempdir().unwrap();
    let url = database(
        args,
        &format!("{}_{n}", version.replace('-', "")),
        dir.path(),
    )
    .await;
    let db = service::db::open(&url).await.unwrap();
    <migration::Migrator as migration::MigratorTrait>::up(&db, None)
        .await
        .unwrap();
    let key_bytes: [u8; 32] = rand::random();
    let key = EncryptionKey::from_bytes(key_bytes);
    e2e::connect_to_simulator(
        &db,
        &key,
        &sim,
        "A2MEMBENCH",
        sim.config().marketplaces.clone(),
        api_version,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await
    .unwrap();

    let worker = args.worker.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .join("worker")
    });
    let since = (sim.now() - chrono::Duration::days(31)).to_rfc3339();
    let started = Instant::now();
    let mut child = Command::new(&worker)
        .args(["sync", "--since", &since])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &url)
        .env("DATA_DIR", dir.path())
        .env("APP_ENV", "test")
        .env("RUN_MIGRATIONS", "false")
        .env("SPAPI_ALLOW_CUSTOM_ENDPOINTS", "true")
        .env(
            "APP_ENCRYPTION_KEY",
            base64::engine::general_purpose::STANDARD.encode(key_bytes),
        )
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", worker.display()));
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(hwm) = vm_hwm_kib(pid) {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    let out = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "worker sync failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let count = |table: &str| {
        let db = &db;
        let sql = format!("SELECT count(*) FROM {table}");
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let synced = count("amazon_order").await;
    let items = count("amazon_order_item").await;
    db.close().await.unwrap();
    Row {
        version: version.to_owned(),
        orders: n,
        synced,
        items,
        wall,
        peak_kib: peak,
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!(
        "worker-mem: `worker sync` back-fills on {}, spapi-sim at {}x\n",
        if args.pg_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        args.time_scale
    );
    let mut rows = Vec::new();
    for version in &args.versions {
        for &n in &args.orders {
            let row = one(&args, version, n).await;
            eprintln!(
                "{version} {n}: peak {:.1} MiB in {:.1}s",
                row.peak_kib as f64 / 1024.0,
                row.wall
            );
            rows.push(row);
        }
    }
    println!("| API | orders in history | orders synced | items synced | wall s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} |",
            r.version,
            r.orders,
            r.synced,
            r.items,
            r.wall,
            r.peak_kib as f64 / 1024.0
        );
    }
}
