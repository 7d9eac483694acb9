//! `amazon_transaction`: one financial transaction per Amazon `transactionId`
//! (Finances 2024-06-19), upserted as its status and amounts change, with the raw
//! payload. Its breakdown tree is in `amazon_transaction_breakdown`, its related
//! identifiers in `amazon_transaction_related`.

use crate::Amount;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_transaction")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Amazon's `transactionId`.
    pub transaction_id: String,
    /// Amazon's `transactionType`, e.g. `Shipment`, `Refund`, `ServiceFee`, `Transfer`.
    pub transaction_type: String,
    /// `DEFERRED`, `RELEASED` or `DEFERRED_RELEASED` (kept as Amazon spells it).
    pub transaction_status: String,
    pub posted_date: DateTimeUtc,
    pub marketplace_id: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub total_currency: String,
    pub total_amount: Amount,
    /// The transaction as Amazon sent it.
    #[sea_orm(column_type = "JsonBinary")]
    pub raw: Json,
    pub created_at: DateTimeUtc,
    /// When a sync last wrote a change of it.
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
