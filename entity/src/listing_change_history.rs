//! `listing_change_history`: every state a queued listing change went through.

use crate::enums::ListingChangeState;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_change_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub change_id: i64,
    pub state: ListingChangeState,
    pub at: DateTimeUtc,
    /// Why, when there is more to say than the state.
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::listing_change::Entity",
        from = "Column::ChangeId",
        to = "super::listing_change::Column::Id",
        on_delete = "Cascade"
    )]
    Change,
}

impl Related<super::listing_change::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Change.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
