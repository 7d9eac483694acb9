//! `syncRunUpdated(id)`: a run's progress pushed to the subscriber until it ends.
//!
//! A run started by this api process publishes its counters after every page through
//! its [`service::sync::Syncer`]; a run started elsewhere (the worker) is followed through its
//! `sync_runs` row, which shows it running and then finished.

use super::sync_runs::{SyncRun, SyncRunStatus};
use super::{ApiError, SignedIn, api_context};
use async_graphql::{Context, ID, Subscription};
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
}
