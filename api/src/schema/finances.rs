//! The seller's money: `amazonTransactions`, `profitDaily`, `reconciliationIssues`
//! and `AmazonOrder.financials`. The reading and summing live in
//! `service::finances`; this maps them to GraphQL.

use super::money::Money;
use super::paging::{PageInfo, decode_time_id, encode_time_id, page_rows, page_size};
use super::reports::Date;
use super::{ApiError, SignedIn, api_context};
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::amazon_transaction_breakdown;
use rust_decimal::Decimal;
use service::finances::views::{self, CurrencyAmount, Sums, TransactionRow};

const CURSOR_KIND: &str = "transactions";
const ISSUES_CURSOR_KIND: &str = "reconciliation";
const MAX_PAGE: i32 = 200;
/// At most this many values in one list filter.
const MAX_FILTER_VALUES: usize = 20;

fn money(a: CurrencyAmount) -> Money {
    Money {
        amount: a.amount,
        currency_code: a.currency,
    }
}

fn moneys(s: &Sums) -> Vec<Money> {
    s.amounts().into_iter().map(money).collect()
}

/// One node of a transaction's breakdown tree.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct TransactionBreakdown {
    /// Amazon's `breakdownType`, e.g. `Commission`.
    pub breakdown_type: String,
    /// Its amount (for a node with children, their sum).
    pub amount: Money,
    #[graphql(skip)]
    children: Vec<TransactionBreakdown>,
}

#[ComplexObject]
impl TransactionBreakdown {
    /// Its children (none for a leaf).
    async fn breakdowns(&self) -> &[TransactionBreakdown] {
        &self.children
    }
}

/// The tree from its pre-order rows.
fn tree(
    rows: &[amazon_transaction_breakdown::Model],
    parent: Option<i32>,
) -> Vec<TransactionBreakdown> {
    rows.iter()
        .filter(|r| r.parent_position == parent)
        .map(|r| TransactionBreakdown {
            breakdown_type: r.breakdown_type.clone(),
            amount: Money {
                amount: r.amount.decimal(),
                currency_code: r.currency.clone(),
            },
            children: tree(rows, Some(r.position)),
        })
        .collect()
}

/// One financial transaction, as Amazon reports it.
#[derive(SimpleObject, Debug)]
pub struct AmazonTransaction {
    /// Amazon's id.
    pub transaction_id: String,
    /// `Shipment`, `Refund`, `ServiceFee`, `Transfer`…
    pub transaction_type: String,
    /// `DEFERRED`, `RELEASED` or `DEFERRED_RELEASED`, as Amazon spells it.
    pub transaction_status: String,
    /// When Amazon posted it.
    pub posted_date: DateTime<Utc>,
    /// Its marketplace, if any.
    pub marketplace_id: Option<String>,
    /// The orders it names.
    pub amazon_order_ids: Vec<String>,
    /// Amazon's description, e.g. "Order Payment".
    pub description: Option<String>,
    /// Its total.
    pub total_amount: Money,
    /// Its breakdown tree, exactly as Amazon sent it.
    pub breakdowns: Vec<TransactionBreakdown>,
}

impl From<TransactionRow> for AmazonTransaction {
    fn from(t: TransactionRow) -> Self {
        let r = t.row;
        Self {
            transaction_id: r.transaction_id,
            transaction_type: r.transaction_type,
            transaction_status: r.transaction_status,
            posted_date: r.posted_date,
            marketplace_id: r.marketplace_id,
            amazon_order_ids: t.amazon_order_ids,
            description: r.description,
            total_amount: Money {
                amount: r.total_amount.decimal(),
                currency_code: r.total_currency,
            },
            breakdowns: tree(&t.breakdowns, None),
        }
    }
}

/// Which transactions to list; all given conditions must hold.
#[derive(InputObject, Debug, Default)]
pub struct TransactionFilter {
    /// Posted at or after this instant.
    pub posted_from: Option<DateTime<Utc>>,
    /// Posted before this instant.
    pub posted_to: Option<DateTime<Utc>>,
    /// Naming this order.
    pub amazon_order_id: Option<String>,
    /// Of any of these types (`Shipment`, `Refund`…).
    pub transaction_types: Option<Vec<String>>,
    /// With any of these statuses (`DEFERRED`, `RELEASED`, `DEFERRED_RELEASED`).
    pub statuses: Option<Vec<String>>,
}

/// One transaction in a page, with its cursor.
#[derive(SimpleObject)]
pub struct AmazonTransactionEdge {
    /// The transaction.
    pub node: AmazonTransaction,
    /// Pass as `after` to continue after it.
    pub cursor: String,
}

/// A page of transactions, newest first.
#[derive(SimpleObject)]
pub struct AmazonTransactionConnection {
    /// The transactions of this page.
    pub edges: Vec<AmazonTransactionEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
}

/// One fee type's total for an order.
#[derive(SimpleObject, Debug)]
pub struct FeeAmount {
    /// Amazon's `breakdownType`, e.g. `Commission`, `FBAPerUnitFulfillmentFee`.
    pub breakdown_type: String,
    /// Its total (negative: charged; positive: returned).
    pub amount: Money,
}

/// What Amazon's transactions say about one order, per currency.
#[derive(SimpleObject, Debug)]
pub struct OrderFinancials {
    /// What the buyer paid for goods and shipping (principal and charges).
    pub sales: Vec<Money>,
    /// Tax collected.
    pub tax: Vec<Money>,
    /// Promotions (negative).
    pub promotions: Vec<Money>,
    /// Amazon's fees (negative; returned fees count back).
    pub fees: Vec<Money>,
    /// The fees by type.
    pub fees_by_type: Vec<FeeAmount>,
    /// What refunds gave back (negative).
    pub refunds: Vec<Money>,
    /// What the order brings the seller: every amount above together.
    pub net_proceeds: Vec<Money>,
    /// Amazon has released the money of every transaction of the order.
    pub released: bool,
    /// How many transactions name the order.
    pub transaction_count: i32,
}

impl From<&views::OrderFinancials> for OrderFinancials {
    fn from(f: &views::OrderFinancials) -> Self {
        Self {
            sales: moneys(&f.sales),
            tax: moneys(&f.tax),
            promotions: moneys(&f.promotions),
            fees: moneys(&f.fees),
            fees_by_type: f
                .fees_by_type
                .iter()
                .map(|t| FeeAmount {
                    breakdown_type: t.breakdown_type.clone(),
                    amount: money(t.amount.clone()),
                })
                .collect(),
            refunds: moneys(&f.refunds),
            net_proceeds: moneys(&f.net_proceeds),
            released: f.released,
            transaction_count: i32::try_from(f.transactions).unwrap_or(i32::MAX),
        }
    }
}

/// One day's money in one currency.
#[derive(SimpleObject, Debug)]
pub struct DailyProfit {
    /// The calendar day in the seller's time zone.
    pub date: Date,
    /// ISO 4217 code.
    pub currency_code: String,
    /// Sales (principal and charges) posted that day.
    pub revenue: Decimal,
    /// Amazon's fees posted that day (negative).
    pub fees: Decimal,
    /// Refunds posted that day (negative).
    pub refunds: Decimal,
    /// Everything posted that day except payouts: revenue, fees, refunds, tax,
    /// promotions and adjustments.
    pub net_proceeds: Decimal,
}

/// What kind of disagreement between an order and Amazon's settlements.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReconciliationIssueKind {
    /// A shipped order old enough to be settled has no Shipment transaction.
    #[graphql(name = "MISSING_SETTLEMENT")]
    MissingSettlement,
    /// The principal of the order's Shipment transactions differs from its item prices.
    #[graphql(name = "AMOUNT_MISMATCH")]
    AmountMismatch,
}

/// An order that does not reconcile with Amazon's settlements.
#[derive(SimpleObject, Debug)]
pub struct ReconciliationIssue {
    /// The order.
    pub amazon_order_id: String,
    /// Its marketplace.
    pub marketplace_id: String,
    /// What is wrong.
    pub kind: ReconciliationIssueKind,
    /// What the order says: the sum of its item prices, per currency.
    pub expected: Vec<Money>,
    /// What the settlements say: the Shipment principal, per currency (empty when
    /// missing).
    pub actual: Vec<Money>,
}

/// One issue in a page, with its cursor.
#[derive(SimpleObject)]
pub struct ReconciliationIssueEdge {
    /// The issue.
    pub node: ReconciliationIssue,
    /// Pass as `after` to continue after it.
    pub cursor: String,
}

/// A page of reconciliation issues, by order id.
#[derive(SimpleObject)]
pub struct ReconciliationIssueConnection {
    /// The issues of this page.
    pub edges: Vec<ReconciliationIssueEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
}

fn encode_order_cursor(marketplace_id: &str, order_id: &str) -> String {
    super::paging::encode_marketplace_key(ISSUES_CURSOR_KIND, marketplace_id, order_id)
}

/// Reading the seller's money.
#[derive(Default)]
pub struct FinancesQuery;

#[Object]
impl FinancesQuery {
    /// Financial transactions, newest first, `first` at a time (at most 200).
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn amazon_transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        filter: Option<TransactionFilter>,
    ) -> Result<AmazonTransactionConnection, ApiError> {
        let db = &api_context(ctx)?.db;
        let limit = page_size(first, MAX_PAGE)?;
        let after_key = after
            .as_deref()
            .map(|c| decode_time_id(CURSOR_KIND, c))
            .transpose()?;
        let f = filter.unwrap_or_default();
        let clean = |name: &str, v: Option<Vec<String>>| -> Result<Vec<String>, ApiError> {
            let v: Vec<String> = v
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if v.len() > MAX_FILTER_VALUES {
                return Err(ApiError::BadUserInput(format!(
                    "{name}: at most {MAX_FILTER_VALUES} values, {} were given",
                    v.len()
                )));
            }
            Ok(v)
        };
        let filter = views::TransactionFilter {
            posted_from: f.posted_from,
            posted_to: f.posted_to,
            amazon_order_id: f
                .amazon_order_id
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            transaction_types: clean("transactionTypes", f.transaction_types)?,
            statuses: clean("statuses", f.statuses)?,
        };
        let mut rows = views::transactions(db, &filter, after_key, limit).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let edges: Vec<AmazonTransactionEdge> = rows
            .into_iter()
            .map(|r| AmazonTransactionEdge {
                cursor: encode_time_id(CURSOR_KIND, r.row.posted_date, r.row.id),
                node: r.into(),
            })
            .collect();
        Ok(AmazonTransactionConnection {
            page_info: PageInfo::of(
                has_next_page,
                after.is_some(),
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
        })
    }

    /// Money per calendar day from `from` to `to` (both included, at most 366 days)
    /// in the seller's time zone, by the transactions' posted dates, per currency
    /// (never summed across currencies), of one marketplace or all.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(super::reports::range_days(&from, &to), child_complexity)"
    )]
    async fn profit_daily(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        marketplace_id: Option<String>,
    ) -> Result<Vec<DailyProfit>, ApiError> {
        let api = api_context(ctx)?;
        let report = views::profit_daily(&api.db, from.0, to.0, marketplace_id.as_deref()).await?;
        Ok(report
            .days
            .into_iter()
            .map(|d| DailyProfit {
                date: Date(d.date),
                currency_code: d.currency_code,
                revenue: d.revenue,
                fees: d.fees,
                refunds: d.refunds,
                net_proceeds: d.net_proceeds,
            })
            .collect())
    }

    /// Orders that do not reconcile with Amazon's settlements, by order id:
    /// shipped orders older than `RECONCILE_AFTER_DAYS` (default 14) with no
    /// Shipment transaction (`MISSING_SETTLEMENT`), and orders whose Shipment
    /// principal differs from their item prices (`AMOUNT_MISMATCH`). Only orders
    /// updated where the transactions syncs have looked are judged.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn reconciliation_issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> Result<ReconciliationIssueConnection, ApiError> {
        let api = api_context(ctx)?;
        let limit = page_size(first, MAX_PAGE)?;
        let after_key = after
            .as_deref()
            .map(|c| super::paging::decode_marketplace_key(ISSUES_CURSOR_KIND, c))
            .transpose()?
            .map(|(_, order)| order);
        let mut issues = views::reconciliation_issues(
            &api.db,
            api.alerts.reconciliation,
            after_key.as_deref(),
            usize::try_from(limit + 1).unwrap_or(usize::MAX),
            Utc::now(),
        )
        .await?;
        let has_next_page = issues.len() as u64 > limit;
        issues.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let edges: Vec<ReconciliationIssueEdge> = issues
            .into_iter()
            .map(|i| ReconciliationIssueEdge {
                cursor: encode_order_cursor(&i.marketplace_id, &i.amazon_order_id),
                node: ReconciliationIssue {
                    amazon_order_id: i.amazon_order_id,
                    marketplace_id: i.marketplace_id,
                    kind: match i.kind {
                        views::IssueKind::MissingSettlement => {
                            ReconciliationIssueKind::MissingSettlement
                        }
                        views::IssueKind::AmountMismatch => ReconciliationIssueKind::AmountMismatch,
                    },
                    expected: i.expected.into_iter().map(money).collect(),
                    actual: i.actual.into_iter().map(money).collect(),
                },
            })
            .collect();
        Ok(ReconciliationIssueConnection {
            page_info: PageInfo::of(
                has_next_page,
                after.is_some(),
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
        })
    }
}
