//! Owner-only actions that talk to Amazon: the SP-API ping and the syncs.

use super::connection::AmazonConnection;
use super::sync_runs::SyncRun;
use super::{ApiError, OwnerOnly, api_context};
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use entity::enums::SyncTrigger;
use entity::sync_runs;
use sea_orm::{DatabaseConnection, EntityTrait};
use service::sync::{Failure, InventoryScan, StartError, SyncOptions, SyncRequest};

/// Ping and sync.
#[derive(Default)]
pub struct SyncMutation;

async fn run_row(db: &DatabaseConnection, id: i64) -> Result<SyncRun, ApiError> {
    sync_runs::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(SyncRun::from)
        .ok_or(ApiError::Internal)
}

/// Starts a sync in the background and answers its run as RUNNING, or, with
/// `wait`, the finished run (or the error Amazon ended it with).
pub(super) async fn start(
    ctx: &Context<'_>,
    request: SyncRequest,
    options: SyncOptions,
    wait: bool,
) -> Result<SyncRun, ApiError> {
    let api = api_context(ctx)?;
    let started = api
        .syncer
        .start(request, options)
        .await
        .map_err(|e| match e {
            StartError::Sync(e) => ApiError::from(e),
            thread @ StartError::Thread(_) => ApiError::internal("the sync could not run", &thread),
        })?;
    if !wait {
        return run_row(&api.db, started.run_id).await;
    }
    let outcome = match started.outcome.await {
        Ok(result) => result?,
        Err(e) => return Err(ApiError::internal("the sync task failed", &e)),
    };
    let message = outcome.error.clone().unwrap_or_default();
    match outcome.failure {
        Some(Failure::AmazonAuth) => Err(ApiError::SpApiAuthFailed {
            run_id: outcome.run_id,
            message,
        }),
        Some(Failure::AmazonUnavailable) => Err(ApiError::SpApiUnavailable {
            run_id: outcome.run_id,
            message,
        }),
        Some(Failure::Other) | None => run_row(&api.db, outcome.run_id).await,
    }
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
        let endpoints = api.syncer.config().endpoints;
        service::ping::ping_sp_api(&api.db, &api.encryption_key, endpoints).await?;
        AmazonConnection::load(api).await?.ok_or(ApiError::Internal)
    }

    /// Starts an orders sync in the background and returns its run as RUNNING; with
    /// `wait: true`, returns the finished run, or, when Amazon ended it, the error
    /// `SPAPI_AUTH_FAILED` (re-authorize) or `SPAPI_UNAVAILABLE` (try later) with the
    /// failed run's id as `runId` in the extensions. `dryRun` reads Amazon and the database
    /// and writes nothing but the run; `includeItems: false` writes no items;
    /// `since` starts from that instant instead of the stored watermark. While the
    /// worker's scheduled run (its freshness loop) holds the orders lease, the sync
    /// waits for that run to end (up to 30 s) and runs next; while another requested
    /// sync runs: `SYNC_ALREADY_RUNNING`, with `runningRunId` in the extensions.
    /// When the run saw new or changed FBA orders, an inventory run refreshes the
    /// stock of their SKUs right after it.
    #[graphql(guard = "OwnerOnly")]
    async fn sync_amazon_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = true)] include_items: bool,
        since: Option<DateTime<Utc>>,
        #[graphql(default = false)] wait: bool,
    ) -> Result<SyncRun, ApiError> {
        service::sync::check_since(since, chrono::Utc::now()).map_err(ApiError::BadUserInput)?;
        let options = SyncOptions {
            dry_run,
            include_items,
            since,
            trigger: SyncTrigger::Manual,
            ..SyncOptions::default()
        };
        start(ctx, SyncRequest::Orders, options, wait).await
    }

    /// Starts an FBA inventory sync (`kind: INVENTORY`) like `syncAmazonOrders`,
    /// with the same errors. By default it reads only what Amazon changed since the
    /// last run (a full scan the first time); `full: true` reads every SKU and marks
    /// the SKUs Amazon no longer returns as gone. `dryRun` writes nothing but the run.
    #[graphql(guard = "OwnerOnly")]
    async fn sync_amazon_inventory(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = false)] full: bool,
        #[graphql(default = false)] wait: bool,
    ) -> Result<SyncRun, ApiError> {
        let options = SyncOptions {
            dry_run,
            include_items: false,
            trigger: SyncTrigger::Manual,
            ..SyncOptions::default()
        };
        let scan = if full {
            InventoryScan::Full
        } else {
            InventoryScan::Incremental
        };
        start(ctx, SyncRequest::Inventory(scan), options, wait).await
    }

    /// Starts a financial transactions sync (`kind: TRANSACTIONS`) like
    /// `syncAmazonOrders`, with the same errors. By default it reads what Amazon
    /// posted since the watermark, less 48 hours for late postings; `since` reads
    /// again from that instant (a back-fill, or a re-pull that catches status
    /// changes). `dryRun` writes nothing but the run.
    #[graphql(guard = "OwnerOnly")]
    async fn sync_amazon_transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] dry_run: bool,
        since: Option<DateTime<Utc>>,
        #[graphql(default = false)] wait: bool,
    ) -> Result<SyncRun, ApiError> {
        service::sync::check_since(since, chrono::Utc::now()).map_err(ApiError::BadUserInput)?;
        let options = SyncOptions {
            dry_run,
            include_items: false,
            since,
            trigger: SyncTrigger::Manual,
            ..SyncOptions::default()
        };
        start(ctx, SyncRequest::Transactions, options, wait).await
    }
}
