//! Reading FBA stock: the keyset-paged listing the API serves, units sold per day
//! from our own orders, days of cover, and which SKUs are low on stock.
//!
//! The inventory sync ([`crate::sync`]) writes `fba_inventory`; this module only
//! reads it, with the orders, to tell a seller what runs out when.

use chrono::{DateTime, Duration, Utc};
use entity::{amazon_order, amazon_order_item, fba_inventory};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, JoinType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, StatementBuilder,
};
use std::collections::{BTreeSet, HashMap};

/// How stock is judged (`STOCK_VELOCITY_DAYS`, `ALERT_STOCK_DAYS`, `ALERT_STOCK_UNITS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockSettings {
    /// Days of orders the sales rate is averaged over (default 28).
    pub velocity_days: u32,
    /// A SKU with fewer days of cover than this is low on stock (default 14).
    pub alert_days: u32,
    /// A SKU with fewer fulfillable units than this is low on stock (default none).
    pub alert_units: Option<i64>,
}

impl Default for StockSettings {
    fn default() -> Self {
        Self {
            velocity_days: 28,
            alert_days: 14,
            alert_units: None,
        }
    }
}

/// A SKU in a marketplace: (marketplace id, seller SKU).
pub type SkuKey = (String, String);

/// Which stock to list. All given conditions must hold.
#[derive(Debug, Default, Clone)]
pub struct InventoryFilter {
    /// This marketplace only.
    pub marketplace_id: Option<String>,
    /// This seller SKU only.
    pub seller_sku: Option<String>,
    /// Only SKUs low on stock.
    pub low_stock_only: bool,
    /// Also SKUs a full scan no longer returned (default: only current ones).
    pub include_gone: bool,
}

/// One SKU's stock with what it means for the seller.
#[derive(Debug, Clone, PartialEq)]
pub struct StockRow {
    /// The stored row.
    pub row: fba_inventory::Model,
    /// Units sold per day over the velocity window (canceled orders excluded).
    pub units_sold_per_day: f64,
    /// Fulfillable units divided by that rate; None when nothing sold.
    pub days_of_cover: Option<f64>,
    /// Under a threshold of [`StockSettings`].
    pub low_stock: bool,
}

impl StockRow {
    fn judge(row: fba_inventory::Model, units_sold: i64, s: &StockSettings) -> Self {
        let days = f64::from(Ord::max(s.velocity_days, 1));
        #[expect(clippy::cast_precision_loss, reason = "unit counts are far below 2^52")]
        let per_day = Ord::max(units_sold, 0) as f64 / days;
        #[expect(clippy::cast_precision_loss, reason = "unit counts are far below 2^52")]
        let days_of_cover = (per_day > 0.0).then(|| row.fulfillable_quantity as f64 / per_day);
        let low_stock = row.gone_at.is_none()
            && (days_of_cover.is_some_and(|d| d < f64::from(s.alert_days))
                || s.alert_units.is_some_and(|u| row.fulfillable_quantity < u));
        Self {
            row,
            units_sold_per_day: per_day,
            days_of_cover,
            low_stock,
        }
    }
}

/// Units ordered per (marketplace, SKU) since `since`, canceled orders excluded,
/// for the given SKUs (all SKUs when `skus` is None).
///
/// # Errors
/// The database error.
pub async fn units_sold_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    skus: Option<&BTreeSet<String>>,
) -> Result<HashMap<SkuKey, i64>, DbErr> {
    let item = |c: amazon_order_item::Column| Expr::col((amazon_order_item::Entity, c));
    let mut stmt = Query::select();
    stmt.expr_as(
        item(amazon_order_item::Column::MarketplaceId),
        Alias::new("marketplace_id"),
    )
    .expr_as(
        item(amazon_order_item::Column::SellerSku),
        Alias::new("seller_sku"),
    )
    .expr_as(
        Expr::col((
            amazon_order_item::Entity,
            amazon_order_item::Column::QuantityOrdered,
        ))
        .sum(),
        Alias::new("units"),
    )
    .from(amazon_order_item::Entity)
    .join(
        JoinType::InnerJoin,
        amazon_order::Entity,
        item(amazon_order_item::Column::AmazonOrderId)
            .equals((amazon_order::Entity, amazon_order::Column::AmazonOrderId))
            .and(
                item(amazon_order_item::Column::MarketplaceId)
                    .equals((amazon_order::Entity, amazon_order::Column::MarketplaceId)),
            ),
    )
    .and_where(item(amazon_order_item::Column::OrderPurchaseDate).gte(since))
    .and_where(item(amazon_order_item::Column::SellerSku).is_not_null())
    .and_where(
        Expr::col((amazon_order::Entity, amazon_order::Column::OrderStatus))
            .ne(entity::enums::OrderStatus::Canceled),
    )
    .group_by_col((
        amazon_order_item::Entity,
        amazon_order_item::Column::MarketplaceId,
    ))
    .group_by_col((
        amazon_order_item::Entity,
        amazon_order_item::Column::SellerSku,
    ));
    if let Some(skus) = skus {
        stmt.and_where(item(amazon_order_item::Column::SellerSku).is_in(skus.iter().cloned()));
    }
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(StatementBuilder::build(&stmt, &backend))
        .await?;
    let mut sold = HashMap::with_capacity(rows.len());
    for r in rows {
        let mp: String = r.try_get("", "marketplace_id")?;
        let sku: String = r.try_get("", "seller_sku")?;
        // SUM is a BIGINT on SQLite and a NUMERIC on PostgreSQL.
        let units: i64 = match r.try_get::<i64>("", "units") {
            Ok(n) => n,
            Err(_) => r
                .try_get::<rust_decimal::Decimal>("", "units")
                .ok()
                .and_then(|d| i64::try_from(d).ok())
                .unwrap_or(0),
        };
        sold.insert((mp, sku), units);
    }
    Ok(sold)
}

/// Judges stored rows against the sales of the velocity window ending `now`.
///
/// # Errors
/// The database error.
pub async fn judge(
    db: &impl ConnectionTrait,
    rows: Vec<fba_inventory::Model>,
    settings: &StockSettings,
    now: DateTime<Utc>,
) -> Result<Vec<StockRow>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let skus: BTreeSet<String> = rows.iter().map(|r| r.seller_sku.clone()).collect();
    let since = now - Duration::days(i64::from(settings.velocity_days));
    let sold = units_sold_since(db, since, Some(&skus)).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let units = sold
                .get(&(row.marketplace_id.clone(), row.seller_sku.clone()))
                .copied()
                .unwrap_or(0);
            StockRow::judge(row, units, settings)
        })
        .collect())
}

/// Every current SKU that is low on stock, by marketplace and SKU.
///
/// # Errors
/// The database error.
pub async fn low_stock(
    db: &impl ConnectionTrait,
    settings: &StockSettings,
    now: DateTime<Utc>,
) -> Result<Vec<StockRow>, DbErr> {
    let rows = fba_inventory::Entity::find()
        .filter(fba_inventory::Column::GoneAt.is_null())
        .order_by_asc(fba_inventory::Column::MarketplaceId)
        .order_by_asc(fba_inventory::Column::SellerSku)
        .all(db)
        .await?;
    Ok(judge(db, rows, settings, now)
        .await?
        .into_iter()
        .filter(|r| r.low_stock)
        .collect())
}

fn filtered(filter: &InventoryFilter) -> sea_orm::Select<fba_inventory::Entity> {
    let mut q = fba_inventory::Entity::find();
    if let Some(m) = &filter.marketplace_id {
        q = q.filter(fba_inventory::Column::MarketplaceId.eq(m.trim()));
    }
    if let Some(s) = &filter.seller_sku {
        q = q.filter(fba_inventory::Column::SellerSku.eq(s.trim()));
    }
    if !filter.include_gone {
        q = q.filter(fba_inventory::Column::GoneAt.is_null());
    }
    q
}

/// Up to `limit + 1` SKUs of `filter` after the keyset cursor `after`
/// (marketplace id, seller SKU), in that order, judged at `now`.
///
/// # Errors
/// The database error.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &InventoryFilter,
    after: Option<&SkuKey>,
    limit: u64,
    settings: &StockSettings,
    now: DateTime<Utc>,
) -> Result<Vec<StockRow>, DbErr> {
    let mut q = filtered(filter);
    if let Some((mp, sku)) = after {
        q = q.filter(
            Condition::any()
                .add(fba_inventory::Column::MarketplaceId.gt(mp.as_str()))
                .add(
                    Condition::all()
                        .add(fba_inventory::Column::MarketplaceId.eq(mp.as_str()))
                        .add(fba_inventory::Column::SellerSku.gt(sku.as_str())),
                ),
        );
    }
    let q = q
        .order_by_asc(fba_inventory::Column::MarketplaceId)
        .order_by_asc(fba_inventory::Column::SellerSku);
    if !filter.low_stock_only {
        let rows = q.limit(limit + 1).all(db).await?;
        return judge(db, rows, settings, now).await;
    }
    // Low stock depends on the sales rate, which SQL does not hold: judge in
    // chunks until the page is full.
    let mut out = Vec::new();
    let mut offset = 0u64;
    let chunk = 500u64;
    loop {
        let rows = q.clone().offset(offset).limit(chunk).all(db).await?;
        let n = rows.len() as u64;
        out.extend(
            judge(db, rows, settings, now)
                .await?
                .into_iter()
                .filter(|r| r.low_stock),
        );
        if out.len() as u64 > limit || n < chunk {
            out.truncate(usize::try_from(limit + 1).unwrap_or(usize::MAX));
            return Ok(out);
        }
        offset += chunk;
    }
}

/// How many current SKUs `filter` matches (low-stock filter included).
///
/// # Errors
/// The database error.
pub async fn count(
    db: &impl ConnectionTrait,
    filter: &InventoryFilter,
    settings: &StockSettings,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait as _;
    if !filter.low_stock_only {
        return filtered(filter).count(db).await;
    }
    let rows = filtered(filter).all(db).await?;
    Ok(judge(db, rows, settings, now)
        .await?
        .iter()
        .filter(|r| r.low_stock)
        .count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fulfillable: i64) -> fba_inventory::Model {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        fba_inventory::Model {
            id: 1,
            marketplace_id: "ATVPDKIKX0DER".into(),
            seller_sku: "SKU-1".into(),
            asin: None,
            fn_sku: None,
            condition: None,
            product_name: None,
            fulfillable_quantity: fulfillable,
            inbound_working_quantity: 0,
            inbound_shipped_quantity: 0,
            inbound_receiving_quantity: 0,
            reserved_quantity: 0,
            unfulfillable_quantity: 0,
            researching_quantity: 0,
            total_quantity: fulfillable,
            last_updated_time: None,
            raw: serde_json::json!({}),
            seen_at: t,
            gone_at: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn days_of_cover_is_fulfillable_units_over_the_daily_rate() {
        let s = StockSettings::default();
        // 56 units in 28 days: 2 a day; 30 units last 15 days.
        let r = StockRow::judge(row(30), 56, &s);
        assert!((r.units_sold_per_day - 2.0).abs() < 1e-9);
        assert_eq!(r.days_of_cover, Some(15.0));
        assert!(!r.low_stock);
        let r = StockRow::judge(row(26), 56, &s);
        assert_eq!(r.days_of_cover, Some(13.0));
        assert!(r.low_stock, "13 days is under the 14-day threshold");
    }

    #[test]
    fn a_sku_that_never_sold_has_no_days_of_cover_and_is_low_only_by_units() {
        let mut s = StockSettings::default();
        let r = StockRow::judge(row(0), 0, &s);
        assert_eq!(r.days_of_cover, None);
        assert!(!r.low_stock);
        s.alert_units = Some(5);
        assert!(StockRow::judge(row(4), 0, &s).low_stock);
        assert!(!StockRow::judge(row(5), 0, &s).low_stock);
    }

    #[test]
    fn a_gone_sku_is_never_low_on_stock() {
        let mut gone = row(0);
        gone.gone_at = Some(DateTime::<Utc>::UNIX_EPOCH);
        let s = StockSettings {
            alert_units: Some(5),
            ..StockSettings::default()
        };
        assert!(!StockRow::judge(gone, 100, &s).low_stock);
    }
}
