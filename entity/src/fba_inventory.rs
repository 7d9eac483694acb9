//! `fba_inventory`: FBA stock per (marketplace, seller SKU), as Amazon's inventory
//! summaries report it, with the raw summary.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fba_inventory")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub marketplace_id: String,
    pub seller_sku: String,
    pub asin: Option<String>,
    pub fn_sku: Option<String>,
    /// Amazon's item condition, e.g. `NewItem`.
    pub condition: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub product_name: Option<String>,
    /// Units that can be picked, packed and shipped now.
    pub fulfillable_quantity: i64,
    pub inbound_working_quantity: i64,
    pub inbound_shipped_quantity: i64,
    pub inbound_receiving_quantity: i64,
    /// Reserved units (customer orders, transfers, processing).
    pub reserved_quantity: i64,
    pub unfulfillable_quantity: i64,
    pub researching_quantity: i64,
    pub total_quantity: i64,
    /// Amazon's `lastUpdatedTime` of the summary.
    pub last_updated_time: Option<DateTimeUtc>,
    /// The summary as Amazon sent it.
    #[sea_orm(column_type = "JsonBinary")]
    pub raw: Json,
    /// When a sync last saw this SKU.
    pub seen_at: DateTimeUtc,
    /// When a full scan no longer returned it (it is kept, not deleted).
    pub gone_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
