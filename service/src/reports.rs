//! Daily sales: revenue, units and orders per calendar day in the seller's time zone
//! (design seed 001, step 4: order data for the days reports have not reached yet).
//!
//! The seller's time zone is the connection's `timezone`, else the time zone of its
//! first marketplace ([`marketplace_time_zone`], the one table of them), else UTC.
//! Days are cut at local midnight, so a DST day is 23 or 25 hours long.
//!
//! The query reads only the orders placed in the asked range, a week at a time: a
//! range on `amazon_order.purchase_date` (index `amazon_order_purchase_date_id_idx`,
//! or `amazon_order_marketplace_purchase_date_idx` for one marketplace) joined to
//! the items by their order key (`amazon_order_item_order_item_key`). Sums are made
//! here with exact decimals: SQLite stores amounts as text, and its `SUM` would go
//! through floating point.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use entity::enums::OrderStatus;
use entity::{Amount, amazon_connection, amazon_order, amazon_order_item, marketplaces};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, JoinType, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, FromQueryResult};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Longest range one report may cover, in days.
pub const MAX_DAYS: u64 = 366;

/// The currency code used for an order whose currency is unknown (ISO 4217 "no currency").
pub const NO_CURRENCY: &str = "XXX";

/// The time zone Amazon reports a marketplace's days in; `None` for an unknown id.
#[must_use]
pub fn marketplace_time_zone(marketplace_id: &str) -> Option<Tz> {
    use chrono_tz::{Africa, America, Asia, Australia, Europe};
    Some(match marketplace_id {
        "ATVPDKIKX0DER" | "A2EUQ1WTGCTBG2" => America::Los_Angeles,
        "A1AM78C64UM0Y8" => America::Mexico_City,
        "A2Q3Y263D00KWC" => America::Sao_Paulo,
        "A28R8C7NBKEWEA" => Europe::Dublin,
        "A1RKKUPIHCS9HS" => Europe::Madrid,
        "A1F83G8C2ARO7P" => Europe::London,
        "A13V1IB3VIYZZH" => Europe::Paris,
        "AMEN7PMS3EDWL" => Europe::Brussels,
        "A1805IZSGTT6HS" => Europe::Amsterdam,
        "A1PA6795UKMFR9" => Europe::Berlin,
        "APJ6JRA9NG5V4" => Europe::Rome,
        "A2NODRKZP88ZB9" => Europe::Stockholm,
        "AE08WJ6YKNBMC" => Africa::Johannesburg,
        "A1C3SOZRARQ6R3" => Europe::Warsaw,
        "ARBP9OOSHTCHU" => Africa::Cairo,
        "A33AVAJ2PDY3EV" => Europe::Istanbul,
        "A17E79C6D8DWNP" => Asia::Riyadh,
        "A2VIGQ35RCS4UG" => Asia::Dubai,
        "A21TJRUUN4KGV" => Asia::Kolkata,
        "A19VAU5U5O7RUS" => Asia::Singapore,
        "A39IBJ37TRP1C6" => Australia::Sydney,
        "A1VC38T7YXB528" => Asia::Tokyo,
        _ => return None,
    })
}

/// The seller's time zone for daily reports: the connection's setting, else its
/// first marketplace's, else UTC (also without a connection).
#[must_use]
pub fn seller_time_zone(connection: Option<&amazon_connection::Model>) -> Tz {
    let Some(c) = connection else {
        return Tz::UTC;
    };
    c.timezone
        .as_deref()
        .and_then(|tz| tz.parse::<Tz>().ok())
        .or_else(|| {
            c.marketplace_id_list()
                .first()
                .and_then(|m| marketplace_time_zone(m))
        })
        .unwrap_or(Tz::UTC)
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The range cannot be used; the message says how to fix it.
    #[error("{0}")]
    InvalidRange(String),
    /// The marketplace is not one of the connection's.
    #[error(
        "marketplaceId: {given} is not a marketplace of the connected seller account (its marketplaces: {known})"
    )]
    UnknownMarketplace {
        /// What was asked.
        given: String,
        /// The connection's marketplaces, comma-separated (none when not connected).
        known: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// One day's sales in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySales {
    /// The calendar day in the seller's time zone.
    pub date: NaiveDate,
    /// ISO 4217 code ([`NO_CURRENCY`] when the order says none).
    pub currency_code: String,
    /// Sum of the item prices of the day's orders, canceled ones excluded.
    pub revenue: Decimal,
    /// Sum of the units ordered.
    pub units: i64,
    /// Orders placed that day, canceled excluded, pending included.
    pub orders: i64,
    /// Of those, orders still pending (no price yet, so no revenue).
    pub pending_orders: i64,
}

/// The report of [`sales_daily`]: the time zone its days are in, and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesReport {
    /// The time zone the days were cut in.
    pub time_zone: Tz,
    /// One row per day and currency, by date then currency.
    pub days: Vec<DailySales>,
}

/// The instant a local calendar day starts. When midnight does not exist (a DST
/// gap at midnight, e.g. America/Santiago), the day starts at the first local time
/// that does.
fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut local = date.and_time(NaiveTime::MIN);
    // DST gaps are at most a few hours; step by 15 minutes until a time exists.
    for _ in 0..24 {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.to_utc(),
            LocalResult::None => local += chrono::Duration::minutes(15),
        }
    }
    date.and_time(NaiveTime::MIN).and_utc()
}

/// The instants the days `from..=to` start in `tz`, and the instant after the last
/// one ends: one more bound than days.
///
/// # Errors
/// [`ReportError::InvalidRange`] when `to` precedes `from` or the range is longer
/// than [`MAX_DAYS`].
pub fn day_bounds(
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DateTime<Utc>>, ReportError> {
    if to < from {
        return Err(ReportError::InvalidRange(format!(
            "`to` ({to}) is before `from` ({from}): give the first and the last day of the range"
        )));
    }
    let days = u64::try_from((to - from).num_days())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    if days > MAX_DAYS {
        return Err(ReportError::InvalidRange(format!(
            "{days} days asked, at most {MAX_DAYS} per report: split the range"
        )));
    }
    let mut bounds = Vec::new();
    for i in 0..=days {
        let date = from
            .checked_add_days(Days::new(i))
            .ok_or_else(|| ReportError::InvalidRange(format!("{to} is too far in the future")))?;
        bounds.push(start_of_day(tz, date));
    }
    Ok(bounds)
}

#[derive(Debug, FromQueryResult)]
struct Row {
    order_id: i64,
    marketplace_id: String,
    purchase_date: DateTime<Utc>,
    order_status: OrderStatus,
    order_total_currency: Option<String>,
    item_price_currency: Option<String>,
    item_price_amount: Option<Amount>,
    quantity_ordered: Option<i32>,
}

/// Days read per query (see [`sales_daily`]).
const CHUNK_DAYS: usize = 7;

/// The (day, currency) totals, fed one order at a time.
struct Tally<'a> {
    bounds: &'a [DateTime<Utc>],
    default_currency: &'a HashMap<String, String>,
    totals: BTreeMap<(usize, String), Totals>,
    currencies: BTreeSet<String>,
}

impl Tally<'_> {
    /// Counts one order, given its rows (one per item, or one without item), in
    /// the currency of its items, else of its total, else of its marketplace; each
    /// item's units and price go to the item's own currency.
    fn order(&mut self, lines: &[Row]) {
        let Some(first) = lines.first() else {
            return;
        };
        let day = self
            .bounds
            .partition_point(|b| *b <= first.purchase_date)
            .saturating_sub(1);
        let order_currency = lines
            .iter()
            .find_map(|r| r.item_price_currency.clone())
            .or_else(|| first.order_total_currency.clone())
            .or_else(|| self.default_currency.get(&first.marketplace_id).cloned())
            .unwrap_or_else(|| NO_CURRENCY.to_owned());
        self.currencies.insert(order_currency.clone());
        let t = self
            .totals
            .entry((day, order_currency.clone()))
            .or_default();
        t.orders += 1;
        if first.order_status.is_pending() {
            t.pending_orders += 1;
        }
        for line in lines {
            let Some(quantity) = line.quantity_ordered else {
                continue;
            };
            let currency = line
                .item_price_currency
                .clone()
                .unwrap_or_else(|| order_currency.clone());
            self.currencies.insert(currency.clone());
            let t = self.totals.entry((day, currency)).or_default();
            t.units += i64::from(quantity);
            if let Some(amount) = line.item_price_amount {
                t.revenue += amount.decimal();
            }
        }
    }
}

#[derive(Default)]
struct Totals {
    revenue: Decimal,
    units: i64,
    orders: i64,
    pending_orders: i64,
}

/// The orders placed in `[start, end)` (of one marketplace or all), canceled ones
/// excluded, one row per item (or one for an order without items), by purchase
/// time. A range on an indexed column: see the module docs.
#[must_use]
pub fn range_query(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    marketplace_id: Option<&str>,
) -> SelectStatement {
    let mut stmt = Query::select();
    stmt.expr_as(
        Expr::col((amazon_order::Entity, amazon_order::Column::Id)),
        Alias::new("order_id"),
    )
    .column((amazon_order::Entity, amazon_order::Column::MarketplaceId))
    .column((amazon_order::Entity, amazon_order::Column::PurchaseDate))
    .column((amazon_order::Entity, amazon_order::Column::OrderStatus))
    .column((
        amazon_order::Entity,
        amazon_order::Column::OrderTotalCurrency,
    ))
    .column((
        amazon_order_item::Entity,
        amazon_order_item::Column::ItemPriceCurrency,
    ))
    .column((
        amazon_order_item::Entity,
        amazon_order_item::Column::ItemPriceAmount,
    ))
    .column((
        amazon_order_item::Entity,
        amazon_order_item::Column::QuantityOrdered,
    ))
    .from(amazon_order::Entity)
    .join(
        JoinType::LeftJoin,
        amazon_order_item::Entity,
        Expr::col((
            amazon_order_item::Entity,
            amazon_order_item::Column::AmazonOrderId,
        ))
        .equals((amazon_order::Entity, amazon_order::Column::AmazonOrderId))
        .and(
            Expr::col((
                amazon_order_item::Entity,
                amazon_order_item::Column::MarketplaceId,
            ))
            .equals((amazon_order::Entity, amazon_order::Column::MarketplaceId)),
        ),
    )
    .and_where(Expr::col((amazon_order::Entity, amazon_order::Column::PurchaseDate)).gte(start))
    .and_where(Expr::col((amazon_order::Entity, amazon_order::Column::PurchaseDate)).lt(end))
    .and_where(
        Expr::col((amazon_order::Entity, amazon_order::Column::OrderStatus))
            .ne(OrderStatus::Canceled),
    )
    .order_by(
        (amazon_order::Entity, amazon_order::Column::PurchaseDate),
        Order::Asc,
    )
    .order_by((amazon_order::Entity, amazon_order::Column::Id), Order::Asc);
    if let Some(m) = marketplace_id {
        stmt.and_where(
            Expr::col((amazon_order::Entity, amazon_order::Column::MarketplaceId)).eq(m),
        );
    }
    stmt
}

/// Sales per calendar day from `from` to `to` (both included) in the seller's time
/// zone, of one marketplace or all. Every day of the range has a row for every
/// currency seen in the range and for the default currency of each marketplace in
/// scope (the given one, else the connection's), zeros when nothing was sold.
///
/// # Errors
/// [`ReportError::InvalidRange`] when `to` precedes `from` or the range is longer
/// than [`MAX_DAYS`]; the database error.
#[tracing::instrument(skip(db))]
pub async fn sales_daily(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
    marketplace_id: Option<&str>,
) -> Result<SalesReport, ReportError> {
    let connection = crate::amazon_account::get(db).await?;
    let tz = seller_time_zone(connection.as_ref());
    let bounds = day_bounds(tz, from, to)?;
    let marketplace_id = marketplace_id.map(str::trim).filter(|m| !m.is_empty());
    let default_currency: HashMap<String, String> = marketplaces::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| Some((m.marketplace_id, m.currency?)))
        .collect();

    if let Some(m) = marketplace_id {
        let known = connection
            .as_ref()
            .map(entity::amazon_connection::Model::marketplace_id_list)
            .unwrap_or_default();
        if !known.iter().any(|k| k == m) {
            return Err(ReportError::UnknownMarketplace {
                given: m.chars().take(40).collect(),
                known: if known.is_empty() {
                    "none: connect the seller account first".to_owned()
                } else {
                    known.join(", ")
                },
            });
        }
    }
    let scope: Vec<String> = match (marketplace_id, connection.as_ref()) {
        (Some(m), _) => vec![m.to_owned()],
        (None, Some(c)) => c.marketplace_id_list(),
        (None, None) => Vec::new(),
    };
    let mut tally = Tally {
        bounds: &bounds,
        default_currency: &default_currency,
        totals: BTreeMap::new(),
        currencies: scope
            .iter()
            .filter_map(|m| default_currency.get(m).cloned())
            .collect(),
    };
    // A week at a time, so that memory holds one week's rows, not a year's. An
    // order lies within one day, so within one chunk.
    let backend = db.get_database_backend();
    for chunk in bounds.windows(2).collect::<Vec<_>>().chunks(CHUNK_DAYS) {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        let stmt = range_query(first[0], last[1], marketplace_id);
        let rows = Row::find_by_statement(backend.build(&stmt)).all(db).await?;
        for lines in rows.chunk_by(|a, b| a.order_id == b.order_id) {
            tally.order(lines);
        }
    }
    let Tally {
        mut totals,
        currencies,
        ..
    } = tally;

    let mut out = Vec::new();
    for (day, date) in from.iter_days().take(bounds.len() - 1).enumerate() {
        for currency in &currencies {
            let t = totals.remove(&(day, currency.clone())).unwrap_or_default();
            out.push(DailySales {
                date,
                currency_code: currency.clone(),
                revenue: t.revenue,
                units: t.units,
                orders: t.orders,
                pending_orders: t.pending_orders,
            });
        }
    }
    Ok(SalesReport {
        time_zone: tz,
        days: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spring_forward_day_is_23_hours_and_a_fall_back_day_25() {
        let la = chrono_tz::America::Los_Angeles;
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(
            (start_of_day(la, d(3, 9)) - start_of_day(la, d(3, 8))).num_hours(),
            23
        );
        assert_eq!(
            (start_of_day(la, d(11, 2)) - start_of_day(la, d(11, 1))).num_hours(),
            25
        );
    }

    #[test]
    fn a_day_without_midnight_starts_at_its_first_hour() {
        // Santiago springs forward at midnight: 2026-09-06 00:00 does not exist.
        let santiago = chrono_tz::America::Santiago;
        let date = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = start_of_day(santiago, date).with_timezone(&santiago);
        assert_eq!(start.date_naive(), date);
        assert_eq!(start.time(), NaiveTime::from_hms_opt(1, 0, 0).unwrap());
    }

    #[test]
    fn every_seeded_marketplace_has_a_time_zone() {
        for id in ["ATVPDKIKX0DER", "A1VC38T7YXB528", "A1F83G8C2ARO7P"] {
            assert!(marketplace_time_zone(id).is_some(), "{id}");
        }
        assert_eq!(marketplace_time_zone("nope"), None);
    }
}
