//! `worker run`: the loop around one testable pass, `service::sync::Syncer::run`.
//! It adds the schedule, the quota check, back-off after failures and shutdown; it
//! never dies of a failed sync. The freshness loop's entry asks
//! `service::sync::freshness::decide` before each poll; one `Syncer` (so one orders
//! client, and Amazon's clock learnt from its answers) lives as long as the loop.

use crate::schedule::{COMPREHENSIVE_SPAN, Job, Schedule};
use chrono::{DateTime, Utc};
use entity::enums::{OrdersApiVersion, SyncStatus, SyncTrigger};
use sea_orm::DatabaseConnection;
use service::Settings;
use service::amazon_account::EncryptionKey;
use service::listings::{PushError, PushMode};
use service::spapi::Operation;
use service::sync::budget::{self, Budget};
use service::sync::freshness::{self, Decision, Why};
use service::sync::{InventoryScan, ListingsScan, SyncError, SyncOptions, SyncRequest, Syncer};
use tokio_util::sync::CancellationToken;

/// How often alerts are evaluated while waiting for the next run.
const ALERT_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Records alert transitions and sends them to the webhook, never failing the loop.
async fn check_alerts(db: &DatabaseConnection, settings: &Settings) {
    match service::monitor::evaluate(db, &settings.alerts).await {
        Ok(transitions) => {
            service::monitor::notify(settings.alerts.webhook_url.as_deref(), transitions);
        }
        Err(e) => tracing::warn!(error = %e, "could not evaluate the sync alerts"),
    }
}

/// The orders operation's bucket, when Amazon's quota for it is spent: a run now
/// would only queue behind Amazon's bucket (or draw 429s), so it is skipped.
async fn spent_quota(db: &DatabaseConnection, now: DateTime<Utc>) -> Option<Budget> {
    let conn = match service::amazon_account::get(db).await {
        Ok(Some(conn)) => conn,
        // No connection: the sync itself says what is missing.
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the connection for the quota check");
            return None;
        }
    };
    let op = match conn.orders_api_version {
        OrdersApiVersion::V2026_01_01 => Operation::SearchOrders,
        OrdersApiVersion::V0 => Operation::GetOrders,
    };
    match budget::estimate(db, op, now).await {
        Ok(b) if !b.allows(1.0) => Some(b),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "could not estimate the quota left; running anyway");
            None
        }
    }
}

/// The freshness loop's decision at `now`, for the connection's orders API version,
/// with the bucket it saw. Without a connection it polls: the sync then says what
/// is missing.
async fn fresh_decision(
    db: &DatabaseConnection,
    plan: &freshness::Plan,
    now: DateTime<Utc>,
    last_poll: Option<DateTime<Utc>>,
) -> (Decision, Option<Budget>) {
    let version = match service::amazon_account::get(db).await {
        Ok(Some(conn)) => conn.orders_api_version,
        Ok(None) => return (Decision::Poll, None),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the connection for the freshness loop");
            return (Decision::Poll, None);
        }
    };
    match freshness::observe(db, version, now).await {
        Ok(obs) => (freshness::decide(plan, &obs, last_poll), Some(obs.budget)),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the quota and the lease; polling anyway");
            (Decision::Poll, None)
        }
    }
}

/// How close to Amazon's "now minus two minutes" the freshness loop reads. The
/// client knows Amazon's clock from the `Date` of its last answer, which is whole
/// seconds and never ahead of Amazon, so a few seconds are margin enough; the 30 s
/// of the default would add 30 s to every order's lag.
const FRESH_END_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Moves the queue of listing changes until `shutdown` is cancelled: a push pass
/// every `LISTINGS_POLL_SECS` while changes wait to be sent or to show on Amazon
/// (none otherwise). It runs beside the scheduled syncs (the listings quota is
/// its own); a pass running elsewhere (the api) is skipped, not doubled.
pub async fn pusher(db: &DatabaseConnection, settings: &Settings, shutdown: CancellationToken) {
    let syncer = Syncer::new(
        db.clone(),
        std::sync::Arc::new(EncryptionKey::from_bytes(*settings.encryption_key.expose())),
        settings.sync.clone(),
    );
    let every = settings.sync.listings_poll_interval;
    let mut pusher = service::listings::Pusher::for_syncer(&syncer);
    loop {
        match service::listings::has_work(db).await {
            Ok(false) => {}
            Ok(true) => match pusher.pass(PushMode::Submit).await {
                Ok(report) if report.patches > 0 || report.in_flight > 0 => {
                    tracing::info!(
                        patches = report.patches,
                        done = report.done,
                        conflicts = report.conflicts,
                        not_applied = report.not_applied,
                        failed = report.failed,
                        in_flight = report.in_flight,
                        "listing changes pushed"
                    );
                }
                Ok(_) | Err(PushError::Busy) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the push of listing changes failed; trying again")
                }
            },
            Err(e) => tracing::warn!(error = %e, "could not read the listing changes queue"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Runs scheduled syncs until `shutdown` is cancelled. A restart resumes from the
/// watermark: an interval entry runs at once.
pub async fn scheduler(
    db: &DatabaseConnection,
    settings: &Settings,
    schedule: &Schedule,
    shutdown: CancellationToken,
) {
    let mut config = settings.sync.clone();
    let fresh = (0..schedule.entries.len()).any(|i| schedule.is_fresh(i));
    if fresh {
        config.end_margin = config.end_margin.min(FRESH_END_MARGIN);
    }
    let plan = freshness::Plan {
        reserve: settings.worker.freshness_reserve,
        ..freshness::Plan::default()
    };
    let mut last_poll: Option<DateTime<Utc>> = None;
    let syncer = Syncer::new(
        db.clone(),
        std::sync::Arc::new(EncryptionKey::from_bytes(*settings.encryption_key.expose())),
        config.clone(),
    );
    let config = &config;
    let start = Utc::now();
    let mut due: Vec<DateTime<Utc>> = (0..schedule.entries.len())
        .map(|i| schedule.first(i, start))
        .collect();
    let mut failures = 0u32;
    let mut skipped_for_quota = 0u64;
    tracing::info!(
        plan = %schedule.describe(),
        lease_ttl_s = config.lease_ttl.as_secs(),
        freshness_reserve = fresh.then_some(plan.reserve),
        "scheduler started"
    );
    while let Some(i) = schedule.pick(&due) {
        let when = due[i];
        let job = schedule.entries[i].job;
        let wait = (when - Utc::now()).to_std().unwrap_or_default();
        // Alerts are also evaluated on a timer, so "no new order" or a stale sync is
        // noticed between runs.
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait.min(ALERT_EVERY)) => {}
        }
        if Utc::now() < when {
            check_alerts(db, settings).await;
            continue;
        }
        let now = Utc::now();
        if schedule.is_fresh(i) {
            match fresh_decision(db, &plan, now, last_poll).await {
                (Decision::Poll, _) => last_poll = Some(now),
                (Decision::Wait { until, why }, budget) => {
                    due[i] = until;
                    if why == Why::Reserve {
                        skipped_for_quota += 1;
                        tracing::warn!(
                            job = job.name(),
                            operation = budget.map(|b| b.operation.name()),
                            tokens = budget.map(|b| format!("{:.2}", b.tokens)),
                            reserve = plan.reserve,
                            next_at = %until,
                            skipped_for_quota,
                            "run skipped: Amazon's quota for the orders search is down to the reserve the freshness loop leaves to other runs"
                        );
                    } else {
                        tracing::debug!(?why, next_at = %until, "freshness loop waits");
                    }
                    continue;
                }
            }
        } else if job.is_orders()
            && let Some(b) = spent_quota(db, now).await
        {
            skipped_for_quota += 1;
            let refill = b.time_until(1.0);
            let retry = now + chrono::Duration::from_std(refill).unwrap_or(chrono::TimeDelta::MAX);
            due[i] = schedule.next(i, now).min(retry);
            tracing::warn!(
                job = job.name(),
                operation = b.operation.name(),
                tokens = format!("{:.2}", b.tokens),
                burst = b.burst,
                next_token_in_s = refill.as_secs(),
                next_at = %due[i],
                skipped_for_quota,
                "run skipped: Amazon's quota for this operation is spent, a run now would only wait for it"
            );
            continue;
        }
        let (request, since) = match job {
            Job::Incremental => (SyncRequest::Orders, None),
            Job::Comprehensive => (SyncRequest::Orders, Some(now - COMPREHENSIVE_SPAN)),
            Job::Inventory => (SyncRequest::Inventory(InventoryScan::Incremental), None),
            Job::InventoryFull => (SyncRequest::Inventory(InventoryScan::Full), None),
            Job::Transactions => (SyncRequest::Transactions, None),
            Job::TransactionsRepull => (
                SyncRequest::Transactions,
                Some(
                    now - chrono::Duration::days(i64::from(
                        settings.worker.transactions_repull_days,
                    )),
                ),
            ),
            Job::Listings => (SyncRequest::Listings(ListingsScan::Incremental), None),
            Job::ListingsFull => (SyncRequest::Listings(ListingsScan::Full), None),
        };
        let options = SyncOptions {
            since,
            trigger: SyncTrigger::Schedule,
            cancel: shutdown.child_token(),
            ..SyncOptions::default()
        };
        tracing::info!(job = job.name(), "scheduled sync starting");
        let result = syncer.run(request, options).await;
        check_alerts(db, settings).await;
        let now = Utc::now();
        let ok = match &result {
            Ok(o) if o.status == SyncStatus::Succeeded => true,
            Ok(o) if o.status == SyncStatus::Interrupted && shutdown.is_cancelled() => break,
            Ok(o) => {
                tracing::warn!(
                    run_id = o.run_id,
                    error = o.error.as_deref().unwrap_or(""),
                    job = job.name(),
                    "scheduled sync failed"
                );
                false
            }
            Err(SyncError::AlreadyRunning { run_id, holder, .. }) => {
                tracing::info!(
                    ?run_id,
                    %holder,
                    job = job.name(),
                    "a sync is already running elsewhere; skipped, not doubled"
                );
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, job = job.name(), "scheduled sync could not run");
                false
            }
        };
        if ok {
            failures = 0;
            // The run covered every entry already due that it includes: one of
            // the same job, and a narrower one of the same dataset.
            for (k, entry) in schedule.entries.iter().enumerate() {
                if k == i || (due[k] <= now && job.covers(entry.job)) {
                    due[k] = schedule.next(k, now);
                }
            }
        } else {
            failures += 1;
            let retry = now + schedule.retry_after(failures);
            tracing::info!(failures, retry_at = %retry, "will retry");
            due[i] = retry;
        }
    }
    tracing::info!(skipped_for_quota, "scheduler stopped");
}
