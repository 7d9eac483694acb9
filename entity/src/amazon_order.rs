//! `amazon_order`: orders as Amazon reports them, with the raw payload.

use crate::Amount;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_order")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub amazon_order_id: String,
    pub marketplace_id: String,
    pub purchase_date: DateTimeUtc,
    pub last_update_date: DateTimeUtc,
    pub order_status: crate::enums::OrderStatus,
    pub fulfillment_channel: Option<String>,
    pub order_total_currency: Option<String>,
    /// None while the order is Pending.
    #[sea_orm(column_type = "Decimal(None)", nullable)]
    pub order_total_amount: Option<Amount>,
    pub number_of_items_shipped: Option<i32>,
    pub number_of_items_unshipped: Option<i32>,
    pub is_prime: bool,
    pub is_business_order: bool,
    #[sea_orm(column_type = "JsonBinary")]
    pub raw_payload: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
