//! `listing_change`: the outbox of price and quantity changes pushed to Amazon.
//! One row per queued change, with what was live when it was queued, its state,
//! the submissions sent and Amazon's issues; the push resumes each row from here.
//! Every state it went through is in `listing_change_history`.

use crate::Amount;
use crate::amazon_listing::Issue;
use crate::enums::{ListingChangeState, SubmitVia};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub marketplace_id: String,
    pub seller_sku: String,
    /// The currency of every price of the row (the marketplace's).
    pub desired_currency: Option<String>,
    /// The price to push, if any.
    pub desired_price: Option<Amount>,
    /// The MFN quantity to push, if any.
    pub desired_quantity: Option<i64>,
    /// The live price we knew when it was queued (or when a conflict was overridden).
    pub price_when_queued: Option<Amount>,
    /// The live quantity we knew when it was queued.
    pub quantity_when_queued: Option<i64>,
    /// The live price Amazon showed at the last check.
    pub live_price: Option<Amount>,
    /// The live quantity Amazon showed at the last check.
    pub live_quantity: Option<i64>,
    pub state: ListingChangeState,
    /// Whether a raised price goes live before the quantity is sent.
    pub two_phase: bool,
    /// What the submission in flight carries: `PRICE`, `QUANTITY` or `BOTH`.
    pub phase: Option<String>,
    pub price_submission_id: Option<String>,
    pub quantity_submission_id: Option<String>,
    /// Amazon's (or our checks') issues with the change ([`Issue`] list).
    #[sea_orm(column_type = "JsonBinary")]
    pub issues: Json,
    /// Patches sent (a retry after a crash or a failure counts again).
    pub attempts: i32,
    /// When the owner asked for it to be submitted (None: it waits in the queue).
    pub submit_requested_at: Option<DateTimeUtc>,
    /// When the submission in flight was sent.
    pub sent_at: Option<DateTimeUtc>,
    /// When the submission in flight ends as `NOT_APPLIED` unless it is live.
    pub deadline_at: Option<DateTimeUtc>,
    /// Who queued it (the user's email).
    pub queued_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When it reached a final state.
    pub finished_at: Option<DateTimeUtc>,
    /// How it goes to Amazon: by patch, by feed, or chosen by the submission's size.
    pub submit_via: SubmitVia,
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
    #[sea_orm(has_many = "super::listing_change_history::Entity")]
    History,
}

impl Related<super::listing_change_history::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::History.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
