//! `amazon_listing`: the seller's listings per (marketplace, seller SKU), as
//! Amazon's `searchListingsItems` reports them, with the raw item.

use crate::Amount;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_listing")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub marketplace_id: String,
    pub seller_sku: String,
    pub asin: Option<String>,
    /// Amazon's product type, e.g. `HOME_BED_AND_BATH` (a patch must name it).
    pub product_type: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub title: Option<String>,
    /// Amazon's status `BUYABLE`: it can be bought.
    pub buyable: bool,
    /// Amazon's status `DISCOVERABLE`: it shows in search and on its page.
    pub discoverable: bool,
    /// `MFN` (the seller ships) or `AFN` (Amazon ships); None when Amazon said neither.
    pub fulfillment_channel: Option<String>,
    /// The live price's currency.
    pub price_currency: Option<String>,
    /// The live price (our B2C offer), exact.
    pub price_amount: Option<Amount>,
    /// The live quantity of an MFN listing (FBA quantity is Amazon's: `fba_inventory`).
    pub quantity: Option<i64>,
    /// Amazon's issues of the listing ([`Issue`] list).
    #[sea_orm(column_type = "JsonBinary")]
    pub issues: Json,
    /// Amazon's `createdDate`.
    pub created_date: Option<DateTimeUtc>,
    /// Amazon's `lastUpdatedDate`.
    pub last_updated_time: Option<DateTimeUtc>,
    /// The item as Amazon sent it.
    #[sea_orm(column_type = "JsonBinary")]
    pub raw: Json,
    /// When a sync last saw it.
    pub seen_at: DateTimeUtc,
    /// When a full sync no longer returned it (kept, not deleted).
    pub gone_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// One of Amazon's issues about a listing or a submission, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Amazon's code, e.g. `90220`.
    pub code: String,
    /// `ERROR`, `WARNING` or `INFO`.
    pub severity: String,
    /// Amazon's message (or ours, for a check made before sending).
    pub message: String,
}

impl Model {
    /// The stored issues (an unreadable value reads as none).
    #[must_use]
    pub fn issue_list(&self) -> Vec<Issue> {
        serde_json::from_value(self.issues.clone()).unwrap_or_default()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
