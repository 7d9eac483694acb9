//! `sync_runs`: one row per sync run and what it did.

use crate::enums::{SyncKind, SyncStatus, SyncTrigger};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What was synced.
    pub kind: SyncKind,
    pub trigger: SyncTrigger,
    pub status: SyncStatus,
    pub dry_run: bool,
    pub include_items: bool,
    pub api_version: Option<String>,
    pub window_start: Option<DateTimeUtc>,
    pub window_end: Option<DateTimeUtc>,
    pub pages: i64,
    pub api_calls: i64,
    /// 429 responses seen.
    pub throttled: i64,
    /// Records Amazon returned (orders, inventory summaries…).
    pub found: i64,
    /// Records new to us.
    pub inserted: i64,
    /// Records that changed.
    pub updated: i64,
    /// Records already up to date.
    pub unchanged: i64,
    pub items_upserted: i64,
    pub error: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub metadata: Option<Json>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
