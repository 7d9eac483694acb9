//! Listings and the queue of price and quantity changes: `amazonListings`,
//! `listingChanges`, `syncAmazonListings`, `queueListingChanges(Csv)`,
//! `submitListingChanges` and `resolveListingConflict`. The queue, its checks and
//! the push live in `service::listings`; this maps them to GraphQL.

use super::money::{Money, money};
use super::paging::{
    PageInfo, decode_id, decode_marketplace_key, encode_id, encode_marketplace_key, page_rows,
    page_size,
};
use super::sync_runs::SyncRun;
use super::{ApiError, OwnerOnly, SignedIn, api_context, current_user};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::{self, SyncTrigger};
use entity::{amazon_listing, listing_change, listing_change_history};
use service::listings::read::{self, ListingStatus as Status};
use service::listings::{self as queue, ChangeRequest, ListingsError, PushError, PushMode};
use service::sync::{ListingsScan, SyncOptions, SyncRequest};

const LISTINGS_CURSOR: &str = "listings";
const CHANGES_CURSOR: &str = "listing-changes";
const MAX_PAGE: i32 = 200;
/// Most changes one `queueListingChanges` or `submitListingChanges` may name.
const MAX_CHANGES: usize = 1_000;

impl From<ListingsError> for ApiError {
    fn from(e: ListingsError) -> Self {
        match e {
            ListingsError::Rows { .. } | ListingsError::WrongState { .. } => {
                Self::BadUserInput(e.to_string())
            }
            ListingsError::NotFound(_) | ListingsError::FeedNotFound(_) => {
                Self::NotFound(e.to_string())
            }
            ListingsError::FeedNotCancellable { .. } => Self::BadUserInput(e.to_string()),
            ListingsError::Account(a) => a.into(),
            ListingsError::Database(db) => db.into(),
        }
    }
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Busy => Self::SyncAlreadyRunning {
                run_id: None,
                message: e.to_string(),
            },
            PushError::Listings(l) => l.into(),
            PushError::Api(_) => Self::NotConfigured(format!(
                "Amazon refused the push: {e} (check the connection with pingSpApi)"
            )),
            PushError::Connect(s) => s.into(),
            PushError::Lease(_) => Self::internal("the push lease failed", &e),
            PushError::Database(db) => db.into(),
        }
    }
}

/// Amazon's status of a listing.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ListingStatus {
    /// It can be bought.
    #[graphql(name = "BUYABLE")]
    Buyable,
    /// It shows in search and on its page.
    #[graphql(name = "DISCOVERABLE")]
    Discoverable,
    /// Neither (a filter value only: not for sale).
    #[graphql(name = "INACTIVE")]
    Inactive,
}

/// One of Amazon's issues (or one of our checks') about a listing or a change.
#[derive(SimpleObject, Debug, Clone)]
pub struct ListingIssue {
    /// Amazon's code, or ours (`NOT_SENT`, `REFUSED`, `GONE`).
    pub code: String,
    /// `ERROR`, `WARNING` or `INFO`.
    pub severity: String,
    /// What it says.
    pub message: String,
}

pub(super) fn issues(list: Vec<amazon_listing::Issue>) -> Vec<ListingIssue> {
    list.into_iter()
        .map(|i| ListingIssue {
            code: i.code,
            severity: i.severity,
            message: i.message,
        })
        .collect()
}

/// One of the seller's listings in one marketplace.
#[derive(SimpleObject, Debug)]
pub struct AmazonListing {
    /// The marketplace.
    pub marketplace_id: String,
    /// The seller's SKU.
    pub seller_sku: String,
    /// The ASIN.
    pub asin: Option<String>,
    /// Amazon's product type.
    pub product_type: Option<String>,
    /// The item's name.
    pub title: Option<String>,
    /// `BUYABLE` and/or `DISCOVERABLE`; empty when neither.
    pub status: Vec<ListingStatus>,
    /// `MFN` (the seller ships) or `AFN` (Amazon ships).
    pub fulfillment_channel: Option<String>,
    /// The live price.
    pub price: Option<Money>,
    /// The live quantity of an MFN listing (FBA stock is in `amazonInventory`).
    pub quantity: Option<i64>,
    /// Amazon's issues with it.
    pub issues: Vec<ListingIssue>,
    /// When Amazon last changed it.
    pub last_updated_time: Option<DateTime<Utc>>,
    /// When a sync last saw it.
    pub seen_at: DateTime<Utc>,
    /// When a full sync stopped finding it; null while Amazon lists it.
    pub gone_at: Option<DateTime<Utc>>,
}

impl From<amazon_listing::Model> for AmazonListing {
    fn from(l: amazon_listing::Model) -> Self {
        let mut status = Vec::new();
        if l.buyable {
            status.push(ListingStatus::Buyable);
        }
        if l.discoverable {
            status.push(ListingStatus::Discoverable);
        }
        Self {
            issues: issues(l.issue_list()),
            price: money(l.price_amount, l.price_currency.as_ref()),
            marketplace_id: l.marketplace_id,
            seller_sku: l.seller_sku,
            asin: l.asin,
            product_type: l.product_type,
            title: l.title,
            status,
            fulfillment_channel: l.fulfillment_channel,
            quantity: l.quantity,
            last_updated_time: l.last_updated_time,
            seen_at: l.seen_at,
            gone_at: l.gone_at,
        }
    }
}

/// Which listings to list; all given conditions must hold.
#[derive(InputObject, Debug, Default)]
pub struct ListingFilter {
    /// This marketplace only.
    pub marketplace_id: Option<String>,
    /// This seller SKU only.
    pub seller_sku: Option<String>,
    /// Only listings with this status (`INACTIVE`: neither buyable nor discoverable).
    pub status: Option<ListingStatus>,
    /// Also listings Amazon no longer returns.
    #[graphql(default = false)]
    pub include_gone: bool,
}

/// One listing in a page, with its cursor.
#[derive(SimpleObject)]
pub struct AmazonListingEdge {
    /// The listing.
    pub node: AmazonListing,
    /// Pass as `after` to continue after it.
    pub cursor: String,
}

/// A page of listings.
#[derive(SimpleObject)]
pub struct AmazonListingConnection {
    /// The listings of this page, by marketplace and SKU.
    pub edges: Vec<AmazonListingEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
    /// How many listings the filter matches in all.
    pub total_count: u64,
}

/// How submitted changes go to Amazon.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum SubmitVia {
    /// A feed when the submission is large (`LISTINGS_FEED_THRESHOLD`), patches otherwise.
    #[default]
    #[graphql(name = "AUTO")]
    Auto,
    /// One `patchListingsItem` per SKU (5 per second).
    #[graphql(name = "PATCH")]
    Patch,
    /// One `JSON_LISTINGS_FEED` per marketplace, up to 25,000 SKUs each.
    #[graphql(name = "FEED")]
    Feed,
}

impl From<enums::SubmitVia> for SubmitVia {
    fn from(v: enums::SubmitVia) -> Self {
        match v {
            enums::SubmitVia::Auto => Self::Auto,
            enums::SubmitVia::Patch => Self::Patch,
            enums::SubmitVia::Feed => Self::Feed,
        }
    }
}

impl From<SubmitVia> for enums::SubmitVia {
    fn from(v: SubmitVia) -> Self {
        match v {
            SubmitVia::Auto => Self::Auto,
            SubmitVia::Patch => Self::Patch,
            SubmitVia::Feed => Self::Feed,
        }
    }
}

/// Where a queued change stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ListingChangeState {
    /// Queued; not checked or sent yet.
    #[graphql(name = "QUEUED")]
    Queued,
    /// A dry run found nothing wrong; nothing was changed on Amazon.
    #[graphql(name = "VALIDATED")]
    Validated,
    /// The live price moved since it was queued: override or cancel it.
    #[graphql(name = "CONFLICT")]
    Conflict,
    /// Accepted by Amazon; waiting for it to show on the listing.
    #[graphql(name = "SUBMITTED")]
    Submitted,
    /// Two-phase: the new price is live; the quantity follows.
    #[graphql(name = "PRICE_LIVE")]
    PriceLive,
    /// Live on Amazon.
    #[graphql(name = "DONE")]
    Done,
    /// Accepted but not live on Amazon before the timeout.
    #[graphql(name = "NOT_APPLIED")]
    NotApplied,
    /// Refused by a check or by Amazon (see its issues).
    #[graphql(name = "FAILED")]
    Failed,
    /// Cancelled by the owner (or replaced by a newer change of the SKU).
    #[graphql(name = "CANCELED")]
    Canceled,
}

impl From<enums::ListingChangeState> for ListingChangeState {
    fn from(s: enums::ListingChangeState) -> Self {
        use enums::ListingChangeState as S;
        match s {
            S::Queued => Self::Queued,
            S::Validated => Self::Validated,
            S::Conflict => Self::Conflict,
            S::Submitted => Self::Submitted,
            S::PriceLive => Self::PriceLive,
            S::Done => Self::Done,
            S::NotApplied => Self::NotApplied,
            S::Failed => Self::Failed,
            S::Canceled => Self::Canceled,
        }
    }
}

impl From<ListingChangeState> for enums::ListingChangeState {
    fn from(s: ListingChangeState) -> Self {
        use ListingChangeState as S;
        match s {
            S::Queued => Self::Queued,
            S::Validated => Self::Validated,
            S::Conflict => Self::Conflict,
            S::Submitted => Self::Submitted,
            S::PriceLive => Self::PriceLive,
            S::Done => Self::Done,
            S::NotApplied => Self::NotApplied,
            S::Failed => Self::Failed,
            S::Canceled => Self::Canceled,
        }
    }
}

/// One state a change went through.
#[derive(SimpleObject, Debug, Clone)]
pub struct ListingChangeStep {
    /// The state.
    pub state: ListingChangeState,
    /// When it got there.
    pub at: DateTime<Utc>,
    /// Why, when there is more to say.
    pub note: Option<String>,
}

/// A queued change of a listing's price and/or quantity.
#[derive(SimpleObject, Debug)]
pub struct ListingChange {
    /// Its id.
    pub id: ID,
    /// The marketplace.
    pub marketplace_id: String,
    /// The seller's SKU.
    pub seller_sku: String,
    /// The price to push.
    pub desired_price: Option<Money>,
    /// The MFN quantity to push.
    pub desired_quantity: Option<i64>,
    /// The live price known when it was queued (or when a conflict was overridden).
    pub price_when_queued: Option<Money>,
    /// The live quantity known when it was queued.
    pub quantity_when_queued: Option<i64>,
    /// The live price at the last check.
    pub live_price: Option<Money>,
    /// The live quantity at the last check.
    pub live_quantity: Option<i64>,
    /// Where it stands.
    pub state: ListingChangeState,
    /// Whether a raised price goes live before the quantity is sent.
    pub two_phase: bool,
    /// What the submission in flight carries: `PRICE`, `QUANTITY` or `BOTH`.
    pub phase: Option<String>,
    /// How it goes to Amazon (`AUTO` until its first send settles it).
    pub submit_via: SubmitVia,
    /// Its submission in flight: Amazon's submission id, or `feed:<feedId>`.
    pub submission_id: Option<String>,
    /// Patches (or feed messages) sent for it.
    pub attempts: i32,
    /// When the owner asked for it to be submitted; null while it only waits.
    pub submit_requested_at: Option<DateTime<Utc>>,
    /// When its last patch was sent (Amazon's clock).
    pub sent_at: Option<DateTime<Utc>>,
    /// When it ends `NOT_APPLIED` unless live (Amazon's clock).
    pub deadline_at: Option<DateTime<Utc>>,
    /// Who queued it.
    pub queued_by: Option<String>,
    /// Amazon's (or our checks') issues with it.
    pub issues: Vec<ListingIssue>,
    /// Every state it went through, oldest first.
    pub history: Vec<ListingChangeStep>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it reached a final state.
    pub finished_at: Option<DateTime<Utc>>,
}

impl ListingChange {
    fn of(c: listing_change::Model, history: Vec<listing_change_history::Model>) -> Self {
        let currency = c.desired_currency.as_ref();
        Self {
            id: ID(c.id.to_string()),
            desired_price: money(c.desired_price, currency),
            price_when_queued: money(c.price_when_queued, currency),
            live_price: money(c.live_price, currency),
            issues: issues(c.issue_list()),
            history: history
                .into_iter()
                .map(|h| ListingChangeStep {
                    state: h.state.into(),
                    at: h.at,
                    note: h.note,
                })
                .collect(),
            marketplace_id: c.marketplace_id,
            seller_sku: c.seller_sku,
            desired_quantity: c.desired_quantity,
            quantity_when_queued: c.quantity_when_queued,
            live_quantity: c.live_quantity,
            state: c.state.into(),
            two_phase: c.two_phase,
            phase: c.phase,
            submit_via: c.submit_via.into(),
            submission_id: c.quantity_submission_id.or(c.price_submission_id),
            attempts: c.attempts,
            submit_requested_at: c.submit_requested_at,
            sent_at: c.sent_at,
            deadline_at: c.deadline_at,
            queued_by: c.queued_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            finished_at: c.finished_at,
        }
    }
}

/// Changes with their histories, read in one query.
async fn with_history(
    db: &sea_orm::DatabaseConnection,
    changes: Vec<listing_change::Model>,
) -> Result<Vec<ListingChange>, ApiError> {
    let ids: Vec<i64> = changes.iter().map(|c| c.id).collect();
    let mut histories = queue::histories(db, &ids).await?;
    Ok(changes
        .into_iter()
        .map(|c| {
            let h = histories.remove(&c.id).unwrap_or_default();
            ListingChange::of(c, h)
        })
        .collect())
}

/// Which changes to list.
#[derive(InputObject, Debug, Default)]
pub struct ListingChangeFilter {
    /// Only changes in these states (all when empty or null).
    pub states: Option<Vec<ListingChangeState>>,
}

/// One change in a page, with its cursor.
#[derive(SimpleObject)]
pub struct ListingChangeEdge {
    /// The change.
    pub node: ListingChange,
    /// Pass as `after` to continue after it.
    pub cursor: String,
}

/// A page of changes.
#[derive(SimpleObject)]
pub struct ListingChangeConnection {
    /// The changes of this page, newest first.
    pub edges: Vec<ListingChangeEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
    /// How many changes the filter matches in all.
    pub total_count: u64,
}

/// A change to queue: a price, an MFN quantity, or both.
#[derive(InputObject, Debug)]
pub struct ListingChangeInput {
    /// The marketplace.
    pub marketplace_id: String,
    /// The seller's SKU.
    pub seller_sku: String,
    /// The new price as a decimal string in the marketplace's currency, e.g. "19.99".
    pub price: Option<String>,
    /// The new MFN quantity.
    pub quantity: Option<i64>,
}

/// What the owner decides about a change in conflict.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConflictAction {
    /// Push it anyway: the live price becomes its new reference.
    #[graphql(name = "OVERRIDE")]
    Override,
    /// Drop it.
    #[graphql(name = "CANCEL")]
    Cancel,
}

fn parse_ids(ids: &[ID]) -> Result<Vec<i64>, ApiError> {
    if ids.len() > MAX_CHANGES {
        return Err(ApiError::BadUserInput(format!(
            "at most {MAX_CHANGES} ids at a time"
        )));
    }
    ids.iter()
        .map(|id| {
            id.parse::<i64>()
                .map_err(|_| ApiError::BadUserInput(format!("{:?} is not a change id", id.0)))
        })
        .collect()
}

/// Reading the listings and the queue.
#[derive(Default)]
pub struct ListingsQuery;

#[Object]
impl ListingsQuery {
    /// The seller's listings by marketplace and SKU, `first` at a time (at most 200).
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn amazon_listings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        filter: Option<ListingFilter>,
    ) -> Result<AmazonListingConnection, ApiError> {
        let api = api_context(ctx)?;
        let limit = page_size(first, MAX_PAGE)?;
        let after_key = after
            .as_deref()
            .map(|c| decode_marketplace_key(LISTINGS_CURSOR, c))
            .transpose()?;
        let f = filter.unwrap_or_default();
        let filter = read::ListingFilter {
            marketplace_id: f.marketplace_id,
            seller_sku: f.seller_sku,
            status: f.status.map(|s| match s {
                ListingStatus::Buyable => Status::Buyable,
                ListingStatus::Discoverable => Status::Discoverable,
                ListingStatus::Inactive => Status::Inactive,
            }),
            include_gone: f.include_gone,
        };
        let total_count = read::listings_count(&api.db, &filter).await?;
        let mut rows = read::listings_page(&api.db, &filter, after_key.as_ref(), limit).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let edges: Vec<AmazonListingEdge> = rows
            .into_iter()
            .map(|l| AmazonListingEdge {
                cursor: encode_marketplace_key(LISTINGS_CURSOR, &l.marketplace_id, &l.seller_sku),
                node: l.into(),
            })
            .collect();
        Ok(AmazonListingConnection {
            page_info: PageInfo::of(
                has_next_page,
                after.is_some(),
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
            total_count,
        })
    }

    /// The queue of price and quantity changes, newest first, `first` at a time
    /// (at most 200), each with its history.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn listing_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        filter: Option<ListingChangeFilter>,
    ) -> Result<ListingChangeConnection, ApiError> {
        let api = api_context(ctx)?;
        let limit = page_size(first, MAX_PAGE)?;
        let before = after
            .as_deref()
            .map(|c| decode_id(CHANGES_CURSOR, c))
            .transpose()?;
        let states: Vec<enums::ListingChangeState> = filter
            .and_then(|f| f.states)
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let total_count = read::changes_count(&api.db, &states).await?;
        let mut rows = read::changes_page(&api.db, &states, before, limit).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let edges: Vec<ListingChangeEdge> = with_history(&api.db, rows)
            .await?
            .into_iter()
            .map(|c| ListingChangeEdge {
                cursor: encode_id(CHANGES_CURSOR, c.id.parse::<i64>().unwrap_or_default()),
                node: c,
            })
            .collect();
        Ok(ListingChangeConnection {
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

/// Syncing the listings and pushing changes to Amazon (owner only).
#[derive(Default)]
pub struct ListingsMutation;

#[Object]
impl ListingsMutation {
    /// Starts a listings sync (`kind: LISTINGS`) like `syncAmazonOrders`, with the
    /// same errors. By default it reads only the listings Amazon changed since the
    /// last run (every listing the first time); `full: true` reads every listing and
    /// marks those Amazon no longer returns as gone. `dryRun` writes nothing but the run.
    #[graphql(guard = "OwnerOnly")]
    async fn sync_amazon_listings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = false)] full: bool,
        #[graphql(default = false)] wait: bool,
    ) -> Result<SyncRun, ApiError> {
        let options = SyncOptions {
            dry_run,
            include_items: false,
            trigger: SyncTrigger::Manual,
            ..SyncOptions::default()
        };
        let scan = if full {
            ListingsScan::Full
        } else {
            ListingsScan::Incremental
        };
        super::sync::start(ctx, SyncRequest::Listings(scan), options, wait).await
    }

    /// Queues price and/or quantity changes (at most 1,000): all of them, or, when
    /// one is wrong, none (`BAD_USER_INPUT` naming each by its position). Each keeps
    /// the live price known now, so a price moved meanwhile by someone else is a
    /// conflict at submit time. A change of a SKU already waiting replaces it.
    #[graphql(guard = "OwnerOnly")]
    async fn queue_listing_changes(
        &self,
        ctx: &Context<'_>,
        changes: Vec<ListingChangeInput>,
    ) -> Result<Vec<ListingChange>, ApiError> {
        let api = api_context(ctx)?;
        let user = current_user(ctx).await?;
        if changes.len() > MAX_CHANGES {
            return Err(ApiError::BadUserInput(format!(
                "at most {MAX_CHANGES} changes at a time (queue a CSV for more)"
            )));
        }
        let requests = changes
            .into_iter()
            .map(|c| ChangeRequest {
                marketplace_id: c.marketplace_id,
                seller_sku: c.seller_sku,
                price: c.price,
                quantity: c.quantity,
            })
            .collect();
        let queued = queue::queue_changes(&api.db, requests, &user.email).await?;
        with_history(&api.db, queued).await
    }

    /// Queues the changes of a CSV with the header `sku,marketplace_id,price,quantity`
    /// (a price, a quantity or both on each line): all of them, or, when a line is
    /// wrong, none (`BAD_USER_INPUT` naming every bad line by its number).
    #[graphql(guard = "OwnerOnly")]
    async fn queue_listing_changes_csv(
        &self,
        ctx: &Context<'_>,
        csv: String,
    ) -> Result<Vec<ListingChange>, ApiError> {
        let api = api_context(ctx)?;
        let user = current_user(ctx).await?;
        let queued = queue::queue_csv(&api.db, &csv, &user.email).await?;
        with_history(&api.db, queued).await
    }

    /// Submits changes: the given ids, or every queued and validated one.
    /// With `dryRun`, each is checked (the listing, its product type, currency and
    /// channel; the conflict check) and sent to Amazon as a `VALIDATION_PREVIEW`,
    /// which changes nothing: it ends `VALIDATED`, `FAILED` or `CONFLICT`, and the
    /// answer comes once all are checked. Without, they are sent in the background
    /// and the answer comes at once: follow them with `listingChanges`. With
    /// `twoPhase` (the default), a raised price goes live before its quantity is sent.
    /// `via` chooses how they go: `PATCH` (one call per SKU), `FEED` (one
    /// `JSON_LISTINGS_FEED` per marketplace; follow it with `listingFeeds`) or `AUTO`
    /// (the default: a feed when at least `LISTINGS_FEED_THRESHOLD`, 200 by default,
    /// go at once). A dry run always uses Amazon's per-SKU preview.
    #[graphql(guard = "OwnerOnly")]
    async fn submit_listing_changes(
        &self,
        ctx: &Context<'_>,
        ids: Option<Vec<ID>>,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = true)] two_phase: bool,
        #[graphql(default)] via: SubmitVia,
    ) -> Result<Vec<ListingChange>, ApiError> {
        let api = api_context(ctx)?;
        let ids = ids.as_deref().map(parse_ids).transpose()?;
        let changes = if dry_run {
            let chosen: Vec<i64> = queue::load(&api.db, ids.as_deref())
                .await?
                .iter()
                .map(|c| c.id)
                .collect();
            queue::Pusher::for_syncer(&api.syncer)
                .pass(PushMode::Preview(Some(chosen.clone())))
                .await?;
            queue::load(&api.db, Some(&chosen)).await?
        } else {
            let asked =
                queue::request_submit(&api.db, ids.as_deref(), two_phase, via.into()).await?;
            queue::kick(&api.syncer);
            asked
        };
        with_history(&api.db, changes).await
    }

    /// Decides about a change in `CONFLICT`: `OVERRIDE` takes the live price as its
    /// new reference and queues it again (sent at the next push if it was submitted);
    /// `CANCEL` drops it (also a change that is only queued or validated).
    #[graphql(guard = "OwnerOnly")]
    async fn resolve_listing_conflict(
        &self,
        ctx: &Context<'_>,
        id: ID,
        action: ConflictAction,
    ) -> Result<ListingChange, ApiError> {
        let api = api_context(ctx)?;
        let user = current_user(ctx).await?;
        let id = parse_ids(std::slice::from_ref(&id))?
            .into_iter()
            .next()
            .ok_or(ApiError::Internal)?;
        let action = match action {
            ConflictAction::Override => queue::ConflictAction::Override,
            ConflictAction::Cancel => queue::ConflictAction::Cancel,
        };
        let change = queue::resolve_conflict(&api.db, id, action, &user.email).await?;
        if action == queue::ConflictAction::Override && change.submit_requested_at.is_some() {
            queue::kick(&api.syncer);
        }
        with_history(&api.db, vec![change])
            .await?
            .pop()
            .ok_or(ApiError::Internal)
    }
}
