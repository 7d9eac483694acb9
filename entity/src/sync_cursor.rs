//! `sync_cursor`: per (dataset, marketplace, scope), the upper bound of the last
//! fully committed sync window. The scope is the orders API version for orders
//! (`2026-01-01`, `v0`) and empty for datasets with one API.

use crate::enums::SyncKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_cursor")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Which dataset.
    pub kind: SyncKind,
    pub marketplace_id: String,
    /// Within the dataset, what else the watermark depends on.
    pub scope: String,
    pub watermark: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
