//! Owner-only actions that talk to Amazon: the SP-API ping and the orders sync.

use super::connection::AmazonConnection;
use super::sync_runs::SyncRun;
use super::{ApiError, OwnerOnly, api_context};
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use entity::enums::SyncTrigger;
use entity::sync_runs;
use sea_orm::{DatabaseConnection, EntityTrait};
use service::sync::{Failure, SyncError, SyncOptions, SyncProgress};
use std::sync::{Arc, Mutex, PoisonError};

/// Ping and sync.
#[derive(Default)]
pub struct SyncMutation;

/// The runtime the api's syncs run on: one thread of its own, beside the runtime
/// that answers requests.
///
/// A sync decodes Amazon's pages and builds its writes between one await and the
/// next, for milliseconds at a time; on the requests' runtime every page request
/// that became ready meanwhile waited for it, which the operating system cannot
/// preempt (a sync running beside the load test put 2.3 ms on a page's p99 that
/// the same sync in the worker's process did not: docs/PERFORMANCE.md). On its own
/// thread it is scheduled against the requests by the kernel. Started by the first
/// sync and kept for the life of the process; the database pool is shared.
fn sync_runtime() -> Result<&'static tokio::runtime::Handle, ApiError> {
    static RUNTIME: std::sync::LazyLock<Result<tokio::runtime::Handle, String>> =
        std::sync::LazyLock::new(start_sync_runtime);
    RUNTIME.as_ref().map_err(|e| {
        tracing::error!(error = %e, "the sync runtime could not be started");
        ApiError::Internal
    })
}

fn start_sync_runtime() -> Result<tokio::runtime::Handle, String> {
    let (started, handle) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("api-sync".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => {
                    let _ = started.send(Ok(runtime.handle().clone()));
                    runtime.block_on(std::future::pending::<()>());
                }
                Err(e) => {
                    let _ = started.send(Err(e));
                }
            }
        })
        .map_err(|e| format!("cannot start its thread: {e}"))?;
    handle
        .recv()
        .map_err(|e| format!("its thread ended: {e}"))?
        .map_err(|e| format!("cannot build it: {e}"))
}

async fn run_row(db: &DatabaseConnection, id: i64) -> Result<SyncRun, ApiError> {
    sync_runs::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(SyncRun::from)
        .ok_or(ApiError::Internal)
}

#[Object]
impl SyncMutation {
    /// Checks the stored credentials with Amazon: an LWA token exchange plus
    /// `getMarketplaceParticipations` (the Sellers quota, never the orders quota).
    /// The result is recorded on the connection (`lastCheckAt`, `lastCheckOk`,
    /// `lastCheckError`); Amazon refusing is a result, not an error.
    #[graphql(guard = "OwnerOnly")]
    async fn ping_sp_api(&self, ctx: &Context<'_>) -> Result<AmazonConnection, ApiError> {
        let api = api_context(ctx)?;
        service::ping::ping_sp_api(&api.db, &api.encryption_key, api.sync.endpoints).await?;
        AmazonConnection::load(api).await?.ok_or(ApiError::Internal)
    }

    /// Starts an orders sync in the background and returns its run as RUNNING; with
    /// `wait: true`, returns the finished run, or, when Amazon ended it, the error
    /// `SPAPI_AUTH_FAILED` (re-authorize) or `SPAPI_UNAVAILABLE` (try later) with the
    /// failed run's id as `runId` in the extensions. `dryRun` reads Amazon and the database
    /// and writes nothing but the run; `includeItems: false` writes no items;
    /// `since` starts from that instant instead of the stored watermark. While a
    /// sync runs: `SYNC_ALREADY_RUNNING`, with `runningRunId` in the extensions.
    #[graphql(guard = "OwnerOnly")]
    async fn sync_amazon_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = true)] include_items: bool,
        since: Option<DateTime<Utc>>,
        #[graphql(default = false)] wait: bool,
    ) -> Result<SyncRun, ApiError> {
        let api = api_context(ctx)?;
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<i64>();
        let started_tx = Mutex::new(Some(started_tx));
        let (progress_tx, progress_rx) = tokio::sync::watch::channel(SyncProgress::default());
        let live = api.live.clone();
        let publish = api.live.clone();
        let options = SyncOptions {
            dry_run,
            include_items,
            since,
            trigger: SyncTrigger::Manual,
            cancel: api.shutdown.child_token(),
            progress: Some(Arc::new(move |p: &SyncProgress| {
                progress_tx.send_replace(p.clone());
            })),
            on_start: Some(Arc::new(move |id| {
                publish.insert(id, progress_rx.clone());
                if let Some(tx) = started_tx
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                {
                    let _ = tx.send(id);
                }
            })),
        };
        let db = api.db.clone();
        let key = Arc::clone(&api.encryption_key);
        let sync_settings = api.sync.clone();
        let mut task = api.tasks.spawn_on(
            async move {
                let result =
                    service::sync::run_orders_sync(&db, &key, &sync_settings, options).await;
                if let Ok(outcome) = &result {
                    live.remove(outcome.run_id);
                }
                result
            },
            sync_runtime()?,
        );

        let finished = |joined: Result<
            Result<service::sync::SyncOutcome, SyncError>,
            tokio::task::JoinError,
        >| {
            match joined {
                Ok(result) => result.map_err(ApiError::from),
                Err(e) => Err(ApiError::internal("the sync task failed", &e)),
            }
        };
        if wait {
            let outcome = finished(task.await)?;
            let message = outcome.error.clone().unwrap_or_default();
            return match outcome.failure {
                Some(Failure::AmazonAuth) => Err(ApiError::SpApiAuthFailed {
                    run_id: outcome.run_id,
                    message,
                }),
                Some(Failure::AmazonUnavailable) => Err(ApiError::SpApiUnavailable {
                    run_id: outcome.run_id,
                    message,
                }),
                Some(Failure::Other) | None => run_row(&api.db, outcome.run_id).await,
            };
        }
        tokio::select! {
            started = started_rx => match started {
                Ok(id) => run_row(&api.db, id).await,
                // The run ended before it started: the task has the reason.
                Err(_) => {
                    let outcome = finished(task.await)?;
                    run_row(&api.db, outcome.run_id).await
                }
            },
            joined = &mut task => {
                let outcome = finished(joined)?;
                run_row(&api.db, outcome.run_id).await
            }
        }
    }
}
