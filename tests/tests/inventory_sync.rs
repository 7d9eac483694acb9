//! The FBA inventory sync against spapi-sim, on SQLite and PostgreSQL: our stock
//! equals Amazon's after full and incremental runs while orders move it, an expired
//! page token restarts the scan without losing a SKU, an orders sync refreshes the
//! stock of the SKUs it sold, and a dry run writes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use chrono::Utc;
use common::{Harness, US, sim_config, sync_config};
use entity::enums::{OrdersApiVersion, SyncKind, SyncStatus};
use entity::{fba_inventory, sync_runs};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder};
use service::spapi::{
    ClientStats, InventoryApi, InventoryPage, InventoryQuery, Participation, SpApi, SpApiClient,
    SpApiError,
};
use service::sync::{
    InventoryScan, RunMetadata, SyncOptions, SyncOutcome, run_inventory_sync_with,
};
use spapi_sim::SimConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

async fn inventory_sync(
    h: &Harness,
    api: &dyn InventoryApi,
    scan: InventoryScan,
    options: SyncOptions,
) -> SyncOutcome {
    run_inventory_sync_with(&h.t.db, api, &h.conn, &sync_config(), scan, options)
        .await
        .unwrap()
}

/// Which quantities to compare: all, or those an incremental read sees (Amazon's
/// `startDateTime` does not see changes of the inbound quantities, nor therefore
/// of the total).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    All,
    ByIncremental,
}

#[allow(clippy::too_many_arguments, reason = "one line per SKU, in one shape")]
fn line(seen: Seen, mp: &str, sku: &str, asin: &str, fnsku: &str, q: [i64; 8], at: i64) -> String {
    let [f, iw, is, ir, r, u, rs, t] = q;
    match seen {
        Seen::All => format!(
            "{mp} {sku} asin={asin} fnsku={fnsku} f={f} iw={iw} is={is} ir={ir} r={r} u={u} rs={rs} t={t} at={at}"
        ),
        Seen::ByIncremental => {
            format!("{mp} {sku} asin={asin} fnsku={fnsku} f={f} r={r} u={u} rs={rs} at={at}")
        }
    }
}

/// Our rows in the simulator's terms: one line per (marketplace, SKU).
async fn ours(h: &Harness, seen: Seen) -> Vec<String> {
    fba_inventory::Entity::find()
        .order_by_asc(fba_inventory::Column::MarketplaceId)
        .order_by_asc(fba_inventory::Column::SellerSku)
        .all(&h.t.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.gone_at.is_none())
        .map(|r| {
            line(
                seen,
                &r.marketplace_id,
                &r.seller_sku,
                &r.asin.unwrap_or_default(),
                &r.fn_sku.unwrap_or_default(),
                [
                    r.fulfillable_quantity,
                    r.inbound_working_quantity,
                    r.inbound_shipped_quantity,
                    r.inbound_receiving_quantity,
                    r.reserved_quantity,
                    r.unfulfillable_quantity,
                    r.researching_quantity,
                    r.total_quantity,
                ],
                r.last_updated_time
                    .map(|t| t.timestamp())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn truth(h: &Harness, seen: Seen) -> Vec<String> {
    h.sim
        .inventory_ground_truth()
        .into_iter()
        .map(|s| {
            line(
                seen,
                &s.marketplace_id,
                &s.seller_sku,
                &s.asin,
                &s.fn_sku,
                [
                    s.fulfillable,
                    s.inbound_working,
                    s.inbound_shipped,
                    s.inbound_receiving,
                    s.reserved,
                    s.unfulfillable,
                    s.researching,
                    s.total,
                ],
                s.last_updated.timestamp(),
            )
        })
        .collect()
}

async fn assert_stock_equals_truth(h: &Harness) {
    assert_seen_stock_equals_truth(h, Seen::All).await;
}

async fn assert_seen_stock_equals_truth(h: &Harness, seen: Seen) {
    let ours = ours(h, seen).await;
    let truth = truth(h, seen);
    assert!(!truth.is_empty(), "the simulator has FBA stock");
    let missing: Vec<_> = truth.iter().filter(|t| !ours.contains(t)).take(3).collect();
    assert!(
        missing.is_empty(),
        "{} of {} SKUs differ or are missing, e.g. {missing:?}",
        truth.iter().filter(|t| !ours.contains(t)).count(),
        truth.len()
    );
    assert_eq!(ours.len(), truth.len(), "SKUs we have that Amazon does not");
}

fn calls(h: &Harness) -> u64 {
    h.sim
        .stats()
        .operations
        .get("getInventorySummaries")
        .map_or(0, |s| s.calls)
}

#[tokio::test]
async fn a_full_sync_makes_our_stock_equal_to_amazons_in_the_fewest_calls() {
    let h = Harness::start(sim_config(300), OrdersApiVersion::V2026_01_01).await;
    let skus = h.sim.inventory_ground_truth();
    let per_marketplace = |mp: &str| skus.iter().filter(|s| s.marketplace_id == mp).count();
    let floor: usize = h
        .conn
        .marketplace_id_list()
        .iter()
        .map(|mp| per_marketplace(mp).div_ceil(50).max(1))
        .sum();

    let outcome =
        inventory_sync(&h, &h.client(), InventoryScan::Full, SyncOptions::default()).await;

    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    assert_stock_equals_truth(&h).await;
    assert_eq!(outcome.progress.found as usize, skus.len());
    assert_eq!(outcome.progress.inserted as usize, skus.len());
    assert_eq!(calls(&h) as usize, floor, "one call per page of 50 SKUs");
    assert_eq!(outcome.throttled, 0);
    let run = sync_runs::Entity::find_by_id(outcome.run_id)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.kind, SyncKind::Inventory);
    assert_eq!(RunMetadata::of(&run).unwrap().scan.as_deref(), Some("full"));
}

#[tokio::test]
async fn incremental_syncs_follow_sales_arrivals_and_damage_and_read_only_what_changed() {
    let h = Harness::start(sim_config(300), OrdersApiVersion::V2026_01_01).await;
    let client = h.client();
    inventory_sync(&h, &client, InventoryScan::Full, SyncOptions::default()).await;
    let sku = h
        .sim
        .inventory_ground_truth()
        .into_iter()
        .find(|s| s.marketplace_id == US && s.fulfillable > 2)
        .unwrap();

    h.sim.add_orders(40);
    h.sim.receive_inbound(US, &sku.seller_sku, 25).unwrap();
    h.sim.damage_units(US, &sku.seller_sku, 2).unwrap();
    // Past the overlap, so the incremental window is Amazon's changes alone.
    h.settle().await;
    let second = inventory_sync(
        &h,
        &client,
        InventoryScan::Incremental,
        SyncOptions::default(),
    )
    .await;

    assert_eq!(second.status, SyncStatus::Succeeded, "{:?}", second.error);
    assert_seen_stock_equals_truth(&h, Seen::ByIncremental).await;
    assert!(second.progress.updated >= 1, "{:?}", second.progress);
    assert!(
        (second.progress.found as usize) < h.sim.inventory_ground_truth().len(),
        "an incremental run reads only the SKUs Amazon changed: {:?}",
        second.progress
    );
    let run = sync_runs::Entity::find_by_id(second.run_id)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        RunMetadata::of(&run).unwrap().scan.as_deref(),
        Some("incremental")
    );

    // What an incremental read cannot see (inbound shipments), the full scan brings.
    let full = inventory_sync(&h, &client, InventoryScan::Full, SyncOptions::default()).await;
    assert_eq!(full.status, SyncStatus::Succeeded);
    assert_stock_equals_truth(&h).await;
}

/// A client that, once, waits longer than a page token lives before the second page.
struct SlowConsumer {
    inner: SpApiClient,
    pause: Duration,
    paused: AtomicBool,
}

#[async_trait::async_trait]
impl SpApi for SlowConsumer {
    async fn marketplace_participations(&self) -> Result<Vec<Participation>, SpApiError> {
        self.inner.marketplace_participations().await
    }
    fn amazon_now(&self) -> chrono::DateTime<Utc> {
        SpApi::amazon_now(&self.inner)
    }
    fn clock_known(&self) -> bool {
        SpApi::clock_known(&self.inner)
    }
    fn stats(&self) -> ClientStats {
        SpApi::stats(&self.inner)
    }
}

#[async_trait::async_trait]
impl InventoryApi for SlowConsumer {
    async fn inventory_page(
        &self,
        query: &InventoryQuery,
        token: Option<&str>,
    ) -> Result<InventoryPage, SpApiError> {
        if token.is_some() && !self.paused.swap(true, Ordering::SeqCst) {
            tokio::time::sleep(self.pause).await;
        }
        self.inner.inventory_page(query, token).await
    }
}

#[tokio::test]
async fn a_page_token_that_expired_restarts_the_scan_and_loses_no_sku() {
    // 30 simulated seconds are 0.3 s at this time scale.
    let h = Harness::start(sim_config(300), OrdersApiVersion::V2026_01_01).await;
    let slow = SlowConsumer {
        inner: h.client(),
        pause: Duration::from_millis(600),
        paused: AtomicBool::new(false),
    };

    let outcome = inventory_sync(&h, &slow, InventoryScan::Full, SyncOptions::default()).await;

    assert!(
        slow.paused.load(Ordering::SeqCst),
        "the scan has a second page"
    );
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    assert_stock_equals_truth(&h).await;
    let run = sync_runs::Entity::find_by_id(outcome.run_id)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(RunMetadata::of(&run).unwrap().restarts, 1);
    assert_eq!(
        fba_inventory::Entity::find().count(&h.t.db).await.unwrap() as usize,
        h.sim.inventory_ground_truth().len(),
        "the restarted pages wrote no SKU twice"
    );
}

#[tokio::test]
async fn a_dry_run_reads_amazon_and_writes_nothing_but_its_run() {
    let h = Harness::start(sim_config(100), OrdersApiVersion::V2026_01_01).await;
    let outcome = inventory_sync(
        &h,
        &h.client(),
        InventoryScan::Full,
        SyncOptions {
            dry_run: true,
            ..SyncOptions::default()
        },
    )
    .await;
    assert_eq!(outcome.status, SyncStatus::Succeeded);
    assert!(outcome.progress.inserted > 0, "{:?}", outcome.progress);
    assert_eq!(
        fba_inventory::Entity::find().count(&h.t.db).await.unwrap(),
        0
    );
    assert_eq!(
        service::sync::watermark(&h.t.db, SyncKind::Inventory, &h.conn)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_full_scan_marks_a_sku_amazon_no_longer_lists_as_gone_and_keeps_it() {
    let h = Harness::start(sim_config(100), OrdersApiVersion::V2026_01_01).await;
    let long_ago = Utc::now() - chrono::Duration::days(3);
    fba_inventory::ActiveModel {
        marketplace_id: Set(US.into()),
        seller_sku: Set("DISCONTINUED-1".into()),
        fulfillable_quantity: Set(4),
        total_quantity: Set(4),
        raw: Set(serde_json::json!({})),
        seen_at: Set(long_ago),
        created_at: Set(long_ago),
        updated_at: Set(long_ago),
        ..Default::default()
    }
    .insert(&h.t.db)
    .await
    .unwrap();
    let client = h.client();

    inventory_sync(&h, &client, InventoryScan::Full, SyncOptions::default()).await;

    let gone = fba_inventory::Entity::find()
        .all(&h.t.db)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.seller_sku == "DISCONTINUED-1")
        .unwrap();
    assert!(gone.gone_at.is_some(), "marked gone, not deleted");
    assert_stock_equals_truth(&h).await;
}

#[tokio::test]
async fn an_account_without_fba_inventory_is_told_so_and_the_run_succeeds() {
    let h = Harness::start(
        SimConfig {
            fba_inventory: false,
            ..sim_config(50)
        },
        OrdersApiVersion::V2026_01_01,
    )
    .await;
    let outcome = inventory_sync(
        &h,
        &h.client(),
        InventoryScan::Incremental,
        SyncOptions::default(),
    )
    .await;
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    assert_eq!(outcome.progress.found, 0);
    assert!(
        outcome.notes.iter().any(|n| n.contains("no FBA inventory")),
        "{:?}",
        outcome.notes
    );
}

#[tokio::test]
async fn an_orders_sync_refreshes_the_stock_of_the_fba_skus_it_sold_in_one_call_per_50() {
    let sim = spapi_sim::Simulator::start(SimConfig {
        marketplaces: vec![US.to_owned()],
        ..sim_config(200)
    })
    .await
    .unwrap();
    sim.settle(chrono::Duration::seconds(200)).await;
    let t = e2e::TestDb::migrated().await;
    let key = service::amazon_account::EncryptionKey::from_bytes([9; 32]);
    e2e::connect_to_simulator(
        &t.db,
        &key,
        &sim,
        "A2SIMSELLER",
        sim.config().marketplaces.clone(),
        OrdersApiVersion::V2026_01_01,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await
    .unwrap();
    let tuning = service::sync::SyncConfig {
        endpoints: service::spapi::EndpointPolicy::AllowCustom,
        first_lookback: Duration::from_secs(12 * 24 * 3600),
        retry_base_delay: Duration::from_millis(20),
        ..service::sync::SyncConfig::default()
    };
    let first = service::sync::run_orders_sync(&t.db, &key, &tuning, SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(first.status, SyncStatus::Succeeded, "{:?}", first.error);
    let refresh = first
        .stock_refresh_run_id
        .expect("the first sync sold FBA SKUs");
    let before = sim
        .stats()
        .operations
        .get("getInventorySummaries")
        .map_or(0, |s| s.calls);
    let by_marketplace = |mp: &str| first.stock_skus.iter().filter(|(m, _)| m == mp).count();
    let floor: u64 = sim
        .config()
        .marketplaces
        .iter()
        .map(|mp| by_marketplace(mp).div_ceil(50) as u64)
        .sum();
    assert_eq!(before, floor, "one call per 50 sold SKUs");

    // Every SKU the orders named now has Amazon's stock, equal to its truth.
    let truth = sim.inventory_ground_truth();
    let ours = fba_inventory::Entity::find().all(&t.db).await.unwrap();
    assert_eq!(ours.len(), first.stock_skus.len());
    for row in &ours {
        let s = truth
            .iter()
            .find(|s| s.marketplace_id == row.marketplace_id && s.seller_sku == row.seller_sku)
            .unwrap();
        assert_eq!(
            (
                row.fulfillable_quantity,
                row.reserved_quantity,
                row.total_quantity
            ),
            (s.fulfillable, s.reserved, s.total),
            "{}",
            row.seller_sku
        );
    }
    let run = sync_runs::Entity::find_by_id(refresh)
        .one(&t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.kind, SyncKind::Inventory);
    assert_eq!(RunMetadata::of(&run).unwrap().scan.as_deref(), Some("skus"));

    // New sales move the stock; the next orders sync brings it along.
    sim.add_orders(30);
    sim.settle(chrono::Duration::seconds(200)).await;
    let second = service::sync::run_orders_sync(&t.db, &key, &tuning, SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(second.status, SyncStatus::Succeeded);
    let truth = sim.inventory_ground_truth();
    for (mp, sku) in &second.stock_skus {
        let row = fba_inventory::Entity::find()
            .all(&t.db)
            .await
            .unwrap()
            .into_iter()
            .find(|r| &r.marketplace_id == mp && &r.seller_sku == sku)
            .unwrap();
        let s = truth
            .iter()
            .find(|s| &s.marketplace_id == mp && &s.seller_sku == sku)
            .unwrap();
        assert_eq!(
            (row.fulfillable_quantity, row.reserved_quantity),
            (s.fulfillable, s.reserved),
            "{sku} after the second orders sync"
        );
    }
}
