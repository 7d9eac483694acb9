//! What the seller reads of their money: the transactions themselves, one order's
//! financials, profit per day and the reconciliation of orders against Amazon's
//! settlements. Every sum is exact and per currency; SQLite keeps amounts as text,
//! so sums are made here, never by the database.

use crate::reports::{ReportError, day_bounds, seller_time_zone};
use crate::sync::LATE_ARRIVALS;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::enums::{BreakdownCategory, OrderStatus, SyncKind, SyncStatus};
use entity::{
    Amount, amazon_order, amazon_order_item, amazon_transaction, amazon_transaction_breakdown,
    amazon_transaction_related, sync_runs,
};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An exact amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CurrencyAmount {
    /// ISO 4217.
    pub currency: String,
    /// The amount.
    pub amount: Decimal,
}

/// Sums per currency, in currency order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums(BTreeMap<String, Decimal>);

impl Sums {
    fn add(&mut self, currency: &str, amount: Decimal) {
        // Saturating: an absurd amount from Amazon must not panic a request.
        let sum = self.0.entry(currency.to_owned()).or_default();
        *sum = sum.saturating_add(amount);
    }

    /// One amount per currency met (zeros included).
    #[must_use]
    pub fn amounts(&self) -> Vec<CurrencyAmount> {
        self.0
            .iter()
            .map(|(c, a)| CurrencyAmount {
                currency: c.clone(),
                amount: *a,
            })
            .collect()
    }
}

/// One fee type's total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeByType {
    /// The leaf's `breakdownType`, e.g. `Commission`.
    pub breakdown_type: String,
    /// Its total.
    pub amount: CurrencyAmount,
}

/// What Amazon's transactions say about one order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFinancials {
    /// What the buyer paid for goods and shipping (principal and charges).
    pub sales: Sums,
    /// Tax collected.
    pub tax: Sums,
    /// Promotions (negative).
    pub promotions: Sums,
    /// Amazon's fees (negative; returned fees positive).
    pub fees: Sums,
    /// Fees by type.
    pub fees_by_type: Vec<FeeByType>,
    /// What refunds gave back (negative).
    pub refunds: Sums,
    /// Everything together: what the order brings the seller.
    pub net_proceeds: Sums,
    /// Every transaction of the order is released (and there is at least one).
    pub released: bool,
    /// How many transactions the order has.
    pub transactions: usize,
}

/// Whether a transaction's status says Amazon has released its money.
#[must_use]
pub fn is_released(status: &str) -> bool {
    status == "RELEASED" || status == "DEFERRED_RELEASED"
}

/// The transactions related to each order (by `ORDER_ID`).
async fn transactions_of_orders(
    db: &impl ConnectionTrait,
    amazon_order_ids: &[String],
) -> Result<Vec<(String, String)>, DbErr> {
    let mut out = Vec::new();
    for chunk in amazon_order_ids.chunks(500) {
        let rows: Vec<(String, String)> = amazon_transaction_related::Entity::find()
            .select_only()
            .column(amazon_transaction_related::Column::Value)
            .column(amazon_transaction_related::Column::TransactionId)
            .filter(
                amazon_transaction_related::Column::Name.eq(amazon_transaction_related::ORDER_ID),
            )
            .filter(amazon_transaction_related::Column::Value.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// A breakdown leaf, as the sums need it.
type Leaf = (String, Option<BreakdownCategory>, String, String, Amount);

/// The leaves of the given transactions: (transaction id, category, type, currency, amount).
async fn leaves_of(
    db: &impl ConnectionTrait,
    transaction_ids: &[String],
) -> Result<Vec<Leaf>, DbErr> {
    let mut out = Vec::new();
    for chunk in transaction_ids.chunks(500) {
        let rows: Vec<Leaf> = amazon_transaction_breakdown::Entity::find()
            .select_only()
            .column(amazon_transaction_breakdown::Column::TransactionId)
            .column(amazon_transaction_breakdown::Column::Category)
            .column(amazon_transaction_breakdown::Column::BreakdownType)
            .column(amazon_transaction_breakdown::Column::Currency)
            .column(amazon_transaction_breakdown::Column::Amount)
            .filter(
                amazon_transaction_breakdown::Column::TransactionId.is_in(chunk.iter().cloned()),
            )
            .filter(amazon_transaction_breakdown::Column::Category.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// The financials of each of `amazon_order_ids` that has transactions (an order
/// without any is absent from the map). A transaction naming two orders counts
/// for both.
///
/// # Errors
/// The database error.
pub async fn order_financials(
    db: &impl ConnectionTrait,
    amazon_order_ids: &[String],
) -> Result<HashMap<String, OrderFinancials>, DbErr> {
    let links = transactions_of_orders(db, amazon_order_ids).await?;
    let ids: Vec<String> = links
        .iter()
        .map(|(_, t)| t.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut statuses: HashMap<String, String> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = amazon_transaction::Entity::find()
            .select_only()
            .column(amazon_transaction::Column::TransactionId)
            .column(amazon_transaction::Column::TransactionStatus)
            .filter(amazon_transaction::Column::TransactionId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        statuses.extend(rows);
    }
    let mut by_transaction: HashMap<String, Vec<Leaf>> = HashMap::new();
    for leaf in leaves_of(db, &ids).await? {
        by_transaction.entry(leaf.0.clone()).or_default().push(leaf);
    }
    let mut out: HashMap<String, OrderFinancials> = HashMap::new();
    let mut fees: HashMap<String, BTreeMap<(String, String), Decimal>> = HashMap::new();
    for (order, transaction) in &links {
        let Some(status) = statuses.get(transaction) else {
            continue;
        };
        let f = out.entry(order.clone()).or_insert_with(|| OrderFinancials {
            released: true,
            ..OrderFinancials::default()
        });
        f.transactions += 1;
        f.released &= is_released(status);
        for (_, category, kind, currency, amount) in
            by_transaction.get(transaction).into_iter().flatten()
        {
            let amount = amount.decimal();
            let sums = match category {
                Some(BreakdownCategory::Sales) => Some(&mut f.sales),
                Some(BreakdownCategory::Tax) => Some(&mut f.tax),
                Some(BreakdownCategory::Promotion) => Some(&mut f.promotions),
                Some(BreakdownCategory::Fee) => {
                    let sum = fees
                        .entry(order.clone())
                        .or_default()
                        .entry((kind.clone(), currency.clone()))
                        .or_default();
                    *sum = sum.saturating_add(amount);
                    Some(&mut f.fees)
                }
                Some(BreakdownCategory::Refund) => Some(&mut f.refunds),
                Some(BreakdownCategory::Other) | Some(BreakdownCategory::Transfer) | None => None,
            };
            if let Some(sums) = sums {
                sums.add(currency, amount);
            }
            if *category != Some(BreakdownCategory::Transfer) {
                f.net_proceeds.add(currency, amount);
            }
        }
    }
    for (order, by_type) in fees {
        if let Some(f) = out.get_mut(&order) {
            f.fees_by_type = by_type
                .into_iter()
                .map(|((breakdown_type, currency), amount)| FeeByType {
                    breakdown_type,
                    amount: CurrencyAmount { currency, amount },
                })
                .collect();
        }
    }
    Ok(out)
}

/// One day's money in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyProfit {
    /// The calendar day in the seller's time zone.
    pub date: NaiveDate,
    /// ISO 4217.
    pub currency_code: String,
    /// Sales (principal and charges) posted that day, refunds not deducted.
    pub revenue: Decimal,
    /// Amazon's fees posted that day (negative; returned fees count back).
    pub fees: Decimal,
    /// Refunds posted that day (negative).
    pub refunds: Decimal,
    /// Everything posted that day except payouts: revenue, fees, refunds, tax,
    /// promotions and other adjustments.
    pub net_proceeds: Decimal,
}

/// The report of [`profit_daily`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfitReport {
    /// The time zone the days were cut in.
    pub time_zone: Tz,
    /// One row per day and currency met in the range, by date then currency.
    pub days: Vec<DailyProfit>,
}

/// Money per calendar day from `from` to `to` (both included) in the seller's time
/// zone, by the transactions' posted dates, of one marketplace or all. Every day
/// has a row for every currency met in the range (zeros when nothing was posted).
///
/// # Errors
/// [`ReportError::InvalidRange`] for a backwards or too long range; the database
/// error.
pub async fn profit_daily(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
    marketplace_id: Option<&str>,
) -> Result<ProfitReport, ReportError> {
    let connection = crate::amazon_account::get(db).await?;
    let tz = seller_time_zone(connection.as_ref());
    let bounds = day_bounds(tz, from, to)?;
    let (Some(start), Some(end)) = (bounds.first().copied(), bounds.last().copied()) else {
        return Ok(ProfitReport {
            time_zone: tz,
            days: Vec::new(),
        });
    };
    let marketplace_id = marketplace_id.map(str::trim).filter(|m| !m.is_empty());
    let mut totals: BTreeMap<(usize, String), [Decimal; 4]> = BTreeMap::new();
    let mut currencies = BTreeSet::new();
    // A week at a time, so memory holds a week's leaves, not a year's.
    let mut from_t = start;
    while from_t < end {
        let to_t = std::cmp::min(from_t + Duration::days(7), end);
        let mut q = amazon_transaction_breakdown::Entity::find()
            .select_only()
            .column(amazon_transaction_breakdown::Column::PostedDate)
            .column(amazon_transaction_breakdown::Column::Category)
            .column(amazon_transaction_breakdown::Column::Currency)
            .column(amazon_transaction_breakdown::Column::Amount)
            .filter(amazon_transaction_breakdown::Column::PostedDate.gte(from_t))
            .filter(amazon_transaction_breakdown::Column::PostedDate.lt(to_t))
            .filter(amazon_transaction_breakdown::Column::Category.is_not_null())
            .filter(amazon_transaction_breakdown::Column::Category.ne(BreakdownCategory::Transfer));
        if let Some(m) = marketplace_id {
            q = q.filter(amazon_transaction_breakdown::Column::MarketplaceId.eq(m));
        }
        let rows: Vec<(DateTime<Utc>, Option<BreakdownCategory>, String, Amount)> =
            q.into_tuple().all(db).await?;
        for (posted, category, currency, amount) in rows {
            let day = bounds.partition_point(|b| *b <= posted).saturating_sub(1);
            currencies.insert(currency.clone());
            let t = totals.entry((day, currency)).or_default();
            let amount = amount.decimal();
            let slot = match category {
                Some(BreakdownCategory::Sales) => Some(0),
                Some(BreakdownCategory::Fee) => Some(1),
                Some(BreakdownCategory::Refund) => Some(2),
                _ => None,
            };
            if let Some(i) = slot {
                t[i] = t[i].saturating_add(amount);
            }
            t[3] = t[3].saturating_add(amount);
        }
        from_t = to_t;
    }
    let mut days = Vec::new();
    for (day, date) in from.iter_days().take(bounds.len() - 1).enumerate() {
        for currency in &currencies {
            let [revenue, fees, refunds, net_proceeds] =
                totals.remove(&(day, currency.clone())).unwrap_or_default();
            days.push(DailyProfit {
                date,
                currency_code: currency.clone(),
                revenue,
                fees,
                refunds,
                net_proceeds,
            });
        }
    }
    Ok(ProfitReport {
        time_zone: tz,
        days,
    })
}

/// What kind of disagreement between an order and Amazon's settlements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// A shipped order old enough to be settled has no `Shipment` transaction.
    MissingSettlement,
    /// The principal of the order's `Shipment` transactions differs from its item
    /// prices.
    AmountMismatch,
}

/// One order that does not reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationIssue {
    /// The order.
    pub amazon_order_id: String,
    /// Its marketplace.
    pub marketplace_id: String,
    /// What is wrong.
    pub kind: IssueKind,
    /// What the order says: the sum of its item prices, per currency.
    pub expected: Vec<CurrencyAmount>,
    /// What the settlements say: the `Shipment` principal, per currency (empty when
    /// missing).
    pub actual: Vec<CurrencyAmount>,
}

/// The reconciliation rules' setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconciliation {
    /// A shipped order is expected to be settled this long after its last update.
    pub settle_within: Duration,
}

impl Default for Reconciliation {
    fn default() -> Self {
        Self {
            settle_within: Duration::days(14),
        }
    }
}

/// Orders examined per step.
const SCAN_CHUNK: u64 = 500;

/// The stretch of order updates the transactions syncs have covered: from the
/// start of the first successful run to the transactions watermark minus the
/// late-arrival allowance. `None` before any successful run.
async fn covered(
    db: &impl ConnectionTrait,
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>, DbErr> {
    let first: Option<Option<DateTime<Utc>>> = sync_runs::Entity::find()
        .select_only()
        .column(sync_runs::Column::WindowStart)
        .filter(sync_runs::Column::Kind.eq(SyncKind::Transactions))
        .filter(sync_runs::Column::Status.eq(SyncStatus::Succeeded))
        .filter(sync_runs::Column::DryRun.eq(false))
        .order_by_asc(sync_runs::Column::WindowStart)
        .into_tuple()
        .one(db)
        .await?;
    let Some(Some(first)) = first else {
        return Ok(None);
    };
    let last: Option<DateTime<Utc>> = entity::sync_cursor::Entity::find()
        .select_only()
        .column_as(Expr::col(entity::sync_cursor::Column::Watermark).min(), "w")
        .filter(entity::sync_cursor::Column::Kind.eq(SyncKind::Transactions))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    let Some(last) = last else {
        return Ok(None);
    };
    let late = Duration::from_std(LATE_ARRIVALS).unwrap_or(Duration::days(2));
    Ok(Some((first, last - late)))
}

/// Orders that do not reconcile with Amazon's settlements, by order id, after
/// `after` (an order id), at most `first`.
///
/// Only fully shipped orders are judged, and only those whose last update lies
/// where the transactions syncs have looked (an order shipped before the first
/// transactions sync is not "missing" its settlement):
/// - [`IssueKind::MissingSettlement`]: last updated more than `settle_within`
///   before now, and no `Shipment` transaction names it;
/// - [`IssueKind::AmountMismatch`]: it has `Shipment` transactions whose
///   principal, per currency, differs from the sum of its item prices.
///
/// # Errors
/// The database error.
pub async fn reconciliation_issues(
    db: &impl ConnectionTrait,
    rules: Reconciliation,
    after: Option<&str>,
    first: usize,
    now: DateTime<Utc>,
) -> Result<Vec<ReconciliationIssue>, DbErr> {
    let Some((from, to)) = covered(db).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let mut q = amazon_order::Entity::find()
            .select_only()
            .column(amazon_order::Column::AmazonOrderId)
            .column(amazon_order::Column::MarketplaceId)
            .column(amazon_order::Column::LastUpdateDate)
            .filter(amazon_order::Column::OrderStatus.eq(OrderStatus::Shipped))
            .filter(amazon_order::Column::LastUpdateDate.gte(from))
            .filter(amazon_order::Column::LastUpdateDate.lt(to))
            .order_by_asc(amazon_order::Column::AmazonOrderId)
            .limit(SCAN_CHUNK);
        if let Some(c) = &cursor {
            q = q.filter(amazon_order::Column::AmazonOrderId.gt(c.clone()));
        }
        let orders: Vec<(String, String, DateTime<Utc>)> = q.into_tuple().all(db).await?;
        let Some(last) = orders.last().map(|o| o.0.clone()) else {
            return Ok(out);
        };
        let ids: Vec<String> = orders.iter().map(|o| o.0.clone()).collect();
        let expected = item_prices(db, &ids).await?;
        let principal = shipment_principal(db, &ids).await?;
        for (id, marketplace_id, last_update) in orders {
            // An order synced without its items has no prices to compare.
            let Some(expected_sums) = expected.get(&id).cloned() else {
                continue;
            };
            let issue = match principal.get(&id) {
                None if now - last_update > rules.settle_within => {
                    Some((IssueKind::MissingSettlement, Sums::default()))
                }
                None => None,
                Some(actual) if *actual != expected_sums => {
                    Some((IssueKind::AmountMismatch, actual.clone()))
                }
                Some(_) => None,
            };
            if let Some((kind, actual)) = issue {
                out.push(ReconciliationIssue {
                    amazon_order_id: id,
                    marketplace_id,
                    kind,
                    expected: expected_sums.amounts(),
                    actual: actual.amounts(),
                });
                if out.len() >= first {
                    return Ok(out);
                }
            }
        }
        cursor = Some(last);
    }
}

/// The sum of each order's item prices, per currency.
async fn item_prices(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, Sums>, DbErr> {
    let rows: Vec<(String, Option<String>, Option<Amount>)> = amazon_order_item::Entity::find()
        .select_only()
        .column(amazon_order_item::Column::AmazonOrderId)
        .column(amazon_order_item::Column::ItemPriceCurrency)
        .column(amazon_order_item::Column::ItemPriceAmount)
        .filter(amazon_order_item::Column::AmazonOrderId.is_in(ids.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<String, Sums> = HashMap::new();
    for (order, currency, amount) in rows {
        if let (Some(c), Some(a)) = (currency, amount) {
            out.entry(order).or_default().add(&c, a.decimal());
        }
    }
    Ok(out)
}

/// Each order's `Shipment` principal, per currency (an order with a `Shipment`
/// transaction but no principal leaf has an empty sum).
async fn shipment_principal(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, Sums>, DbErr> {
    let shipments = Query::select()
        .column(amazon_transaction::Column::TransactionId)
        .from(amazon_transaction::Entity)
        .and_where(Expr::col(amazon_transaction::Column::TransactionType).eq("Shipment"))
        .to_owned();
    let links: Vec<(String, String)> = amazon_transaction_related::Entity::find()
        .select_only()
        .column(amazon_transaction_related::Column::Value)
        .column(amazon_transaction_related::Column::TransactionId)
        .filter(amazon_transaction_related::Column::Name.eq(amazon_transaction_related::ORDER_ID))
        .filter(amazon_transaction_related::Column::Value.is_in(ids.iter().cloned()))
        .filter(Condition::all().add(
            Expr::col(amazon_transaction_related::Column::TransactionId).in_subquery(shipments),
        ))
        .into_tuple()
        .all(db)
        .await?;
    let transaction_ids: Vec<String> = links.iter().map(|(_, t)| t.clone()).collect();
    let mut principal: HashMap<String, Sums> = HashMap::new();
    for (transaction, category, kind, currency, amount) in leaves_of(db, &transaction_ids).await? {
        if category == Some(BreakdownCategory::Sales) && kind == "Principal" {
            principal
                .entry(transaction)
                .or_default()
                .add(&currency, amount.decimal());
        }
    }
    let mut out: HashMap<String, Sums> = HashMap::new();
    for (order, transaction) in links {
        let sums = out.entry(order).or_default();
        if let Some(p) = principal.get(&transaction) {
            for (c, a) in &p.0 {
                sums.add(c, *a);
            }
        }
    }
    Ok(out)
}

/// Which transactions to list. All given conditions must hold.
#[derive(Debug, Default, Clone)]
pub struct TransactionFilter {
    /// Posted at or after.
    pub posted_from: Option<DateTime<Utc>>,
    /// Posted before.
    pub posted_to: Option<DateTime<Utc>>,
    /// Related to this order.
    pub amazon_order_id: Option<String>,
    /// Of these types (any).
    pub transaction_types: Vec<String>,
    /// With these statuses (any).
    pub statuses: Vec<String>,
}

/// A transaction with what the page shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRow {
    /// The stored row.
    pub row: amazon_transaction::Model,
    /// The orders it names.
    pub amazon_order_ids: Vec<String>,
    /// Its breakdown tree in pre-order.
    pub breakdowns: Vec<amazon_transaction_breakdown::Model>,
}

/// Keyset position in the newest-first list: (posted date, row id).
pub type TransactionKey = (DateTime<Utc>, i64);

/// Up to `limit + 1` transactions of `filter`, newest first, after `after`.
///
/// # Errors
/// The database error.
pub async fn transactions(
    db: &impl ConnectionTrait,
    filter: &TransactionFilter,
    after: Option<TransactionKey>,
    limit: u64,
) -> Result<Vec<TransactionRow>, DbErr> {
    use amazon_transaction::Column as C;
    let mut q = amazon_transaction::Entity::find();
    if let Some(t) = filter.posted_from {
        q = q.filter(C::PostedDate.gte(t));
    }
    if let Some(t) = filter.posted_to {
        q = q.filter(C::PostedDate.lt(t));
    }
    if !filter.transaction_types.is_empty() {
        q = q.filter(C::TransactionType.is_in(filter.transaction_types.iter().cloned()));
    }
    if !filter.statuses.is_empty() {
        q = q.filter(C::TransactionStatus.is_in(filter.statuses.iter().cloned()));
    }
    if let Some(order) = &filter.amazon_order_id {
        let of_order = Query::select()
            .column(amazon_transaction_related::Column::TransactionId)
            .from(amazon_transaction_related::Entity)
            .and_where(
                Expr::col(amazon_transaction_related::Column::Name)
                    .eq(amazon_transaction_related::ORDER_ID),
            )
            .and_where(Expr::col(amazon_transaction_related::Column::Value).eq(order.as_str()))
            .to_owned();
        q = q.filter(Expr::col(C::TransactionId).in_subquery(of_order));
    }
    if let Some((posted, id)) = after {
        q = q.filter(
            Condition::any().add(C::PostedDate.lt(posted)).add(
                Condition::all()
                    .add(C::PostedDate.eq(posted))
                    .add(C::Id.lt(id)),
            ),
        );
    }
    let rows = q
        .order_by_desc(C::PostedDate)
        .order_by_desc(C::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.transaction_id.clone()).collect();
    let mut orders: HashMap<String, Vec<String>> = HashMap::new();
    let links: Vec<(String, String)> = amazon_transaction_related::Entity::find()
        .select_only()
        .column(amazon_transaction_related::Column::TransactionId)
        .column(amazon_transaction_related::Column::Value)
        .filter(amazon_transaction_related::Column::Name.eq(amazon_transaction_related::ORDER_ID))
        .filter(amazon_transaction_related::Column::TransactionId.is_in(ids.clone()))
        .order_by_asc(amazon_transaction_related::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    for (t, o) in links {
        orders.entry(t).or_default().push(o);
    }
    let mut nodes: HashMap<String, Vec<amazon_transaction_breakdown::Model>> = HashMap::new();
    for n in amazon_transaction_breakdown::Entity::find()
        .filter(amazon_transaction_breakdown::Column::TransactionId.is_in(ids))
        .order_by_asc(amazon_transaction_breakdown::Column::TransactionId)
        .order_by_asc(amazon_transaction_breakdown::Column::Position)
        .all(db)
        .await?
    {
        nodes.entry(n.transaction_id.clone()).or_default().push(n);
    }
    Ok(rows
        .into_iter()
        .map(|row| TransactionRow {
            amazon_order_ids: orders.remove(&row.transaction_id).unwrap_or_default(),
            breakdowns: nodes.remove(&row.transaction_id).unwrap_or_default(),
            row,
        })
        .collect())
}
