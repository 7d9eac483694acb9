//! `worker status`: the sync monitor — freshness, recent runs, throttling and what
//! to do about it.

use chrono::{DateTime, Duration, Utc};
use entity::enums::SyncStatus;
use entity::{amazon_order, sync_runs, sync_watermark};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

/// One run, as the monitor shows it.
#[derive(Debug, Serialize)]
pub struct RunLine {
    id: i64,
    status: String,
    trigger: String,
    dry_run: bool,
    started_at: DateTime<Utc>,
    seconds: Option<i64>,
    orders_found: i64,
    inserted: i64,
    updated: i64,
    api_calls: i64,
    throttled: i64,
    error: Option<String>,
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
    runs: Vec<RunLine>,
    recommendations: Vec<String>,
}

fn status_name(s: SyncStatus) -> &'static str {
    match s {
        SyncStatus::Running => "running",
        SyncStatus::Succeeded => "succeeded",
        SyncStatus::Failed => "failed",
        SyncStatus::Interrupted => "interrupted",
    }
}

/// Reads the monitor's figures.
///
/// # Errors
/// The database error.
pub async fn report(db: &DatabaseConnection, freshness_slo: Duration) -> Result<Report, DbErr> {
    let now = Utc::now();
    let connection = service::connection::get(db).await?;
    let last_order_at = amazon_order::Entity::find()
        .select_only()
        .column_as(amazon_order::Column::PurchaseDate.max(), "m")
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    let last_success = sync_runs::Entity::find()
        .filter(sync_runs::Column::Status.eq(SyncStatus::Succeeded))
        .filter(sync_runs::Column::DryRun.eq(false))
        .order_by_desc(sync_runs::Column::StartedAt)
        .one(db)
        .await?;
    let last_success_at = last_success.and_then(|r| r.finished_at);
    let watermark = match &connection {
        Some(c) => {
            let version = match c.orders_api_version {
                entity::enums::OrdersApiVersion::V2026_01_01 => "2026-01-01",
                entity::enums::OrdersApiVersion::V0 => "v0",
            };
            sync_watermark::Entity::find()
                .filter(sync_watermark::Column::ApiVersion.eq(version))
                .filter(sync_watermark::Column::MarketplaceId.is_in(c.marketplace_id_list()))
                .all(db)
                .await?
                .into_iter()
                .map(|w| w.watermark)
                .min()
        }
        None => None,
    };
    let recent = sync_runs::Entity::find()
        .filter(sync_runs::Column::DryRun.eq(false))
        .order_by_desc(sync_runs::Column::StartedAt)
        .limit(10)
        .all(db)
        .await?;
    let consecutive_failures = u32::try_from(
        recent
            .iter()
            .filter(|r| r.status != SyncStatus::Running)
            .take_while(|r| r.status == SyncStatus::Failed)
            .count(),
    )
    .unwrap_or(u32::MAX);
    let throttled_last_day: i64 = sync_runs::Entity::find()
        .filter(sync_runs::Column::StartedAt.gt(now - Duration::days(1)))
        .all(db)
        .await?
        .iter()
        .map(|r| r.throttled)
        .sum();
    let runs: Vec<RunLine> = sync_runs::Entity::find()
        .order_by_desc(sync_runs::Column::StartedAt)
        .limit(10)
        .all(db)
        .await?
        .into_iter()
        .map(|r| RunLine {
            id: r.id,
            status: status_name(r.status).to_owned(),
            trigger: format!("{:?}", r.trigger).to_lowercase(),
            dry_run: r.dry_run,
            started_at: r.started_at,
            seconds: r.finished_at.map(|f| (f - r.started_at).num_seconds()),
            orders_found: r.orders_found,
            inserted: r.orders_inserted,
            updated: r.orders_updated,
            api_calls: r.api_calls,
            throttled: r.throttled,
            error: r.error,
        })
        .collect();

    let mut recommendations = Vec::new();
    if connection.is_none() {
        recommendations.push(
            "No Amazon connection: set one with upsertAmazonConnection and setAmazonCredential."
                .to_owned(),
        );
    }
    match last_success_at {
        None => recommendations.push("No successful sync yet: run `worker sync`, or start `worker run`.".to_owned()),
        Some(t) if now - t > freshness_slo => recommendations.push(format!(
            "The last successful sync was {} minutes ago (objective {} minutes): is `worker run` running? See the last error below.",
            (now - t).num_minutes(),
            freshness_slo.num_minutes()
        )),
        Some(_) => {}
    }
    if consecutive_failures >= 3 {
        recommendations.push(format!(
            "{consecutive_failures} syncs failed in a row: read the last error; if Amazon rejected the credentials, re-authorize the app and store the new refresh token."
        ));
    }
    if throttled_last_day > 0 {
        recommendations.push(format!(
            "{throttled_last_day} throttled calls (429) in the last day: another app may share this seller's quota; lengthen SYNC_INTERVAL_MINUTES or stop the other app's polling."
        ));
    }
    if last_order_at.is_some_and(|t| now - t > Duration::hours(24)) {
        recommendations.push(
            "No new order for over 24 hours: check the listings in Seller Central.".to_owned(),
        );
    }
    Ok(Report {
        connection_configured: connection.is_some(),
        last_order_at,
        seconds_since_last_success: last_success_at.map(|t| (now - t).num_seconds()),
        last_success_at,
        watermark,
        watermark_lag_seconds: watermark.map(|w| (now - w).num_seconds()),
        consecutive_failures,
        throttled_last_day,
        runs,
        recommendations,
    })
}

fn ago(seconds: Option<i64>) -> String {
    match seconds {
        None => "never".to_owned(),
        Some(s) if s < 120 => format!("{s} s ago"),
        Some(s) if s < 7200 => format!("{} min ago", s / 60),
        Some(s) => format!("{:.1} h ago", s as f64 / 3600.0),
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
            "watermark                  {} (lag {})\n",
            opt(self.watermark),
            self.watermark_lag_seconds
                .map_or("n/a".to_owned(), |s| format!("{} min", s / 60))
        ));
        out.push_str(&format!(
            "failed in a row            {}\n",
            self.consecutive_failures
        ));
        out.push_str(&format!(
            "429s in the last day       {}\n\n",
            self.throttled_last_day
        ));
        out.push_str("last runs:\n");
        out.push_str("    id  status       trigger   started (UTC)          secs  found  ins  upd  calls  429s  error\n");
        for r in &self.runs {
            out.push_str(&format!(
                "{:>6}  {:<11}  {:<8}  {}  {:>5}  {:>5}  {:>3}  {:>3}  {:>5}  {:>4}  {}\n",
                r.id,
                if r.dry_run {
                    format!("{} (dry)", r.status)
                } else {
                    r.status.clone()
                },
                r.trigger,
                r.started_at.format("%Y-%m-%d %H:%M:%S"),
                r.seconds.map_or("-".to_owned(), |s| s.to_string()),
                r.orders_found,
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
