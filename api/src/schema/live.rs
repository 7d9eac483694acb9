//! `syncRunUpdated(id)`: a run's progress pushed to the subscriber until it ends.
//! `ordersChanged`: every orders page committed, by any process, as it commits.
//!
//! A run started by this api process publishes its counters after every page through
//! its [`service::sync::Syncer`]; a run started elsewhere (the worker) is followed through its
//! `sync_runs` row, which shows it running and then finished. Committed orders pages
//! come from [`service::sync::changes`] (PostgreSQL notifications, SQLite polling).

use super::sync_runs::{SyncRun, SyncRunStatus};
use super::{ApiError, SignedIn, api_context};
use async_graphql::{Context, ID, SimpleObject, Subscription};
use entity::sync_runs;
use futures_util::Stream;
use sea_orm::{DatabaseConnection, EntityTrait};
use service::sync::SyncProgress;
use std::time::Duration;

/// How often a run without live progress is looked up again.
const POLL: Duration = Duration::from_millis(500);

struct Follow {
    db: DatabaseConnection,
    syncer: service::sync::Syncer,
    run_id: i64,
    last: Option<(i64, i64, i64, SyncRunStatus)>,
    first: bool,
    done: bool,
}

fn with_progress(mut run: SyncRun, p: &SyncProgress) -> SyncRun {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    run.pages = n(p.pages);
    run.set_counts(n(p.found), n(p.inserted), n(p.updated), n(p.unchanged));
    run.items_upserted = n(p.items_upserted);
    run.api_calls = n(p.api_calls);
    run
}

async fn next(mut f: Follow) -> Option<(SyncRun, Follow)> {
    loop {
        if f.done {
            return None;
        }
        if !f.first {
            match f.syncer.progress_of(f.run_id) {
                Some(mut rx) => {
                    let _ = tokio::time::timeout(POLL * 2, rx.changed()).await;
                }
                None => tokio::time::sleep(POLL).await,
            }
        }
        f.first = false;
        let row = match sync_runs::Entity::find_by_id(f.run_id).one(&f.db).await {
            Ok(Some(row)) => row,
            Ok(None) | Err(_) => return None,
        };
        let mut run = SyncRun::from(row);
        if run.status == SyncRunStatus::Running {
            if let Some(rx) = f.syncer.progress_of(f.run_id) {
                run = with_progress(run, &rx.borrow());
            }
        } else {
            f.done = true;
        }
        let key = (run.pages, run.found, run.items_upserted, run.status);
        if f.last != Some(key) || f.done {
            f.last = Some(key);
            return Some((run, f));
        }
    }
}

/// One page of orders an orders run committed.
#[derive(SimpleObject, Debug, Clone)]
pub struct OrdersChangedEvent {
    /// The run that wrote the page (`SyncRun.id`).
    pub run_id: ID,
    /// Orders new to us in the page.
    pub inserted: i64,
    /// Orders of the page that changed.
    pub updated: i64,
    /// Amazon's ids of the page's new and changed orders.
    pub amazon_order_ids: Vec<String>,
}

impl From<service::sync::changes::OrdersChanged> for OrdersChangedEvent {
    fn from(e: service::sync::changes::OrdersChanged) -> Self {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Self {
            run_id: ID(e.run_id.to_string()),
            inserted: n(e.inserted),
            updated: n(e.updated),
            amazon_order_ids: e.amazon_order_ids,
        }
    }
}

/// Subscriptions.
#[derive(Default)]
pub struct SyncSubscription;

#[Subscription]
impl SyncSubscription {
    /// The run's state now, then after every page it commits, and once more when it
    /// ends (SUCCEEDED, FAILED or INTERRUPTED), after which the stream closes.
    /// `NOT_FOUND` when there is no such run.
    #[graphql(guard = "SignedIn")]
    async fn sync_run_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = SyncRun>, ApiError> {
        let api = api_context(ctx)?;
        let not_found = || ApiError::NotFound(format!("no sync run {:?}", id.as_str()));
        let run_id: i64 = id.parse().map_err(|_| not_found())?;
        sync_runs::Entity::find_by_id(run_id)
            .one(&api.db)
            .await?
            .ok_or_else(not_found)?;
        let follow = Follow {
            db: api.db.clone(),
            syncer: api.syncer.clone(),
            run_id,
            last: None,
            first: true,
            done: false,
        };
        Ok(futures_util::stream::unfold(follow, next))
    }

    /// An event after every page of orders an orders run commits, whichever process
    /// runs it (the worker's freshness loop, a manual sync, the CLI), from the
    /// moment of subscribing on; the stream stays open. A subscriber too slow to
    /// keep up skips the events it fell behind on (the orders are in the database).
    #[graphql(guard = "SignedIn")]
    async fn orders_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = OrdersChangedEvent>, ApiError> {
        let api = api_context(ctx)?;
        let rx = api.syncer.orders_changed();
        Ok(futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((OrdersChangedEvent::from(e), rx)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }))
    }
}
