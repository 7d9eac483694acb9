//! The part of every sync that is not about its dataset: the lease (one run of a
//! dataset at a time across processes), the `sync_runs` row from start to finish,
//! lease renewal while the run works, and the typed run record.
//!
//! A dataset says what it is ([`Dataset::KIND`], its lease) and does its work in
//! [`Dataset::sync`], filling the [`RunState`] as pages commit; [`run`] does the rest.

use super::{Failure, RunMetadata, SyncError, SyncOptions, SyncOutcome, SyncProgress};
use crate::lease::{self, Lease, LeaseError};
use crate::spapi::ClientStats;
use chrono::{DateTime, Utc};
use entity::enums::{SyncKind, SyncStatus};
use entity::sync_runs;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Where a run stands while its dataset works.
#[derive(Debug)]
pub(crate) struct RunState {
    /// The `sync_runs` row.
    pub run_id: i64,
    /// Counts so far.
    pub progress: SyncProgress,
    /// First instant covered.
    pub window_start: DateTime<Utc>,
    /// Last instant covered.
    pub window_end: DateTime<Utc>,
    /// How the dataset read Amazon, if it has several ways (`full`, `skus`…).
    pub scan: Option<&'static str>,
    /// Rows marked gone.
    pub marked_gone: u64,
    /// Scans started again (an expired page token).
    pub restarts: u64,
    /// What a person should know about the run.
    pub notes: Vec<String>,
    /// AFN SKUs whose orders were new or changed, by marketplace.
    pub stock_skus: BTreeSet<(String, String)>,
}

impl RunState {
    /// Stops the run if it was cancelled or its lease was lost.
    pub fn check(&self, options: &SyncOptions, lost: &CancellationToken) -> Result<(), SyncError> {
        if options.cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        if lost.is_cancelled() {
            return Err(SyncError::LeaseLost);
        }
        Ok(())
    }

    /// Records the client's spending and tells the progress callback.
    pub fn report(&mut self, options: &SyncOptions, spent: &ClientStats) {
        self.progress.api_calls = spent.total_calls();
        self.progress.quota_wait_ms = spent.limiter_wait_ms + spent.backoff_wait_ms;
        if let Some(cb) = &options.progress {
            cb(&self.progress);
        }
    }
}

/// One dataset plugged into the runner.
#[async_trait::async_trait]
pub(crate) trait Dataset: Sync {
    /// What `sync_runs.kind` records.
    const KIND: SyncKind;
    /// The lease the dataset's runs share.
    const LEASE: &'static str;

    /// The API version recorded on the run, if the dataset has several.
    fn api_version(&self) -> Option<String> {
        None
    }

    /// Whether the run writes child items (orders' items).
    fn include_items(&self) -> bool {
        false
    }

    /// The client's counters (the run records what it spent).
    fn stats(&self) -> ClientStats;

    /// The dataset's work: fetch, compare and write, page by page, until done,
    /// cancelled (`options.cancel`) or the lease is `lost`.
    async fn sync(
        &self,
        db: &DatabaseConnection,
        options: &SyncOptions,
        lost: &CancellationToken,
        state: &mut RunState,
    ) -> Result<(), SyncError>;

    /// After the run row is final (not in dry runs): whatever else records the run.
    async fn finished(
        &self,
        _db: &DatabaseConnection,
        _outcome: &SyncOutcome,
        _at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        Ok(())
    }
}

/// Runs one sync of a dataset.
///
/// # Errors
/// [`SyncError::AlreadyRunning`] when another run of the dataset holds the lease (no
/// run row is written); a database error when even the run row cannot be written.
/// Every other failure ends the run as failed or interrupted and is returned in the
/// outcome.
pub(crate) async fn run<D: Dataset>(
    db: &DatabaseConnection,
    dataset: &D,
    lease_ttl: Duration,
    options: SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let kind = D::KIND;
    let lease = Lease::acquire(db, D::LEASE, &lease::holder_id(), lease_ttl)
        .await
        .map_err(|e| match e {
            LeaseError::Held { holder, run_id, .. } => {
                tracing::info!(kind = kind.as_str(), ?run_id, %holder, "sync already running");
                SyncError::AlreadyRunning {
                    kind,
                    run_id,
                    holder,
                }
            }
            LeaseError::Lost => SyncError::LeaseLost,
            LeaseError::Database(e) => SyncError::Database(e),
        })?;
    if let Some(abandoned) = lease.taken_over_run() {
        mark_abandoned(db, abandoned).await?;
    }
    let started = Utc::now();
    let run = sync_runs::ActiveModel {
        kind: Set(kind),
        trigger: Set(options.trigger),
        status: Set(SyncStatus::Running),
        dry_run: Set(options.dry_run),
        include_items: Set(dataset.include_items()),
        api_version: Set(dataset.api_version()),
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
        let every = lease_ttl / 3;
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

    let stats_before = dataset.stats();
    let mut state = RunState {
        run_id: run.id,
        progress: SyncProgress::default(),
        window_start: started,
        window_end: started,
        scan: None,
        marked_gone: 0,
        restarts: 0,
        notes: Vec::new(),
        stock_skus: BTreeSet::new(),
    };
    let result = dataset.sync(db, &options, &lost, &mut state).await;
    renew_stop.cancel();
    let _ = renewer.await;

    let stats = dataset.stats().since(&stats_before);
    let (status, error) = match &result {
        Ok(()) => (SyncStatus::Succeeded, None),
        Err(SyncError::Cancelled) => (SyncStatus::Interrupted, Some("cancelled".to_owned())),
        Err(e) => (SyncStatus::Failed, Some(e.to_string())),
    };
    if let Some(e) = &error {
        tracing::error!(error = %e, run_id = run.id, kind = kind.as_str(), "sync ended without success");
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
        stock_skus: state.stock_skus.iter().cloned().collect(),
        notes: state.notes.clone(),
        stock_refresh_run_id: None,
    };
    let finished = Utc::now();
    let record = finish_run(db, run, &outcome, &stats, &options, &state, finished).await;
    let _ = lease.release().await;
    record?;
    if !options.dry_run {
        dataset.finished(db, &outcome, finished).await?;
    }
    tracing::info!(
        run_id = outcome.run_id,
        kind = kind.as_str(),
        status = ?outcome.status,
        pages = outcome.progress.pages,
        found = outcome.progress.found,
        inserted = outcome.progress.inserted,
        updated = outcome.progress.updated,
        unchanged = outcome.progress.unchanged,
        api_calls = outcome.api_calls,
        throttled = outcome.throttled,
        "sync finished"
    );
    Ok(outcome)
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
    state: &RunState,
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
    run.found = Set(as_i64(p.found));
    run.inserted = Set(as_i64(p.inserted));
    run.updated = Set(as_i64(p.updated));
    run.unchanged = Set(as_i64(p.unchanged));
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
        scan: state.scan.map(str::to_owned),
        marked_gone: state.marked_gone,
        restarts: state.restarts,
        notes: state.notes.clone(),
    };
    run.metadata = Set(Some(metadata.to_json()));
    run.finished_at = Set(Some(finished));
    run.update(db).await.map(|_| ())
}

/// The connection's marketplaces, with Amazon's clock learnt first (the cheap
/// Sellers call, never a dataset's quota) when no answer has shown it yet, so a
/// skewed local clock neither asks for the future nor misses records.
///
/// # Errors
/// [`SyncError::Account`] when the connection lists no marketplace; the Sellers
/// call's failure.
pub(crate) async fn marketplaces(
    conn: &entity::amazon_connection::Model,
    api: &dyn crate::spapi::SpApi,
) -> Result<Vec<String>, SyncError> {
    let marketplace_ids = conn.marketplace_id_list();
    if marketplace_ids.is_empty() {
        return Err(SyncError::Account(
            crate::amazon_account::AccountError::NotConfigured(
                "the Amazon connection lists no marketplace ids",
            ),
        ));
    }
    if !api.clock_known() {
        api.marketplace_participations().await?;
    }
    Ok(marketplace_ids)
}
