//! The orders dataset: Amazon's orders and items into our database.
//!
//! A run walks windows of "last updated" time from the stored watermark (minus an
//! overlap) to Amazon's now minus two minutes and a margin. Each page is fetched,
//! written in one transaction, and dropped, so memory does not grow with the number
//! of orders. The watermark moves only when a whole window is committed; a failed,
//! cancelled or killed run leaves it where it was and the next run converges,
//! because every write is an idempotent upsert on natural keys.

use super::cursor::Cursor;
use super::runner::{self, Dataset, RunState};
use super::{SyncConfig, SyncError, SyncOptions, SyncOutcome, changes, windows, write};
use crate::lease;
use crate::spapi::{ClientStats, OrdersApi, OrdersQuery, RemoteOrder};
use chrono::{DateTime, Utc};
use entity::enums::SyncKind;
use entity::{amazon_connection, amazon_order};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, DerivePartialModel, EntityTrait, QueryFilter,
    TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use tokio_util::sync::CancellationToken;

/// The orders of the stored connection, through one client.
struct Orders<'a> {
    api: &'a dyn OrdersApi,
    conn: &'a amazon_connection::Model,
    settings: &'a SyncConfig,
    include_items: bool,
}

#[async_trait::async_trait]
impl Dataset for Orders<'_> {
    const KIND: SyncKind = SyncKind::Orders;
    const LEASE: &'static str = lease::ORDERS_SYNC;

    fn api_version(&self) -> Option<String> {
        Some(self.conn.orders_api_version.as_str().to_owned())
    }

    fn include_items(&self) -> bool {
        self.include_items
    }

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
        sync_windows(db, self.api, self.conn, self.settings, options, lost, state).await
    }

    async fn finished(
        &self,
        db: &DatabaseConnection,
        outcome: &SyncOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        record_on_connection(db, outcome, at).await
    }
}

/// Runs one orders sync for the stored connection with the given client.
///
/// # Errors
/// [`SyncError::AlreadyRunning`] when another orders sync holds the lease (no run
/// row is written); a database error when even the run row cannot be written. Every
/// other failure ends the run as failed or interrupted and is returned in the outcome.
#[tracing::instrument(skip_all, fields(dry_run = options.dry_run, include_items = options.include_items, trigger = ?options.trigger))]
pub async fn run_orders_sync_with(
    db: &DatabaseConnection,
    api: &dyn OrdersApi,
    conn: &amazon_connection::Model,
    settings: &SyncConfig,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let orders = Orders {
        api,
        conn,
        settings,
        include_items: options.include_items,
    };
    runner::run(db, &orders, settings.lease_ttl, options).await
}

async fn record_on_connection(
    db: &DatabaseConnection,
    outcome: &SyncOutcome,
    finished: DateTime<Utc>,
) -> Result<(), DbErr> {
    let status = outcome.status.as_str();
    amazon_connection::Entity::update_many()
        .col_expr(
            amazon_connection::Column::LastOrdersSyncAt,
            Expr::value(finished),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncStatus,
            Expr::value(status),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncError,
            Expr::value(outcome.error.clone()),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncOrdersCount,
            Expr::value(i64::try_from(outcome.progress.found).unwrap_or(i64::MAX)),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncItemsCount,
            Expr::value(i64::try_from(outcome.progress.items_upserted).unwrap_or(i64::MAX)),
        )
        .col_expr(amazon_connection::Column::UpdatedAt, Expr::value(finished))
        .filter(amazon_connection::Column::Id.eq(amazon_connection::SINGLETON_ID))
        .exec(db)
        .await
        .map(|_| ())
}

async fn sync_windows(
    db: &DatabaseConnection,
    api: &dyn OrdersApi,
    conn: &amazon_connection::Model,
    settings: &SyncConfig,
    options: &SyncOptions,
    lost: &CancellationToken,
    state: &mut RunState,
) -> Result<(), SyncError> {
    let stats_base = api.stats();
    let version = conn.orders_api_version;
    let cursor = Cursor {
        kind: SyncKind::Orders,
        scope: version.as_str(),
    };
    let marketplace_ids = runner::marketplaces(conn, api).await?;
    let watermark = match options.since {
        Some(_) => None,
        None => cursor.stored(db, &marketplace_ids).await?,
    };
    let span = windows::span(
        api.amazon_now(),
        options.since,
        watermark,
        windows::Reach {
            overlap: settings.overlap,
            first_lookback: settings.first_lookback,
            end_margin: settings.end_margin,
        },
    );
    state.window_start = span.start;
    state.window_end = span.end;
    let windows = windows::windows(span, settings.max_window);
    if windows.is_empty() {
        return Ok(());
    }
    state.progress.windows_total = u32::try_from(windows.len()).unwrap_or(u32::MAX);
    let mut fresh_tables = write::FreshTables::check(db, options.dry_run).await?;

    for (from, to) in windows {
        let query = OrdersQuery {
            marketplace_ids: marketplace_ids.clone(),
            updated_after: from,
            updated_before: to,
            page_size: settings.page_size.clamp(1, 100),
        };
        let mut token: Option<String> = None;
        let mut seen_tokens = HashSet::new();
        let mut pages = 0u32;
        loop {
            state.check(options, lost)?;
            pages += 1;
            if pages > settings.max_pages_per_window {
                return Err(SyncError::TooManyPages {
                    window_start: from,
                    window_end: to,
                    max: settings.max_pages_per_window,
                });
            }
            let page = tokio::select! {
                page = api.orders_page(version, &query, token.as_deref()) => page?,
                () = options.cancel.cancelled() => return Err(SyncError::Cancelled),
            };
            state.progress.pages += 1;
            let next = page.next_token.clone();
            apply_page(db, api, page.orders, options, state).await?;
            fresh_tables.after_page(db, state.progress.inserted).await?;
            state.report(options, &api.stats().since(&stats_base));
            match next {
                Some(t) if !seen_tokens.insert(t.clone()) => {
                    return Err(SyncError::RepeatingToken {
                        window_start: from,
                        window_end: to,
                    });
                }
                Some(t) => token = Some(t),
                None => break,
            }
        }
        if !options.dry_run {
            cursor.advance(db, &marketplace_ids, to).await?;
        }
        state.progress.windows_done += 1;
    }
    Ok(())
}

/// What the sync needs to know of an order it already has: enough to tell whether
/// Amazon's copy changed (the raw payload, the bulk of a row, is not read).
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order::Entity")]
struct StoredOrder {
    amazon_order_id: String,
    marketplace_id: String,
    last_update_date: DateTime<Utc>,
    order_status: entity::enums::OrderStatus,
    order_total_amount: Option<entity::Amount>,
}

fn order_unchanged(existing: &StoredOrder, remote: &RemoteOrder) -> bool {
    existing.last_update_date == remote.last_update_date
        && existing.order_status == remote.order_status
        && existing.order_total_amount == remote.order_total.as_ref().map(|m| m.amount)
}

/// Writes one page in one transaction (or, dry, only counts what it would write).
async fn apply_page(
    db: &DatabaseConnection,
    api: &dyn OrdersApi,
    page: Vec<RemoteOrder>,
    options: &SyncOptions,
    state: &mut RunState,
) -> Result<(), SyncError> {
    let run_id = state.run_id;
    let progress = &mut state.progress;
    if page.is_empty() {
        return Ok(());
    }
    let (inserted_before, updated_before) = (progress.inserted, progress.updated);
    let ids: Vec<String> = page.iter().map(|o| o.amazon_order_id.clone()).collect();
    let existing: HashMap<(String, String), StoredOrder> = amazon_order::Entity::find()
        .filter(amazon_order::Column::AmazonOrderId.is_in(ids))
        .into_partial_model::<StoredOrder>()
        .all(db)
        .await?
        .into_iter()
        .map(|o| ((o.amazon_order_id.clone(), o.marketplace_id.clone()), o))
        .collect();

    // Decide first, then call Amazon for the items of new or changed v0 orders,
    // so the transaction holds no lock while waiting for the network.
    let mut work: Vec<write::Work> = Vec::with_capacity(page.len());
    for remote in page {
        progress.found += 1;
        let key = (
            remote.amazon_order_id.clone(),
            remote.marketplace_id.clone(),
        );
        let current = existing.get(&key);
        if current.is_some_and(|c| order_unchanged(c, &remote)) {
            progress.unchanged += 1;
            continue;
        }
        if current.is_some() {
            progress.updated += 1;
        } else {
            progress.inserted += 1;
        }
        let items = if !options.include_items {
            None
        } else if let Some(inline) = remote.items.clone() {
            Some(inline)
        } else if options.dry_run {
            // A dry run spends no getOrderItems quota.
            None
        } else {
            Some(api.order_items(&remote.amazon_order_id).await?)
        };
        if let Some(items) = &items {
            progress.items_upserted += items.len() as u64;
        }
        if remote.fulfillment_channel.as_deref() == Some("AFN")
            && let Some(items) = &items
        {
            for sku in items.iter().filter_map(|i| i.seller_sku.clone()) {
                state
                    .stock_skus
                    .insert((remote.marketplace_id.clone(), sku));
            }
        }
        work.push((remote, items));
    }
    if options.dry_run || work.is_empty() {
        return Ok(());
    }

    let event = changes::OrdersChanged {
        run_id,
        inserted: state.progress.inserted - inserted_before,
        updated: state.progress.updated - updated_before,
        amazon_order_ids: work
            .iter()
            .map(|(o, _)| o.amazon_order_id.clone())
            .collect(),
    };
    let txn = db.begin().await?;
    write::write_page(&txn, work, Utc::now()).await?;
    // Told to the readers of every process when, and only if, the page commits.
    changes::publish(&txn, &event).await?;
    txn.commit().await?;
    Ok(())
}
