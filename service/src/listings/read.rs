//! Reading the listings, the queue and the feeds, page by page (keyset paging).

use entity::amazon_listing;
use entity::enums::{ListingChangeState, ListingFeedItemResult};
use entity::{listing_change, listing_feed, listing_feed_item};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

/// Amazon's listing statuses, to filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingStatus {
    /// It can be bought.
    Buyable,
    /// It shows in search and on its page.
    Discoverable,
    /// Neither: not for sale.
    Inactive,
}

/// Which listings to list; all given conditions must hold.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    /// This marketplace only.
    pub marketplace_id: Option<String>,
    /// This seller SKU only.
    pub seller_sku: Option<String>,
    /// Only listings with this status.
    pub status: Option<ListingStatus>,
    /// Also listings Amazon no longer returns.
    pub include_gone: bool,
}

fn filtered(f: &ListingFilter) -> Select<amazon_listing::Entity> {
    let mut q = amazon_listing::Entity::find();
    if let Some(mp) = &f.marketplace_id {
        q = q.filter(amazon_listing::Column::MarketplaceId.eq(mp.as_str()));
    }
    if let Some(sku) = &f.seller_sku {
        q = q.filter(amazon_listing::Column::SellerSku.eq(sku.as_str()));
    }
    match f.status {
        Some(ListingStatus::Buyable) => q = q.filter(amazon_listing::Column::Buyable.eq(true)),
        Some(ListingStatus::Discoverable) => {
            q = q.filter(amazon_listing::Column::Discoverable.eq(true));
        }
        Some(ListingStatus::Inactive) => {
            q = q
                .filter(amazon_listing::Column::Buyable.eq(false))
                .filter(amazon_listing::Column::Discoverable.eq(false));
        }
        None => {}
    }
    if !f.include_gone {
        q = q.filter(amazon_listing::Column::GoneAt.is_null());
    }
    q
}

/// Up to `limit + 1` listings after `after` (marketplace, SKU), by marketplace and SKU.
///
/// # Errors
/// The database error.
pub async fn listings_page(
    db: &impl ConnectionTrait,
    filter: &ListingFilter,
    after: Option<&(String, String)>,
    limit: u64,
) -> Result<Vec<amazon_listing::Model>, DbErr> {
    let mut q = filtered(filter);
    if let Some((mp, sku)) = after {
        q = q.filter(
            Condition::any()
                .add(amazon_listing::Column::MarketplaceId.gt(mp.as_str()))
                .add(
                    Condition::all()
                        .add(amazon_listing::Column::MarketplaceId.eq(mp.as_str()))
                        .add(amazon_listing::Column::SellerSku.gt(sku.as_str())),
                ),
        );
    }
    q.order_by_asc(amazon_listing::Column::MarketplaceId)
        .order_by_asc(amazon_listing::Column::SellerSku)
        .limit(limit + 1)
        .all(db)
        .await
}

/// How many listings the filter matches.
///
/// # Errors
/// The database error.
pub async fn listings_count(
    db: &impl ConnectionTrait,
    filter: &ListingFilter,
) -> Result<u64, DbErr> {
    filtered(filter).count(db).await
}

fn changes(states: &[ListingChangeState]) -> Select<listing_change::Entity> {
    let q = listing_change::Entity::find();
    if states.is_empty() {
        q
    } else {
        q.filter(listing_change::Column::State.is_in(states.iter().copied()))
    }
}

/// Up to `limit + 1` changes in these states (all when empty) older than
/// `before` (an id), newest first.
///
/// # Errors
/// The database error.
pub async fn changes_page(
    db: &impl ConnectionTrait,
    states: &[ListingChangeState],
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<listing_change::Model>, DbErr> {
    let mut q = changes(states);
    if let Some(id) = before {
        q = q.filter(listing_change::Column::Id.lt(id));
    }
    q.order_by_desc(listing_change::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
}

/// How many changes are in these states (all when empty).
///
/// # Errors
/// The database error.
pub async fn changes_count(
    db: &impl ConnectionTrait,
    states: &[ListingChangeState],
) -> Result<u64, DbErr> {
    changes(states).count(db).await
}

/// Up to `limit + 1` listings feeds older than `before` (an id), newest first.
///
/// # Errors
/// The database error.
pub async fn feeds_page(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<listing_feed::Model>, DbErr> {
    let mut q = listing_feed::Entity::find();
    if let Some(id) = before {
        q = q.filter(listing_feed::Column::Id.lt(id));
    }
    q.order_by_desc(listing_feed::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
}

/// How many listings feeds were sent.
///
/// # Errors
/// The database error.
pub async fn feeds_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    listing_feed::Entity::find().count(db).await
}

/// Up to `limit` items of a feed in message order (only those with issues when
/// `problems_only`), each with its change's state.
///
/// # Errors
/// The database error.
pub async fn feed_items(
    db: &impl ConnectionTrait,
    feed: i64,
    limit: u64,
    problems_only: bool,
) -> Result<Vec<(listing_feed_item::Model, Option<ListingChangeState>)>, DbErr> {
    let mut q =
        listing_feed_item::Entity::find().filter(listing_feed_item::Column::ListingFeedId.eq(feed));
    if problems_only {
        q = q.filter(listing_feed_item::Column::Result.is_in([
            ListingFeedItemResult::Invalid,
            ListingFeedItemResult::NotProcessed,
        ]));
    }
    let items = q
        .order_by_asc(listing_feed_item::Column::MessageId)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<i64> = items.iter().map(|i| i.change_id).collect();
    let states: std::collections::HashMap<i64, ListingChangeState> = listing_change::Entity::find()
        .filter(listing_change::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.state))
        .collect();
    Ok(items
        .into_iter()
        .map(|i| {
            let state = states.get(&i.change_id).copied();
            (i, state)
        })
        .collect())
}

/// The price and quantity changes a person must look at: those waiting in
/// `CONFLICT` for an override or a cancel, and those that ended `NOT_APPLIED` or
/// `FAILED` since `since`, unless a newer change for the same listing was queued
/// after them (the seller has acted). Oldest first.
///
/// # Errors
/// The database error.
pub async fn needing_attention(
    db: &impl ConnectionTrait,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<listing_change::Model>, DbErr> {
    let candidates =
        listing_change::Entity::find()
            .filter(
                Condition::any()
                    .add(listing_change::Column::State.eq(ListingChangeState::Conflict))
                    .add(
                        Condition::all()
                            .add(listing_change::Column::State.is_in([
                                ListingChangeState::NotApplied,
                                ListingChangeState::Failed,
                            ]))
                            .add(listing_change::Column::FinishedAt.gte(since)),
                    ),
            )
            .order_by_asc(listing_change::Column::Id)
            .all(db)
            .await?;
    let Some(oldest) = candidates.first().map(|c| c.id) else {
        return Ok(candidates);
    };
    let skus: std::collections::BTreeSet<&str> =
        candidates.iter().map(|c| c.seller_sku.as_str()).collect();
    let mut newer: Vec<(String, String, i64)> = Vec::new();
    // A bounded IN list per query: SQLite allows 32,766 parameters, PostgreSQL 65,535.
    let skus: Vec<&str> = skus.into_iter().collect();
    for chunk in skus.chunks(1000) {
        newer.extend(
            listing_change::Entity::find()
                .select_only()
                .column(listing_change::Column::MarketplaceId)
                .column(listing_change::Column::SellerSku)
                .column(listing_change::Column::Id)
                .filter(listing_change::Column::Id.gt(oldest))
                .filter(listing_change::Column::SellerSku.is_in(chunk.iter().copied()))
                .into_tuple::<(String, String, i64)>()
                .all(db)
                .await?,
        );
    }
    Ok(candidates
        .into_iter()
        .filter(|c| {
            !newer
                .iter()
                .any(|(mp, sku, id)| *id > c.id && *mp == c.marketplace_id && *sku == c.seller_sku)
        })
        .collect())
}
