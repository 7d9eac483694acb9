//! `listing_feed_item`: one message of a listings feed, the queued change it
//! carries and Amazon's result for it.

use crate::amazon_listing::Issue;
use crate::enums::ListingFeedItemResult;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_feed_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub listing_feed_id: i64,
    pub change_id: i64,
    /// The message's id in the feed (the change's id).
    pub message_id: i64,
    pub seller_sku: String,
    /// What the message sets: `PRICE`, `QUANTITY` or `BOTH`.
    pub phase: String,
    pub result: ListingFeedItemResult,
    /// Amazon's issues with the message ([`Issue`] list).
    #[sea_orm(column_type = "JsonBinary")]
    pub issues: Json,
}

impl Model {
    /// The stored issues (an unreadable value reads as none).
    #[must_use]
    pub fn issue_list(&self) -> Vec<Issue> {
        serde_json::from_value(self.issues.clone()).unwrap_or_default()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::listing_feed::Entity",
        from = "Column::ListingFeedId",
        to = "super::listing_feed::Column::Id",
        on_delete = "Cascade"
    )]
    Feed,
    #[sea_orm(
        belongs_to = "super::listing_change::Entity",
        from = "Column::ChangeId",
        to = "super::listing_change::Column::Id",
        on_delete = "Cascade"
    )]
    Change,
}

impl Related<super::listing_feed::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Feed.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
