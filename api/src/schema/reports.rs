//! `salesDaily`: revenue, units and orders per calendar day in the seller's time
//! zone (logic in `service::reports`; this maps it to GraphQL).

use super::{ApiError, SignedIn, api_context};
use async_graphql::{
    Context, InputValueError, InputValueResult, Object, Scalar, ScalarType, SimpleObject, Value,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use service::reports::ReportError;

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar day, `YYYY-MM-DD` (ISO 8601), in the seller's time zone.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("{s:?} is not a date like 2026-11-22"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// The days from `from` to `to`, both included, for the cost of a report: at
/// least 1, at most the `MAX_DAYS` a report may span (a longer range is refused when
/// the field runs).
pub(super) fn range_days(from: &Date, to: &Date) -> usize {
    let days = (to.0 - from.0)
        .num_days()
        .saturating_add(1)
        .clamp(1, i64::try_from(service::reports::MAX_DAYS).unwrap_or(366));
    usize::try_from(days).unwrap_or(1)
}

/// One day's sales in one currency.
#[derive(SimpleObject, Debug)]
pub struct DailySales {
    /// The calendar day, in the seller's time zone (`amazonConnection.reportTimezone`).
    pub date: Date,
    /// ISO 4217 code of the amounts (`XXX` for orders that name no currency).
    pub currency_code: String,
    /// Sum of the item prices (shipping and tax excluded) of the day's orders,
    /// canceled orders excluded; exact.
    pub revenue: Decimal,
    /// Units ordered (pending orders included).
    pub units: i64,
    /// Orders placed that day, canceled excluded, pending included.
    pub orders: i64,
    /// Of those, orders still pending: counted, but without revenue until Amazon
    /// prices them.
    pub pending_orders: i64,
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::InvalidRange(_) | ReportError::UnknownMarketplace { .. } => {
                Self::BadUserInput(e.to_string())
            }
            ReportError::Db(db) => db.into(),
        }
    }
}

/// Sales reports (any signed-in user).
#[derive(Default)]
pub struct ReportsQuery;

#[Object]
impl ReportsQuery {
    /// Sales per calendar day from `from` to `to` (both included, at most 366 days)
    /// in the seller's time zone, of one marketplace or all. One row per day and
    /// currency, by date then currency; every day of the range has a row for each
    /// currency seen in the range and for the default currency of each marketplace
    /// in scope (`marketplaceId`, else the connection's), with zeros on days
    /// without orders. Against the request's complexity limit it counts its
    /// selection once per day of the range.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(range_days(&from, &to), child_complexity)"
    )]
    async fn sales_daily(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        marketplace_id: Option<String>,
    ) -> Result<Vec<DailySales>, ApiError> {
        let api = api_context(ctx)?;
        let report =
            service::reports::sales_daily(&api.db, from.0, to.0, marketplace_id.as_deref()).await?;
        Ok(report
            .days
            .into_iter()
            .map(|d| DailySales {
                date: Date(d.date),
                currency_code: d.currency_code,
                revenue: d.revenue,
                units: d.units,
                orders: d.orders,
                pending_orders: d.pending_orders,
            })
            .collect())
    }
}
