//! The sync framework: Amazon's data into our database, incrementally,
//! idempotently, without wasting a call of the quota.
//!
//! [`runner`] holds what every dataset shares (the lease, the `sync_runs` row, the
//! typed run record); [`cursor`] the watermarks; [`windows`] the window planning;
//! [`budget`] the quota earlier runs left; [`freshness`] when the worker polls
//! orders; [`changes`] the orders pages every process commits, as they commit. Each dataset is one module plugged into the runner: [`orders`] (orders
//! and items), [`inventory`] (FBA stock), [`transactions`] (financial transactions)
//! and [`listings`] (the catalog).

pub mod budget;
pub mod changes;
mod cursor;
pub mod freshness;
mod inventory;
mod listings;
mod orders;
mod pages;
mod record;
mod runner;
mod syncer;
mod transactions;
pub mod windows;
mod write;

pub use inventory::{InventoryScan, run_inventory_sync_with};
pub(crate) use listings::store as store_listings;
pub use listings::{ListingsScan, run_listings_sync_with};
pub use orders::run_orders_sync_with;
pub use record::{Failure, RunMetadata};
pub use syncer::{StartError, Started, SyncRequest, Syncer};
pub use transactions::{LATE_ARRIVALS, run_transactions_sync_with};

use crate::spapi::SpApiError;
use chrono::{DateTime, Utc};
use entity::enums::{SyncKind, SyncStatus, SyncTrigger};
use sea_orm::{DatabaseConnection, DbErr};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How the syncs run: how far they reach, how they hold the lease and how patiently
/// their client waits, with production defaults. Configuration sets the lease, the
/// first look-back, the client timings and the endpoint policy
/// (`SYNC_LEASE_TTL_SECS`, `SYNC_FIRST_LOOKBACK_DAYS`, `SPAPI_REQUEST_TIMEOUT_MS`,
/// `SPAPI_RETRY_BASE_MS`, `SPAPI_ALLOW_CUSTOM_ENDPOINTS`); the chaos run shortens
/// them because its simulated Amazon runs many times faster than real time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// How far before the watermark each run starts again (late-arriving updates).
    pub overlap: Duration,
    /// How far back the first run (no watermark yet) looks.
    pub first_lookback: Duration,
    /// Extra distance from Amazon's "now minus two minutes" limit.
    pub end_margin: Duration,
    /// Longest window committed as one unit.
    pub max_window: Duration,
    /// Orders per page (1..=100).
    pub page_size: u32,
    /// A window needing more pages than this is an error, not a loop.
    pub max_pages_per_window: u32,
    /// Time to live of the sync lease (renewed at a third of it): how long a killed
    /// worker blocks the next run.
    pub lease_ttl: Duration,
    /// Whole-request timeout of one SP-API call.
    pub request_timeout: Duration,
    /// First retry back-off after a 5xx, timeout or broken response.
    pub retry_base_delay: Duration,
    /// Where the client may send the credentials (`SPAPI_ALLOW_CUSTOM_ENDPOINTS`).
    pub endpoints: crate::spapi::EndpointPolicy,
    /// How long an accepted listing change may take to show on Amazon before it
    /// ends `NOT_APPLIED` (`LISTINGS_APPLY_TIMEOUT_MINUTES`, default 30).
    pub listings_apply_timeout: Duration,
    /// How often the push looks again at the changes in flight
    /// (`LISTINGS_POLL_SECS`, default 15).
    pub listings_poll_interval: Duration,
    /// A submission of at least this many changes (asked with `AUTO`) goes as one
    /// `JSON_LISTINGS_FEED` per marketplace instead of one patch per SKU
    /// (`LISTINGS_FEED_THRESHOLD`, default 200).
    pub listings_feed_threshold: usize,
    /// A feed Amazon has not finished this long after taking it is reported and
    /// its changes stop waiting (`LISTINGS_FEED_STUCK_MINUTES`, default 240).
    pub listings_feed_stuck_after: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            overlap: Duration::from_secs(5 * 60),
            first_lookback: Duration::from_secs(30 * 24 * 3600),
            end_margin: Duration::from_secs(30),
            max_window: Duration::from_secs(7 * 24 * 3600),
            page_size: 100,
            max_pages_per_window: 10_000,
            lease_ttl: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            retry_base_delay: crate::spapi::RetryPolicy::default().base_delay,
            endpoints: crate::spapi::EndpointPolicy::default(),
            listings_apply_timeout: Duration::from_secs(30 * 60),
            listings_poll_interval: Duration::from_secs(15),
            listings_feed_threshold: 200,
            listings_feed_stuck_after: Duration::from_secs(4 * 3600),
        }
    }
}

/// Checks a `since` given by a person: Amazon has nothing after now (a minute of
/// leeway for clocks). The message says what to give instead.
///
/// # Errors
/// The reason, for the caller to show.
pub fn check_since(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), String> {
    match since {
        Some(s) if s > now + chrono::Duration::minutes(1) => Err(format!(
            "since: {} is in the future; give an instant in the past, such as {}",
            s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            (now - chrono::Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        _ => Ok(()),
    }
}

/// Where a run stands, for progress bars and subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Pages fetched.
    pub pages: u64,
    /// Records seen (orders, inventory summaries…).
    pub found: u64,
    /// Records new to us.
    pub inserted: u64,
    /// Records that changed.
    pub updated: u64,
    /// Records already up to date.
    pub unchanged: u64,
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
    /// AFN SKUs (marketplace, SKU) whose orders this run found new or changed.
    pub stock_skus: Vec<(String, String)>,
    /// What a person should know about the run.
    pub notes: Vec<String>,
    /// The inventory run that refreshed `stock_skus` after this orders run, if any.
    pub stock_refresh_run_id: Option<i64>,
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
    /// Another run of the dataset holds the lease.
    // For people: the run's number, never the holder's process identity (that
    // goes to the log).
    #[error(
        "an {} sync is already running{}: follow it in the sync history, or try again when it has finished",
        kind.as_str(),
        run_id.map(|id| format!(" (run {id})")).unwrap_or_default()
    )]
    AlreadyRunning {
        /// The dataset.
        kind: SyncKind,
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

/// The lowest committed watermark of a dataset over the connection's marketplaces,
/// if every marketplace has one (what `worker status` shows as freshness).
///
/// # Errors
/// The database error.
pub async fn watermark(
    db: &DatabaseConnection,
    kind: SyncKind,
    conn: &entity::amazon_connection::Model,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let scope = match kind {
        SyncKind::Orders => conn.orders_api_version.as_str(),
        SyncKind::Inventory | SyncKind::Transactions | SyncKind::Listings => "",
    };
    cursor::Cursor { kind, scope }
        .stored(db, &conn.marketplace_id_list())
        .await
}

/// The stored connection and a client for it, with the quota earlier runs left and
/// the client timings of `config`.
pub(crate) async fn connect(
    db: &DatabaseConnection,
    key: &crate::amazon_account::seal::EncryptionKey,
    config: &SyncConfig,
) -> Result<(entity::amazon_connection::Model, crate::spapi::SpApiClient), SyncError> {
    let (conn, client) = crate::amazon_account::client_config(db, key, config.endpoints).await?;
    Ok((conn, build_client(db, config, client).await?))
}

/// A client of `client`'s configuration, starting where the recorded runs left
/// Amazon's buckets, with the timings of `config`.
pub(crate) async fn build_client(
    db: &DatabaseConnection,
    config: &SyncConfig,
    mut client: crate::spapi::ClientConfig,
) -> Result<crate::spapi::SpApiClient, SyncError> {
    if let Err(e) = budget::seed(db, &mut client, Utc::now()).await {
        tracing::warn!(error = %e, "could not read the quota earlier runs left; assuming full buckets");
    }
    client.request_timeout = config.request_timeout;
    client.retry.base_delay = config.retry_base_delay;
    client.retry.max_delay = client.retry.max_delay.max(config.retry_base_delay);
    Ok(
        crate::spapi::SpApiClient::new(client)
            .map_err(crate::amazon_account::AccountError::from)?,
    )
}

/// Runs one orders sync against Amazon for the stored connection and credentials,
/// as `config` says. When it succeeds and saw new or changed FBA orders, the
/// stock of their SKUs is refreshed right after, in an inventory run of its own
/// (`stock_refresh_run_id`), so stock follows sales within one orders sync.
///
/// # Errors
/// See [`run_orders_sync_with`]; also [`SyncError::Account`] when Amazon is not
/// configured or the credentials cannot be opened.
pub async fn run_orders_sync(
    db: &DatabaseConnection,
    key: &crate::amazon_account::seal::EncryptionKey,
    config: &SyncConfig,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let (conn, client) = connect(db, key, config).await?;
    orders_then_stock(db, &client, &conn, config, options).await
}

/// An orders sync through `client`, then the stock refresh of the FBA SKUs it
/// saw sold (see [`run_orders_sync`]).
pub(crate) async fn orders_then_stock(
    db: &DatabaseConnection,
    client: &crate::spapi::SpApiClient,
    conn: &entity::amazon_connection::Model,
    config: &SyncConfig,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let refresh = SyncOptions {
        dry_run: false,
        include_items: false,
        since: None,
        trigger: options.trigger,
        progress: None,
        cancel: options.cancel.clone(),
        on_start: None,
    };
    let dry_run = options.dry_run;
    let mut outcome = run_orders_sync_with(db, client, conn, config, options).await?;
    if dry_run || outcome.status != SyncStatus::Succeeded || outcome.stock_skus.is_empty() {
        return Ok(outcome);
    }
    let scan = InventoryScan::Skus(outcome.stock_skus.clone());
    match run_inventory_sync_with(db, client, conn, config, scan, refresh).await {
        Ok(r) => outcome.stock_refresh_run_id = Some(r.run_id),
        Err(SyncError::AlreadyRunning { .. }) => {
            tracing::info!("an inventory sync is running; it brings the stock of the sold SKUs");
        }
        Err(e) => {
            tracing::warn!(error = %e, "the stock refresh after the orders sync could not run")
        }
    }
    Ok(outcome)
}

/// Runs one inventory sync against Amazon for the stored connection and
/// credentials, as `config` says.
///
/// # Errors
/// See [`run_inventory_sync_with`]; also [`SyncError::Account`] when Amazon is not
/// configured or the credentials cannot be opened.
pub async fn run_inventory_sync(
    db: &DatabaseConnection,
    key: &crate::amazon_account::seal::EncryptionKey,
    config: &SyncConfig,
    scan: InventoryScan,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let (conn, client) = connect(db, key, config).await?;
    run_inventory_sync_with(db, &client, &conn, config, scan, options).await
}

/// Runs one transactions sync against Amazon for the stored connection and
/// credentials, as `config` says (`options.since` re-reads from then on).
///
/// # Errors
/// See [`run_transactions_sync_with`]; also [`SyncError::Account`] when Amazon is
/// not configured or the credentials cannot be opened.
pub async fn run_transactions_sync(
    db: &DatabaseConnection,
    key: &crate::amazon_account::seal::EncryptionKey,
    config: &SyncConfig,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let (conn, client) = connect(db, key, config).await?;
    run_transactions_sync_with(db, &client, &conn, config, options).await
}

/// Runs one listings sync against Amazon for the stored connection and
/// credentials, as `config` says.
///
/// # Errors
/// See [`run_listings_sync_with`]; also [`SyncError::Account`] when Amazon is not
/// configured or the credentials cannot be opened.
pub async fn run_listings_sync(
    db: &DatabaseConnection,
    key: &crate::amazon_account::seal::EncryptionKey,
    config: &SyncConfig,
    scan: ListingsScan,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let (conn, client) = connect(db, key, config).await?;
    run_listings_sync_with(db, &client, &conn, config, scan, options).await
}
