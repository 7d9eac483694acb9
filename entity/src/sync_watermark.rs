//! `sync_watermark`: per (marketplace, API version), the upper bound of the last
//! fully committed sync window.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_watermark")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub marketplace_id: String,
    /// `2026-01-01` or `v0`.
    pub api_version: String,
    pub watermark: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
