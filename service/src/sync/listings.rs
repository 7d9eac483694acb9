//! The listings dataset: the seller's listings (Listings Items 2021-08-01
//! `searchListingsItems`) into `amazon_listing`.
//!
//! Two ways to read Amazon ([`ListingsScan`]):
//! - **full**: every listing of every marketplace; a SKU the scan no longer
//!   returns is marked gone (never deleted). The first run is always full.
//! - **incremental**: only listings Amazon changed since the marketplace's
//!   watermark minus the overlap (`lastUpdatedAfter`, oldest first).
//!
//! Each page is written in one transaction as an upsert on (marketplace, SKU);
//! the watermark moves to Amazon's now at the start of the marketplace's scan
//! once the scan is done, so a run that stops reads the same listings again and
//! changes nothing twice.

use super::cursor::Cursor;
use super::pages::{Pages, Scan, Scanned};
use super::runner::{self, Dataset, RunState};
use super::{SyncConfig, SyncError, SyncOptions, SyncOutcome};
use crate::lease;
use crate::spapi::listings::MAX_PAGE_SIZE;
use crate::spapi::{ClientStats, ListingsApi, ListingsQuery, RemoteListing, SpApiError};
use chrono::{DateTime, Duration, Utc};
use entity::amazon_connection;
use entity::amazon_listing;
use entity::enums::SyncKind;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use std::collections::{BTreeMap, HashMap};
use tokio_util::sync::CancellationToken;

const CURSOR: Cursor<'static> = Cursor {
    kind: SyncKind::Listings,
    scope: "",
};

/// Which listings a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingsScan {
    /// Changed since the watermark (a full scan when there is none yet).
    Incremental,
    /// Everything; SKUs no longer returned are marked gone.
    Full,
}

struct Listings<'a> {
    api: &'a dyn ListingsApi,
    conn: &'a amazon_connection::Model,
    settings: &'a SyncConfig,
    scan: ListingsScan,
}

#[async_trait::async_trait]
impl Dataset for Listings<'_> {
    const KIND: SyncKind = SyncKind::Listings;
    const LEASE: &'static str = lease::LISTINGS_SYNC;

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
        let watermark = match self.scan {
            ListingsScan::Full => None,
            ListingsScan::Incremental => CURSOR.stored(db, &marketplace_ids).await?,
        };
        let overlap = Duration::from_std(self.settings.overlap).unwrap_or(Duration::minutes(5));
        let after = watermark.map(|w| w - overlap);
        state.scan = Some(if after.is_some() {
            "incremental"
        } else {
            "full"
        });
        state.window_start = after.unwrap_or(now);
        state.window_end = now;
        state.progress.windows_total = u32::try_from(marketplace_ids.len()).unwrap_or(u32::MAX);
        let stats_base = self.api.stats();
        for mp in &marketplace_ids {
            let scan_started = Utc::now();
            let query = ListingsQuery {
                marketplace_id: mp.clone(),
                skus: Vec::new(),
                last_updated_after: after,
                page_size: MAX_PAGE_SIZE,
            };
            let scan = Scan {
                settings: self.settings,
                options,
                lost,
                stats_base: &stats_base,
                scope: mp,
            };
            let catalog = Catalog {
                db,
                api: self.api,
                seller_id: &self.conn.seller_id,
                query,
                options,
            };
            if let Scanned::FirstPageRefused(e) = scan.read_all(&catalog, state).await? {
                return Err(e.into());
            }
            if !options.dry_run {
                if after.is_none() {
                    state.marked_gone += mark_gone(db, mp, scan_started).await?;
                }
                CURSOR.advance(db, std::slice::from_ref(mp), now).await?;
            }
            state.progress.windows_done += 1;
        }
        Ok(())
    }
}

/// The pages of one marketplace's listings.
struct Catalog<'a> {
    db: &'a DatabaseConnection,
    api: &'a dyn ListingsApi,
    seller_id: &'a str,
    query: ListingsQuery,
    options: &'a SyncOptions,
}

#[async_trait::async_trait]
impl Pages for Catalog<'_> {
    type Page = Vec<RemoteListing>;
    const OPERATION: &'static str = "searchListingsItems";

    async fn fetch(&self, token: Option<&str>) -> Result<(Self::Page, Option<String>), SpApiError> {
        let page = self
            .api
            .listings_page(self.seller_id, &self.query, token)
            .await?;
        Ok((page.listings, page.next_token))
    }

    async fn apply(&self, page: Self::Page, state: &mut RunState) -> Result<(), SyncError> {
        apply_page(self.db, page, self.options, state).await
    }

    fn stats(&self) -> ClientStats {
        self.api.stats()
    }
}

fn issues_json(l: &RemoteListing) -> serde_json::Value {
    serde_json::to_value(&l.issues).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

fn unchanged(row: &amazon_listing::Model, l: &RemoteListing) -> bool {
    row.gone_at.is_none()
        && row.asin == l.asin
        && row.product_type == l.product_type
        && row.title == l.title
        && row.buyable == l.buyable
        && row.discoverable == l.discoverable
        && row.fulfillment_channel == l.fulfillment_channel
        && row.price_currency.as_deref() == l.price.as_ref().map(|p| p.currency.as_str())
        && row.price_amount == l.price.as_ref().map(|p| p.amount)
        && row.quantity == l.quantity
        && row.issues == issues_json(l)
        && row.created_date == l.created_date
        && row.last_updated_time == l.last_updated
}

/// Writes what Amazon says of some listings (the sync's pages, the push's
/// checks), in one transaction; or, dry, only counts what it would write.
pub(crate) async fn apply_page(
    db: &DatabaseConnection,
    page: Vec<RemoteListing>,
    options: &SyncOptions,
    state: &mut RunState,
) -> Result<(), SyncError> {
    let counts = store(db, page, options.dry_run).await?;
    state.progress.found += counts.found;
    state.progress.inserted += counts.inserted;
    state.progress.updated += counts.updated;
    state.progress.unchanged += counts.unchanged;
    Ok(())
}

/// What [`store`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreCounts {
    pub found: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Upserts listings on (marketplace, SKU) in one transaction (nothing when `dry`).
pub(crate) async fn store(
    db: &DatabaseConnection,
    page: Vec<RemoteListing>,
    dry: bool,
) -> Result<StoreCounts, sea_orm::DbErr> {
    let mut counts = StoreCounts::default();
    // A SKU Amazon repeats within a page counts once.
    let mut latest: BTreeMap<(String, String), RemoteListing> = BTreeMap::new();
    for l in page {
        counts.found += 1;
        latest.insert((l.marketplace_id.clone(), l.sku.clone()), l);
    }
    let mut by_marketplace: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (mp, sku) in latest.keys() {
        by_marketplace
            .entry(mp.clone())
            .or_default()
            .push(sku.clone());
    }
    let mut existing: HashMap<(String, String), amazon_listing::Model> = HashMap::new();
    for (mp, skus) in by_marketplace {
        for chunk in skus.chunks(500) {
            for row in amazon_listing::Entity::find()
                .filter(amazon_listing::Column::MarketplaceId.eq(&mp))
                .filter(amazon_listing::Column::SellerSku.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
            {
                existing.insert((row.marketplace_id.clone(), row.seller_sku.clone()), row);
            }
        }
    }
    let mut seen_unchanged = Vec::new();
    let mut writes = Vec::new();
    for (key, l) in latest {
        match existing.get(&key) {
            Some(row) if unchanged(row, &l) => {
                counts.unchanged += 1;
                seen_unchanged.push(row.id);
            }
            Some(row) => {
                counts.updated += 1;
                writes.push((Some(row.created_at), l));
            }
            None => {
                counts.inserted += 1;
                writes.push((None, l));
            }
        }
    }
    if dry {
        return Ok(counts);
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    for chunk in writes.chunks(200) {
        let rows: Vec<amazon_listing::ActiveModel> = chunk
            .iter()
            .map(|(created, l)| amazon_listing::ActiveModel {
                marketplace_id: Set(l.marketplace_id.clone()),
                seller_sku: Set(l.sku.clone()),
                asin: Set(l.asin.clone()),
                product_type: Set(l.product_type.clone()),
                title: Set(l.title.clone()),
                buyable: Set(l.buyable),
                discoverable: Set(l.discoverable),
                fulfillment_channel: Set(l.fulfillment_channel.clone()),
                price_currency: Set(l.price.as_ref().map(|p| p.currency.clone())),
                price_amount: Set(l.price.as_ref().map(|p| p.amount)),
                quantity: Set(l.quantity),
                issues: Set(issues_json(l)),
                created_date: Set(l.created_date),
                last_updated_time: Set(l.last_updated),
                raw: Set(l.raw.clone()),
                seen_at: Set(now),
                gone_at: Set(None),
                created_at: Set(created.unwrap_or(now)),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        amazon_listing::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    amazon_listing::Column::MarketplaceId,
                    amazon_listing::Column::SellerSku,
                ])
                .update_columns([
                    amazon_listing::Column::Asin,
                    amazon_listing::Column::ProductType,
                    amazon_listing::Column::Title,
                    amazon_listing::Column::Buyable,
                    amazon_listing::Column::Discoverable,
                    amazon_listing::Column::FulfillmentChannel,
                    amazon_listing::Column::PriceCurrency,
                    amazon_listing::Column::PriceAmount,
                    amazon_listing::Column::Quantity,
                    amazon_listing::Column::Issues,
                    amazon_listing::Column::CreatedDate,
                    amazon_listing::Column::LastUpdatedTime,
                    amazon_listing::Column::Raw,
                    amazon_listing::Column::SeenAt,
                    amazon_listing::Column::GoneAt,
                    amazon_listing::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in seen_unchanged.chunks(500) {
        amazon_listing::Entity::update_many()
            .col_expr(amazon_listing::Column::SeenAt, Expr::value(now))
            .filter(amazon_listing::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(counts)
}

/// Marks gone the marketplace's SKUs a full scan that started at `scan_started`
/// did not see (every SKU it saw was written with a later `seen_at`).
async fn mark_gone(
    db: &DatabaseConnection,
    marketplace_id: &str,
    scan_started: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let now = Utc::now();
    let done = amazon_listing::Entity::update_many()
        .col_expr(amazon_listing::Column::GoneAt, Expr::value(now))
        .col_expr(amazon_listing::Column::UpdatedAt, Expr::value(now))
        .filter(amazon_listing::Column::MarketplaceId.eq(marketplace_id))
        .filter(amazon_listing::Column::GoneAt.is_null())
        .filter(amazon_listing::Column::SeenAt.lt(scan_started))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Runs one listings sync for the stored connection with the given client.
///
/// # Errors
/// [`SyncError::AlreadyRunning`] when another listings sync holds the lease (no
/// run row is written); a database error when even the run row cannot be
/// written. Every other failure ends the run as failed or interrupted and is
/// returned in the outcome.
#[tracing::instrument(skip_all, fields(dry_run = options.dry_run, trigger = ?options.trigger))]
pub async fn run_listings_sync_with(
    db: &DatabaseConnection,
    api: &dyn ListingsApi,
    conn: &amazon_connection::Model,
    settings: &SyncConfig,
    scan: ListingsScan,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let listings = Listings {
        api,
        conn,
        settings,
        scan,
    };
    runner::run(db, &listings, settings.lease_ttl, options).await
}
