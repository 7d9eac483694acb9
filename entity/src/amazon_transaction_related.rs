//! `amazon_transaction_related`: a transaction's related identifiers (`ORDER_ID`,
//! `SHIPMENT_ID`, `REFUND_ID`, `FINANCIAL_EVENT_GROUP_ID`…), indexed by name and
//! value.

use sea_orm::entity::prelude::*;

/// The related identifier naming an Amazon order.
pub const ORDER_ID: &str = "ORDER_ID";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_transaction_related")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Amazon's `transactionId`.
    pub transaction_id: String,
    /// `relatedIdentifierName`.
    pub name: String,
    /// `relatedIdentifierValue`.
    pub value: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
