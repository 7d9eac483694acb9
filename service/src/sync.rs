//! The orders sync: Amazon's orders and items into our database, incrementally,
//! idempotently, without wasting a call of the quota.
//!
//! A run takes the sync lease (one sync at a time across processes), records itself
//! in `sync_runs`, and walks windows of "last updated" time from the stored
//! watermark (minus an overlap) to Amazon's now minus two minutes and a margin.
//! Each page is fetched, written in one transaction, and dropped, so memory does not
//! grow with the number of orders. The watermark moves only when a whole window is
//! committed; a failed, cancelled or killed run leaves it where it was and the next
//! run converges, because every write is an idempotent upsert on natural keys.

pub mod budget;
mod record;
pub mod windows;
mod write;

pub use record::{Failure, RunMetadata};

use crate::lease::{self, Lease, LeaseError};
use crate::spapi::{ClientStats, OrdersApi, OrdersQuery, RemoteOrder, SpApiError};
use chrono::{DateTime, Utc};
use entity::enums::{SyncStatus, SyncTrigger};
use entity::{amazon_connection, amazon_order, sync_runs, sync_watermark};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, DerivePartialModel,
    EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Knobs of the sync, with production defaults.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// How far before the watermark each run starts again (late-arriving updates).
    pub overlap: Duration,
    /// How far back the first run looks.
    pub first_lookback: Duration,
    /// Extra distance from Amazon's "now minus two minutes" limit.
    pub end_margin: Duration,
    /// Longest window committed as one unit.
    pub max_window: Duration,
    /// Orders per page (1..=100).
    pub page_size: u32,
    /// A window needing more pages than this is an error, not a loop.
    pub max_pages_per_window: u32,
    /// Time to live of the sync lease; renewed at a third of it.
    pub lease_ttl: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            overlap: Duration::from_secs(5 * 60),
            first_lookback: Duration::from_secs(30 * 24 * 3600),
            end_margin: Duration::from_secs(30),
            max_window: Duration::from_secs(7 * 24 * 3600),
            page_size: 100,
            max_pages_per_window: 10_000,
            lease_ttl: Duration::from_secs(60),
        }
    }
}

/// What an operator may tune about a scheduled sync: the lease and how patiently the
/// client waits. Production defaults; the chaos test shortens them because its
/// simulated Amazon runs many times faster than real time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncTuning {
    /// Time to live of the sync lease: how long a killed worker blocks the next one.
    pub lease_ttl: Duration,
    /// Whole-request timeout of one SP-API call.
    pub request_timeout: Duration,
    /// First retry back-off after a 5xx, timeout or broken response.
    pub retry_base_delay: Duration,
    /// How far back the first run (no watermark yet) looks.
    pub first_lookback: Duration,
    /// Where the client may send the credentials (`SPAPI_ALLOW_CUSTOM_ENDPOINTS`).
    pub endpoints: crate::spapi::EndpointPolicy,
}

impl Default for SyncTuning {
    fn default() -> Self {
        let client = crate::spapi::RetryPolicy::default();
        Self {
            lease_ttl: SyncSettings::default().lease_ttl,
            request_timeout: Duration::from_secs(60),
            retry_base_delay: client.base_delay,
            first_lookback: SyncSettings::default().first_lookback,
            endpoints: crate::spapi::EndpointPolicy::default(),
        }
    }
}

/// Where a run stands, for progress bars and subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Pages fetched.
    pub pages: u64,
    /// Orders seen.
    pub orders_found: u64,
    /// Orders new to us.
    pub orders_inserted: u64,
    /// Orders that changed.
    pub orders_updated: u64,
    /// Orders already up to date.
    pub orders_unchanged: u64,
    /// Item rows written.
    pub items_upserted: u64,
    /// Windows committed.
    pub windows_done: u32,
    /// Windows in the run.
    pub windows_total: u32,
    /// SP-API requests sent so far (retries included).
    pub api_calls: u64,
    /// Milliseconds spent so far waiting for Amazon's quota (rate limiter and back-off).
    pub quota_wait_ms: u64,
}

/// Called after each page.
pub type ProgressFn = Arc<dyn Fn(&SyncProgress) + Send + Sync>;

/// What to sync and how.
#[derive(Clone)]
pub struct SyncOptions {
    /// Read Amazon and our database, report, write nothing but the run row.
    pub dry_run: bool,
    /// Write order items too.
    pub include_items: bool,
    /// Start here instead of the watermark.
    pub since: Option<DateTime<Utc>>,
    /// What started the run.
    pub trigger: SyncTrigger,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Cancels the run after its current page.
    pub cancel: CancellationToken,
    /// Called with the `sync_runs` id once the run holds the lease and is recorded.
    pub on_start: Option<Arc<dyn Fn(i64) + Send + Sync>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            include_items: true,
            since: None,
            trigger: SyncTrigger::Manual,
            progress: None,
            cancel: CancellationToken::new(),
            on_start: None,
        }
    }
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions")
            .field("dry_run", &self.dry_run)
            .field("include_items", &self.include_items)
            .field("since", &self.since)
            .field("trigger", &self.trigger)
            .finish_non_exhaustive()
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The `sync_runs` row.
    pub run_id: i64,
    /// Succeeded, failed or interrupted.
    pub status: SyncStatus,
    /// First instant covered.
    pub window_start: DateTime<Utc>,
    /// Last instant covered.
    pub window_end: DateTime<Utc>,
    /// Counts.
    pub progress: SyncProgress,
    /// SP-API requests made.
    pub api_calls: u64,
    /// 429 answers seen.
    pub throttled: u64,
    /// The error that ended a failed run.
    pub error: Option<String>,
    /// What kind of failure ended it, for callers that react to it.
    pub failure: Option<Failure>,
}

impl Failure {
    fn of(error: &SyncError) -> Option<Self> {
        match error {
            SyncError::Cancelled => None,
            SyncError::Api(e)
                if e.is_credentials_rejected() || matches!(e, SpApiError::Forbidden { .. }) =>
            {
                Some(Self::AmazonAuth)
            }
            SyncError::Api(_) => Some(Self::AmazonUnavailable),
            _ => Some(Self::Other),
        }
    }
}

/// Why a sync did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Another sync holds the lease.
    #[error("an orders sync is already running (run {run_id:?}, held by {holder})")]
    AlreadyRunning {
        /// Its `sync_runs` id, when known.
        run_id: Option<i64>,
        /// Its holder.
        holder: String,
    },
    /// Nothing to sync with.
    #[error(transparent)]
    Account(#[from] crate::amazon_account::AccountError),
    /// Amazon failed.
    #[error(transparent)]
    Api(#[from] SpApiError),
    /// Amazon kept handing back a NextToken it had already given.
    #[error(
        "Amazon returned the same page token twice in window {window_start}..{window_end}: stopping instead of looping"
    )]
    RepeatingToken {
        /// The window.
        window_start: DateTime<Utc>,
        /// The window.
        window_end: DateTime<Utc>,
    },
    /// More pages than a window can hold.
    #[error(
        "window {window_start}..{window_end} needed more than {max} pages: stopping instead of looping"
    )]
    TooManyPages {
        /// The window.
        window_start: DateTime<Utc>,
        /// The window.
        window_end: DateTime<Utc>,
        /// The limit.
        max: u32,
    },
    /// The run was cancelled (shutdown or request).
    #[error("cancelled")]
    Cancelled,
    /// The lease was lost mid-run.
    #[error("the sync lease was lost (another process took over after it expired)")]
    LeaseLost,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl From<LeaseError> for SyncError {
    fn from(e: LeaseError) -> Self {
        match e {
            LeaseError::Held { holder, run_id, .. } => Self::AlreadyRunning { run_id, holder },
            LeaseError::Lost => Self::LeaseLost,
            LeaseError::Database(e) => Self::Database(e),
        }
    }
}

/// Runs one orders sync for the stored connection with the given client.
///
/// # Errors
/// [`SyncError::AlreadyRunning`] when another sync holds the lease (no run row is
/// written); a database error when even the run row cannot be written. Every other
/// failure ends the run as failed or interrupted and is returned in the outcome.
#[tracing::instrument(skip_all, fields(dry_run = options.dry_run, include_items = options.include_items, trigger = ?options.trigger))]
pub async fn run_orders_sync_with(
    db: &DatabaseConnection,
    api: &dyn OrdersApi,
    conn: &amazon_connection::Model,
    settings: &SyncSettings,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let lease = Lease::acquire(
        db,
        lease::ORDERS_SYNC,
        &lease::holder_id(),
        settings.lease_ttl,
    )
    .await?;
    if let Some(abandoned) = lease.taken_over_run() {
        mark_abandoned(db, abandoned).await?;
    }
    let version = conn.orders_api_version;
    let started = Utc::now();
    let run = sync_runs::ActiveModel {
        kind: Set(entity::enums::SyncKind::Orders),
        trigger: Set(options.trigger),
        status: Set(SyncStatus::Running),
        dry_run: Set(options.dry_run),
        include_items: Set(options.include_items),
        api_version: Set(Some(version.as_str().to_owned())),
        started_at: Set(started),
        ..Default::default()
    };
    let run = match run.insert(db).await {
        Ok(r) => r,
        Err(e) => {
            let _ = lease.release().await;
            return Err(e.into());
        }
    };
    if let Err(e) = lease.set_run(run.id).await {
        tracing::warn!(error = %e, "could not record the run on the lease");
    }
    if let Some(on_start) = &options.on_start {
        on_start(run.id);
    }

    // Keep the lease alive while the run works (item calls can take minutes).
    let renew_stop = CancellationToken::new();
    let lost = CancellationToken::new();
    let renewer = {
        let lease = lease.clone();
        let stop = renew_stop.clone();
        let lost = lost.clone();
        let every = settings.lease_ttl / 3;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                if let Err(e) = lease.renew().await {
                    tracing::error!(error = %e, "sync lease renewal failed");
                    if matches!(e, LeaseError::Lost) {
                        lost.cancel();
                        return;
                    }
                }
            }
        })
    };

    let stats_before = api.stats();
    let mut state = RunState {
        progress: SyncProgress::default(),
        window_start: started,
        window_end: started,
    };
    let result = sync_windows(db, api, conn, settings, &options, &lost, &mut state).await;
    renew_stop.cancel();
    let _ = renewer.await;

    let stats = api.stats().since(&stats_before);
    let (status, error) = match &result {
        Ok(()) => (SyncStatus::Succeeded, None),
        Err(SyncError::Cancelled) => (SyncStatus::Interrupted, Some("cancelled".to_owned())),
        Err(e) => (SyncStatus::Failed, Some(e.to_string())),
    };
    if let Some(e) = &error {
        tracing::error!(error = %e, run_id = run.id, "orders sync ended without success");
    }
    let outcome = SyncOutcome {
        run_id: run.id,
        status,
        window_start: state.window_start,
        window_end: state.window_end,
        progress: state.progress.clone(),
        api_calls: stats.total_calls(),
        throttled: stats.total_throttled(),
        error: error.clone(),
        failure: result.as_ref().err().and_then(Failure::of),
    };
    let finished = Utc::now();
    let record = finish_run(db, run, &outcome, &stats, &options, finished).await;
    let _ = lease.release().await;
    record?;
    if !options.dry_run {
        record_on_connection(db, &outcome, finished).await?;
    }
    tracing::info!(
        run_id = outcome.run_id,
        status = ?outcome.status,
        pages = outcome.progress.pages,
        found = outcome.progress.orders_found,
        inserted = outcome.progress.orders_inserted,
        updated = outcome.progress.orders_updated,
        unchanged = outcome.progress.orders_unchanged,
        api_calls = outcome.api_calls,
        throttled = outcome.throttled,
        "orders sync finished"
    );
    Ok(outcome)
}

struct RunState {
    progress: SyncProgress,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
}

/// A run whose process stopped without finishing it (its lease expired) is
/// recorded as interrupted, so the history does not show it running forever.
async fn mark_abandoned(db: &DatabaseConnection, run_id: i64) -> Result<(), DbErr> {
    let updated = sync_runs::Entity::update_many()
        .col_expr(sync_runs::Column::Status, Expr::value(SyncStatus::Interrupted))
        .col_expr(
            sync_runs::Column::Error,
            Expr::value("the process running this sync stopped before it finished (its lease expired); the next run resumed from the watermark"),
        )
        .col_expr(sync_runs::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(sync_runs::Column::Id.eq(run_id))
        .filter(sync_runs::Column::Status.eq(SyncStatus::Running))
        .exec(db)
        .await?;
    if updated.rows_affected > 0 {
        tracing::warn!(
            run_id,
            "took over the sync lease of a stopped process; its run is marked interrupted"
        );
    }
    Ok(())
}

async fn finish_run(
    db: &DatabaseConnection,
    run: sync_runs::Model,
    outcome: &SyncOutcome,
    stats: &ClientStats,
    options: &SyncOptions,
    finished: DateTime<Utc>,
) -> Result<(), DbErr> {
    let p = &outcome.progress;
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let mut run = run.into_active_model();
    run.status = Set(outcome.status);
    run.window_start = Set(Some(outcome.window_start));
    run.window_end = Set(Some(outcome.window_end));
    run.pages = Set(as_i64(p.pages));
    run.api_calls = Set(as_i64(outcome.api_calls));
    run.throttled = Set(as_i64(outcome.throttled));
    run.orders_found = Set(as_i64(p.orders_found));
    run.orders_inserted = Set(as_i64(p.orders_inserted));
    run.orders_updated = Set(as_i64(p.orders_updated));
    run.orders_unchanged = Set(as_i64(p.orders_unchanged));
    run.items_upserted = Set(as_i64(p.items_upserted));
    run.error = Set(outcome.error.clone());
    let names = |m: &std::collections::BTreeMap<&'static str, u64>| {
        m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    let metadata = RunMetadata {
        calls_by_operation: names(&stats.calls),
        throttled_by_operation: names(&stats.throttled),
        retries: stats.retries,
        limiter_wait_ms: stats.limiter_wait_ms,
        backoff_wait_ms: stats.backoff_wait_ms,
        token_refreshes: stats.token_refreshes,
        rates_by_operation: stats
            .rates
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        windows: u64::from(p.windows_total),
        windows_committed: u64::from(p.windows_done),
        failure: outcome.failure,
        since: options.since,
    };
    run.metadata = Set(Some(metadata.to_json()));
    run.finished_at = Set(Some(finished));
    run.update(db).await.map(|_| ())
}

async fn record_on_connection(
    db: &DatabaseConnection,
    outcome: &SyncOutcome,
    finished: DateTime<Utc>,
) -> Result<(), DbErr> {
    let status = outcome.status.as_str();
    amazon_connection::Entity::update_many()
        .col_expr(
            amazon_connection::Column::LastOrdersSyncAt,
            Expr::value(finished),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncStatus,
            Expr::value(status),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncError,
            Expr::value(outcome.error.clone()),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncOrdersCount,
            Expr::value(i64::try_from(outcome.progress.orders_found).unwrap_or(i64::MAX)),
        )
        .col_expr(
            amazon_connection::Column::LastOrdersSyncItemsCount,
            Expr::value(i64::try_from(outcome.progress.items_upserted).unwrap_or(i64::MAX)),
        )
        .col_expr(amazon_connection::Column::UpdatedAt, Expr::value(finished))
        .filter(amazon_connection::Column::Id.eq(amazon_connection::SINGLETON_ID))
        .exec(db)
        .await
        .map(|_| ())
}

/// The lowest watermark of the marketplaces, if every one has one.
async fn stored_watermark(
    db: &DatabaseConnection,
    marketplace_ids: &[String],
    version: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let rows = sync_watermark::Entity::find()
        .filter(sync_watermark::Column::ApiVersion.eq(version))
        .filter(sync_watermark::Column::MarketplaceId.is_in(marketplace_ids.iter().cloned()))
        .all(db)
        .await?;
    if rows.len() < marketplace_ids.len() {
        return Ok(None);
    }
    Ok(rows.iter().map(|r| r.watermark).min())
}

async fn advance_watermark(
    db: &DatabaseConnection,
    marketplace_ids: &[String],
    version: &str,
    to: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let now = Utc::now();
    for mp in marketplace_ids {
        let existing = sync_watermark::Entity::find()
            .filter(sync_watermark::Column::ApiVersion.eq(version))
            .filter(sync_watermark::Column::MarketplaceId.eq(mp))
            .one(&txn)
            .await?;
        match existing {
            Some(row) if row.watermark >= to => {}
            Some(row) => {
                let mut row = row.into_active_model();
                row.watermark = Set(to);
                row.updated_at = Set(now);
                row.update(&txn).await?;
            }
            None => {
                sync_watermark::ActiveModel {
                    marketplace_id: Set(mp.clone()),
                    api_version: Set(version.to_owned()),
                    watermark: Set(to),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await
}

async fn sync_windows(
    db: &DatabaseConnection,
    api: &dyn OrdersApi,
    conn: &amazon_connection::Model,
    settings: &SyncSettings,
    options: &SyncOptions,
    lost: &CancellationToken,
    state: &mut RunState,
) -> Result<(), SyncError> {
    let stats_base = api.stats();
    let version = conn.orders_api_version;
    let version_str = version.as_str();
    let marketplace_ids = conn.marketplace_id_list();
    if marketplace_ids.is_empty() {
        return Err(SyncError::Account(
            crate::amazon_account::AccountError::NotConfigured(
                "the Amazon connection lists no marketplace ids",
            ),
        ));
    }
    // Learn Amazon's clock with the cheap Sellers call (never the orders quota), so a
    // skewed local clock neither asks for the future nor misses orders.
    if !api.clock_known() {
        api.marketplace_participations().await?;
    }
    let watermark = match options.since {
        Some(_) => None,
        None => stored_watermark(db, &marketplace_ids, version_str).await?,
    };
    let span = windows::span(
        api.amazon_now(),
        options.since,
        watermark,
        windows::Reach {
            overlap: settings.overlap,
            first_lookback: settings.first_lookback,
            end_margin: settings.end_margin,
        },
    );
    state.window_start = span.start;
    state.window_end = span.end;
    let windows = windows::windows(span, settings.max_window);
    if windows.is_empty() {
        return Ok(());
    }
    state.progress.windows_total = u32::try_from(windows.len()).unwrap_or(u32::MAX);
    let mut fresh_tables = write::FreshTables::check(db, options.dry_run).await?;

    for (from, to) in windows {
        let query = OrdersQuery {
            marketplace_ids: marketplace_ids.clone(),
            updated_after: from,
            updated_before: to,
            page_size: settings.page_size.clamp(1, 100),
        };
        let mut token: Option<String> = None;
        let mut seen_tokens = HashSet::new();
        let mut pages = 0u32;
        loop {
            if options.cancel.is_cancelled() {
                return Err(SyncError::Cancelled);
            }
            if lost.is_cancelled() {
                return Err(SyncError::LeaseLost);
            }
            pages += 1;
            if pages > settings.max_pages_per_window {
                return Err(SyncError::TooManyPages {
                    window_start: from,
                    window_end: to,
                    max: settings.max_pages_per_window,
                });
            }
            let page = tokio::select! {
                page = api.orders_page(version, &query, token.as_deref()) => page?,
                () = options.cancel.cancelled() => return Err(SyncError::Cancelled),
            };
            state.progress.pages += 1;
            let next = page.next_token.clone();
            apply_page(db, api, page.orders, options, &mut state.progress).await?;
            fresh_tables
                .after_page(db, state.progress.orders_inserted)
                .await?;
            let spent = api.stats().since(&stats_base);
            state.progress.api_calls = spent.total_calls();
            state.progress.quota_wait_ms = spent.limiter_wait_ms + spent.backoff_wait_ms;
            if let Some(cb) = &options.progress {
                cb(&state.progress);
            }
            match next {
                Some(t) if !seen_tokens.insert(t.clone()) => {
                    return Err(SyncError::RepeatingToken {
                        window_start: from,
                        window_end: to,
                    });
                }
                Some(t) => token = Some(t),
                None => break,
            }
        }
        if !options.dry_run {
            advance_watermark(db, &marketplace_ids, version_str, to).await?;
        }
        state.progress.windows_done += 1;
    }
    Ok(())
}

/// What the sync needs to know of an order it already has: enough to tell whether
/// Amazon's copy changed (the raw payload, the bulk of a row, is not read).
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order::Entity")]
struct StoredOrder {
    amazon_order_id: String,
    marketplace_id: String,
    last_update_date: DateTime<Utc>,
    order_status: String,
    order_total_amount: Option<entity::Amount>,
}

fn order_unchanged(existing: &StoredOrder, remote: &RemoteOrder) -> bool {
    existing.last_update_date == remote.last_update_date
        && existing.order_status == remote.order_status
        && existing.order_total_amount == remote.order_total.as_ref().map(|m| m.amount)
}

/// Writes one page in one transaction (or, dry, only counts what it would write).
async fn apply_page(
    db: &DatabaseConnection,
    api: &dyn OrdersApi,
    page: Vec<RemoteOrder>,
    options: &SyncOptions,
    progress: &mut SyncProgress,
) -> Result<(), SyncError> {
    if page.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = page.iter().map(|o| o.amazon_order_id.clone()).collect();
    let existing: HashMap<(String, String), StoredOrder> = amazon_order::Entity::find()
        .filter(amazon_order::Column::AmazonOrderId.is_in(ids))
        .into_partial_model::<StoredOrder>()
        .all(db)
        .await?
        .into_iter()
        .map(|o| ((o.amazon_order_id.clone(), o.marketplace_id.clone()), o))
        .collect();

    // Decide first, then call Amazon for the items of new or changed v0 orders,
    // so the transaction holds no lock while waiting for the network.
    let mut work: Vec<write::Work> = Vec::with_capacity(page.len());
    for remote in page {
        progress.orders_found += 1;
        let key = (
            remote.amazon_order_id.clone(),
            remote.marketplace_id.clone(),
        );
        let current = existing.get(&key);
        if current.is_some_and(|c| order_unchanged(c, &remote)) {
            progress.orders_unchanged += 1;
            continue;
        }
        if current.is_some() {
            progress.orders_updated += 1;
        } else {
            progress.orders_inserted += 1;
        }
        let items = if !options.include_items {
            None
        } else if let Some(inline) = remote.items.clone() {
            Some(inline)
        } else if options.dry_run {
            // A dry run spends no getOrderItems quota.
            None
        } else {
            Some(api.order_items(&remote.amazon_order_id).await?)
        };
        if let Some(items) = &items {
            progress.items_upserted += items.len() as u64;
        }
        work.push((remote, items));
    }
    if options.dry_run || work.is_empty() {
        return Ok(());
    }

    let txn = db.begin().await?;
    write::write_page(&txn, work, Utc::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// Runs one orders sync against Amazon for the stored connection and credentials,
/// with the lease, first look-back and client timings of `tuning` (configuration:
/// `SYNC_LEASE_TTL_SECS`, `SYNC_FIRST_LOOKBACK_DAYS`, `SPAPI_REQUEST_TIMEOUT_MS`,
/// `SPAPI_RETRY_BASE_MS`).
///
/// # Errors
/// See [`run_orders_sync_with`]; also [`SyncError::Account`] when Amazon is not
/// configured or the credentials cannot be opened.
pub async fn run_orders_sync(
    db: &DatabaseConnection,
    key: &crate::amazon_account::seal::EncryptionKey,
    tuning: &SyncTuning,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let (conn, mut config) =
        crate::amazon_account::client_config(db, key, tuning.endpoints).await?;
    if let Err(e) = budget::seed(db, &mut config, Utc::now()).await {
        tracing::warn!(error = %e, "could not read the quota earlier runs left; assuming full buckets");
    }
    config.request_timeout = tuning.request_timeout;
    config.retry.base_delay = tuning.retry_base_delay;
    config.retry.max_delay = config.retry.max_delay.max(tuning.retry_base_delay);
    let client = crate::spapi::SpApiClient::new(config)
        .map_err(crate::amazon_account::AccountError::from)?;
    let settings = SyncSettings {
        lease_ttl: tuning.lease_ttl,
        first_lookback: tuning.first_lookback,
        ..SyncSettings::default()
    };
    run_orders_sync_with(db, &client, &conn, &settings, options).await
}
