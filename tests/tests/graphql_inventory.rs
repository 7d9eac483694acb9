//! `syncAmazonInventory`, `amazonInventory` and the low-stock alert through the
//! schema: the owner syncs, anyone signed in reads page by page, days of cover come
//! from our own orders, and the alert fires once and clears once.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::{DateTime, Duration, Utc};
use e2e::TestApi;
use entity::enums::OrdersApiVersion;
use entity::{amazon_order, amazon_order_item, fba_inventory};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use service::monitor::AlertKind;
use spapi_sim::{SimConfig, Simulator};

const US: &str = "ATVPDKIKX0DER";

const PAGE: &str = "query($after: String, $filter: InventoryFilter) {
  amazonInventory(first: 7, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { marketplaceId sellerSku fulfillableQuantity totalQuantity unitsSoldPerDay daysOfCover lowStock } }
  }
}";

async fn all_pages(api: &TestApi, token: &str, filter: Value) -> (u64, Vec<Value>) {
    let mut after: Option<String> = None;
    let mut rows = Vec::new();
    loop {
        let r = api
            .run(
                Some(token),
                PAGE,
                json!({ "after": after, "filter": filter }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let page = &r["data"]["amazonInventory"];
        let total = page["totalCount"].as_u64().unwrap();
        rows.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return (total, rows);
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// A simulated US seller (`config` with the US marketplace) connected to `api`.
async fn connected(api: &TestApi, config: SimConfig) -> spapi_sim::SimHandle {
    let sim = Simulator::start(SimConfig {
        marketplaces: vec![US.to_owned()],
        ..config
    })
    .await
    .unwrap();
    e2e::connect_to_simulator(
        &api.t.db,
        &api.settings.encryption_key,
        &sim,
        "A2SIM",
        vec![US.to_owned()],
        OrdersApiVersion::V2026_01_01,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await
    .unwrap();
    sim
}

#[tokio::test]
async fn the_owner_syncs_the_inventory_and_anyone_signed_in_reads_it_page_by_page() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    let sim = connected(
        &api,
        SimConfig {
            orders: 120,
            seed: 5,
            days: 5,
            time_scale: 100.0,
            ..SimConfig::default()
        },
    )
    .await;

    let refused = api
        .run(
            Some(&viewer),
            "mutation { syncAmazonInventory(wait: true) { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(e2e::error_codes(&refused), ["FORBIDDEN"], "{refused}");
    let run = api
        .run(
            Some(&owner),
            "mutation { syncAmazonInventory(wait: true) { kind status found inserted ordersFound } }",
            Value::Null,
        )
        .await;
    assert!(run["errors"].is_null(), "{run}");
    let run = &run["data"]["syncAmazonInventory"];
    let truth = sim.inventory_ground_truth();
    assert_eq!(run["kind"], "INVENTORY");
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["found"], truth.len());
    assert_eq!(run["inserted"], truth.len());
    assert_eq!(run["ordersFound"], 0, "an inventory run finds no orders");
    let health = api
        .run(
            Some(&viewer),
            "{ syncHealth { lagSeconds inventoryLastSuccessAt } }",
            Value::Null,
        )
        .await;
    assert!(
        health["data"]["syncHealth"]["inventoryLastSuccessAt"].is_string()
            && health["data"]["syncHealth"]["lagSeconds"].is_null(),
        "the inventory's freshness is its own, not the orders sync's: {health}"
    );

    let (total, rows) = all_pages(&api, &viewer, Value::Null).await;
    assert_eq!(total as usize, truth.len());
    let skus: Vec<&str> = rows
        .iter()
        .map(|r| r["sellerSku"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = truth.iter().map(|s| s.seller_sku.as_str()).collect();
    assert_eq!(skus, expected, "every SKU once, in SKU order");
    for (row, s) in rows.iter().zip(&truth) {
        assert_eq!(
            row["fulfillableQuantity"], s.fulfillable,
            "{}",
            s.seller_sku
        );
        assert_eq!(row["totalQuantity"], s.total, "{}", s.seller_sku);
    }

    let one = &truth[truth.len() / 2].seller_sku;
    let (total, rows) = all_pages(&api, &viewer, json!({ "sellerSku": one })).await;
    assert_eq!(total, 1);
    assert_eq!(rows[0]["sellerSku"], one.as_str());

    let bad = api
        .run(
            Some(&viewer),
            "{ amazonInventory(after: \"bm90IGEgY3Vyc29y\") { totalCount } }",
            Value::Null,
        )
        .await;
    assert_eq!(e2e::error_codes(&bad), ["BAD_USER_INPUT"], "{bad}");
}

async fn stock(api: &TestApi, sku: &str, fulfillable: i64) {
    let now = Utc::now();
    fba_inventory::ActiveModel {
        marketplace_id: Set(US.into()),
        seller_sku: Set(sku.into()),
        fulfillable_quantity: Set(fulfillable),
        total_quantity: Set(fulfillable),
        raw: Set(json!({})),
        seen_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap();
}

async fn sale(api: &TestApi, id: &str, sku: &str, units: i32, at: DateTime<Utc>, status: &str) {
    amazon_order::ActiveModel {
        amazon_order_id: Set(id.to_owned()),
        marketplace_id: Set(US.to_owned()),
        purchase_date: Set(at),
        last_update_date: Set(at),
        order_status: Set(entity::enums::OrderStatus::parse(status)),
        fulfillment_channel: Set(Some("AFN".to_owned())),
        is_prime: Set(false),
        is_business_order: Set(false),
        raw_payload: Set(json!({})),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap();
    amazon_order_item::ActiveModel {
        order_item_id: Set(format!("{id}-1")),
        amazon_order_id: Set(id.to_owned()),
        marketplace_id: Set(US.to_owned()),
        seller_sku: Set(Some(sku.to_owned())),
        quantity_ordered: Set(units),
        quantity_shipped: Set(0),
        raw_payload: Set(json!({})),
        order_purchase_date: Set(at),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap();
}

async fn low_stock_transitions(api: &TestApi) -> Vec<(String, String)> {
    service::monitor::evaluate(&api.t.db, &api.settings.alerts)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == AlertKind::LowStock)
        .map(|t| (t.state.to_owned(), t.sku.unwrap().1))
        .collect()
}

#[tokio::test]
async fn days_of_cover_come_from_our_orders_and_the_low_stock_alert_fires_once_and_clears_once() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let now = Utc::now();
    stock(&api, "MUG-1", 10).await;
    stock(&api, "NEVER-SOLD", 3).await;
    // 56 units in the last 28 days: 2 a day; 10 units last 5 days.
    sale(
        &api,
        "111-0000001-0000001",
        "MUG-1",
        40,
        now - Duration::days(3),
        "Shipped",
    )
    .await;
    sale(
        &api,
        "111-0000001-0000002",
        "MUG-1",
        16,
        now - Duration::days(20),
        "Unshipped",
    )
    .await;
    // Canceled, or older than the window: not sales.
    sale(
        &api,
        "111-0000001-0000003",
        "MUG-1",
        100,
        now - Duration::days(1),
        "Canceled",
    )
    .await;
    sale(
        &api,
        "111-0000001-0000004",
        "MUG-1",
        100,
        now - Duration::days(40),
        "Shipped",
    )
    .await;

    let (_, rows) = all_pages(&api, &owner, Value::Null).await;
    let mug = rows.iter().find(|r| r["sellerSku"] == "MUG-1").unwrap();
    assert_eq!(mug["unitsSoldPerDay"], 2.0);
    assert_eq!(mug["daysOfCover"], 5.0);
    assert_eq!(mug["lowStock"], true);
    let never = rows
        .iter()
        .find(|r| r["sellerSku"] == "NEVER-SOLD")
        .unwrap();
    assert_eq!(never["daysOfCover"], Value::Null);
    assert_eq!(never["lowStock"], false, "no sales and no unit threshold");
    let (total, low) = all_pages(&api, &owner, json!({ "lowStockOnly": true })).await;
    assert_eq!((total, low.len()), (1, 1));

    let health = api
        .run(
            Some(&owner),
            "{ syncHealth { activeAlerts { kind marketplaceId sellerSku message } } }",
            Value::Null,
        )
        .await;
    let alerts = health["data"]["syncHealth"]["activeAlerts"]
        .as_array()
        .unwrap();
    let low_alert = alerts.iter().find(|a| a["kind"] == "low_stock").unwrap();
    assert_eq!(low_alert["sellerSku"], "MUG-1");
    assert_eq!(low_alert["marketplaceId"], US);
    assert!(
        low_alert["message"]
            .as_str()
            .unwrap()
            .contains("5.0 days of cover"),
        "{low_alert}"
    );

    assert_eq!(
        low_stock_transitions(&api).await,
        [("fired".to_owned(), "MUG-1".to_owned())]
    );
    assert!(low_stock_transitions(&api).await.is_empty(), "fires once");

    // An inbound shipment arrives: 100 units last 50 days.
    fba_inventory::Entity::update_many()
        .col_expr(
            fba_inventory::Column::FulfillableQuantity,
            sea_orm::sea_query::Expr::value(100),
        )
        .filter(fba_inventory::Column::SellerSku.eq("MUG-1"))
        .exec(&api.t.db)
        .await
        .unwrap();
    assert_eq!(
        low_stock_transitions(&api).await,
        [("cleared".to_owned(), "MUG-1".to_owned())]
    );
    assert!(low_stock_transitions(&api).await.is_empty(), "clears once");
    let (total, _) = all_pages(&api, &owner, json!({ "lowStockOnly": true })).await;
    assert_eq!(total, 0);
}

#[tokio::test]
async fn a_seller_without_fba_inventory_gets_a_succeeded_run_that_says_so() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(
        &api,
        SimConfig {
            orders: 20,
            fba_inventory: false,
            ..SimConfig::default()
        },
    )
    .await;

    let run = api
        .run(
            Some(&owner),
            "mutation { syncAmazonInventory(wait: true) { status found notes } }",
            Value::Null,
        )
        .await;

    assert!(run["errors"].is_null(), "{run}");
    let run = &run["data"]["syncAmazonInventory"];
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["found"], 0);
    let notes = run["notes"].as_array().unwrap();
    assert!(
        notes.len() == 1
            && notes[0]
                .as_str()
                .unwrap()
                .contains("no FBA inventory in ATVPDKIKX0DER"),
        "{run}"
    );
}
