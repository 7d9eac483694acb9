//! `worker run`: the loop around one testable pass, `service::sync::run_orders_sync`.
//! It adds the schedule, back-off after failures and shutdown; it never dies of a
//! failed sync.

use crate::schedule::{COMPREHENSIVE_SPAN, Job, Schedule};
use chrono::Utc;
use entity::enums::{SyncStatus, SyncTrigger};
use sea_orm::DatabaseConnection;
use service::Settings;
use service::sync::{SyncError, SyncOptions};
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

/// Runs scheduled syncs until `shutdown` is cancelled. A restart resumes from the
/// watermark: the first incremental sync runs at once.
pub async fn scheduler(db: &DatabaseConnection, settings: &Settings, shutdown: CancellationToken) {
    let schedule = Schedule {
        interval: chrono::Duration::from_std(settings.sync_interval)
            .unwrap_or(chrono::Duration::minutes(15)),
        comprehensive_hour: settings.comprehensive_sync_hour,
        tz: settings.seller_timezone,
    };
    let mut next_incremental = Utc::now();
    let mut next_comprehensive = schedule.next_comprehensive(Utc::now());
    let mut failures = 0u32;
    tracing::info!(
        interval_secs = schedule.interval.num_seconds(),
        comprehensive_at = %next_comprehensive,
        "scheduler started"
    );
    loop {
        let (due, job) = Schedule::next_job(next_incremental, next_comprehensive);
        let wait = (due - Utc::now()).to_std().unwrap_or_default();
        // Alerts are also evaluated on a timer, so "no new order" or a stale sync is
        // noticed between runs.
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait.min(ALERT_EVERY)) => {}
        }
        if Utc::now() < due {
            check_alerts(db, settings).await;
            continue;
        }
        let since = match job {
            Job::Incremental => None,
            Job::Comprehensive => Some(Utc::now() - COMPREHENSIVE_SPAN),
        };
        let options = SyncOptions {
            since,
            trigger: SyncTrigger::Schedule,
            cancel: shutdown.child_token(),
            ..SyncOptions::default()
        };
        let result = service::sync::run_orders_sync_tuned(
            db,
            &settings.encryption_key,
            &settings.sync_tuning,
            options,
        )
        .await;
        check_alerts(db, settings).await;
        let now = Utc::now();
        let ok = match &result {
            Ok(o) if o.status == SyncStatus::Succeeded => true,
            Ok(o) if o.status == SyncStatus::Interrupted && shutdown.is_cancelled() => break,
            Ok(o) => {
                tracing::warn!(
                    run_id = o.run_id,
                    error = o.error.as_deref().unwrap_or(""),
                    ?job,
                    "scheduled sync failed"
                );
                false
            }
            Err(SyncError::AlreadyRunning { run_id, holder }) => {
                tracing::info!(?run_id, %holder, ?job, "a sync is already running elsewhere; skipped");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, ?job, "scheduled sync could not run");
                false
            }
        };
        if ok {
            failures = 0;
            next_incremental = now + schedule.interval;
            if job == Job::Comprehensive {
                next_comprehensive = schedule.next_comprehensive(now);
            }
        } else {
            failures += 1;
            let retry = now + schedule.retry_after(failures);
            tracing::info!(failures, retry_at = %retry, "will retry");
            next_incremental = retry;
            if job == Job::Comprehensive {
                next_comprehensive = retry;
            }
        }
    }
    tracing::info!("scheduler stopped");
}
