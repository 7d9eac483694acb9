//! `amazon_order_item`: the line items of Amazon orders, with the raw payload.

use crate::Amount;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_order_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_item_id: String,
    pub amazon_order_id: String,
    pub marketplace_id: String,
    pub seller_sku: Option<String>,
    pub asin: Option<String>,
    pub title: Option<String>,
    pub quantity_ordered: i32,
    pub quantity_shipped: i32,
    pub item_price_currency: Option<String>,
    /// None while the order is Pending.
    #[sea_orm(column_type = "Decimal(None)", nullable)]
    pub item_price_amount: Option<Amount>,
    #[sea_orm(column_type = "JsonBinary")]
    pub raw_payload: Json,
    /// The order's `purchase_date`, kept equal to it by the sync, so the item
    /// indexes list a SKU's or ASIN's orders newest first (phase 17).
    pub order_purchase_date: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
