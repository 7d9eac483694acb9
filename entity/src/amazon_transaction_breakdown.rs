//! `amazon_transaction_breakdown`: a transaction's breakdown tree, one row per node
//! in pre-order. Leaves carry a [`BreakdownCategory`] and copies of the
//! transaction's posted date, type and marketplace, so sums per order and per day
//! read columns, not JSON.

use crate::Amount;
use crate::enums::BreakdownCategory;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_transaction_breakdown")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Amazon's `transactionId` of the transaction it belongs to.
    pub transaction_id: String,
    /// Pre-order index of the node within its transaction's tree, from 0.
    pub position: i32,
    /// The parent node's position; `None` at the top level.
    pub parent_position: Option<i32>,
    /// 0 at the top level.
    pub depth: i32,
    /// Amazon's `breakdownType`, e.g. `Commission`.
    pub breakdown_type: String,
    pub currency: String,
    pub amount: Amount,
    /// What the leaf's money is; `None` for a node with children (its amount is
    /// their sum, counting it again would double it).
    pub category: Option<BreakdownCategory>,
    /// The transaction's posted date.
    pub posted_date: DateTimeUtc,
    /// The transaction's type.
    pub transaction_type: String,
    /// The transaction's marketplace.
    pub marketplace_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
