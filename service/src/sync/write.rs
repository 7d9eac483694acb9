//! Writing one page of orders: a handful of set-based statements per page instead
//! of several per order, inside the page's transaction.
//!
//! Every table gets one multi-row `INSERT … ON CONFLICT (natural key) DO UPDATE`
//! per page, whether its rows are new or changed: an update costs what an insert
//! costs, instead of one round trip per row (which made a page of changed orders
//! about 800 statements). The unified orders' ids, which their items need, come
//! back from their upsert (`RETURNING`). The caller has already left out the orders
//! that did not change.

use crate::spapi::{RemoteItem, RemoteOrder};
use chrono::{DateTime, Utc};
use entity::{amazon_order, amazon_order_item, marketplaces, order_items, orders};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IdenStatic as _, QueryFilter, QueryTrait as _,
};
use std::collections::{HashMap, HashSet};

/// An order to write: what Amazon says, and its items if fetched.
pub(super) type Work = (RemoteOrder, Option<Vec<RemoteItem>>);

const SOURCE: &str = "amazon";

fn unified_key(o: &RemoteOrder) -> String {
    format!("{}/{}", o.marketplace_id, o.amazon_order_id)
}

fn fill_order(
    mut row: amazon_order::ActiveModel,
    o: &RemoteOrder,
    now: DateTime<Utc>,
) -> amazon_order::ActiveModel {
    row.purchase_date = Set(o.purchase_date);
    row.last_update_date = Set(o.last_update_date);
    row.order_status = Set(o.order_status.clone());
    row.fulfillment_channel = Set(o.fulfillment_channel.clone());
    row.order_total_currency = Set(o.order_total.as_ref().map(|m| m.currency.clone()));
    row.order_total_amount = Set(o.order_total.as_ref().map(|m| m.amount));
    row.number_of_items_shipped = Set(o.number_of_items_shipped);
    row.number_of_items_unshipped = Set(o.number_of_items_unshipped);
    row.is_prime = Set(o.is_prime);
    row.is_business_order = Set(o.is_business_order);
    row.raw_payload = Set(o.raw.clone());
    row.updated_at = Set(now);
    row
}

fn fill_unified(
    mut row: orders::ActiveModel,
    o: &RemoteOrder,
    now: DateTime<Utc>,
) -> orders::ActiveModel {
    row.marketplace_id = Set(Some(o.marketplace_id.clone()));
    row.status = Set(o.order_status.clone());
    row.purchased_at = Set(o.purchase_date);
    row.source_updated_at = Set(Some(o.last_update_date));
    row.currency = Set(o.order_total.as_ref().map(|m| m.currency.clone()));
    row.total_amount = Set(o.order_total.as_ref().map(|m| m.amount));
    row.updated_at = Set(now);
    row
}

fn fill_item(
    mut row: amazon_order_item::ActiveModel,
    o: &RemoteOrder,
    i: &RemoteItem,
    now: DateTime<Utc>,
) -> amazon_order_item::ActiveModel {
    row.marketplace_id = Set(o.marketplace_id.clone());
    row.seller_sku = Set(i.seller_sku.clone());
    row.asin = Set(i.asin.clone());
    row.title = Set(i.title.clone());
    row.quantity_ordered = Set(i.quantity_ordered);
    row.quantity_shipped = Set(i.quantity_shipped);
    row.item_price_currency = Set(i.item_price.as_ref().map(|m| m.currency.clone()));
    row.item_price_amount = Set(i.item_price.as_ref().map(|m| m.amount));
    row.raw_payload = Set(i.raw.clone());
    row.order_purchase_date = Set(o.purchase_date);
    row.updated_at = Set(now);
    row
}

fn fill_unified_item(
    mut row: order_items::ActiveModel,
    order_id: i64,
    i: &RemoteItem,
    now: DateTime<Utc>,
) -> order_items::ActiveModel {
    row.order_id = Set(order_id);
    row.sku = Set(i.seller_sku.clone());
    row.title = Set(i.title.clone());
    row.quantity = Set(i.quantity_ordered);
    row.quantity_shipped = Set(i.quantity_shipped);
    row.currency = Set(i.item_price.as_ref().map(|m| m.currency.clone()));
    row.price_amount = Set(i.item_price.as_ref().map(|m| m.amount));
    row.updated_at = Set(now);
    row
}

/// Writes the page's new and changed orders, their unified copies, their items
/// and the marketplaces' currencies.
pub(super) async fn write_page(
    txn: &DatabaseTransaction,
    work: Vec<Work>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    // An order listed twice in one page is written once, as last listed: one
    // statement may not update the same row twice.
    let mut seen = HashSet::new();
    let mut work: Vec<Work> = work
        .into_iter()
        .rev()
        .filter(|(o, _)| seen.insert((o.amazon_order_id.clone(), o.marketplace_id.clone())))
        .collect();
    work.reverse();
    if work.is_empty() {
        return Ok(());
    }

    // amazon_order
    let rows: Vec<amazon_order::ActiveModel> = work
        .iter()
        .map(|(remote, _)| {
            fill_order(
                amazon_order::ActiveModel {
                    amazon_order_id: Set(remote.amazon_order_id.clone()),
                    marketplace_id: Set(remote.marketplace_id.clone()),
                    created_at: Set(now),
                    ..Default::default()
                },
                remote,
                now,
            )
        })
        .collect();
    amazon_order::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                amazon_order::Column::AmazonOrderId,
                amazon_order::Column::MarketplaceId,
            ])
            .update_columns([
                amazon_order::Column::PurchaseDate,
                amazon_order::Column::LastUpdateDate,
                amazon_order::Column::OrderStatus,
                amazon_order::Column::FulfillmentChannel,
                amazon_order::Column::OrderTotalCurrency,
                amazon_order::Column::OrderTotalAmount,
                amazon_order::Column::NumberOfItemsShipped,
                amazon_order::Column::NumberOfItemsUnshipped,
                amazon_order::Column::IsPrime,
                amazon_order::Column::IsBusinessOrder,
                amazon_order::Column::RawPayload,
                amazon_order::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;

    // orders (unified)
    let keys: Vec<String> = work.iter().map(|(o, _)| unified_key(o)).collect();
    let rows: Vec<orders::ActiveModel> = work
        .iter()
        .zip(&keys)
        .map(|((remote, _), key)| {
            fill_unified(
                orders::ActiveModel {
                    source: Set(SOURCE.to_owned()),
                    source_order_id: Set(key.clone()),
                    created_at: Set(now),
                    ..Default::default()
                },
                remote,
                now,
            )
        })
        .collect();
    // RETURNING hands back the ids the items need, new or existing, in the same
    // statement (PostgreSQL, and SQLite since 3.35).
    let mut upsert = orders::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([orders::Column::Source, orders::Column::SourceOrderId])
                .update_columns([
                    orders::Column::MarketplaceId,
                    orders::Column::Status,
                    orders::Column::PurchasedAt,
                    orders::Column::SourceUpdatedAt,
                    orders::Column::Currency,
                    orders::Column::TotalAmount,
                    orders::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .into_query();
    upsert
        .returning(Query::returning().columns([orders::Column::SourceOrderId, orders::Column::Id]));
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(keys.len());
    for row in txn.query_all(&upsert).await? {
        ids.insert(
            row.try_get("", orders::Column::SourceOrderId.as_str())?,
            row.try_get("", orders::Column::Id.as_str())?,
        );
    }

    // Items, for the orders whose items were fetched.
    let with_items: Vec<&Work> = work.iter().filter(|(_, items)| items.is_some()).collect();
    if !with_items.is_empty() {
        let mut seen_items = HashSet::new();
        let mut items = Vec::new();
        let mut unified_items = Vec::new();
        for (remote, fetched) in with_items {
            let order_id = ids.get(&unified_key(remote)).copied().ok_or_else(|| {
                DbErr::RecordNotFound(format!("unified order {}", unified_key(remote)))
            })?;
            for item in fetched.iter().flatten() {
                if !seen_items.insert((&remote.amazon_order_id, &item.order_item_id)) {
                    continue;
                }
                items.push(fill_item(
                    amazon_order_item::ActiveModel {
                        order_item_id: Set(item.order_item_id.clone()),
                        amazon_order_id: Set(remote.amazon_order_id.clone()),
                        created_at: Set(now),
                        ..Default::default()
                    },
                    remote,
                    item,
                    now,
                ));
                unified_items.push(fill_unified_item(
                    order_items::ActiveModel {
                        source: Set(Some(SOURCE.to_owned())),
                        source_order_item_id: Set(Some(item.order_item_id.clone())),
                        created_at: Set(now),
                        ..Default::default()
                    },
                    order_id,
                    item,
                    now,
                ));
            }
        }
        if !items.is_empty() {
            amazon_order_item::Entity::insert_many(items)
                .on_conflict(
                    OnConflict::columns([
                        amazon_order_item::Column::AmazonOrderId,
                        amazon_order_item::Column::OrderItemId,
                    ])
                    .update_columns([
                        amazon_order_item::Column::MarketplaceId,
                        amazon_order_item::Column::SellerSku,
                        amazon_order_item::Column::Asin,
                        amazon_order_item::Column::Title,
                        amazon_order_item::Column::QuantityOrdered,
                        amazon_order_item::Column::QuantityShipped,
                        amazon_order_item::Column::ItemPriceCurrency,
                        amazon_order_item::Column::ItemPriceAmount,
                        amazon_order_item::Column::RawPayload,
                        amazon_order_item::Column::OrderPurchaseDate,
                        amazon_order_item::Column::UpdatedAt,
                    ])
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            // The unique index on (source, source_order_item_id) is partial (where
            // set), so the conflict target repeats its predicate.
            order_items::Entity::insert_many(unified_items)
                .on_conflict(
                    OnConflict::columns([
                        order_items::Column::Source,
                        order_items::Column::SourceOrderItemId,
                    ])
                    .target_and_where(
                        Expr::col(order_items::Column::SourceOrderItemId).is_not_null(),
                    )
                    .update_columns([
                        order_items::Column::OrderId,
                        order_items::Column::Sku,
                        order_items::Column::Title,
                        order_items::Column::Quantity,
                        order_items::Column::QuantityShipped,
                        order_items::Column::Currency,
                        order_items::Column::PriceAmount,
                        order_items::Column::UpdatedAt,
                    ])
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
    }

    // An order written without its items keeps its stored items' copy of its
    // purchase date (the SKU and ASIN listing order, phase 17) equal to its own;
    // nothing is written unless the date moved.
    let without_items: Vec<String> = work
        .iter()
        .filter(|(_, items)| items.is_none())
        .map(|(o, _)| o.amazon_order_id.clone())
        .collect();
    if !without_items.is_empty() {
        const ORDERS_PURCHASE_DATE: &str = "(SELECT o.purchase_date FROM amazon_order o \
             WHERE o.amazon_order_id = amazon_order_item.amazon_order_id \
             AND o.marketplace_id = amazon_order_item.marketplace_id)";
        amazon_order_item::Entity::update_many()
            .col_expr(
                amazon_order_item::Column::OrderPurchaseDate,
                Expr::cust(ORDERS_PURCHASE_DATE),
            )
            .filter(amazon_order_item::Column::AmazonOrderId.is_in(without_items))
            .filter(
                Expr::col(amazon_order_item::Column::OrderPurchaseDate)
                    .ne(Expr::cust(ORDERS_PURCHASE_DATE)),
            )
            .exec(txn)
            .await?;
    }

    // A marketplace learns its currency from its first priced order.
    let mut currencies: HashMap<&str, &str> = HashMap::new();
    for (remote, _) in &work {
        if let Some(total) = &remote.order_total {
            currencies.insert(&remote.marketplace_id, &total.currency);
        }
    }
    for (mp, currency) in currencies {
        marketplaces::Entity::update_many()
            .col_expr(marketplaces::Column::Currency, Expr::value(currency))
            .filter(marketplaces::Column::MarketplaceId.eq(mp))
            .filter(marketplaces::Column::Currency.is_null())
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Orders a run inserts before [`FreshTables`] has PostgreSQL analyze the tables.
const ANALYZE_AFTER_ORDERS: u64 = 1_000;

/// Keeps PostgreSQL's plans sound while a run fills tables that were (nearly)
/// empty when it started, as the first back-fill of a new install does.
///
/// PostgreSQL plans a statement from the statistics it has and keeps the plan:
/// the foreign-key checks behind every item insert were planned as sequential
/// scans of an `amazon_order` table of one page, and stayed so while it grew to
/// thousands, each check reading the whole table (measured: a page's item insert
/// went from 25 ms to 240 ms over the first 5,000 orders, and the unified orders'
/// lookup scanned every row of `source = 'amazon'`). Autovacuum analyzes the
/// tables at the latest a minute later; a run that writes faster than that
/// analyzes them once itself, as PostgreSQL's manual advises after bulk loading,
/// which replaces the cached plans. Tables that already had statistics for at
/// least that many orders are left to autovacuum. SQLite needs none of this.
pub(super) struct FreshTables {
    armed: bool,
}

impl FreshTables {
    /// Looks at `amazon_order`'s statistics (PostgreSQL only, and only for a run
    /// that writes: a dry run fills nothing; free elsewhere).
    pub(super) async fn check(db: &DatabaseConnection, dry_run: bool) -> Result<Self, DbErr> {
        if dry_run || db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Self { armed: false });
        }
        // reltuples is -1 for a table never analyzed (PostgreSQL 14 and later).
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'amazon_order'::regclass",
            ))
            .await?;
        let known: f64 = match row {
            Some(r) => r.try_get("", "n")?,
            None => -1.0,
        };
        #[expect(clippy::cast_precision_loss, reason = "a threshold of 1,000")]
        let armed = known < ANALYZE_AFTER_ORDERS as f64;
        Ok(Self { armed })
    }

    /// After a committed page: analyzes the sync's tables once the run has
    /// inserted enough orders for their statistics to matter.
    pub(super) async fn after_page(
        &mut self,
        db: &DatabaseConnection,
        inserted: u64,
    ) -> Result<(), DbErr> {
        if !self.armed || inserted < ANALYZE_AFTER_ORDERS {
            return Ok(());
        }
        self.armed = false;
        let started = std::time::Instant::now();
        db.execute_unprepared("ANALYZE amazon_order, orders, amazon_order_item, order_items")
            .await?;
        tracing::info!(
            inserted,
            ms = started.elapsed().as_millis(),
            "analyzed the order tables, which this run filled from (nearly) empty"
        );
        Ok(())
    }
}
