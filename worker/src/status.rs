//! `worker status`: the sync monitor — freshness, recent runs, throttling and what
//! to do about it.

use chrono::{DateTime, Utc};
use entity::enums::OrdersApiVersion;
use entity::enums::SyncKind;
use entity::{fba_inventory, sync_runs};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use service::spapi::Operation;

/// One run, as the monitor shows it.
#[derive(Debug, Serialize)]
pub struct RunLine {
    id: i64,
    kind: &'static str,
    status: String,
    trigger: String,
    dry_run: bool,
    started_at: DateTime<Utc>,
    seconds: Option<i64>,
    found: i64,
    inserted: i64,
    updated: i64,
    api_calls: i64,
    throttled: i64,
    error: Option<String>,
}

/// What an orders operation has left of Amazon's quota (estimated from the runs).
#[derive(Debug, Serialize)]
pub struct QuotaLine {
    operation: &'static str,
    tokens: f64,
    burst: u32,
    rate_per_second: f64,
    full_in_seconds: u64,
}

/// The FBA inventory's freshness and stock.
#[derive(Debug, Serialize)]
pub struct InventoryLine {
    /// SKUs Amazon lists (not gone).
    skus: u64,
    /// Of them, low on stock.
    low_stock: usize,
    /// Where the next incremental inventory sync starts (minus the overlap).
    watermark: Option<DateTime<Utc>>,
    watermark_lag_seconds: Option<i64>,
    /// When the last inventory run succeeded.
    last_success_at: Option<DateTime<Utc>>,
}

/// The financial transactions' freshness.
#[derive(Debug, Serialize)]
pub struct TransactionsLine {
    /// Transactions stored.
    transactions: u64,
    /// Where the next transactions sync starts (minus 48 hours for late postings).
    watermark: Option<DateTime<Utc>>,
    watermark_lag_seconds: Option<i64>,
    /// When the last transactions run succeeded.
    last_success_at: Option<DateTime<Utc>>,
}

/// The listings' freshness and the queue of price and quantity changes.
#[derive(Debug, Serialize)]
pub struct ListingsLine {
    /// Listings Amazon lists (not gone).
    listings: u64,
    /// When the last listings run succeeded.
    last_success_at: Option<DateTime<Utc>>,
    /// Changes waiting: queued or validated (submitted or not).
    waiting: u64,
    /// Changes in conflict, waiting for the owner.
    conflicts: u64,
    /// Changes sent and not yet live.
    in_flight: u64,
    /// Changes that ended not applied or failed.
    not_applied_or_failed: u64,
}

/// What the monitor reports.
#[derive(Debug, Serialize)]
pub struct Report {
    connection_configured: bool,
    last_order_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    seconds_since_last_success: Option<i64>,
    watermark: Option<DateTime<Utc>>,
    watermark_lag_seconds: Option<i64>,
    consecutive_failures: u32,
    throttled_last_day: i64,
    quota: Vec<QuotaLine>,
    inventory: InventoryLine,
    transactions: TransactionsLine,
    listings: ListingsLine,
    runs: Vec<RunLine>,
    recommendations: Vec<String>,
}

/// Reads the monitor's figures: the freshness and alerts of `service::monitor`,
/// plus the watermark and the last runs.
///
/// # Errors
/// The database error.
pub async fn report(
    db: &DatabaseConnection,
    alerts: &service::monitor::AlertSettings,
) -> Result<Report, DbErr> {
    let now = Utc::now();
    let connection = service::amazon_account::get(db).await?;
    let health = service::monitor::health(db, alerts).await?;
    let watermark = match &connection {
        Some(c) => service::sync::watermark(db, SyncKind::Orders, c).await?,
        None => None,
    };
    let runs: Vec<RunLine> = sync_runs::Entity::find()
        .order_by_desc(sync_runs::Column::StartedAt)
        .limit(10)
        .all(db)
        .await?
        .into_iter()
        .map(|r| RunLine {
            id: r.id,
            kind: r.kind.as_str(),
            status: r.status.as_str().to_owned(),
            trigger: format!("{:?}", r.trigger).to_lowercase(),
            dry_run: r.dry_run,
            started_at: r.started_at,
            seconds: r.finished_at.map(|f| (f - r.started_at).num_seconds()),
            found: r.found,
            inserted: r.inserted,
            updated: r.updated,
            api_calls: r.api_calls,
            throttled: r.throttled,
            error: r.error,
        })
        .collect();

    let ops: &[Operation] = match connection.as_ref().map(|c| c.orders_api_version) {
        Some(OrdersApiVersion::V0) => &[Operation::GetOrders, Operation::GetOrderItems],
        Some(OrdersApiVersion::V2026_01_01) => &[Operation::SearchOrders],
        None => &[],
    };
    let quota: Vec<QuotaLine> = service::sync::budget::estimate_all(db, ops, now)
        .await?
        .into_iter()
        .map(|b| QuotaLine {
            operation: b.operation.name(),
            tokens: (b.tokens * 10.0).round() / 10.0,
            burst: b.burst,
            rate_per_second: b.rate,
            full_in_seconds: b.time_until(f64::from(b.burst)).as_secs(),
        })
        .collect();

    let inventory_watermark = match &connection {
        Some(c) => service::sync::watermark(db, SyncKind::Inventory, c).await?,
        None => None,
    };
    let inventory = InventoryLine {
        skus: fba_inventory::Entity::find()
            .filter(fba_inventory::Column::GoneAt.is_null())
            .count(db)
            .await?,
        low_stock: health
            .active_alerts
            .iter()
            .filter(|a| a.kind == service::monitor::AlertKind::LowStock)
            .count(),
        watermark: inventory_watermark,
        watermark_lag_seconds: inventory_watermark.map(|w| (now - w).num_seconds()),
        last_success_at: health.inventory_last_success_at,
    };

    let transactions_watermark = match &connection {
        Some(c) => service::sync::watermark(db, SyncKind::Transactions, c).await?,
        None => None,
    };
    let transactions = TransactionsLine {
        transactions: entity::amazon_transaction::Entity::find().count(db).await?,
        watermark: transactions_watermark,
        watermark_lag_seconds: transactions_watermark.map(|w| (now - w).num_seconds()),
        last_success_at: service::monitor::last_success_of(db, SyncKind::Transactions).await?,
    };

    let changes_in = |states: Vec<entity::enums::ListingChangeState>| {
        entity::listing_change::Entity::find()
            .filter(entity::listing_change::Column::State.is_in(states))
            .count(db)
    };
    use entity::enums::ListingChangeState as S;
    let listings = ListingsLine {
        listings: entity::amazon_listing::Entity::find()
            .filter(entity::amazon_listing::Column::GoneAt.is_null())
            .count(db)
            .await?,
        last_success_at: service::monitor::last_success_of(db, SyncKind::Listings).await?,
        waiting: changes_in(vec![S::Queued, S::Validated]).await?,
        conflicts: changes_in(vec![S::Conflict]).await?,
        in_flight: changes_in(vec![S::Submitted, S::PriceLive]).await?,
        not_applied_or_failed: changes_in(vec![S::NotApplied, S::Failed]).await?,
    };

    let mut recommendations = Vec::new();
    if listings.conflicts > 0 {
        recommendations.push(format!(
            "{} listing change(s) in conflict: the live price moved since they were queued; override or cancel them (admin page, Price & quantity queue).",
            listings.conflicts
        ));
    }
    if let Some(q) = quota.iter().find(|q| q.tokens < 1.0) {
        recommendations.push(format!(
            "Amazon's {} quota is spent: scheduled runs are skipped until it refills (full in {} min); avoid manual syncs meanwhile.",
            q.operation,
            q.full_in_seconds / 60
        ));
    }
    if connection.is_none() {
        recommendations.push(
            "No Amazon connection: set one with upsertAmazonConnection and setAmazonCredential."
                .to_owned(),
        );
    }
    if health.last_success_at.is_none() {
        recommendations
            .push("No successful sync yet: run `worker sync`, or start `worker run`.".to_owned());
    }
    recommendations.extend(health.active_alerts.iter().map(|a| a.message.clone()));
    Ok(Report {
        connection_configured: connection.is_some(),
        last_order_at: health.last_order_at,
        last_success_at: health.last_success_at,
        seconds_since_last_success: health.lag_seconds,
        watermark,
        watermark_lag_seconds: watermark.map(|w| (now - w).num_seconds()),
        consecutive_failures: health.consecutive_failures,
        throttled_last_day: health.throttled_last_day,
        quota,
        inventory,
        transactions,
        listings,
        runs,
        recommendations,
    })
}

fn ago(seconds: Option<i64>) -> String {
    let span = |s: i64| match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{:.1} h", s as f64 / 3600.0),
    };
    match seconds {
        None => "never".to_owned(),
        // Amazon's clock (order dates, the watermark) ahead of this machine's.
        Some(s) if s < 0 => format!("{} ahead of this machine's clock", span(-s)),
        Some(s) => format!("{} ago", span(s)),
    }
}

impl Report {
    /// The report for a person.
    #[must_use]
    pub fn to_text(&self) -> String {
        let now = Utc::now();
        let mut out = String::new();
        let opt = |t: Option<DateTime<Utc>>| t.map_or("never".to_owned(), |t| t.to_rfc3339());
        out.push_str(&format!(
            "connection configured      {}\n",
            self.connection_configured
        ));
        out.push_str(&format!(
            "last order received        {} ({})\n",
            opt(self.last_order_at),
            ago(self.last_order_at.map(|t| (now - t).num_seconds()))
        ));
        out.push_str(&format!(
            "last successful sync       {} ({})\n",
            opt(self.last_success_at),
            ago(self.seconds_since_last_success)
        ));
        out.push_str(&format!(
            "watermark                  {} ({})\n",
            opt(self.watermark),
            self.watermark_lag_seconds
                .map_or("n/a".to_owned(), |s| format!("lag: {}", ago(Some(s))))
        ));
        out.push_str(&format!(
            "failed in a row            {}\n",
            self.consecutive_failures
        ));
        out.push_str(&format!(
            "429s in the last day       {}\n",
            self.throttled_last_day
        ));
        for q in &self.quota {
            out.push_str(&format!(
                "quota {:<20} {:.1} of {} requests left ({:.4}/s, full in {} min)\n",
                q.operation,
                q.tokens,
                q.burst,
                q.rate_per_second,
                q.full_in_seconds / 60
            ));
        }
        let inv = &self.inventory;
        out.push_str(&format!(
            "FBA inventory              {} SKUs, {} low on stock\n",
            inv.skus, inv.low_stock
        ));
        out.push_str(&format!(
            "inventory synced           {} ({})\n",
            opt(inv.last_success_at),
            ago(inv.last_success_at.map(|t| (now - t).num_seconds()))
        ));
        out.push_str(&format!(
            "inventory watermark        {} ({})\n",
            opt(inv.watermark),
            inv.watermark_lag_seconds
                .map_or("n/a".to_owned(), |s| format!("lag: {}", ago(Some(s))))
        ));
        let tx = &self.transactions;
        out.push_str(&format!("financial transactions     {}\n", tx.transactions));
        out.push_str(&format!(
            "transactions synced        {} ({})\n",
            opt(tx.last_success_at),
            ago(tx.last_success_at.map(|t| (now - t).num_seconds()))
        ));
        out.push_str(&format!(
            "transactions watermark     {} ({})\n",
            opt(tx.watermark),
            tx.watermark_lag_seconds
                .map_or("n/a".to_owned(), |s| format!("lag: {}", ago(Some(s))))
        ));
        let l = &self.listings;
        out.push_str(&format!("listings                   {}\n", l.listings));
        out.push_str(&format!(
            "listings synced            {} ({})\n",
            opt(l.last_success_at),
            ago(l.last_success_at.map(|t| (now - t).num_seconds()))
        ));
        out.push_str(&format!(
            "listing changes            {} waiting, {} in conflict, {} in flight, {} not applied or failed\n",
            l.waiting, l.conflicts, l.in_flight, l.not_applied_or_failed
        ));
        out.push_str("\nlast runs:\n");
        out.push_str("    id  kind       status       trigger   started (UTC)          secs  found  ins  upd  calls  429s  error\n");
        for r in &self.runs {
            out.push_str(&format!(
                "{:>6}  {:<9}  {:<11}  {:<8}  {}  {:>5}  {:>5}  {:>3}  {:>3}  {:>5}  {:>4}  {}\n",
                r.id,
                r.kind,
                if r.dry_run {
                    format!("{} (dry)", r.status)
                } else {
                    r.status.clone()
                },
                r.trigger,
                r.started_at.format("%Y-%m-%d %H:%M:%S"),
                r.seconds.map_or("-".to_owned(), |s| s.to_string()),
                r.found,
                r.inserted,
                r.updated,
                r.api_calls,
                r.throttled,
                r.error.as_deref().unwrap_or("")
            ));
        }
        if !self.recommendations.is_empty() {
            out.push_str("\nrecommendations:\n");
            for r in &self.recommendations {
                out.push_str(&format!("  - {r}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn ages_read_naturally_and_a_clock_ahead_of_ours_is_said_so() {
        assert_eq!(ago(None), "never");
        assert_eq!(ago(Some(42)), "42 s ago");
        assert_eq!(ago(Some(600)), "10 min ago");
        assert_eq!(ago(Some(9000)), "2.5 h ago");
        assert_eq!(ago(Some(-90)), "90 s ahead of this machine's clock");
    }
}
