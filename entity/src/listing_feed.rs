//! `listing_feed`: every `JSON_LISTINGS_FEED` sent with queued listing changes,
//! kept as history: Amazon's ids, where it stands, its report's counts.

use crate::amazon_listing::Issue;
use crate::enums::ListingFeedState;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_feed")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Amazon's feed id (None until `createFeed` answered).
    pub feed_id: Option<String>,
    pub feed_type: String,
    pub marketplace_id: String,
    /// The uploaded feed document.
    pub document_id: Option<String>,
    /// The processing report's document.
    pub result_document_id: Option<String>,
    pub state: ListingFeedState,
    /// Messages sent in it.
    pub messages: i32,
    pub messages_processed: Option<i32>,
    pub messages_accepted: Option<i32>,
    pub messages_invalid: Option<i32>,
    pub errors: Option<i32>,
    pub warnings: Option<i32>,
    /// Issues about the feed as a whole ([`Issue`] list).
    #[sea_orm(column_type = "JsonBinary")]
    pub issues: Json,
    /// What is worth saying beyond the state (stuck, why it failed).
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// Who asked for its changes to be submitted.
    pub submitted_by: Option<String>,
    pub created_at: DateTimeUtc,
    /// When Amazon took it (Amazon's clock).
    pub submitted_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// When `getFeed` was last asked about it.
    pub checked_at: Option<DateTimeUtc>,
    /// When it was reported stuck (its changes stopped waiting).
    pub stuck_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl Model {
    /// The stored feed-wide issues (an unreadable value reads as none).
    #[must_use]
    pub fn issue_list(&self) -> Vec<Issue> {
        serde_json::from_value(self.issues.clone()).unwrap_or_default()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::listing_feed_item::Entity")]
    Items,
}

impl Related<super::listing_feed_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Items.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
