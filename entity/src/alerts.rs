//! `alerts`: the sync monitor's alerts, one row per kind.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    /// e.g. `no_new_orders`, `sync_failures`, `throttling`, `freshness`, `credentials_rejected`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// Whether the condition holds now.
    pub active: bool,
    /// When it last started.
    pub since: DateTimeUtc,
    /// What it is about, for a person.
    pub message: String,
    /// When it last ended.
    pub cleared_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
