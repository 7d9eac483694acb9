//! Writing one page of orders: a handful of set-based statements per page instead
//! of several per order, inside the page's transaction.
//!
//! Existing rows are read with one `IN` query per table, new rows are inserted with
//! one multi-row INSERT per table, and only rows that already existed are updated
//! one by one (on a back-fill there are none; on an incremental run only the orders
//! that changed reach this point at all).

use crate::spapi::{RemoteItem, RemoteOrder};
use chrono::{DateTime, Utc};
use entity::{amazon_order, amazon_order_item, marketplaces, order_items, orders};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect,
};
use std::collections::HashMap;

/// An order to write: what Amazon says, what we had, and its items if fetched.
pub(super) type Work = (
    RemoteOrder,
    Option<amazon_order::Model>,
    Option<Vec<RemoteItem>>,
);

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
    // amazon_order
    let mut new_orders = Vec::new();
    for (remote, current, _) in &work {
        match current {
            Some(c) => {
                fill_order(c.clone().into_active_model(), remote, now)
                    .update(txn)
                    .await?;
            }
            None => new_orders.push(fill_order(
                amazon_order::ActiveModel {
                    amazon_order_id: Set(remote.amazon_order_id.clone()),
                    marketplace_id: Set(remote.marketplace_id.clone()),
                    created_at: Set(now),
                    ..Default::default()
                },
                remote,
                now,
            )),
        }
    }
    if !new_orders.is_empty() {
        amazon_order::Entity::insert_many(new_orders)
            .exec_without_returning(txn)
            .await?;
    }

    // orders (unified)
    let keys: Vec<String> = work.iter().map(|(o, _, _)| unified_key(o)).collect();
    let mut unified: HashMap<String, orders::Model> = orders::Entity::find()
        .filter(orders::Column::Source.eq(SOURCE))
        .filter(orders::Column::SourceOrderId.is_in(keys.clone()))
        .all(txn)
        .await?
        .into_iter()
        .map(|o| (o.source_order_id.clone(), o))
        .collect();
    let mut new_unified = Vec::new();
    for (remote, _, _) in &work {
        let key = unified_key(remote);
        match unified.remove(&key) {
            Some(existing) => {
                fill_unified(existing.into_active_model(), remote, now)
                    .update(txn)
                    .await?;
            }
            None => new_unified.push(fill_unified(
                orders::ActiveModel {
                    source: Set(SOURCE.to_owned()),
                    source_order_id: Set(key),
                    created_at: Set(now),
                    ..Default::default()
                },
                remote,
                now,
            )),
        }
    }
    if !new_unified.is_empty() {
        orders::Entity::insert_many(new_unified)
            .exec_without_returning(txn)
            .await?;
    }

    // Items, for the orders whose items were fetched.
    let with_items: Vec<&Work> = work
        .iter()
        .filter(|(_, _, items)| items.is_some())
        .collect();
    if !with_items.is_empty() {
        let ids: HashMap<String, i64> = orders::Entity::find()
            .select_only()
            .column(orders::Column::SourceOrderId)
            .column(orders::Column::Id)
            .filter(orders::Column::Source.eq(SOURCE))
            .filter(orders::Column::SourceOrderId.is_in(keys))
            .into_tuple::<(String, i64)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let order_ids: Vec<String> = with_items
            .iter()
            .map(|(o, _, _)| o.amazon_order_id.clone())
            .collect();
        let mut items: HashMap<(String, String), amazon_order_item::Model> =
            amazon_order_item::Entity::find()
                .filter(amazon_order_item::Column::AmazonOrderId.is_in(order_ids))
                .all(txn)
                .await?
                .into_iter()
                .map(|i| ((i.amazon_order_id.clone(), i.order_item_id.clone()), i))
                .collect();
        let item_ids: Vec<String> = with_items
            .iter()
            .flat_map(|(_, _, items)| items.iter().flatten().map(|i| i.order_item_id.clone()))
            .collect();
        let mut unified_items: HashMap<String, order_items::Model> = order_items::Entity::find()
            .filter(order_items::Column::Source.eq(SOURCE))
            .filter(order_items::Column::SourceOrderItemId.is_in(item_ids))
            .all(txn)
            .await?
            .into_iter()
            .filter_map(|i| i.source_order_item_id.clone().map(|k| (k, i)))
            .collect();
        let mut new_items = Vec::new();
        let mut new_unified_items = Vec::new();
        for (remote, _, fetched) in with_items {
            let order_id = ids.get(&unified_key(remote)).copied().ok_or_else(|| {
                DbErr::RecordNotFound(format!("unified order {}", unified_key(remote)))
            })?;
            for item in fetched.iter().flatten() {
                match items.remove(&(remote.amazon_order_id.clone(), item.order_item_id.clone())) {
                    Some(existing) => {
                        fill_item(existing.into_active_model(), remote, item, now)
                            .update(txn)
                            .await?;
                    }
                    None => new_items.push(fill_item(
                        amazon_order_item::ActiveModel {
                            order_item_id: Set(item.order_item_id.clone()),
                            amazon_order_id: Set(remote.amazon_order_id.clone()),
                            created_at: Set(now),
                            ..Default::default()
                        },
                        remote,
                        item,
                        now,
                    )),
                }
                match unified_items.remove(&item.order_item_id) {
                    Some(existing) => {
                        fill_unified_item(existing.into_active_model(), order_id, item, now)
                            .update(txn)
                            .await?;
                    }
                    None => new_unified_items.push(fill_unified_item(
                        order_items::ActiveModel {
                            source: Set(Some(SOURCE.to_owned())),
                            source_order_item_id: Set(Some(item.order_item_id.clone())),
                            created_at: Set(now),
                            ..Default::default()
                        },
                        order_id,
                        item,
                        now,
                    )),
                }
            }
        }
        if !new_items.is_empty() {
            amazon_order_item::Entity::insert_many(new_items)
                .exec_without_returning(txn)
                .await?;
        }
        if !new_unified_items.is_empty() {
            order_items::Entity::insert_many(new_unified_items)
                .exec_without_returning(txn)
                .await?;
        }
    }

    // A marketplace learns its currency from its first priced order.
    let mut currencies: HashMap<&str, &str> = HashMap::new();
    for (remote, _, _) in &work {
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
