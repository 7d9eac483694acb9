//! `order_items`: the lines of the application's own orders.

use crate::Amount;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: i32,
    pub quantity_shipped: i32,
    pub currency: Option<String>,
    #[sea_orm(column_type = "Decimal(None)")]
    pub price_amount: Option<Amount>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The channel this line mirrors (e.g. `amazon`); unique with the next column.
    pub source: Option<String>,
    /// The channel's line id (Amazon's OrderItemId).
    pub source_order_item_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::orders::Entity",
        from = "Column::OrderId",
        to = "super::orders::Column::Id",
        on_delete = "Cascade"
    )]
    Orders,
}

impl Related<super::orders::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Orders.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
