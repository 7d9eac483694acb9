//! `sync_lease`: who may run a kind of job right now, until when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_lease")]
pub struct Model {
    /// The job, e.g. `orders_sync`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Process identity of the holder (host, pid, random suffix).
    pub holder: String,
    /// The `sync_runs` row the holder is running, if any.
    pub run_id: Option<i64>,
    pub acquired_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
