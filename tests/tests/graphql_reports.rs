//! `salesDaily` through `schema.execute`, over orders inserted directly: days cut at
//! local midnight in the seller's time zone (DST days included), canceled orders
//! excluded, pending ones counted without revenue, one row per day and currency.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::{DateTime, TimeZone, Utc};
use e2e::{TestApi, error_codes};
use entity::{Amount, amazon_order, amazon_order_item};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use std::str::FromStr;

const US: &str = "ATVPDKIKX0DER";
const CA: &str = "A2EUQ1WTGCTBG2";

const SALES: &str = "query($from: Date!, $to: Date!, $m: String) { salesDaily(from: $from, to: $to, marketplaceId: $m) { date currencyCode revenue units orders pendingOrders } }";

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn connect(api: &TestApi, token: &str, marketplaces: &[&str], timezone: Option<&str>) {
    let r = api
        .run(
            Some(token),
            "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { timezone reportTimezone } }",
            json!({ "input": {
                "sellerId": "A2SELLER", "region": "NA", "marketplaceIds": marketplaces,
                "timezone": timezone,
            } }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
}

/// An order with one item per `(quantity, price)`, in `currency`.
async fn order(
    api: &TestApi,
    id: &str,
    marketplace: &str,
    purchased: DateTime<Utc>,
    status: &str,
    currency: &str,
    items: &[(i32, Option<&str>)],
) {
    let priced = items.iter().any(|(_, p)| p.is_some());
    amazon_order::ActiveModel {
        amazon_order_id: Set(id.to_owned()),
        marketplace_id: Set(marketplace.to_owned()),
        purchase_date: Set(purchased),
        last_update_date: Set(purchased),
        order_status: Set(entity::enums::OrderStatus::parse(status)),
        fulfillment_channel: Set(Some("MFN".to_owned())),
        order_total_currency: Set(priced.then(|| currency.to_owned())),
        order_total_amount: Set(priced.then(|| Amount::from_str("1.00").unwrap())),
        number_of_items_shipped: Set(Some(0)),
        number_of_items_unshipped: Set(Some(1)),
        is_prime: Set(false),
        is_business_order: Set(false),
        raw_payload: Set(json!({})),
        created_at: Set(purchased),
        updated_at: Set(purchased),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap();
    for (n, (quantity, price)) in items.iter().enumerate() {
        amazon_order_item::ActiveModel {
            order_item_id: Set(format!("{id}-{n}")),
            amazon_order_id: Set(id.to_owned()),
            marketplace_id: Set(marketplace.to_owned()),
            seller_sku: Set(Some(format!("SKU-{n}"))),
            asin: Set(None),
            title: Set(None),
            quantity_ordered: Set(*quantity),
            quantity_shipped: Set(0),
            item_price_currency: Set(price.map(|_| currency.to_owned())),
            item_price_amount: Set(price.map(|p| Amount::from_str(p).unwrap())),
            raw_payload: Set(json!({})),
            order_purchase_date: Set(purchased),
            created_at: Set(purchased),
            updated_at: Set(purchased),
            ..Default::default()
        }
        .insert(&api.t.db)
        .await
        .unwrap();
    }
}

async fn sales(api: &TestApi, token: &str, from: &str, to: &str, m: Option<&str>) -> Vec<Value> {
    let r = api
        .run(
            Some(token),
            SALES,
            json!({ "from": from, "to": to, "m": m }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"]["salesDaily"].as_array().unwrap().clone()
}

/// `(date, orders)` of each row.
fn orders_per_day(rows: &[Value]) -> Vec<(String, i64)> {
    rows.iter()
        .map(|r| {
            (
                r["date"].as_str().unwrap().to_owned(),
                r["orders"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_order_at_23_30_local_counts_on_that_day_and_one_at_00_30_on_the_next() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    connect(&api, &owner, &[US], None).await;
    // amazon.com days are Los Angeles days: PDT (UTC-7) in June.
    order(
        &api,
        "late",
        US,
        utc("2026-06-11T06:30:00Z"),
        "Shipped",
        "USD",
        &[(1, Some("1.00"))],
    )
    .await;
    order(
        &api,
        "early",
        US,
        utc("2026-06-11T07:30:00Z"),
        "Shipped",
        "USD",
        &[(1, Some("2.00"))],
    )
    .await;

    let rows = sales(&api, &owner, "2026-06-10", "2026-06-11", None).await;
    assert_eq!(
        orders_per_day(&rows),
        [("2026-06-10".to_owned(), 1), ("2026-06-11".to_owned(), 1)]
    );
    assert_eq!(rows[0]["revenue"], "1.00");
    assert_eq!(rows[1]["revenue"], "2.00");

    // The connection's time zone setting overrides the marketplace's: in UTC both
    // orders are on the 11th.
    connect(&api, &owner, &[US], Some("UTC")).await;
    let rows = sales(&api, &owner, "2026-06-10", "2026-06-11", None).await;
    assert_eq!(
        orders_per_day(&rows),
        [("2026-06-10".to_owned(), 0), ("2026-06-11".to_owned(), 2)]
    );
}

#[tokio::test]
async fn dst_days_are_cut_at_local_midnight_whatever_their_length() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    connect(&api, &owner, &[US], Some("America/Los_Angeles")).await;
    // 2026-03-08 springs forward (23 hours): 00:30 PST and 23:30 PDT are that day,
    // 00:30 PDT on the 9th is not (a 24-hour day from PST midnight would take it).
    for (id, at) in [
        ("spring-first", "2026-03-08T08:30:00Z"),
        ("spring-last", "2026-03-09T06:30:00Z"),
        ("spring-next", "2026-03-09T07:30:00Z"),
        // 2026-11-01 falls back (25 hours): 23:30 PST is still the 1st.
        ("fall-last", "2026-11-02T07:30:00Z"),
        ("fall-next", "2026-11-02T08:30:00Z"),
    ] {
        order(
            &api,
            id,
            US,
            utc(at),
            "Shipped",
            "USD",
            &[(1, Some("1.00"))],
        )
        .await;
    }

    let spring = sales(&api, &owner, "2026-03-08", "2026-03-09", None).await;
    assert_eq!(
        orders_per_day(&spring),
        [("2026-03-08".to_owned(), 2), ("2026-03-09".to_owned(), 1)]
    );
    let fall = sales(&api, &owner, "2026-11-01", "2026-11-02", None).await;
    assert_eq!(
        orders_per_day(&fall),
        [("2026-11-01".to_owned(), 1), ("2026-11-02".to_owned(), 1)]
    );
}

#[tokio::test]
async fn canceled_orders_are_excluded_and_pending_ones_counted_without_revenue() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    connect(&api, &owner, &[US], Some("UTC")).await;
    let day = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
    order(
        &api,
        "shipped",
        US,
        day,
        "Shipped",
        "USD",
        &[(2, Some("19.98")), (1, Some("0.10"))],
    )
    .await;
    order(
        &api,
        "canceled",
        US,
        day,
        "Canceled",
        "USD",
        &[(5, Some("100.00"))],
    )
    .await;
    order(&api, "pending", US, day, "Pending", "USD", &[(3, None)]).await;

    let rows = sales(&api, &owner, "2026-05-01", "2026-05-01", None).await;
    assert_eq!(
        rows,
        [json!({
            "date": "2026-05-01", "currencyCode": "USD", "revenue": "20.08",
            "units": 6, "orders": 2, "pendingOrders": 1
        })]
    );
}

#[tokio::test]
async fn each_currency_has_its_own_row_every_day_zeros_included() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    connect(&api, &owner, &[US, CA], Some("UTC")).await;
    let first = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
    let third = Utc.with_ymd_and_hms(2026, 5, 3, 12, 0, 0).unwrap();
    order(
        &api,
        "us-1",
        US,
        first,
        "Shipped",
        "USD",
        &[(1, Some("10.00"))],
    )
    .await;
    order(
        &api,
        "ca-1",
        CA,
        first,
        "Unshipped",
        "CAD",
        &[(2, Some("0.10")), (1, Some("0.20"))],
    )
    .await;
    order(
        &api,
        "ca-2",
        CA,
        third,
        "Shipped",
        "CAD",
        &[(1, Some("99999999999999.99"))],
    )
    .await;

    let rows = sales(&api, &owner, "2026-05-01", "2026-05-03", None).await;
    let got: Vec<(String, String, String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["date"].as_str().unwrap().to_owned(),
                r["currencyCode"].as_str().unwrap().to_owned(),
                r["revenue"].as_str().unwrap().to_owned(),
                r["units"].as_i64().unwrap(),
            )
        })
        .collect();
    let row = |d: &str, c: &str, rev: &str, u: i64| (d.to_owned(), c.to_owned(), rev.to_owned(), u);
    assert_eq!(
        got,
        [
            row("2026-05-01", "CAD", "0.30", 3),
            row("2026-05-01", "USD", "10.00", 1),
            row("2026-05-02", "CAD", "0", 0),
            row("2026-05-02", "USD", "0", 0),
            row("2026-05-03", "CAD", "99999999999999.99", 1),
            row("2026-05-03", "USD", "0", 0),
        ]
    );

    // One marketplace: only its orders, and its currency on empty days.
    let us = sales(&api, &owner, "2026-05-01", "2026-05-02", Some(US)).await;
    assert_eq!(
        us.iter()
            .map(|r| r["currencyCode"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["USD", "USD"]
    );
    assert_eq!(us[0]["revenue"], "10.00");
}

#[tokio::test]
async fn a_viewer_may_read_sales_and_an_anonymous_caller_may_not() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    connect(&api, &owner, &[US], None).await;
    order(
        &api,
        "o",
        US,
        utc("2026-06-11T12:00:00Z"),
        "Shipped",
        "USD",
        &[(1, Some("5.00"))],
    )
    .await;

    let rows = sales(&api, &viewer, "2026-06-11", "2026-06-11", None).await;
    assert_eq!(rows[0]["revenue"], "5.00");

    let anonymous = api
        .run(
            None,
            SALES,
            json!({ "from": "2026-06-11", "to": "2026-06-11" }),
        )
        .await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn a_reversed_or_too_long_range_and_an_unknown_time_zone_are_refused() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    for (from, to) in [("2026-06-11", "2026-06-10"), ("2025-01-01", "2026-06-10")] {
        let r = api
            .run(Some(&owner), SALES, json!({ "from": from, "to": to }))
            .await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{from}..{to}: {r}");
    }
    let r = api
        .run(
            Some(&owner),
            "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { timezone } }",
            json!({ "input": {
                "sellerId": "A2SELLER", "region": "NA", "marketplaceIds": [US],
                "timezone": "Mars/Olympus_Mons",
            } }),
        )
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
}

#[tokio::test]
async fn without_a_connection_days_are_utc_days() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    order(
        &api,
        "o",
        US,
        utc("2026-06-11T23:30:00Z"),
        "Shipped",
        "USD",
        &[(1, Some("5.00"))],
    )
    .await;
    let rows = sales(&api, &owner, "2026-06-11", "2026-06-12", None).await;
    assert_eq!(
        orders_per_day(&rows),
        [("2026-06-11".to_owned(), 1), ("2026-06-12".to_owned(), 0)]
    );
}

#[tokio::test]
async fn the_report_reads_a_purchase_date_range_through_an_index_not_the_whole_table() {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let t = e2e::TestDb::migrated().await;
    let backend = t.db.get_database_backend();
    let built = backend.build(&service::reports::range_query(
        utc("2026-06-01T07:00:00Z"),
        utc("2026-07-01T07:00:00Z"),
        None,
    ));
    let values = built.values.map(|v| v.0).unwrap_or_default();
    let plan: Vec<String> = match t.backend {
        e2e::Backend::Sqlite => {
            let sql = format!("EXPLAIN QUERY PLAN {}", built.sql);
            t.db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<String>("", "detail").unwrap())
                .collect()
        }
        e2e::Backend::Postgres => {
            // An empty table is cheapest to scan whole; forbid that to see what
            // the planner can use at scale.
            let txn = t.db.begin().await.unwrap();
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
            let sql = format!("EXPLAIN {}", built.sql);
            let rows = txn
                .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect()
        }
    };
    let plan = plan.join("\n");
    assert!(
        plan.contains("amazon_order_purchase_date_id_idx"),
        "the purchase-date index is not used:\n{plan}"
    );
    if t.backend == e2e::Backend::Sqlite {
        assert!(
            !plan.lines().any(|l| l.starts_with("SCAN ")),
            "a table is scanned whole:\n{plan}"
        );
    }
}

#[tokio::test]
async fn a_range_of_several_weeks_counts_every_order_once_even_at_week_boundaries() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    connect(&api, &owner, &[US], Some("UTC")).await;
    // One order at noon every day, and one at the very first instant of days 8 and
    // 15, where the report's weekly reads meet.
    for day in 1..=20 {
        let noon = Utc.with_ymd_and_hms(2026, 4, day, 12, 0, 0).unwrap();
        order(
            &api,
            &format!("noon-{day}"),
            US,
            noon,
            "Shipped",
            "USD",
            &[(1, Some("1.00"))],
        )
        .await;
    }
    for day in [8, 15] {
        let midnight = Utc.with_ymd_and_hms(2026, 4, day, 0, 0, 0).unwrap();
        order(
            &api,
            &format!("midnight-{day}"),
            US,
            midnight,
            "Shipped",
            "USD",
            &[(1, Some("1.00"))],
        )
        .await;
    }

    let rows = sales(&api, &owner, "2026-04-01", "2026-04-20", None).await;
    let expected: Vec<(String, i64)> = (1..=20)
        .map(|d| {
            (
                format!("2026-04-{d:02}"),
                if d == 8 || d == 15 { 2 } else { 1 },
            )
        })
        .collect();
    assert_eq!(orders_per_day(&rows), expected);
}
