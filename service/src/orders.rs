//! Reading orders: the filtered, keyset-paged listing the API serves, an order by
//! its id, and the items of a page of orders. The API maps these rows to GraphQL;
//! the query planning (which index answers which filter) lives here.

use chrono::{DateTime, Utc};
use entity::enums::OrderStatus;
use entity::{Amount, amazon_order, amazon_order_item};
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, DerivePartialModel, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use std::collections::HashMap;

pub mod csv;

/// Which orders to list. All given conditions must hold.
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    /// Any of these statuses (none: any status).
    pub statuses: Vec<OrderStatus>,
    /// This marketplace only.
    pub marketplace_id: Option<String>,
    /// Purchased at or after this instant.
    pub purchased_from: Option<DateTime<Utc>>,
    /// Purchased before this instant (exclusive).
    pub purchased_to: Option<DateTime<Utc>>,
    /// With an item of this seller SKU.
    pub sku: Option<String>,
    /// With an item of this ASIN.
    pub asin: Option<String>,
}

/// The columns of `amazon_order` the API shows: everything but the raw payload
/// (a few KiB an order, which a page of 50 would read and parse for nothing).
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order::Entity")]
pub struct OrderRow {
    pub id: i64,
    pub amazon_order_id: String,
    pub marketplace_id: String,
    pub purchase_date: DateTime<Utc>,
    pub last_update_date: DateTime<Utc>,
    pub order_status: OrderStatus,
    pub fulfillment_channel: Option<String>,
    pub order_total_currency: Option<String>,
    pub order_total_amount: Option<Amount>,
    pub number_of_items_shipped: Option<i32>,
    pub number_of_items_unshipped: Option<i32>,
    pub is_prime: bool,
    pub is_business_order: bool,
}

/// The columns of `amazon_order_item` the API shows: everything but the raw
/// payload, which is several times the size of the rest and never shown.
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order_item::Entity")]
pub struct ItemRow {
    pub order_item_id: String,
    pub amazon_order_id: String,
    pub marketplace_id: String,
    pub seller_sku: Option<String>,
    pub asin: Option<String>,
    pub title: Option<String>,
    pub quantity_ordered: i32,
    pub quantity_shipped: i32,
    pub item_price_currency: Option<String>,
    pub item_price_amount: Option<Amount>,
}

/// An order's key: (Amazon order id, marketplace id).
pub type OrderKey = (String, String);

/// The items of `orders`, by (order id, marketplace id), in a stable order.
///
/// # Errors
/// The database error.
pub async fn items_of(
    db: &DatabaseConnection,
    orders: &[OrderRow],
) -> Result<HashMap<OrderKey, Vec<ItemRow>>, DbErr> {
    let mut by_order: HashMap<OrderKey, Vec<ItemRow>> = HashMap::new();
    if orders.is_empty() {
        return Ok(by_order);
    }
    let ids: Vec<String> = orders.iter().map(|o| o.amazon_order_id.clone()).collect();
    let items = amazon_order_item::Entity::find()
        .filter(amazon_order_item::Column::AmazonOrderId.is_in(ids))
        .order_by_asc(amazon_order_item::Column::Id)
        .into_partial_model::<ItemRow>()
        .all(db)
        .await?;
    for item in items {
        let key = (item.amazon_order_id.clone(), item.marketplace_id.clone());
        by_order.entry(key).or_default().push(item);
    }
    Ok(by_order)
}

/// The orders `filter` selects (all of its conditions).
fn filtered(filter: &OrderFilter) -> Select<amazon_order::Entity> {
    let q = filtered_but_status(filter);
    if filter.statuses.is_empty() {
        q
    } else {
        q.filter(amazon_order::Column::OrderStatus.is_in(filter.statuses.clone()))
    }
}

/// The orders `filter` selects, leaving its statuses out.
fn filtered_but_status(filter: &OrderFilter) -> Select<amazon_order::Entity> {
    let mut q = amazon_order::Entity::find();
    if let Some(m) = &filter.marketplace_id {
        q = q.filter(amazon_order::Column::MarketplaceId.eq(m.trim()));
    }
    if let Some(from) = filter.purchased_from {
        q = q.filter(amazon_order::Column::PurchaseDate.gte(from));
    }
    if let Some(to) = filter.purchased_to {
        q = q.filter(amazon_order::Column::PurchaseDate.lt(to));
    }
    let item_conditions = [
        (amazon_order_item::Column::SellerSku, filter.sku.as_deref()),
        (amazon_order_item::Column::Asin, filter.asin.as_deref()),
    ];
    for (column, value) in item_conditions {
        if let Some(value) = value {
            q = q.filter(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(amazon_order_item::Entity)
                    .and_where(
                        Expr::col((
                            amazon_order_item::Entity,
                            amazon_order_item::Column::AmazonOrderId,
                        ))
                        .equals((amazon_order::Entity, amazon_order::Column::AmazonOrderId)),
                    )
                    .and_where(
                        Expr::col((
                            amazon_order_item::Entity,
                            amazon_order_item::Column::MarketplaceId,
                        ))
                        .equals((amazon_order::Entity, amazon_order::Column::MarketplaceId)),
                    )
                    // Always equal (the sync keeps it so); it makes the probe one
                    // lookup of the (column, order_purchase_date, order) index.
                    .and_where(
                        Expr::col((
                            amazon_order_item::Entity,
                            amazon_order_item::Column::OrderPurchaseDate,
                        ))
                        .equals((amazon_order::Entity, amazon_order::Column::PurchaseDate)),
                    )
                    .and_where(Expr::col((amazon_order_item::Entity, column)).eq(value.trim()))
                    .to_owned(),
            ));
        }
    }
    q
}

/// The orders of `q` after the keyset cursor `after` (all of them without one).
fn after_cursor(
    q: Select<amazon_order::Entity>,
    after: Option<(DateTime<Utc>, i64)>,
) -> Select<amazon_order::Entity> {
    let Some((at, id)) = after else {
        return q;
    };
    // `purchase_date <= at` is implied by the OR below, but only it can bound the
    // index scan: without it a page deep in the list walks every newer entry of
    // the (purchase_date, id) index first.
    q.filter(amazon_order::Column::PurchaseDate.lte(at)).filter(
        Condition::any()
            .add(amazon_order::Column::PurchaseDate.lt(at))
            .add(
                Condition::all()
                    .add(amazon_order::Column::PurchaseDate.eq(at))
                    .add(amazon_order::Column::Id.lt(id)),
            ),
    )
}

/// Up to `limit + 1` orders of `q` after the keyset cursor `after`, newest first.
async fn page_of(
    db: &DatabaseConnection,
    q: Select<amazon_order::Entity>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: u64,
) -> Result<Vec<OrderRow>, DbErr> {
    after_cursor(q, after)
        .order_by_desc(amazon_order::Column::PurchaseDate)
        .order_by_desc(amazon_order::Column::Id)
        .limit(limit + 1)
        .into_partial_model::<OrderRow>()
        .all(db)
        .await
}

/// An item field a filter can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemField {
    Sku,
    Asin,
}

impl ItemField {
    fn column(self) -> amazon_order_item::Column {
        match self {
            Self::Sku => amazon_order_item::Column::SellerSku,
            Self::Asin => amazon_order_item::Column::Asin,
        }
    }
}

/// The item condition a page is found through, when the filter has one: the SKU,
/// else the ASIN.
fn item_condition(filter: &OrderFilter) -> Option<(ItemField, &str)> {
    match (&filter.sku, &filter.asin) {
        (Some(sku), _) => Some((ItemField::Sku, sku.trim())),
        (None, Some(asin)) => Some((ItemField::Asin, asin.trim())),
        (None, None) => None,
    }
}

/// An entry of the items' (column, order_purchase_date, order) indexes.
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order_item::Entity")]
struct ItemOrder {
    amazon_order_id: String,
    marketplace_id: String,
    order_purchase_date: DateTime<Utc>,
}

/// The most index entries one round of [`page_by_item`] reads.
const MAX_ITEM_CHUNK: u64 = 4096;

/// Up to `limit + 1` orders of `filter` after `after`, newest first, found through
/// their items with `column = value`.
///
/// The (column, order_purchase_date, order) index lists the orders of a SKU or
/// ASIN newest first, so the page reads that list from the top in growing chunks
/// (a page's worth first) and keeps the orders that meet the rest of the filter,
/// until no later entry can be newer than the page's last order. A page costs
/// what it shows, where a semi-join from the newest orders probed every order
/// until it found enough with the SKU (20,000 probes when the newest orders sell
/// other things) or fetched and sorted every order of a rare SKU.
async fn page_by_item(
    db: &DatabaseConnection,
    filter: &OrderFilter,
    (field, value): (ItemField, &str),
    after: Option<(DateTime<Utc>, i64)>,
    limit: u64,
) -> Result<Vec<OrderRow>, DbErr> {
    use amazon_order_item::Column as I;
    let want = usize::try_from(limit + 1).unwrap_or(usize::MAX);
    // The conditions the index does not answer, checked on the orders themselves.
    let mut rest = filter.clone();
    match field {
        ItemField::Sku => rest.sku = None,
        ItemField::Asin => rest.asin = None,
    }
    let column = field.column();
    let mut chunk = Ord::min(limit + 1 + limit.div_ceil(4), MAX_ITEM_CHUNK);
    let mut below: Option<ItemOrder> = None;
    let mut found: Vec<OrderRow> = Vec::new();
    loop {
        let mut q = amazon_order_item::Entity::find().filter(column.eq(value));
        if let Some(m) = &filter.marketplace_id {
            q = q.filter(I::MarketplaceId.eq(m.trim()));
        }
        if let Some(from) = filter.purchased_from {
            q = q.filter(I::OrderPurchaseDate.gte(from));
        }
        if let Some(to) = filter.purchased_to {
            q = q.filter(I::OrderPurchaseDate.lt(to));
        }
        if let Some((at, _)) = after {
            q = q.filter(I::OrderPurchaseDate.lte(at));
        }
        if let Some(last) = &below {
            q = q.filter(
                Expr::tuple([
                    Expr::col(I::OrderPurchaseDate),
                    Expr::col(I::AmazonOrderId),
                    Expr::col(I::MarketplaceId),
                ])
                .lt(Expr::tuple([
                    Expr::val(last.order_purchase_date),
                    Expr::val(last.amazon_order_id.clone()),
                    Expr::val(last.marketplace_id.clone()),
                ])),
            );
        }
        let mut entries = q
            .order_by_desc(I::OrderPurchaseDate)
            .order_by_desc(I::AmazonOrderId)
            .order_by_desc(I::MarketplaceId)
            .limit(chunk)
            .into_partial_model::<ItemOrder>()
            .all(db)
            .await?;
        let exhausted = (entries.len() as u64) < chunk;
        let keys: std::collections::HashSet<OrderKey> = entries
            .iter()
            .map(|e| (e.amazon_order_id.clone(), e.marketplace_id.clone()))
            .collect();
        if !keys.is_empty() {
            let mut ids: Vec<&String> = keys.iter().map(|(id, _)| id).collect();
            ids.sort_unstable();
            ids.dedup();
            let orders = after_cursor(filtered(&rest), after)
                .filter(amazon_order::Column::AmazonOrderId.is_in(ids.into_iter().cloned()))
                .into_partial_model::<OrderRow>()
                .all(db)
                .await?;
            found.extend(
                orders.into_iter().filter(|o| {
                    keys.contains(&(o.amazon_order_id.clone(), o.marketplace_id.clone()))
                }),
            );
            // Two items of one order may fall in two chunks.
            found.sort_by_key(|o| std::cmp::Reverse((o.purchase_date, o.id)));
            found.dedup_by_key(|o| o.id);
            // The page is the newest `want` of everything found: later chunks
            // bring only orders at most as new, so what is past it now stays past.
            found.truncate(want);
        }
        let Some(last) = entries.pop() else { break };
        // Later entries are at most as new as `last`: once it is older than the
        // page's last order, none of them can be on the page.
        if exhausted
            || found
                .get(want - 1)
                .is_some_and(|o| last.order_purchase_date < o.purchase_date)
        {
            break;
        }
        below = Some(last);
        chunk = Ord::min(chunk * 4, MAX_ITEM_CHUNK);
    }
    Ok(found)
}

/// How many orders match `filter` (a scan of all of them: ask only when shown).
///
/// # Errors
/// The database error.
pub async fn count(db: &DatabaseConnection, filter: &OrderFilter) -> Result<u64, DbErr> {
    filtered(filter).count(db).await
}

/// Up to `limit + 1` orders of `filter` after the keyset cursor `after`
/// (purchase date, id), newest purchase first: one more than the page, so the
/// caller knows whether another page follows.
///
/// # Errors
/// The database error.
pub async fn page(
    db: &DatabaseConnection,
    filter: &OrderFilter,
    after: Option<(DateTime<Utc>, i64)>,
    limit: u64,
) -> Result<Vec<OrderRow>, DbErr> {
    if let Some(item) = item_condition(filter) {
        return page_by_item(db, filter, item, after, limit).await;
    }
    let mut statuses: Vec<&OrderStatus> = filter.statuses.iter().collect();
    statuses.sort_unstable_by_key(|s| s.as_str());
    statuses.dedup();
    match statuses.as_slice() {
        [] => return page_of(db, filtered_but_status(filter), after, limit).await,
        [one] => {
            let q = filtered_but_status(filter)
                .filter(amazon_order::Column::OrderStatus.eq((*one).clone()));
            return page_of(db, q, after, limit).await;
        }
        _ => {}
    }
    // Several statuses: one bounded scan of the (order_status, purchase_date, id)
    // index per status, merged here: `order_status IN (…)` cannot be read from that
    // index in order, so PostgreSQL would either sort every match or walk the whole
    // list filtering (10,000 rows for a page of a rare status at a million orders).
    // The scans run at once, each on a connection of its own.
    let scans = statuses.into_iter().map(|status| {
        let q = filtered_but_status(filter)
            .filter(amazon_order::Column::OrderStatus.eq(status.clone()));
        page_of(db, q, after, limit)
    });
    let mut rows: Vec<OrderRow> = futures_util::future::try_join_all(scans)
        .await?
        .into_iter()
        .flatten()
        .collect();
    rows.sort_by_key(|o| std::cmp::Reverse((o.purchase_date, o.id)));
    rows.truncate(usize::try_from(limit + 1).unwrap_or(usize::MAX));
    Ok(rows)
}

/// The order with Amazon's id `amazon_order_id` (the first stored, should two
/// marketplaces share it).
///
/// # Errors
/// The database error.
pub async fn find(
    db: &DatabaseConnection,
    amazon_order_id: &str,
) -> Result<Option<OrderRow>, DbErr> {
    amazon_order::Entity::find()
        .filter(amazon_order::Column::AmazonOrderId.eq(amazon_order_id.trim()))
        .order_by_asc(amazon_order::Column::Id)
        .into_partial_model::<OrderRow>()
        .one(db)
        .await
}
