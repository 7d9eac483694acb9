//! The history of sync runs: `syncRuns` (newest first, paged) and `syncRun(id)`.

use super::paging::{PageInfo, decode_id, encode_id, page_rows, page_size};
use super::versions::OrdersApiVersion;
use super::{ApiError, SignedIn, api_context};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::{self, SyncStatus, SyncTrigger};
use entity::sync_runs;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// Most runs one page may hold.
pub const MAX_PAGE: i32 = 100;
const CURSOR_KIND: &str = "run";

/// Where a sync run stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncRunStatus {
    /// Started and not yet finished.
    #[graphql(name = "RUNNING")]
    Running,
    /// Finished; everything it read is saved.
    #[graphql(name = "SUCCEEDED")]
    Succeeded,
    /// Stopped on an error (see `error`).
    #[graphql(name = "FAILED")]
    Failed,
    /// Cut short (shutdown or cancel); the next run resumes.
    #[graphql(name = "INTERRUPTED")]
    Interrupted,
}

impl SyncRunStatus {
    /// Reads a stored status (`succeeded`, `SUCCEEDED`, …).
    #[must_use]
    pub fn parse(stored: &str) -> Option<Self> {
        Some(match stored.trim().to_ascii_lowercase().as_str() {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "interrupted" => Self::Interrupted,
            _ => return None,
        })
    }
}

impl From<SyncStatus> for SyncRunStatus {
    fn from(s: SyncStatus) -> Self {
        match s {
            SyncStatus::Running => Self::Running,
            SyncStatus::Succeeded => Self::Succeeded,
            SyncStatus::Failed => Self::Failed,
            SyncStatus::Interrupted => Self::Interrupted,
        }
    }
}

/// Which dataset a run brought in.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncKind {
    /// Orders and their items.
    #[graphql(name = "ORDERS")]
    Orders,
    /// FBA inventory summaries.
    #[graphql(name = "INVENTORY")]
    Inventory,
    /// Financial transactions.
    #[graphql(name = "TRANSACTIONS")]
    Transactions,
    /// The listings catalog.
    #[graphql(name = "LISTINGS")]
    Listings,
}

impl From<enums::SyncKind> for SyncKind {
    fn from(k: enums::SyncKind) -> Self {
        match k {
            enums::SyncKind::Orders => Self::Orders,
            enums::SyncKind::Inventory => Self::Inventory,
            enums::SyncKind::Transactions => Self::Transactions,
            enums::SyncKind::Listings => Self::Listings,
        }
    }
}

/// What started a sync run.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncRunTrigger {
    /// A person, through the API.
    #[graphql(name = "MANUAL")]
    Manual,
    /// The worker's schedule.
    #[graphql(name = "SCHEDULE")]
    Schedule,
    /// `worker sync` on the command line.
    #[graphql(name = "CLI")]
    Cli,
    /// Demo mode.
    #[graphql(name = "DEMO")]
    Demo,
}

impl From<SyncTrigger> for SyncRunTrigger {
    fn from(t: SyncTrigger) -> Self {
        match t {
            SyncTrigger::Manual => Self::Manual,
            SyncTrigger::Schedule => Self::Schedule,
            SyncTrigger::Cli => Self::Cli,
            SyncTrigger::Demo => Self::Demo,
        }
    }
}

/// One sync run and what it did.
#[derive(SimpleObject, Debug)]
pub struct SyncRun {
    /// The run's id.
    pub id: ID,
    /// Which dataset it brought in.
    pub kind: SyncKind,
    /// Where it stands.
    pub status: SyncRunStatus,
    /// What started it.
    pub trigger: SyncRunTrigger,
    /// Read only, wrote nothing.
    pub dry_run: bool,
    /// Whether order items were read too.
    pub include_items: bool,
    /// The Orders API it spoke.
    pub api_version: Option<OrdersApiVersion>,
    /// Start of the window of last-update times it read.
    pub window_start: Option<DateTime<Utc>>,
    /// End of that window.
    pub window_end: Option<DateTime<Utc>>,
    /// Pages read.
    pub pages: i64,
    /// SP-API calls made.
    pub api_calls: i64,
    /// 429 (throttled) responses seen.
    pub throttled: i64,
    /// Records read: orders, inventory summaries…, by `kind`.
    pub found: i64,
    /// Records new to the database.
    pub inserted: i64,
    /// Records that had changed.
    pub updated: i64,
    /// Records that had not changed.
    pub unchanged: i64,
    /// Orders read (`found` of an orders run; 0 for other datasets).
    pub orders_found: i64,
    /// Orders new to the database (0 for other datasets).
    pub orders_inserted: i64,
    /// Orders that had changed (0 for other datasets).
    pub orders_updated: i64,
    /// Orders that had not changed (0 for other datasets).
    pub orders_unchanged: i64,
    /// Items written.
    pub items_upserted: i64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// What a person should know about the run, e.g. that Amazon reports no FBA
    /// inventory in a marketplace.
    pub notes: Vec<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; null while running.
    pub finished_at: Option<DateTime<Utc>>,
}

impl SyncRun {
    /// Sets the counts, generic and (for an orders run) orders-named.
    pub(crate) fn set_counts(&mut self, found: i64, inserted: i64, updated: i64, unchanged: i64) {
        self.found = found;
        self.inserted = inserted;
        self.updated = updated;
        self.unchanged = unchanged;
        let orders = matches!(self.kind, SyncKind::Orders);
        let only = |n: i64| if orders { n } else { 0 };
        self.orders_found = only(found);
        self.orders_inserted = only(inserted);
        self.orders_updated = only(updated);
        self.orders_unchanged = only(unchanged);
    }
}

impl From<sync_runs::Model> for SyncRun {
    fn from(r: sync_runs::Model) -> Self {
        let mut run = Self {
            id: ID(r.id.to_string()),
            kind: r.kind.into(),
            status: r.status.into(),
            trigger: r.trigger.into(),
            dry_run: r.dry_run,
            include_items: r.include_items,
            api_version: match r.api_version.as_deref() {
                Some("2026-01-01") => Some(OrdersApiVersion::V2026_01_01),
                Some("v0") => Some(OrdersApiVersion::V0),
                _ => None,
            },
            window_start: r.window_start,
            window_end: r.window_end,
            pages: r.pages,
            api_calls: r.api_calls,
            throttled: r.throttled,
            found: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            orders_found: 0,
            orders_inserted: 0,
            orders_updated: 0,
            orders_unchanged: 0,
            items_upserted: r.items_upserted,
            notes: service::sync::RunMetadata::of(&r)
                .map(|m| m.notes)
                .unwrap_or_default(),
            error: r.error,
            started_at: r.started_at,
            finished_at: r.finished_at,
        };
        run.set_counts(r.found, r.inserted, r.updated, r.unchanged);
        run
    }
}

/// One run in a page, with its cursor.
#[derive(SimpleObject)]
pub struct SyncRunEdge {
    /// The run.
    pub node: SyncRun,
    /// Pass as `after` to continue after this run.
    pub cursor: String,
}

/// A page of sync runs.
#[derive(SimpleObject)]
pub struct SyncRunConnection {
    /// The runs of this page, newest first.
    pub edges: Vec<SyncRunEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
    /// How many runs there are in all.
    pub total_count: u64,
}

/// Reading sync runs.
#[derive(Default)]
pub struct SyncRunsQuery;

#[Object]
impl SyncRunsQuery {
    /// Sync runs, newest first, `first` at a time (at most 100).
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<SyncRunConnection, ApiError> {
        let db = &api_context(ctx)?.db;
        let limit = page_size(first, MAX_PAGE)?;
        let total_count = sync_runs::Entity::find().count(db).await?;
        let mut q = sync_runs::Entity::find();
        if let Some(after) = &after {
            q = q.filter(sync_runs::Column::Id.lt(decode_id(CURSOR_KIND, after)?));
        }
        let mut rows = q
            .order_by_desc(sync_runs::Column::Id)
            .limit(limit + 1)
            .all(db)
            .await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let edges: Vec<SyncRunEdge> = rows
            .into_iter()
            .map(|r| SyncRunEdge {
                cursor: encode_id(CURSOR_KIND, r.id),
                node: r.into(),
            })
            .collect();
        Ok(SyncRunConnection {
            page_info: PageInfo::of(
                has_next_page,
                after.is_some(),
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
            total_count,
        })
    }

    /// One sync run. `NOT_FOUND` when there is no such run.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn sync_run(&self, ctx: &Context<'_>, id: ID) -> Result<Option<SyncRun>, ApiError> {
        let db = &api_context(ctx)?.db;
        let not_found = || ApiError::NotFound(format!("no sync run {:?}", id.as_str()));
        let run_id: i64 = id.parse().map_err(|_| not_found())?;
        let run = sync_runs::Entity::find_by_id(run_id)
            .one(db)
            .await?
            .ok_or_else(not_found)?;
        Ok(Some(run.into()))
    }
}
