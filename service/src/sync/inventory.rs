//! The inventory dataset: Amazon's FBA inventory summaries into `fba_inventory`.
//!
//! Three ways to read Amazon ([`InventoryScan`]):
//! - **full**: every summary of every marketplace; a SKU the scan no longer
//!   returns is marked gone (never deleted). The first run is always full, and
//!   the worker runs one daily as the safety net for what incremental reads miss
//!   (Amazon's `startDateTime` does not see inbound-quantity changes, and sellers
//!   report SKUs skipped across pages).
//! - **incremental**: only summaries Amazon changed since the watermark minus an
//!   overlap (`startDateTime`, at most 18 months back).
//! - **SKUs**: the given SKUs, 50 per call, after an orders sync saw their orders
//!   change, so stock follows sales within one orders sync.
//!
//! A page token lives 30 seconds and only with its first page's parameters; a
//! token that Amazon no longer accepts starts the marketplace's scan again (writes
//! are idempotent upserts, so nothing is lost or doubled). An account without FBA
//! inventory answers `InvalidInput` to a well-formed first request: the run
//! records "no FBA inventory" for that marketplace and succeeds.

use super::cursor::Cursor;
use super::pages::{Pages, Scan, Scanned};
use super::runner::{self, Dataset, RunState};
use super::{SyncConfig, SyncError, SyncOptions, SyncOutcome};
use crate::inventory::SkuKey;
use crate::lease;
use crate::spapi::inventory::MAX_SKUS_PER_CALL;
use crate::spapi::{ClientStats, InventoryApi, InventoryQuery, RemoteInventory, SpApiError};
use chrono::{DateTime, Duration, Utc};
use entity::enums::SyncKind;
use entity::{amazon_connection, fba_inventory};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio_util::sync::CancellationToken;

/// How far back `startDateTime` may reach (Amazon: 18 months; a day's margin).
const MAX_START_AGE: Duration = Duration::days(18 * 30 - 1);

/// Which summaries an inventory run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryScan {
    /// Changed since the watermark (a full scan when there is none yet).
    Incremental,
    /// Everything; SKUs no longer returned are marked gone.
    Full,
    /// Just these SKUs (marketplace, seller SKU).
    Skus(Vec<SkuKey>),
}

struct Inventory<'a> {
    api: &'a dyn InventoryApi,
    conn: &'a amazon_connection::Model,
    settings: &'a SyncConfig,
    scan: InventoryScan,
}

#[async_trait::async_trait]
impl Dataset for Inventory<'_> {
    const KIND: SyncKind = SyncKind::Inventory;
    const LEASE: &'static str = lease::INVENTORY_SYNC;

    fn stats(&self) -> ClientStats {
        self.api.stats()
    }

    async fn sync(
        &self,
        db: &DatabaseConnection,
        options: &SyncOptions,
        lost: &CancellationToken,
        state: &mut RunState,
    ) -> Result<(), SyncError> {
        let marketplace_ids = runner::marketplaces(self.conn, self.api).await?;
        let now = self.api.amazon_now();
        let mut scan = Scanner {
            db,
            api: self.api,
            settings: self.settings,
            options,
            lost,
            stats_base: self.api.stats(),
        };
        state.window_end = now;
        if let InventoryScan::Skus(keys) = &self.scan {
            state.scan = Some("skus");
            state.window_start = now;
            let mut by_marketplace: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            for (mp, sku) in keys {
                if marketplace_ids.contains(mp) {
                    by_marketplace.entry(mp).or_default().insert(sku);
                }
            }
            let chunks: Vec<(&str, Vec<String>)> = by_marketplace
                .into_iter()
                .flat_map(|(mp, skus)| {
                    let skus: Vec<&str> = skus.into_iter().collect();
                    skus.chunks(MAX_SKUS_PER_CALL)
                        .map(|c| (mp, c.iter().map(|s| (*s).to_owned()).collect()))
                        .collect::<Vec<_>>()
                })
                .collect();
            state.progress.windows_total = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
            for (mp, skus) in chunks {
                let query = InventoryQuery {
                    marketplace_id: mp.to_owned(),
                    start_date_time: None,
                    seller_skus: skus,
                };
                scan.marketplace(&query, state).await?;
                state.progress.windows_done += 1;
            }
            return Ok(());
        }

        let cursor = Cursor {
            kind: SyncKind::Inventory,
            scope: "",
        };
        let watermark = match self.scan {
            InventoryScan::Full => None,
            _ => cursor.stored(db, &marketplace_ids).await?,
        };
        let overlap = Duration::from_std(self.settings.overlap).unwrap_or(Duration::minutes(5));
        let start = watermark.map(|w| (w - overlap).max(now - MAX_START_AGE));
        state.scan = Some(if start.is_some() {
            "incremental"
        } else {
            "full"
        });
        state.window_start = start.unwrap_or(now);
        state.progress.windows_total = u32::try_from(marketplace_ids.len()).unwrap_or(u32::MAX);
        for mp in &marketplace_ids {
            let scan_started = Utc::now();
            let query = InventoryQuery {
                marketplace_id: mp.clone(),
                start_date_time: start,
                seller_skus: Vec::new(),
            };
            let has_fba = scan.marketplace(&query, state).await?;
            if !options.dry_run {
                if start.is_none() && has_fba {
                    state.marked_gone += mark_gone(db, mp, scan_started).await?;
                }
                cursor.advance(db, std::slice::from_ref(mp), now).await?;
            }
            state.progress.windows_done += 1;
        }
        Ok(())
    }
}

struct Scanner<'a> {
    db: &'a DatabaseConnection,
    api: &'a dyn InventoryApi,
    settings: &'a SyncConfig,
    options: &'a SyncOptions,
    lost: &'a CancellationToken,
    stats_base: ClientStats,
}

impl Scanner<'_> {
    /// Reads every page of `query` and writes each as it comes. False when Amazon
    /// says the account has no FBA inventory there.
    async fn marketplace(
        &mut self,
        query: &InventoryQuery,
        state: &mut RunState,
    ) -> Result<bool, SyncError> {
        let scan = Scan {
            settings: self.settings,
            options: self.options,
            lost: self.lost,
            stats_base: &self.stats_base,
            scope: &query.marketplace_id,
        };
        let stock = Stock {
            db: self.db,
            api: self.api,
            query,
            options: self.options,
        };
        match scan.read_all(&stock, state).await? {
            Scanned::All => Ok(true),
            Scanned::FirstPageRefused(SpApiError::InvalidInput { message, .. }) => {
                tracing::warn!(marketplace = %query.marketplace_id, %message, "Amazon refused a well-formed inventory request: no FBA inventory");
                state.notes.push(format!(
                    "Amazon reports no FBA inventory in {} (it answers InvalidInput when the account has no FBA SKUs there or FBA is not enabled)",
                    query.marketplace_id
                ));
                Ok(false)
            }
            Scanned::FirstPageRefused(e) => Err(e.into()),
        }
    }
}

/// The pages of one inventory query.
struct Stock<'a> {
    db: &'a DatabaseConnection,
    api: &'a dyn InventoryApi,
    query: &'a InventoryQuery,
    options: &'a SyncOptions,
}

#[async_trait::async_trait]
impl Pages for Stock<'_> {
    type Page = Vec<RemoteInventory>;
    const OPERATION: &'static str = "getInventorySummaries";

    async fn fetch(&self, token: Option<&str>) -> Result<(Self::Page, Option<String>), SpApiError> {
        let page = self.api.inventory_page(self.query, token).await?;
        Ok((page.summaries, page.next_token))
    }

    async fn apply(&self, page: Self::Page, state: &mut RunState) -> Result<(), SyncError> {
        apply_page(self.db, page, self.options, state).await
    }

    fn stats(&self) -> ClientStats {
        self.api.stats()
    }
}

fn unchanged(row: &fba_inventory::Model, s: &RemoteInventory) -> bool {
    row.gone_at.is_none()
        && row.fulfillable_quantity == s.fulfillable
        && row.inbound_working_quantity == s.inbound_working
        && row.inbound_shipped_quantity == s.inbound_shipped
        && row.inbound_receiving_quantity == s.inbound_receiving
        && row.reserved_quantity == s.reserved
        && row.unfulfillable_quantity == s.unfulfillable
        && row.researching_quantity == s.researching
        && row.total_quantity == s.total
        && row.last_updated_time == s.last_updated
        && row.asin == s.asin
        && row.fn_sku == s.fn_sku
        && row.condition == s.condition
        && row.product_name == s.product_name
}

fn fill(row: &mut fba_inventory::ActiveModel, s: RemoteInventory, now: DateTime<Utc>) {
    row.asin = Set(s.asin);
    row.fn_sku = Set(s.fn_sku);
    row.condition = Set(s.condition);
    row.product_name = Set(s.product_name);
    row.fulfillable_quantity = Set(s.fulfillable);
    row.inbound_working_quantity = Set(s.inbound_working);
    row.inbound_shipped_quantity = Set(s.inbound_shipped);
    row.inbound_receiving_quantity = Set(s.inbound_receiving);
    row.reserved_quantity = Set(s.reserved);
    row.unfulfillable_quantity = Set(s.unfulfillable);
    row.researching_quantity = Set(s.researching);
    row.total_quantity = Set(s.total);
    row.last_updated_time = Set(s.last_updated);
    row.raw = Set(s.raw);
    row.seen_at = Set(now);
    row.gone_at = Set(None);
    row.updated_at = Set(now);
}

/// Writes one page in one transaction (or, dry, only counts what it would write).
async fn apply_page(
    db: &DatabaseConnection,
    page: Vec<RemoteInventory>,
    options: &SyncOptions,
    state: &mut RunState,
) -> Result<(), SyncError> {
    // One marketplace per call; a SKU Amazon repeats within a page counts once.
    let mut latest: BTreeMap<SkuKey, RemoteInventory> = BTreeMap::new();
    for s in page {
        state.progress.found += 1;
        latest.insert((s.marketplace_id.clone(), s.seller_sku.clone()), s);
    }
    let Some(((marketplace_id, _), _)) = latest.first_key_value() else {
        return Ok(());
    };
    let marketplace_id = marketplace_id.clone();
    let skus: Vec<String> = latest.keys().map(|(_, sku)| sku.clone()).collect();
    let existing: HashMap<String, fba_inventory::Model> = fba_inventory::Entity::find()
        .filter(fba_inventory::Column::MarketplaceId.eq(&marketplace_id))
        .filter(fba_inventory::Column::SellerSku.is_in(skus))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.seller_sku.clone(), r))
        .collect();
    let mut seen_unchanged = Vec::new();
    let mut writes = Vec::new();
    for ((_, sku), s) in latest {
        match existing.get(&sku) {
            Some(row) if unchanged(row, &s) => {
                state.progress.unchanged += 1;
                seen_unchanged.push(row.id);
            }
            Some(row) => {
                state.progress.updated += 1;
                writes.push((Some(row.clone()), s));
            }
            None => {
                state.progress.inserted += 1;
                writes.push((None, s));
            }
        }
    }
    if options.dry_run {
        return Ok(());
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    // New and changed SKUs in one multi-row upsert on (marketplace, SKU).
    if !writes.is_empty() {
        let rows: Vec<fba_inventory::ActiveModel> = writes
            .into_iter()
            .map(|(existing, s)| {
                let mut row = fba_inventory::ActiveModel {
                    marketplace_id: Set(s.marketplace_id.clone()),
                    seller_sku: Set(s.seller_sku.clone()),
                    created_at: Set(existing.map_or(now, |e| e.created_at)),
                    ..Default::default()
                };
                fill(&mut row, s, now);
                row
            })
            .collect();
        fba_inventory::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    fba_inventory::Column::MarketplaceId,
                    fba_inventory::Column::SellerSku,
                ])
                .update_columns([
                    fba_inventory::Column::Asin,
                    fba_inventory::Column::FnSku,
                    fba_inventory::Column::Condition,
                    fba_inventory::Column::ProductName,
                    fba_inventory::Column::FulfillableQuantity,
                    fba_inventory::Column::InboundWorkingQuantity,
                    fba_inventory::Column::InboundShippedQuantity,
                    fba_inventory::Column::InboundReceivingQuantity,
                    fba_inventory::Column::ReservedQuantity,
                    fba_inventory::Column::UnfulfillableQuantity,
                    fba_inventory::Column::ResearchingQuantity,
                    fba_inventory::Column::TotalQuantity,
                    fba_inventory::Column::LastUpdatedTime,
                    fba_inventory::Column::Raw,
                    fba_inventory::Column::SeenAt,
                    fba_inventory::Column::GoneAt,
                    fba_inventory::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    if !seen_unchanged.is_empty() {
        fba_inventory::Entity::update_many()
            .col_expr(fba_inventory::Column::SeenAt, Expr::value(now))
            .filter(fba_inventory::Column::Id.is_in(seen_unchanged))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Marks gone the marketplace's SKUs a full scan that started at `scan_started`
/// did not see (every SKU it saw was written with a later `seen_at`).
async fn mark_gone(
    db: &DatabaseConnection,
    marketplace_id: &str,
    scan_started: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let now = Utc::now();
    let done = fba_inventory::Entity::update_many()
        .col_expr(fba_inventory::Column::GoneAt, Expr::value(now))
        .col_expr(fba_inventory::Column::UpdatedAt, Expr::value(now))
        .filter(fba_inventory::Column::MarketplaceId.eq(marketplace_id))
        .filter(fba_inventory::Column::GoneAt.is_null())
        .filter(fba_inventory::Column::SeenAt.lt(scan_started))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Runs one inventory sync for the stored connection with the given client.
///
/// # Errors
/// [`SyncError::AlreadyRunning`] when another inventory sync holds the lease (no run
/// row is written); a database error when even the run row cannot be written.
/// Every other failure ends the run as failed or interrupted and is returned in
/// the outcome.
#[tracing::instrument(skip_all, fields(dry_run = options.dry_run, trigger = ?options.trigger))]
pub async fn run_inventory_sync_with(
    db: &DatabaseConnection,
    api: &dyn InventoryApi,
    conn: &amazon_connection::Model,
    settings: &SyncConfig,
    scan: InventoryScan,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let inventory = Inventory {
        api,
        conn,
        settings,
        scan,
    };
    runner::run(db, &inventory, settings.lease_ttl, options).await
}
