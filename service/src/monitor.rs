//! The sync monitor: is the data fresh, and what is wrong if not.
//!
//! [`health`] reads the current state (for `syncHealth` and `worker status`);
//! [`evaluate`] also records each alert's start and end in `alerts`, so an alert
//! fires once when its condition starts and clears once when it ends, however
//! often it is evaluated and by whichever process. [`notify`] POSTs the
//! transitions to a webhook, bounded and retried, off the caller's path.

use crate::inventory::SkuKey;
use chrono::{DateTime, Duration, Utc};
use entity::enums::{SyncKind, SyncStatus};
use entity::{alerts, amazon_order, sync_runs};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

/// Thresholds and where to send alerts. Its `Debug` hides the webhook URL, which
/// usually carries a secret.
#[derive(Clone)]
pub struct AlertSettings {
    /// `ALERT_NO_ORDER_HOURS`: no new order for this long (default 24 h).
    pub no_order_after: Duration,
    /// `ALERT_FRESHNESS_MINUTES`: the freshness objective (default 30 min).
    pub freshness_slo: Duration,
    /// `ALERT_FAILURES_IN_A_ROW`: failed syncs in a row (default 3).
    pub failures_in_a_row: u32,
    /// `ALERT_THROTTLED_PER_DAY`: 429s in the last 24 hours (default 10).
    pub throttled_per_day: u64,
    /// `ALERT_WEBHOOK_URL`: where transitions are POSTed as JSON (none by default).
    pub webhook_url: Option<String>,
    /// `STOCK_VELOCITY_DAYS`, `ALERT_STOCK_DAYS`, `ALERT_STOCK_UNITS`: when an FBA
    /// SKU is low on stock.
    pub stock: crate::inventory::StockSettings,
    /// `RECONCILE_AFTER_DAYS`: a shipped order with no settlement this long after
    /// its last update is a reconciliation issue (default 14 days).
    pub reconciliation: crate::finances::views::Reconciliation,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            no_order_after: Duration::hours(24),
            freshness_slo: Duration::minutes(30),
            failures_in_a_row: 3,
            throttled_per_day: 10,
            webhook_url: None,
            stock: crate::inventory::StockSettings::default(),
            reconciliation: crate::finances::views::Reconciliation::default(),
        }
    }
}

impl std::fmt::Debug for AlertSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertSettings")
            .field("no_order_after", &self.no_order_after)
            .field("freshness_slo", &self.freshness_slo)
            .field("failures_in_a_row", &self.failures_in_a_row)
            .field("throttled_per_day", &self.throttled_per_day)
            .field("stock", &self.stock)
            .field(
                "webhook_url",
                &self.webhook_url.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// What can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// No new order for longer than the threshold.
    NoNewOrders,
    /// Several syncs failed in a row.
    SyncFailures,
    /// Amazon throttled more than the threshold in a day.
    Throttling,
    /// The last successful sync is older than the freshness objective.
    Freshness,
    /// Amazon rejected the credentials in the last sync.
    CredentialsRejected,
    /// An FBA SKU runs out soon (one alert per marketplace and SKU).
    LowStock,
    /// Price or quantity changes wait for a decision (conflict) or did not reach
    /// Amazon (not applied, failed) in the last day.
    ListingChanges,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [Self; 7] = [
        Self::NoNewOrders,
        Self::SyncFailures,
        Self::Throttling,
        Self::Freshness,
        Self::CredentialsRejected,
        Self::LowStock,
        Self::ListingChanges,
    ];

    /// The stored name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::NoNewOrders => "no_new_orders",
            Self::SyncFailures => "sync_failures",
            Self::Throttling => "throttling",
            Self::Freshness => "freshness",
            Self::CredentialsRejected => "credentials_rejected",
            Self::LowStock => "low_stock",
            Self::ListingChanges => "listing_changes",
        }
    }

    fn of_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A condition that holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    kind: AlertKind,
    sku: Option<SkuKey>,
    message: String,
}

impl Condition {
    fn new(kind: AlertKind, message: String) -> Self {
        Self {
            kind,
            sku: None,
            message,
        }
    }
}

/// The `alerts` row of an alert: its kind, or `low_stock/<marketplace>/<SKU>`.
fn alert_key(kind: AlertKind, sku: Option<&SkuKey>) -> String {
    match sku {
        Some((mp, sku)) => format!("{}/{mp}/{sku}", kind.name()),
        None => kind.name().to_owned(),
    }
}

/// The kind and SKU of an `alerts` row (marketplace ids hold no `/`; SKUs may).
fn parse_key(key: &str) -> Option<(AlertKind, Option<SkuKey>)> {
    match key.split_once('/') {
        None => AlertKind::of_name(key).map(|k| (k, None)),
        Some((kind, rest)) => {
            let (mp, sku) = rest.split_once('/')?;
            Some((
                AlertKind::of_name(kind)?,
                Some((mp.to_owned(), sku.to_owned())),
            ))
        }
    }
}

/// An alert whose condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveAlert {
    /// What.
    pub kind: AlertKind,
    /// The marketplace and SKU a stock alert is about.
    pub sku: Option<SkuKey>,
    /// Since when (the first evaluation that saw it; now if never recorded).
    pub since: DateTime<Utc>,
    /// For a person.
    pub message: String,
}

/// The state of the sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// No alert is active.
    pub ok: bool,
    /// When the last successful sync ended.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Seconds since then.
    pub lag_seconds: Option<i64>,
    /// The newest order's purchase date.
    pub last_order_at: Option<DateTime<Utc>>,
    /// When the last successful FBA inventory sync ended.
    pub inventory_last_success_at: Option<DateTime<Utc>>,
    /// Failed syncs in a row, most recent first.
    pub consecutive_failures: u32,
    /// 429 answers in the last 24 hours.
    pub throttled_last_day: i64,
    /// What is wrong.
    pub active_alerts: Vec<ActiveAlert>,
}

/// An alert starting or ending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// What.
    pub kind: AlertKind,
    /// The marketplace and SKU a stock alert is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<SkuKey>,
    /// `fired` or `cleared`.
    pub state: &'static str,
    /// For a person.
    pub message: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// How long a change that ended `NOT_APPLIED` or `FAILED` keeps its alert active
/// (unless a newer change for its listing is queued first); a conflict keeps it
/// until it is overridden or cancelled.
const LISTING_CHANGES_WINDOW: Duration = Duration::days(1);

/// The alert's message for the changes needing attention (none: no alert).
fn listing_changes_message(changes: &[entity::listing_change::Model]) -> Option<String> {
    use entity::enums::ListingChangeState as S;
    let first = changes.first()?;
    let count = |state: S| changes.iter().filter(|c| c.state == state).count();
    let parts: Vec<String> = [
        (count(S::Conflict), "in conflict (override or cancel it)"),
        (count(S::NotApplied), "not applied by Amazon in time"),
        (count(S::Failed), "failed"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let why = match (first.state, first.issue_list().first()) {
        (S::Conflict, _) => "the live price moved since it was queued".to_owned(),
        (_, Some(issue)) => issue.message.clone(),
        (S::NotApplied, None) => "accepted, but not live on Amazon before its deadline".to_owned(),
        (_, None) => "refused".to_owned(),
    };
    Some(format!(
        "{} price or quantity change(s) need attention: {}; the first: {} in {}: {why} (see Listings, Price & quantity queue)",
        changes.len(),
        parts.join(", "),
        first.seller_sku,
        first.marketplace_id,
    ))
}

/// What the conditions are computed from.
struct Figures {
    last_order_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    failures: u32,
    throttled: i64,
}

/// The conditions that hold now, with their messages.
async fn conditions(
    db: &DatabaseConnection,
    s: &AlertSettings,
    now: DateTime<Utc>,
) -> Result<(Vec<Condition>, Figures), DbErr> {
    let last_order_at = amazon_order::Entity::find()
        .select_only()
        .column_as(amazon_order::Column::PurchaseDate.max(), "m")
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    // Freshness, failures and credentials are the orders sync's; the inventory
    // sync has its own quota and its stock alerts.
    let recent = sync_runs::Entity::find()
        .filter(sync_runs::Column::Kind.eq(SyncKind::Orders))
        .filter(sync_runs::Column::DryRun.eq(false))
        .filter(sync_runs::Column::Status.ne(SyncStatus::Running))
        .order_by_desc(sync_runs::Column::StartedAt)
        .limit(u64::from(s.failures_in_a_row.max(1)) + 1)
        .all(db)
        .await?;
    let failures = u32::try_from(
        recent
            .iter()
            .take_while(|r| r.status == SyncStatus::Failed)
            .count(),
    )
    .unwrap_or(u32::MAX);
    let last_success = sync_runs::Entity::find()
        .filter(sync_runs::Column::Kind.eq(SyncKind::Orders))
        .filter(sync_runs::Column::DryRun.eq(false))
        .filter(sync_runs::Column::Status.eq(SyncStatus::Succeeded))
        .order_by_desc(sync_runs::Column::StartedAt)
        .one(db)
        .await?
        .and_then(|r| r.finished_at);
    let throttled: i64 = sync_runs::Entity::find()
        .filter(sync_runs::Column::StartedAt.gt(now - Duration::days(1)))
        .all(db)
        .await?
        .iter()
        .map(|r| r.throttled)
        .sum();
    let lag = last_success.map(|t| (now - t).num_seconds());

    let mut found = Vec::new();
    if let Some(t) = last_order_at
        && now - t > s.no_order_after
    {
        found.push(Condition::new(
            AlertKind::NoNewOrders,
            format!(
                "no new order since {t} ({} h): check the listings in Seller Central",
                (now - t).num_hours()
            ),
        ));
    }
    if failures >= s.failures_in_a_row {
        let last = recent
            .first()
            .and_then(|r| r.error.clone())
            .unwrap_or_default();
        found.push(Condition::new(
            AlertKind::SyncFailures,
            format!("{failures} syncs failed in a row; the last: {last}"),
        ));
    }
    if u64::try_from(throttled).unwrap_or(0) > s.throttled_per_day {
        found.push(Condition::new(
            AlertKind::Throttling,
            format!("{throttled} throttled calls (429) in the last 24 h: another app may share this seller's quota"),
        ));
    }
    let stale = match last_success {
        Some(t) => now - t > s.freshness_slo,
        None => !recent.is_empty(),
    };
    if stale {
        found.push(Condition::new(
            AlertKind::Freshness,
            match lag {
                Some(l) => format!(
                    "the last successful sync ended {} min ago, over the {} min objective",
                    l / 60,
                    s.freshness_slo.num_minutes()
                ),
                None => "no sync has succeeded yet".to_owned(),
            },
        ));
    }
    let rejected = recent.first().is_some_and(|r| {
        crate::sync::RunMetadata::of(r).and_then(|m| m.failure)
            == Some(crate::sync::Failure::AmazonAuth)
    });
    if rejected {
        let error = recent
            .first()
            .and_then(|r| r.error.clone())
            .unwrap_or_default();
        found.push(Condition::new(AlertKind::CredentialsRejected, error));
    }
    for low in crate::inventory::low_stock(db, &s.stock, now).await? {
        let r = &low.row;
        let cover = match low.days_of_cover {
            Some(d) => format!(
                "{d:.1} days of cover at {:.2} sold a day",
                low.units_sold_per_day
            ),
            None => "nothing sold lately".to_owned(),
        };
        found.push(Condition {
            kind: AlertKind::LowStock,
            sku: Some((r.marketplace_id.clone(), r.seller_sku.clone())),
            message: format!(
                "{} in {}: {} fulfillable units, {cover} (thresholds: {} days{})",
                r.seller_sku,
                r.marketplace_id,
                r.fulfillable_quantity,
                s.stock.alert_days,
                s.stock
                    .alert_units
                    .map(|u| format!(", {u} units"))
                    .unwrap_or_default()
            ),
        });
    }
    let attention =
        crate::listings::read::needing_attention(db, now - LISTING_CHANGES_WINDOW).await?;
    if let Some(message) = listing_changes_message(&attention) {
        found.push(Condition::new(AlertKind::ListingChanges, message));
    }
    Ok((
        found,
        Figures {
            last_order_at,
            last_success_at: last_success,
            failures,
            throttled,
        },
    ))
}

/// The state of the sync now; reads only.
///
/// # Errors
/// The database error.
pub async fn health(db: &DatabaseConnection, s: &AlertSettings) -> Result<Health, DbErr> {
    let now = Utc::now();
    let (found, figures) = conditions(db, s, now).await?;
    let stored = alerts::Entity::find().all(db).await?;
    let active_alerts = found
        .into_iter()
        .map(|c| {
            let key = alert_key(c.kind, c.sku.as_ref());
            ActiveAlert {
                kind: c.kind,
                since: stored
                    .iter()
                    .find(|a| a.kind == key && a.active)
                    .map_or(now, |a| a.since),
                sku: c.sku,
                message: c.message,
            }
        })
        .collect::<Vec<_>>();
    let inventory_last_success_at = last_success_of(db, SyncKind::Inventory).await?;
    Ok(Health {
        ok: active_alerts.is_empty(),
        inventory_last_success_at,
        last_success_at: figures.last_success_at,
        lag_seconds: figures.last_success_at.map(|t| (now - t).num_seconds()),
        last_order_at: figures.last_order_at,
        consecutive_failures: figures.failures,
        throttled_last_day: figures.throttled,
        active_alerts,
    })
}

/// Evaluates the alerts and records which started and which ended since the last
/// evaluation (by any process).
///
/// # Errors
/// The database error.
pub async fn evaluate(
    db: &DatabaseConnection,
    s: &AlertSettings,
) -> Result<Vec<Transition>, DbErr> {
    let now = Utc::now();
    let (found, ..) = conditions(db, s, now).await?;
    let mut stored: std::collections::HashMap<String, alerts::Model> = alerts::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.kind.clone(), a))
        .collect();
    let mut transitions = Vec::new();
    for c in found {
        let key = alert_key(c.kind, c.sku.as_ref());
        match stored.remove(&key) {
            Some(row) if row.active => {}
            Some(row) => {
                let mut row = row.into_active_model();
                row.active = Set(true);
                row.since = Set(now);
                row.message = Set(c.message.clone());
                row.updated_at = Set(now);
                row.update(db).await?;
                transitions.push(Transition {
                    kind: c.kind,
                    sku: c.sku,
                    state: "fired",
                    message: c.message,
                    at: now,
                });
            }
            None => {
                alerts::ActiveModel {
                    kind: Set(key),
                    active: Set(true),
                    since: Set(now),
                    message: Set(c.message.clone()),
                    cleared_at: Set(None),
                    updated_at: Set(now),
                }
                .insert(db)
                .await?;
                transitions.push(Transition {
                    kind: c.kind,
                    sku: c.sku,
                    state: "fired",
                    message: c.message,
                    at: now,
                });
            }
        }
    }
    // What is left and still active no longer holds.
    for row in stored.into_values().filter(|r| r.active) {
        let Some((kind, sku)) = parse_key(&row.kind) else {
            tracing::warn!(alert = %row.kind, "an alert of a kind this version does not know stays as it is");
            continue;
        };
        let message = row.message.clone();
        let mut row = row.into_active_model();
        row.active = Set(false);
        row.cleared_at = Set(Some(now));
        row.updated_at = Set(now);
        row.update(db).await?;
        transitions.push(Transition {
            kind,
            sku,
            state: "cleared",
            message,
            at: now,
        });
    }
    for t in &transitions {
        tracing::warn!(alert = t.kind.name(), state = t.state, message = %t.message, "sync alert");
    }
    Ok(transitions)
}

/// POSTs each transition as JSON to the webhook, in the background: up to 4 tries
/// with 1, 2, 4 s between them and a 10 s timeout each. Never blocks the caller.
pub fn notify(webhook_url: Option<&str>, transitions: Vec<Transition>) {
    let Some(url) = webhook_url.map(str::to_owned) else {
        return;
    };
    if transitions.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let Ok(http) = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
        else {
            return;
        };
        for t in transitions {
            let mut delay = std::time::Duration::from_secs(1);
            for attempt in 1..=4 {
                match http.post(&url).json(&t).send().await {
                    Ok(r) if r.status().is_success() => break,
                    Ok(r) => {
                        tracing::warn!(status = %r.status(), attempt, "alert webhook refused the alert")
                    }
                    // reqwest's errors name the URL, and a webhook URL usually
                    // carries its secret (Slack, Teams): log the failure without it.
                    Err(e) => {
                        tracing::warn!(error = %e.without_url(), attempt, "alert webhook unreachable")
                    }
                }
                if attempt < 4 {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
    });
}

/// When the last run of a dataset that wrote (not a dry run) succeeded.
///
/// # Errors
/// The database error.
pub async fn last_success_of(
    db: &impl sea_orm::ConnectionTrait,
    kind: SyncKind,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(sync_runs::Entity::find()
        .filter(sync_runs::Column::Kind.eq(kind))
        .filter(sync_runs::Column::DryRun.eq(false))
        .filter(sync_runs::Column::Status.eq(SyncStatus::Succeeded))
        .order_by_desc(sync_runs::Column::StartedAt)
        .one(db)
        .await?
        .and_then(|r| r.finished_at))
}
