//! The feeds that carried listing changes: `listingFeeds` (history with each
//! message's result) and `cancelListingFeed`. Sending and following them is
//! `service::listings::feed`; this maps them to GraphQL.

use super::listings::{ListingChangeState, ListingIssue, issues};
use super::paging::{PageInfo, decode_id, encode_id, page_rows, page_size};
use super::{ApiError, OwnerOnly, SignedIn, api_context, current_user};
use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums;
use entity::listing_feed;
use service::listings::{self as queue, read};

const FEEDS_CURSOR: &str = "listing-feeds";
const MAX_PAGE: i32 = 100;
/// Most items one feed lists at a time.
const MAX_ITEMS: i32 = 1_000;

/// Where a feed stands: ours before Amazon has it, then Amazon's status.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ListingFeedState {
    /// Its document is being uploaded; Amazon has no feed yet (retried at the next pass).
    #[graphql(name = "PREPARING")]
    Preparing,
    /// Waiting at Amazon (feeds of a seller are processed one at a time).
    #[graphql(name = "IN_QUEUE")]
    InQueue,
    /// Being processed by Amazon.
    #[graphql(name = "IN_PROGRESS")]
    InProgress,
    /// Processed: each item says what Amazon did with it.
    #[graphql(name = "DONE")]
    Done,
    /// Cancelled before Amazon started it.
    #[graphql(name = "CANCELLED")]
    Cancelled,
    /// Aborted by Amazon (or refused): every change of it failed with the reason.
    #[graphql(name = "FATAL")]
    Fatal,
}

impl From<enums::ListingFeedState> for ListingFeedState {
    fn from(s: enums::ListingFeedState) -> Self {
        use enums::ListingFeedState as S;
        match s {
            S::Preparing => Self::Preparing,
            S::InQueue => Self::InQueue,
            S::InProgress => Self::InProgress,
            S::Done => Self::Done,
            S::Cancelled => Self::Cancelled,
            S::Fatal => Self::Fatal,
        }
    }
}

/// What became of one message of a feed.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ListingFeedItemState {
    /// The feed is not finished.
    #[graphql(name = "PENDING")]
    Pending,
    /// Amazon accepted it (its change then waits to show on the listing).
    #[graphql(name = "ACCEPTED")]
    Accepted,
    /// Amazon refused it: see its issues.
    #[graphql(name = "INVALID")]
    Invalid,
    /// The feed was cancelled or aborted before it counted.
    #[graphql(name = "NOT_PROCESSED")]
    NotProcessed,
}

impl From<enums::ListingFeedItemResult> for ListingFeedItemState {
    fn from(s: enums::ListingFeedItemResult) -> Self {
        use enums::ListingFeedItemResult as S;
        match s {
            S::Pending => Self::Pending,
            S::Accepted => Self::Accepted,
            S::Invalid => Self::Invalid,
            S::NotProcessed => Self::NotProcessed,
        }
    }
}

/// One message of a feed: one queued change.
#[derive(SimpleObject, Debug)]
pub struct ListingFeedItem {
    /// The seller's SKU.
    pub seller_sku: String,
    /// Amazon's result for the message.
    pub state: ListingFeedItemState,
    /// Amazon's issues with it.
    pub issues: Vec<ListingIssue>,
    /// The queued change it carried (see `listingChanges`).
    pub change_id: ID,
    /// Where that change stands now.
    pub change_state: Option<ListingChangeState>,
    /// What it set: `PRICE`, `QUANTITY` or `BOTH`.
    pub phase: String,
}

/// A `JSON_LISTINGS_FEED` that carried queued changes.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct ListingFeed {
    #[graphql(skip)]
    pub row: i64,
    /// Amazon's feed id (null while it is being uploaded).
    pub feed_id: Option<String>,
    /// The marketplace it is for.
    pub marketplace_id: String,
    /// Where it stands.
    pub state: ListingFeedState,
    /// Messages sent in it.
    pub messages: i32,
    /// When Amazon took it (Amazon's clock).
    pub submitted_at: Option<DateTime<Utc>>,
    /// When Amazon started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// From the processing report.
    pub messages_processed: Option<i32>,
    /// From the processing report.
    pub messages_accepted: Option<i32>,
    /// From the processing report.
    pub messages_invalid: Option<i32>,
    /// Issues of severity ERROR in the report.
    pub errors: Option<i32>,
    /// Issues of severity WARNING in the report.
    pub warnings: Option<i32>,
    /// Issues about the feed as a whole.
    pub issues: Vec<ListingIssue>,
    /// Why it failed, or that it was reported stuck.
    pub note: Option<String>,
    /// When it was reported stuck (its changes stopped waiting).
    pub stuck_at: Option<DateTime<Utc>>,
    /// Who submitted its changes.
    pub submitted_by: Option<String>,
    /// When we prepared it.
    pub created_at: DateTime<Utc>,
}

impl From<listing_feed::Model> for ListingFeed {
    fn from(f: listing_feed::Model) -> Self {
        Self {
            row: f.id,
            issues: issues(f.issue_list()),
            feed_id: f.feed_id,
            marketplace_id: f.marketplace_id,
            state: f.state.into(),
            messages: f.messages,
            submitted_at: f.submitted_at,
            started_at: f.started_at,
            finished_at: f.finished_at,
            messages_processed: f.messages_processed,
            messages_accepted: f.messages_accepted,
            messages_invalid: f.messages_invalid,
            errors: f.errors,
            warnings: f.warnings,
            note: f.note,
            stuck_at: f.stuck_at,
            submitted_by: f.submitted_by,
            created_at: f.created_at,
        }
    }
}

#[ComplexObject]
impl ListingFeed {
    /// Its first messages in order (20 by default, at most 1,000); with
    /// `problemsOnly`, only those Amazon refused or did not process.
    #[graphql(complexity = "super::rows_cost(page_rows(first, MAX_ITEMS), child_complexity)")]
    async fn items(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        #[graphql(default = false)] problems_only: bool,
    ) -> Result<Vec<ListingFeedItem>, ApiError> {
        let api = api_context(ctx)?;
        let limit = page_size(first, MAX_ITEMS)?;
        Ok(read::feed_items(&api.db, self.row, limit, problems_only)
            .await?
            .into_iter()
            .map(|(i, change_state)| ListingFeedItem {
                issues: issues(i.issue_list()),
                seller_sku: i.seller_sku,
                state: i.result.into(),
                change_id: ID(i.change_id.to_string()),
                change_state: change_state.map(Into::into),
                phase: i.phase,
            })
            .collect())
    }
}

/// One feed in a page, with its cursor.
#[derive(SimpleObject)]
pub struct ListingFeedEdge {
    /// The feed.
    pub node: ListingFeed,
    /// Pass as `after` to continue after it.
    pub cursor: String,
}

/// A page of feeds.
#[derive(SimpleObject)]
pub struct ListingFeedConnection {
    /// The feeds of this page, newest first.
    pub edges: Vec<ListingFeedEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
    /// How many feeds were sent in all.
    pub total_count: u64,
}

#[derive(Default)]
pub struct ListingFeedsQuery;

#[Object]
impl ListingFeedsQuery {
    /// The feeds that carried listing changes (`submitListingChanges` with `via:
    /// FEED`, or `AUTO` for a large submission), newest first, `first` at a time
    /// (at most 100).
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn listing_feeds(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<ListingFeedConnection, ApiError> {
        let api = api_context(ctx)?;
        let limit = page_size(first, MAX_PAGE)?;
        let before = after
            .as_deref()
            .map(|c| decode_id(FEEDS_CURSOR, c))
            .transpose()?;
        let total_count = read::feeds_count(&api.db).await?;
        let mut rows = read::feeds_page(&api.db, before, limit).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let edges: Vec<ListingFeedEdge> = rows
            .into_iter()
            .map(|f| ListingFeedEdge {
                cursor: encode_id(FEEDS_CURSOR, f.id),
                node: f.into(),
            })
            .collect();
        Ok(ListingFeedConnection {
            page_info: PageInfo::of(
                has_next_page,
                after.is_some(),
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
            total_count,
        })
    }
}

#[derive(Default)]
pub struct ListingFeedsMutation;

#[Object]
impl ListingFeedsMutation {
    /// Cancels a feed Amazon has not started yet (`IN_QUEUE`); its changes end
    /// `CANCELED`. A feed Amazon is processing or has finished cannot be cancelled
    /// (`BAD_USER_INPUT` says where it stands).
    #[graphql(guard = "OwnerOnly")]
    async fn cancel_listing_feed(
        &self,
        ctx: &Context<'_>,
        feed_id: String,
    ) -> Result<ListingFeed, ApiError> {
        let api = api_context(ctx)?;
        let user = current_user(ctx).await?;
        let feed = queue::Pusher::for_syncer(&api.syncer)
            .cancel_feed(feed_id.trim(), &user.email)
            .await?;
        Ok(feed.into())
    }
}
