//! `upsert-bench`: how many rows a second the orders sync writes through its real
//! page-write path (`service::sync`, one transaction per page of 100 orders), beside
//! a bulk `INSERT … ON CONFLICT DO UPDATE` of the same rows through the database's
//! own command-line client (`psql`, `sqlite3`), measured in the same run.
//!
//! `cargo run --release -p e2e --bin upsert-bench -- --orders 20000 --reps 3 --pg-url postgres://postgres@127.0.0.1:5432/postgres`
//!
//! Each order is 8 rows: `amazon_order`, `orders`, 3 `amazon_order_item`, 3
//! `order_items`. The orders come from an in-memory Orders API (2026-01-01, items
//! inline) so only our code and the database are timed. The insert pass writes them
//! into a freshly migrated database; the update pass serves them again with a new
//! `LastUpdateDate` and status, so every row is updated. The bulk baseline runs the
//! same two passes on another fresh database, 1000 orders per statement and
//! transaction. Figures are medians of `--reps` repetitions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    reason = "a benchmark binary: any failure aborts the measurement"
)]

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use clap::Parser;
use entity::amazon_connection;
use entity::enums::{OrdersApiVersion, Region};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection};
use serde_json::json;
use service::spapi::{
    ClientStats, Money, OrdersApi, OrdersPage, OrdersQuery, Participation, RemoteItem, RemoteOrder,
    SpApi, SpApiError,
};
use service::sync::{SyncConfig, SyncOptions, run_orders_sync_with};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Upsert throughput of the sync's page writes vs a bulk INSERT … ON CONFLICT")]
struct Args {
    /// Orders per pass (each is 8 rows).
    #[arg(long, default_value_t = 20_000)]
    orders: usize,
    /// Repetitions; the table shows medians.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// A PostgreSQL URL whose user may create databases; without it, SQLite only.
    #[arg(long, env = "TEST_PG_URL")]
    pg_url: Option<String>,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
}

const ROWS_PER_ORDER: usize = 8;
const MARKETPLACES: [(&str, &str); 2] = [("ATVPDKIKX0DER", "USD"), ("A2EUQ1WTGCTBG2", "CAD")];

/// The seller's orders, as Amazon would send them in one pass.
fn make_orders(n: usize, pass: u32, base: DateTime<Utc>) -> Vec<RemoteOrder> {
    (0..n)
        .map(|i| {
            let (marketplace, currency) = MARKETPLACES[i % MARKETPLACES.len()];
            let id = format!("111-{:07}-{:07}", i, (i * 7919) % 10_000_000);
            let purchase = base - ChronoDuration::seconds(i64::try_from(i).unwrap() * 60);
            let updated = purchase + ChronoDuration::hours(i64::from(pass) + 1);
            let status = if pass == 0 { "Unshipped" } else { "Shipped" };
            let items: Vec<RemoteItem> = (0..3)
                .map(|k| {
                    let price = Decimal::new(i64::try_from(1999 + (i % 50) * 100 + k).unwrap(), 2);
                    let sku = format!("SKU-{:04}", (i * 3 + k) % 500);
                    RemoteItem {
                        order_item_id: format!("{:014}", i * 3 + k),
                        seller_sku: Some(sku.clone()),
                        asin: Some(format!("B0{:08}", (i * 3 + k) % 500)),
                        title: Some(format!("Product {sku}, a thing people buy")),
                        quantity_ordered: 1,
                        quantity_shipped: i32::try_from(pass).unwrap(),
                        item_price: Some(Money {
                            currency: currency.to_owned(),
                            amount: price.into(),
                        }),
                        raw: json!({
                            "OrderItemId": format!("{:014}", i * 3 + k), "SellerSKU": sku,
                            "QuantityOrdered": 1, "QuantityShipped": pass,
                            "ItemPrice": {"CurrencyCode": currency, "Amount": price.to_string()},
                            "IsGift": false, "ConditionId": "New"
                        }),
                    }
                })
                .collect();
            let total: Decimal = items
                .iter()
                .filter_map(|it| it.item_price.as_ref().map(|m| m.amount.decimal()))
                .sum();
            RemoteOrder {
                amazon_order_id: id.clone(),
                marketplace_id: marketplace.to_owned(),
                purchase_date: purchase,
                last_update_date: updated,
                order_status: entity::enums::OrderStatus::parse(status),
                fulfillment_channel: Some("MFN".to_owned()),
                order_total: Some(Money {
                    currency: currency.to_owned(),
                    amount: total.into(),
                }),
                number_of_items_shipped: Some(i32::try_from(pass * 3).unwrap()),
                number_of_items_unshipped: Some(i32::try_from(3 - pass * 3).unwrap()),
                is_prime: i % 2 == 0,
                is_business_order: false,
                raw: json!({
                    "AmazonOrderId": id, "MarketplaceId": marketplace,
                    "OrderStatus": status, "FulfillmentChannel": "MFN",
                    "OrderTotal": {"CurrencyCode": currency, "Amount": total.to_string()},
                    "SalesChannel": "Amazon.com", "OrderType": "StandardOrder",
                    "ShippingAddress": {"City": "SEATTLE", "StateOrRegion": "WA", "CountryCode": "US"}
                }),
                items: Some(items),
            }
        })
        .collect()
}

/// An Orders API that answers from memory, instantly: only our writes are timed.
struct Pages {
    pages: Vec<Vec<RemoteOrder>>,
}

#[async_trait::async_trait]
impl OrdersApi for Pages {
    async fn orders_page(
        &self,
        _version: OrdersApiVersion,
        _query: &OrdersQuery,
        token: Option<&str>,
    ) -> Result<OrdersPage, SpApiError> {
        let at: usize = token.map_or(0, |t| t.parse().unwrap());
        Ok(OrdersPage {
            orders: self.pages.get(at).cloned().unwrap_or_default(),
            next_token: (at + 1 < self.pages.len()).then(|| (at + 1).to_string()),
        })
    }
    async fn order_items(&self, _id: &str) -> Result<Vec<RemoteItem>, SpApiError> {
        Ok(Vec::new())
    }
}

#[async_trait::async_trait]
impl SpApi for Pages {
    async fn marketplace_participations(&self) -> Result<Vec<Participation>, SpApiError> {
        Ok(Vec::new())
    }
    fn amazon_now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn clock_known(&self) -> bool {
        true
    }
    fn stats(&self) -> ClientStats {
        ClientStats::default()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
    fn client(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite3",
            Self::Postgres => "psql",
        }
    }
}

/// A fresh, migrated database; the temp dir keeps a SQLite file alive.
struct Fresh {
    db: DatabaseConnection,
    url: String,
    sqlite_file: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static DB_COUNTER: AtomicU32 = AtomicU32::new(0);

async fn fresh(backend: Backend, pg_url: Option<&str>) -> Fresh {
    let (url, file, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let file = format!("{}/bench.sqlite", dir.path().display());
            (format!("sqlite://{file}?mode=rwc"), Some(file), Some(dir))
        }
        Backend::Postgres => {
            let admin = pg_url.unwrap();
            let name = format!(
                "upsert_bench_{}_{}",
                std::process::id(),
                DB_COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let admin_db = service::db::open(admin).await.unwrap();
            admin_db
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            let mut url = url::Url::parse(admin).unwrap();
            url.set_path(&name);
            (url.to_string(), None, None)
        }
    };
    let db = service::db::open(&url).await.unwrap();
    <migration::Migrator as migration::MigratorTrait>::up(&db, None)
        .await
        .unwrap();
    Fresh {
        db,
        url,
        sqlite_file: file,
        _dir: dir,
    }
}

/// Seconds our sync takes to write `orders` (one pass).
async fn our_pass(
    db: &DatabaseConnection,
    conn: &amazon_connection::Model,
    orders: &[RemoteOrder],
) -> f64 {
    let api = Pages {
        pages: orders.chunks(100).map(<[RemoteOrder]>::to_vec).collect(),
    };
    let settings = SyncConfig {
        max_pages_per_window: u32::MAX,
        ..SyncConfig::default()
    };
    let options = SyncOptions {
        since: Some(Utc::now() - ChronoDuration::days(1)),
        ..SyncOptions::default()
    };
    let started = Instant::now();
    let outcome = run_orders_sync_with(db, &api, conn, &settings, options)
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert!(outcome.error.is_none(), "sync failed: {:?}", outcome.error);
    assert_eq!(outcome.progress.found, orders.len() as u64);
    secs
}

async fn ours(backend: Backend, pg_url: Option<&str>, passes: &[Vec<RemoteOrder>]) -> (f64, f64) {
    let f = fresh(backend, pg_url).await;
    let conn = amazon_connection::ActiveModel {
        id: Set(1),
        seller_id: Set("A2BENCH".into()),
        region: Set(Region::Na),
        sandbox: Set(false),
        marketplace_ids: Set(json!(MARKETPLACES.map(|m| m.0))),
        orders_api_version: Set(OrdersApiVersion::V2026_01_01),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&f.db)
    .await
    .unwrap();
    let insert = our_pass(&f.db, &conn, &passes[0]).await;
    let update = our_pass(&f.db, &conn, &passes[1]).await;
    let counts = count_rows(&f.db).await;
    assert_eq!(
        counts,
        passes[0].len() * ROWS_PER_ORDER,
        "ours wrote every row"
    );
    drop_db(f, backend, pg_url).await;
    (insert, update)
}

async fn count_rows(db: &DatabaseConnection) -> usize {
    let sql = "SELECT (SELECT count(*) FROM amazon_order) + (SELECT count(*) FROM orders) \
               + (SELECT count(*) FROM amazon_order_item) + (SELECT count(*) FROM order_items)";
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get_by_index(0).unwrap();
    usize::try_from(n).unwrap()
}

async fn drop_db(f: Fresh, backend: Backend, pg_url: Option<&str>) {
    let name = url::Url::parse(&f.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    f.db.close().await.unwrap();
    if backend == Backend::Postgres {
        let admin = service::db::open(pg_url.unwrap()).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE \"{name}\""))
            .await
            .unwrap();
    }
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt(s: Option<&String>) -> String {
    s.map_or_else(|| "NULL".to_owned(), |s| q(s))
}

fn ts(t: DateTime<Utc>) -> String {
    q(&t.to_rfc3339())
}

/// One pass as bulk SQL: 1000 orders per statement and transaction.
fn bulk_sql(backend: Backend, orders: &[RemoteOrder]) -> String {
    let mut sql = String::new();
    if backend == Backend::Sqlite {
        sql.push_str("PRAGMA journal_mode=WAL;\n");
    }
    let now = ts(Utc::now());
    for chunk in orders.chunks(1000) {
        sql.push_str("BEGIN;\n");
        let mut values = Vec::new();
        for o in chunk {
            values.push(format!(
                "({},{},{},{},{},{},{},{},{},{},{},{},{},{now},{now})",
                q(&o.amazon_order_id),
                q(&o.marketplace_id),
                ts(o.purchase_date),
                ts(o.last_update_date),
                q(o.order_status.as_str()),
                opt(o.fulfillment_channel.as_ref()),
                opt(o.order_total.as_ref().map(|m| &m.currency)),
                o.order_total
                    .as_ref()
                    .map_or("NULL".to_owned(), |m| q(&m.amount.to_string())),
                o.number_of_items_shipped.unwrap_or(0),
                o.number_of_items_unshipped.unwrap_or(0),
                o.is_prime,
                o.is_business_order,
                q(&o.raw.to_string()),
            ));
        }
        writeln!(
            sql,
            "INSERT INTO amazon_order (amazon_order_id, marketplace_id, purchase_date, last_update_date, \
             order_status, fulfillment_channel, order_total_currency, order_total_amount, \
             number_of_items_shipped, number_of_items_unshipped, is_prime, is_business_order, \
             raw_payload, created_at, updated_at) VALUES {} \
             ON CONFLICT (amazon_order_id, marketplace_id) DO UPDATE SET \
             purchase_date = excluded.purchase_date, last_update_date = excluded.last_update_date, \
             order_status = excluded.order_status, fulfillment_channel = excluded.fulfillment_channel, \
             order_total_currency = excluded.order_total_currency, \
             order_total_amount = excluded.order_total_amount, \
             number_of_items_shipped = excluded.number_of_items_shipped, \
             number_of_items_unshipped = excluded.number_of_items_unshipped, \
             is_prime = excluded.is_prime, is_business_order = excluded.is_business_order, \
             raw_payload = excluded.raw_payload, updated_at = excluded.updated_at;",
            values.join(",")
        )
        .unwrap();
        let values: Vec<String> = chunk
            .iter()
            .map(|o| {
                format!(
                    "('amazon',{},{},{},{},{},{},{},{now},{now})",
                    q(&format!("{}/{}", o.marketplace_id, o.amazon_order_id)),
                    q(&o.marketplace_id),
                    q(o.order_status.as_str()),
                    ts(o.purchase_date),
                    ts(o.last_update_date),
                    opt(o.order_total.as_ref().map(|m| &m.currency)),
                    o.order_total
                        .as_ref()
                        .map_or("NULL".to_owned(), |m| q(&m.amount.to_string())),
                )
            })
            .collect();
        writeln!(
            sql,
            "INSERT INTO orders (source, source_order_id, marketplace_id, status, purchased_at, \
             source_updated_at, currency, total_amount, created_at, updated_at) VALUES {} \
             ON CONFLICT (source, source_order_id) DO UPDATE SET \
             marketplace_id = excluded.marketplace_id, status = excluded.status, \
             purchased_at = excluded.purchased_at, source_updated_at = excluded.source_updated_at, \
             currency = excluded.currency, total_amount = excluded.total_amount, \
             updated_at = excluded.updated_at;",
            values.join(",")
        )
        .unwrap();
        let mut items = Vec::new();
        let mut unified = Vec::new();
        for o in chunk {
            for i in o.items.iter().flatten() {
                let amount = i.item_price.as_ref().map(|m| m.amount.to_string());
                let price = amount.as_ref().map_or("NULL".to_owned(), |a| q(a));
                let currency = opt(i.item_price.as_ref().map(|m| &m.currency));
                items.push(format!(
                    "({},{},{},{},{},{},{},{},{currency},{price},{},{},{now},{now})",
                    q(&i.order_item_id),
                    q(&o.amazon_order_id),
                    q(&o.marketplace_id),
                    opt(i.seller_sku.as_ref()),
                    opt(i.asin.as_ref()),
                    opt(i.title.as_ref()),
                    i.quantity_ordered,
                    i.quantity_shipped,
                    q(&i.raw.to_string()),
                    ts(o.purchase_date),
                ));
                // Unquoted, so PostgreSQL types the VALUES column numeric.
                let bare_price = amount.unwrap_or_else(|| "NULL".to_owned());
                unified.push(format!(
                    "({},{},{},{},{},{},{currency},{bare_price})",
                    q(&format!("{}/{}", o.marketplace_id, o.amazon_order_id)),
                    q(&i.order_item_id),
                    opt(i.seller_sku.as_ref()),
                    opt(i.title.as_ref()),
                    i.quantity_ordered,
                    i.quantity_shipped,
                ));
            }
        }
        writeln!(
            sql,
            "INSERT INTO amazon_order_item (order_item_id, amazon_order_id, marketplace_id, \
             seller_sku, asin, title, quantity_ordered, quantity_shipped, item_price_currency, \
             item_price_amount, raw_payload, order_purchase_date, created_at, updated_at) VALUES {} \
             ON CONFLICT (amazon_order_id, order_item_id) DO UPDATE SET \
             marketplace_id = excluded.marketplace_id, seller_sku = excluded.seller_sku, \
             asin = excluded.asin, title = excluded.title, \
             quantity_ordered = excluded.quantity_ordered, quantity_shipped = excluded.quantity_shipped, \
             item_price_currency = excluded.item_price_currency, \
             item_price_amount = excluded.item_price_amount, raw_payload = excluded.raw_payload, \
             order_purchase_date = excluded.order_purchase_date, updated_at = excluded.updated_at;",
            items.join(",")
        )
        .unwrap();
        // The unified item needs its order's id: join the values to `orders`
        // (VALUES columns are column1… on both databases).
        writeln!(
            sql,
            "INSERT INTO order_items (order_id, source, source_order_item_id, sku, title, quantity, \
             quantity_shipped, currency, price_amount, created_at, updated_at) \
             SELECT o.id, 'amazon', v.column2, v.column3, v.column4, v.column5, v.column6, \
             v.column7, v.column8, {now}, {now} FROM (VALUES {}) AS v \
             JOIN orders o ON o.source = 'amazon' AND o.source_order_id = v.column1 WHERE true \
             ON CONFLICT (source, source_order_item_id) WHERE source_order_item_id IS NOT NULL \
             DO UPDATE SET order_id = excluded.order_id, sku = excluded.sku, title = excluded.title, \
             quantity = excluded.quantity, quantity_shipped = excluded.quantity_shipped, \
             currency = excluded.currency, price_amount = excluded.price_amount, \
             updated_at = excluded.updated_at;",
            unified.join(",")
        )
        .unwrap();
        sql.push_str("COMMIT;\n");
    }
    sql
}

/// Seconds the command-line client takes to run `sql` (process start included).
fn run_client(backend: Backend, f: &Fresh, sql: &str, dir: &Path) -> f64 {
    let file = dir.join("pass.sql");
    std::fs::write(&file, sql).unwrap();
    let mut cmd = match backend {
        Backend::Postgres => {
            let mut c = Command::new("psql");
            c.args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-o",
                "/dev/null",
                "-d",
                &f.url,
                "-f",
            ])
            .arg(&file);
            c
        }
        Backend::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.args(["-bail", f.sqlite_file.as_deref().unwrap()])
                .stdin(std::fs::File::open(&file).unwrap())
                .stdout(std::process::Stdio::null());
            c
        }
    };
    let started = Instant::now();
    let status = cmd.status().unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert!(status.success(), "{} failed", backend.client());
    secs
}

async fn bulk(backend: Backend, pg_url: Option<&str>, sql: &[String], orders: usize) -> (f64, f64) {
    let f = fresh(backend, pg_url).await;
    let dir = tempfile::tempdir().unwrap();
    let insert = run_client(backend, &f, &sql[0], dir.path());
    let update = run_client(backend, &f, &sql[1], dir.path());
    let counts = count_rows(&f.db).await;
    assert_eq!(
        counts,
        orders * ROWS_PER_ORDER,
        "the bulk client wrote every row"
    );
    drop_db(f, backend, pg_url).await;
    (insert, update)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let base = Utc::now() - ChronoDuration::hours(2);
    let passes = [
        make_orders(args.orders, 0, base),
        make_orders(args.orders, 1, base),
    ];
    let rows = (args.orders * ROWS_PER_ORDER) as f64;
    let mut backends = Vec::new();
    if !args.no_sqlite {
        backends.push(Backend::Sqlite);
    }
    if args.pg_url.is_some() {
        backends.push(Backend::Postgres);
    }
    println!(
        "upsert-bench: {} orders = {} rows per pass, median of {} repetitions\n",
        args.orders,
        args.orders * ROWS_PER_ORDER,
        args.reps
    );
    println!("| backend | rows | pass | ours rows/s | bulk client | bulk rows/s | ours / bulk |");
    println!("|---|---:|---|---:|---|---:|---:|");
    for backend in backends {
        let sql = [bulk_sql(backend, &passes[0]), bulk_sql(backend, &passes[1])];
        let (mut oi, mut ou, mut bi, mut bu) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for rep in 0..args.reps {
            // Alternate which goes first, so neither always gets the warmer caches.
            let (o, b) = if rep % 2 == 0 {
                let o = ours(backend, args.pg_url.as_deref(), &passes).await;
                (
                    o,
                    bulk(backend, args.pg_url.as_deref(), &sql, args.orders).await,
                )
            } else {
                let b = bulk(backend, args.pg_url.as_deref(), &sql, args.orders).await;
                (ours(backend, args.pg_url.as_deref(), &passes).await, b)
            };
            eprintln!(
                "{} rep {}: ours insert {:.2}s update {:.2}s; {} insert {:.2}s update {:.2}s",
                backend.name(),
                rep + 1,
                o.0,
                o.1,
                backend.client(),
                b.0,
                b.1
            );
            oi.push(rows / o.0);
            ou.push(rows / o.1);
            bi.push(rows / b.0);
            bu.push(rows / b.1);
        }
        for (pass, ours, bulk) in [("insert", oi, bi), ("update", ou, bu)] {
            let (o, b) = (median(ours.clone()), median(bulk.clone()));
            let ratios: Vec<f64> = ours.iter().zip(&bulk).map(|(o, b)| o / b).collect();
            println!(
                "| {} | {} | {pass} | {o:.0} | {} | {b:.0} | {:.2} |",
                backend.name(),
                args.orders * ROWS_PER_ORDER,
                backend.client(),
                median(ratios)
            );
        }
    }
}
