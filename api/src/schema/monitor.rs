//! `syncHealth`: is the data fresh, and what is wrong if not.

use super::{ApiError, SignedIn, api_context};
use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

/// An alert whose condition holds now.
#[derive(SimpleObject, Debug)]
pub struct SyncAlert {
    /// `no_new_orders`, `sync_failures`, `throttling`, `freshness`,
    /// `credentials_rejected`, `low_stock` or `listing_changes`.
    pub kind: String,
    /// The marketplace of a `low_stock` alert.
    pub marketplace_id: Option<String>,
    /// The seller SKU of a `low_stock` alert.
    pub seller_sku: Option<String>,
    /// Since when it holds.
    pub since: DateTime<Utc>,
    /// What it is about, for a person.
    pub message: String,
}

/// The state of the orders sync.
#[derive(SimpleObject, Debug)]
pub struct SyncHealth {
    /// No alert is active.
    pub ok: bool,
    /// Seconds since the last successful sync ended; null before the first.
    pub lag_seconds: Option<i64>,
    /// The newest order's purchase date.
    pub last_order_at: Option<DateTime<Utc>>,
    /// When the last successful FBA inventory sync ended; null before the first.
    pub inventory_last_success_at: Option<DateTime<Utc>>,
    /// Failed syncs in a row.
    pub consecutive_failures: i32,
    /// What is wrong.
    pub active_alerts: Vec<SyncAlert>,
}

/// The sync monitor.
#[derive(Default)]
pub struct MonitorQuery;

#[Object]
impl MonitorQuery {
    /// The orders sync's freshness and the active alerts, low FBA stock and price
    /// or quantity changes needing attention included (thresholds: `ALERT_*` and
    /// `STOCK_VELOCITY_DAYS` settings).
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn sync_health(&self, ctx: &Context<'_>) -> Result<SyncHealth, ApiError> {
        let api = api_context(ctx)?;
        let h = service::monitor::health(&api.db, &api.alerts).await?;
        Ok(SyncHealth {
            ok: h.ok,
            lag_seconds: h.lag_seconds,
            last_order_at: h.last_order_at,
            inventory_last_success_at: h.inventory_last_success_at,
            consecutive_failures: i32::try_from(h.consecutive_failures).unwrap_or(i32::MAX),
            active_alerts: h
                .active_alerts
                .into_iter()
                .map(|a| SyncAlert {
                    kind: a.kind.name().to_owned(),
                    marketplace_id: a.sku.as_ref().map(|(mp, _)| mp.clone()),
                    seller_sku: a.sku.map(|(_, sku)| sku),
                    since: a.since,
                    message: a.message,
                })
                .collect(),
        })
    }
}
