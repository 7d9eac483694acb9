//! `orders`: the application's own, source-neutral orders.

use crate::Amount;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The channel, e.g. `amazon`.
    pub source: String,
    /// The channel's order id.
    pub source_order_id: String,
    pub marketplace_id: Option<String>,
    pub status: crate::enums::OrderStatus,
    pub purchased_at: DateTimeUtc,
    pub source_updated_at: Option<DateTimeUtc>,
    pub currency: Option<String>,
    #[sea_orm(column_type = "Decimal(None)")]
    pub total_amount: Option<Amount>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::order_items::Entity")]
    OrderItems,
}

impl Related<super::order_items::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrderItems.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
