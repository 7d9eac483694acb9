//! `page-bench`: what one orders page costs the api process itself, with no HTTP,
//! no other load and no other process on the api's cores: the schema is executed
//! in this process, one request at a time, on a freshly seeded database.
//!
//! `cargo run --release -p e2e --bin page-bench -- --orders 2000 --reps 2000 --pg-url postgres://postgres@127.0.0.1:5432/postgres`
//!
//! On PostgreSQL (`--pg-url`) the database runs in its own processes, so this
//! process's CPU time per request is the api's share of a page: parsing and
//! validating the document, the driver, building the objects, resolving every
//! field and writing the JSON body. On SQLite the database runs inside this
//! process, so its CPU is counted too.
//!
//! One row per kind of request, each the median (and p99) of `--reps`
//! requests after `--reps / 10` warm-up ones:
//! - `me`: the smallest signed-in request (the token check and the user lookup);
//! - `page, no items`: `amazonOrders(first: 50)` with the order fields of the load
//!   test (`scripts/load/bodies.py`);
//! - `page`: the load test's page exactly, with three items per order.
//!
//! `execute` is `schema.execute`, with the document handed over already parsed
//! when it has been seen before (`ParsedDocuments`, as the api's handler does); `json` is turning its response into the
//! HTTP body, as the api's handler does; `CPU` is the process's user+system time
//! per request over the whole measured loop.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    reason = "a benchmark binary: any failure aborts the measurement"
)]

use chrono::{Duration, TimeZone, Utc};
use clap::Parser;
use e2e::{TestDb, settings};
use entity::{Amount, amazon_order, amazon_order_item};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "What one orders page costs the api process, by kind of request")]
struct Args {
    /// Orders to seed (3 items each).
    #[arg(long, default_value_t = 2_000)]
    orders: usize,
    /// Measured requests per kind.
    #[arg(long, default_value_t = 2_000)]
    reps: usize,
    /// A PostgreSQL URL whose user may create databases; without it, SQLite.
    #[arg(long, env = "TEST_PG_URL")]
    pg_url: Option<String>,
}

/// The load test's page (`scripts/load/bodies.py`, `PAGE`).
const PAGE: &str = "query($first: Int!, $after: String, $filter: AmazonOrderFilter) { amazonOrders(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } edges { cursor node { amazonOrderId marketplaceId purchaseDate orderStatus orderTotal { amount currencyCode } items { sellerSku asin quantityOrdered itemPrice { amount currencyCode } } } } } }";
const PAGE_NO_ITEMS: &str = "query($first: Int!, $after: String, $filter: AmazonOrderFilter) { amazonOrders(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } edges { cursor node { amazonOrderId marketplaceId purchaseDate orderStatus orderTotal { amount currencyCode } } } } }";
const ME: &str = "{ me { id email role } }";

async fn seed(db: &sea_orm::DatabaseConnection, n: usize) {
    let base = Utc.timestamp_opt(1_790_000_000, 0).single().unwrap();
    let marketplaces = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"];
    for chunk_start in (0..n).step_by(500) {
        let range = chunk_start..n.min(chunk_start + 500);
        let mut orders = Vec::new();
        let mut items = Vec::new();
        for i in range {
            let id = format!("111-{:07}-{:07}", i, (i * 7919) % 10_000_000);
            let marketplace = marketplaces[i % 2];
            let purchased = base + Duration::seconds(i64::try_from(i).unwrap() * 60);
            let mut total = Decimal::ZERO;
            for k in 0..3 {
                let price = Decimal::new(i64::try_from(1999 + (i % 50) * 100 + k).unwrap(), 2);
                total += price;
                let sku = format!("SKU-{:04}", (i * 3 + k) % 500);
                items.push(amazon_order_item::ActiveModel {
                    order_item_id: Set(format!("{:014}", i * 3 + k)),
                    amazon_order_id: Set(id.clone()),
                    marketplace_id: Set(marketplace.to_owned()),
                    asin: Set(Some(format!("B0{:08}", (i * 3 + k) % 500))),
                    title: Set(Some(format!("Product {sku}, a thing people buy"))),
                    seller_sku: Set(Some(sku)),
                    quantity_ordered: Set(1),
                    quantity_shipped: Set(0),
                    item_price_currency: Set(Some("USD".to_owned())),
                    item_price_amount: Set(Some(Amount::from(price))),
                    raw_payload: Set(json!({ "OrderItemId": format!("{:014}", i * 3 + k) })),
                    order_purchase_date: Set(purchased),
                    created_at: Set(purchased),
                    updated_at: Set(purchased),
                    ..Default::default()
                });
            }
            orders.push(amazon_order::ActiveModel {
                amazon_order_id: Set(id.clone()),
                marketplace_id: Set(marketplace.to_owned()),
                purchase_date: Set(purchased),
                last_update_date: Set(purchased),
                order_status: Set(if i % 4 == 0 {
                    entity::enums::OrderStatus::Shipped
                } else {
                    entity::enums::OrderStatus::Unshipped
                }),
                fulfillment_channel: Set(Some("MFN".to_owned())),
                order_total_currency: Set(Some("USD".to_owned())),
                order_total_amount: Set(Some(Amount::from(total))),
                number_of_items_shipped: Set(Some(0)),
                number_of_items_unshipped: Set(Some(3)),
                is_prime: Set(i % 2 == 0),
                is_business_order: Set(false),
                raw_payload: Set(json!({ "AmazonOrderId": id })),
                created_at: Set(purchased),
                updated_at: Set(purchased),
                ..Default::default()
            });
        }
        amazon_order::Entity::insert_many(orders)
            .exec(db)
            .await
            .unwrap();
        for part in items.chunks(500) {
            amazon_order_item::Entity::insert_many(part.to_vec())
                .exec(db)
                .await
                .unwrap();
        }
    }
}

/// This process's user + system CPU time so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // /proc counts in USER_HZ, which is 100 on Linux.
    ticks / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

struct Row {
    kind: &'static str,
    execute_p50: f64,
    execute_p99: f64,
    json_p50: f64,
    cpu: f64,
    body_bytes: usize,
}

async fn measure(
    schema: &api::schema::ApiSchema,
    token: &str,
    kind: &'static str,
    query: &str,
    reps: usize,
) -> Row {
    // As the api's handler does: a document seen before is not parsed again.
    let documents = api::schema::documents::ParsedDocuments::default();
    let request = || {
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(json!({ "first": 50 })))
            .data(api::schema::RequestAuth::bearer(token));
        documents.attach(&mut request);
        request
    };
    for _ in 0..reps / 10 {
        let response = schema.execute(request()).await;
        assert!(response.errors.is_empty(), "{kind}: {:?}", response.errors);
    }
    let mut execute = Vec::with_capacity(reps);
    let mut json = Vec::with_capacity(reps);
    let mut body_bytes = 0;
    let cpu_before = cpu_seconds();
    for _ in 0..reps {
        let started = Instant::now();
        let response = schema.execute(request()).await;
        let executed = Instant::now();
        let body = serde_json::to_vec(&response).unwrap();
        let written = Instant::now();
        assert!(response.errors.is_empty(), "{kind}: {:?}", response.errors);
        body_bytes = body.len();
        execute.push((executed - started).as_secs_f64() * 1e6);
        json.push((written - executed).as_secs_f64() * 1e6);
    }
    let cpu = (cpu_seconds() - cpu_before) / reps as f64 * 1e6;
    execute.sort_by(f64::total_cmp);
    json.sort_by(f64::total_cmp);
    Row {
        kind,
        execute_p50: percentile(&execute, 0.5),
        execute_p99: percentile(&execute, 0.99),
        json_p50: percentile(&json, 0.5),
        cpu,
        body_bytes,
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let t = TestDb::migrated_on(args.pg_url.as_deref()).await;
    seed(&t.db, args.orders).await;
    // Statistics, as a database that has lived a while has them (the load test
    // runs VACUUM ANALYZE after seeding too): without them PostgreSQL plans for an
    // empty table.
    t.db.execute_unprepared("ANALYZE").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let settings = settings(&t.url, data.path(), false);
    let schema = api::schema::schema(t.db.clone(), &settings);
    let registered = schema
        .execute(
            async_graphql::Request::new(
                "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token } }",
            )
            .variables(async_graphql::Variables::from_json(
                json!({ "e": e2e::OWNER_EMAIL, "p": e2e::OWNER_PASSWORD }),
            )),
        )
        .await;
    let token = registered.data.into_json().unwrap()["register"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    println!(
        "page-bench: {:?}, {} orders (3 items each), {} requests per kind, one at a time\n",
        t.backend, args.orders, args.reps
    );
    println!(
        "| request | execute p50 µs | execute p99 µs | json p50 µs | CPU µs/request | body bytes |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (kind, query) in [
        ("me", ME),
        ("page, no items", PAGE_NO_ITEMS),
        ("page", PAGE),
    ] {
        // On a worker of the runtime, as the api's request handlers run.
        let (schema, token) = (schema.clone(), token.clone());
        let r = tokio::spawn(async move { measure(&schema, &token, kind, query, args.reps).await })
            .await
            .unwrap();
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            r.kind, r.execute_p50, r.execute_p99, r.json_p50, r.cpu, r.body_bytes
        );
    }
}
