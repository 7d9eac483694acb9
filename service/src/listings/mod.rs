//! The seller's listings and the queue of price and quantity changes pushed to
//! Amazon (the outbox in `listing_change`).
//!
//! - [`queue_changes`] and [`parse_csv`]: a change enters the queue checked for
//!   shape (a positive price in the marketplace's currency and decimals, a
//!   quantity that is a count), with the live price and quantity we know, so the
//!   push can tell when someone else (a repricer, Seller Central) moved the price
//!   meanwhile. A CSV is all or nothing: a bad row is reported by its line and
//!   nothing of the file is queued.
//! - [`request_submit`], [`resolve_conflict`]: the owner's decisions, stored.
//! - [`push`]: the one pass that moves the queue (checks, conflicts, dry runs,
//!   patches, polling until live, the two phases, timeouts), resumable from what
//!   is stored.
//!
//! Every state a change goes through is written to `listing_change_history` in the
//! same transaction as the change itself.

pub mod csv;
pub mod feed;
pub mod push;
pub mod read;

pub use csv::parse_csv;
pub use feed::{MAX_FEEDS_PER_5_MIN, cancel_feed};
pub use push::{
    PushApi, PushConfig, PushError, PushMode, PushReport, Pusher, kick, push_once_with,
};

use chrono::{DateTime, Utc};
use entity::Amount;
use entity::amazon_listing::{self, Issue};
use entity::enums::ListingChangeState;
use entity::{listing_change, listing_change_history, marketplaces};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TransactionSession, TransactionTrait,
    TryIntoModel,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Longest SKU Amazon accepts.
pub const MAX_SKU_LEN: usize = 40;

/// Highest quantity accepted (a typo guard far above any real MFN stock).
pub const MAX_QUANTITY: i64 = 1_000_000;

/// Highest price accepted, in any currency (a typo guard).
pub const MAX_PRICE: i64 = 100_000_000;

/// Most changes queued by one call.
pub const MAX_CHANGES_PER_CALL: usize = 5_000;

/// One change as asked for (one line of a CSV, one GraphQL input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    /// The marketplace.
    pub marketplace_id: String,
    /// The seller's SKU.
    pub seller_sku: String,
    /// The new price, a decimal in the marketplace's currency.
    pub price: Option<String>,
    /// The new MFN quantity.
    pub quantity: Option<i64>,
}

/// A change that cannot be queued, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// Its line in the CSV (the header is line 1), or its position (1-based) in
    /// the list.
    pub line: usize,
    /// What is wrong, in words for the seller.
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why the queue refused something.
#[derive(Debug, thiserror::Error)]
pub enum ListingsError {
    /// Some changes are wrong; nothing was queued.
    #[error("nothing was queued: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Rows {
        /// Each problem with its line.
        problems: Vec<RowProblem>,
    },
    /// No change with this id.
    #[error("no listing change {0}")]
    NotFound(i64),
    /// The change is not in a state that allows this.
    #[error("listing change {id} is {state:?}: {why}")]
    WrongState {
        /// The change.
        id: i64,
        /// Its state.
        state: ListingChangeState,
        /// What would be needed.
        why: &'static str,
    },
    /// No feed with this id.
    #[error("no listings feed {0}")]
    FeedNotFound(String),
    /// Amazon cancels only a feed still waiting in its queue.
    #[error("feed {feed_id} is {state:?}: Amazon cancels only a feed still IN_QUEUE")]
    FeedNotCancellable {
        /// Amazon's feed id.
        feed_id: String,
        /// Where it stands.
        state: entity::enums::ListingFeedState,
    },
    /// Amazon is not configured.
    #[error(transparent)]
    Account(#[from] crate::amazon_account::AccountError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// Decimal places of a currency's amounts (ISO 4217 minor units).
#[must_use]
pub fn currency_decimals(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "CLP" | "VND" | "ISK" | "HUF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Checks a price for a currency: a decimal, positive, within the currency's
/// decimals and the typo guard.
///
/// # Errors
/// What is wrong, in words for the seller.
pub fn check_price(text: &str, currency: &str) -> Result<Amount, String> {
    let amount: Amount = text
        .trim()
        .parse()
        .map_err(|_| format!("price {text:?} is not a decimal number (write it like 19.99)"))?;
    if amount.0 <= rust_decimal::Decimal::ZERO {
        return Err(format!("price {text} must be more than 0"));
    }
    if amount.0 > rust_decimal::Decimal::from(MAX_PRICE) {
        return Err(format!("price {text} is above {MAX_PRICE}"));
    }
    let decimals = currency_decimals(currency);
    if amount.0.normalize().scale() > decimals {
        return Err(format!(
            "price {text} has more decimals than {currency} allows ({decimals})"
        ));
    }
    Ok(amount)
}

fn history(
    change_id: i64,
    state: ListingChangeState,
    at: DateTime<Utc>,
    note: Option<String>,
) -> listing_change_history::ActiveModel {
    listing_change_history::ActiveModel {
        change_id: Set(change_id),
        state: Set(state),
        at: Set(at),
        note: Set(note),
        ..Default::default()
    }
}

/// Moves a change to `state` (when it is not there yet) and records it in its
/// history, in one transaction; `edit` sets the other columns.
///
/// Optimistic: the row is updated only if it is still in the state `change` was
/// read in. None when it moved meanwhile (the owner cancelled it while a push
/// looked at it, a push took it while the owner acted): nothing is written and
/// the caller leaves it to whoever moved it. Every statement is a write, so on
/// SQLite the transaction never has to upgrade a read lock.
///
/// # Errors
/// The database error.
pub(crate) async fn transition<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    change: &listing_change::Model,
    state: ListingChangeState,
    note: Option<String>,
    edit: impl FnOnce(&mut listing_change::ActiveModel),
) -> Result<Option<listing_change::Model>, DbErr> {
    let now = Utc::now();
    let mut row = change.clone().into_active_model();
    edit(&mut row);
    row.updated_at = Set(now);
    let moves = change.state != state || note.is_some();
    if moves {
        row.state = Set(state);
        if state.is_final() {
            row.finished_at = Set(Some(now));
        }
    }
    let txn = db.begin().await?;
    let done = listing_change::Entity::update_many()
        .set(row.clone())
        .filter(listing_change::Column::Id.eq(change.id))
        .filter(listing_change::Column::State.eq(change.state))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(None);
    }
    if moves {
        history(change.id, state, now, note).insert(&txn).await?;
    }
    txn.commit().await?;
    row.try_into_model().map(Some)
}

/// The connection's marketplaces with their currencies.
async fn marketplace_currencies(
    db: &DatabaseConnection,
) -> Result<BTreeMap<String, String>, ListingsError> {
    let conn = entity::amazon_connection::Entity::find()
        .one(db)
        .await?
        .ok_or(crate::amazon_account::AccountError::NotConfigured(
            "connect an Amazon seller account first",
        ))?;
    let ids = conn.marketplace_id_list();
    let known: HashMap<String, Option<String>> = marketplaces::Entity::find()
        .filter(marketplaces::Column::MarketplaceId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.marketplace_id, m.currency))
        .collect();
    Ok(ids
        .into_iter()
        .filter_map(|id| {
            let currency = known.get(&id).cloned().flatten()?;
            Some((id, currency))
        })
        .collect())
}

/// Queues changes: all of them, or none when one is wrong.
///
/// A change for a SKU that already waits in the queue (queued, validated or in
/// conflict) replaces it (the older one is cancelled, saying by which); one for
/// a SKU whose change is being pushed now is refused until that one ends.
///
/// # Errors
/// [`ListingsError::Rows`] with every wrong change and its line (position);
/// [`ListingsError::Account`] when no seller account is connected.
pub async fn queue_changes(
    db: &DatabaseConnection,
    requests: Vec<ChangeRequest>,
    queued_by: &str,
) -> Result<Vec<listing_change::Model>, ListingsError> {
    queue_lines(
        db,
        requests
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r))
            .collect(),
        queued_by,
    )
    .await
}

/// Queues the changes of a CSV (see [`csv`]): all of them, or none.
///
/// # Errors
/// [`ListingsError::Rows`] with every bad line; as [`queue_changes`].
pub async fn queue_csv(
    db: &DatabaseConnection,
    text: &str,
    queued_by: &str,
) -> Result<Vec<listing_change::Model>, ListingsError> {
    let rows = parse_csv(text).map_err(|problems| ListingsError::Rows { problems })?;
    queue_lines(db, rows, queued_by).await
}

/// [`queue_changes`] with each change's own line number (a CSV's).
pub(crate) async fn queue_lines(
    db: &DatabaseConnection,
    requests: Vec<(usize, ChangeRequest)>,
    queued_by: &str,
) -> Result<Vec<listing_change::Model>, ListingsError> {
    let mut problems = Vec::new();
    if requests.is_empty() {
        problems.push(RowProblem {
            line: 0,
            message: "no changes were given".to_owned(),
        });
    }
    if requests.len() > MAX_CHANGES_PER_CALL {
        return Err(ListingsError::Rows {
            problems: vec![RowProblem {
                line: MAX_CHANGES_PER_CALL + 1,
                message: format!("at most {MAX_CHANGES_PER_CALL} changes at a time"),
            }],
        });
    }
    let currencies = marketplace_currencies(db).await?;
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut checked = Vec::new();
    for (line, r) in requests {
        let mut problem = |message: String| problems.push(RowProblem { line, message });
        let sku = r.seller_sku.trim().to_owned();
        if sku.is_empty() || sku.chars().count() > MAX_SKU_LEN || sku.chars().any(char::is_control)
        {
            problem(format!(
                "the SKU must be 1 to {MAX_SKU_LEN} characters without control characters"
            ));
            continue;
        }
        let mp = r.marketplace_id.trim().to_owned();
        let Some(currency) = currencies.get(&mp) else {
            problem(format!(
                "{mp:?} is not a marketplace of the connected account ({})",
                currencies.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
            continue;
        };
        if r.price.is_none() && r.quantity.is_none() {
            problem(format!("{sku}: give a price, a quantity or both"));
            continue;
        }
        let price = match r.price.as_deref().map(|p| check_price(p, currency)) {
            Some(Err(e)) => {
                problem(format!("{sku}: {e}"));
                continue;
            }
            Some(Ok(p)) => Some(p),
            None => None,
        };
        if let Some(q) = r.quantity
            && !(0..=MAX_QUANTITY).contains(&q)
        {
            problem(format!(
                "{sku}: quantity {q} must be a whole number from 0 to {MAX_QUANTITY}"
            ));
            continue;
        }
        if let Some(first) = seen.insert((mp.clone(), sku.clone()), line) {
            problem(format!(
                "{sku} in {mp} is also on line {first}: one change per SKU and marketplace"
            ));
            continue;
        }
        checked.push((line, mp, sku, currency.clone(), price, r.quantity));
    }
    if !problems.is_empty() {
        return Err(ListingsError::Rows { problems });
    }

    // What we know of each listing, and what of each SKU is still in the queue.
    let mut known: HashMap<(String, String), amazon_listing::Model> = HashMap::new();
    let mut waiting: HashMap<(String, String), Vec<listing_change::Model>> = HashMap::new();
    let mut by_mp: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, mp, sku, ..) in &checked {
        by_mp.entry(mp.clone()).or_default().push(sku.clone());
    }
    for (mp, skus) in &by_mp {
        for chunk in skus.chunks(500) {
            for l in amazon_listing::Entity::find()
                .filter(amazon_listing::Column::MarketplaceId.eq(mp))
                .filter(amazon_listing::Column::SellerSku.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
            {
                known.insert((l.marketplace_id.clone(), l.seller_sku.clone()), l);
            }
            for c in listing_change::Entity::find()
                .filter(listing_change::Column::MarketplaceId.eq(mp))
                .filter(listing_change::Column::SellerSku.is_in(chunk.iter().cloned()))
                .filter(listing_change::Column::State.is_not_in(FINAL_STATES))
                .all(db)
                .await?
            {
                waiting
                    .entry((c.marketplace_id.clone(), c.seller_sku.clone()))
                    .or_default()
                    .push(c);
            }
        }
    }
    for (line, mp, sku, ..) in &checked {
        if let Some(busy) = waiting
            .get(&(mp.clone(), sku.clone()))
            .and_then(|w| w.iter().find(|c| in_flight(c.state)))
        {
            problems.push(RowProblem {
                line: *line,
                message: format!(
                    "{sku} in {mp}: change {} is being pushed now ({:?}); queue this one when it ends",
                    busy.id, busy.state
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(ListingsError::Rows { problems });
    }
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(checked.len());
    let lines: HashMap<(String, String), usize> = checked
        .iter()
        .map(|(line, mp, sku, ..)| ((mp.clone(), sku.clone()), *line))
        .collect();
    for (_, mp, sku, currency, price, quantity) in checked {
        let key = (mp.clone(), sku.clone());
        let live = known.get(&key);
        let change = listing_change::ActiveModel {
            marketplace_id: Set(mp),
            seller_sku: Set(sku),
            desired_currency: Set(Some(currency)),
            desired_price: Set(price),
            desired_quantity: Set(quantity),
            price_when_queued: Set(live.and_then(|l| l.price_amount)),
            quantity_when_queued: Set(live.and_then(|l| l.quantity)),
            live_price: Set(live.and_then(|l| l.price_amount)),
            live_quantity: Set(live.and_then(|l| l.quantity)),
            state: Set(ListingChangeState::Queued),
            two_phase: Set(true),
            issues: Set(serde_json::json!([])),
            attempts: Set(0),
            queued_by: Set(Some(queued_by.to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        history(change.id, ListingChangeState::Queued, now, None)
            .insert(&txn)
            .await?;
        for old in waiting.remove(&key).unwrap_or_default() {
            let replaced = transition(
                &txn,
                &old,
                ListingChangeState::Canceled,
                Some(format!("replaced by change {}", change.id)),
                |_| {},
            )
            .await?;
            if replaced.is_none() {
                // A push took the older change meanwhile: nothing of this call is kept.
                return Err(ListingsError::Rows {
                    problems: vec![RowProblem {
                        line: *lines.get(&key).unwrap_or(&0),
                        message: format!(
                            "{} in {}: change {} is being pushed now; queue this one when it ends",
                            key.1, key.0, old.id
                        ),
                    }],
                });
            }
        }
        out.push(change);
    }
    txn.commit().await?;
    Ok(out)
}

/// Whether a push pass has something to do: a change in flight, or one the
/// owner asked to submit that waits.
///
/// # Errors
/// The database error.
pub async fn has_work(db: &DatabaseConnection) -> Result<bool, DbErr> {
    use sea_orm::{Condition, PaginatorTrait};
    let n = listing_change::Entity::find()
        .filter(
            Condition::any()
                .add(
                    listing_change::Column::State
                        .is_in([ListingChangeState::Submitted, ListingChangeState::PriceLive]),
                )
                .add(
                    Condition::all()
                        .add(
                            listing_change::Column::State
                                .is_in([ListingChangeState::Queued, ListingChangeState::Validated]),
                        )
                        .add(listing_change::Column::SubmitRequestedAt.is_not_null()),
                ),
        )
        .count(db)
        .await?;
    Ok(n > 0 || feed::has_open_feeds(db).await?)
}

/// The states nothing more happens in.
pub const FINAL_STATES: [ListingChangeState; 4] = [
    ListingChangeState::Done,
    ListingChangeState::NotApplied,
    ListingChangeState::Failed,
    ListingChangeState::Canceled,
];

/// Whether a patch of the change may be on its way to Amazon or waiting to show.
#[must_use]
pub fn in_flight(state: ListingChangeState) -> bool {
    matches!(
        state,
        ListingChangeState::Submitted | ListingChangeState::PriceLive
    )
}

/// Asks for changes to be submitted: the given ids, or every queued or validated
/// one, by patch, by feed, or `AUTO` (a feed when the pass sends at least
/// `LISTINGS_FEED_THRESHOLD` of them). The next push pass sends them. Returns the changes asked for, as they
/// stand (those already further along are left as they are).
///
/// # Errors
/// [`ListingsError::NotFound`] for an unknown id; the database error.
pub async fn request_submit(
    db: &DatabaseConnection,
    ids: Option<&[i64]>,
    two_phase: bool,
    via: entity::enums::SubmitVia,
) -> Result<Vec<listing_change::Model>, ListingsError> {
    let changes = load(db, ids).await?;
    let wanted: Vec<i64> = changes.iter().map(|c| c.id).collect();
    let now = Utc::now();
    for chunk in wanted.chunks(500) {
        // Only those still waiting: one a push took meanwhile is left as it is.
        listing_change::Entity::update_many()
            .col_expr(
                listing_change::Column::SubmitRequestedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .col_expr(
                listing_change::Column::TwoPhase,
                sea_orm::sea_query::Expr::value(two_phase),
            )
            .col_expr(
                listing_change::Column::SubmitVia,
                sea_orm::sea_query::Expr::value(via),
            )
            .col_expr(
                listing_change::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(listing_change::Column::Id.is_in(chunk.iter().copied()))
            .filter(
                listing_change::Column::State
                    .is_in([ListingChangeState::Queued, ListingChangeState::Validated]),
            )
            .exec(db)
            .await?;
    }
    load(db, Some(&wanted)).await
}

/// The given changes in id order, or, without ids, every queued or validated one.
///
/// # Errors
/// [`ListingsError::NotFound`] for an unknown id; the database error.
pub async fn load<C: ConnectionTrait>(
    db: &C,
    ids: Option<&[i64]>,
) -> Result<Vec<listing_change::Model>, ListingsError> {
    match ids {
        Some(ids) => {
            let wanted: HashSet<i64> = ids.iter().copied().collect();
            let found = listing_change::Entity::find()
                .filter(listing_change::Column::Id.is_in(wanted.iter().copied()))
                .order_by_asc(listing_change::Column::Id)
                .all(db)
                .await?;
            if let Some(missing) = wanted.iter().find(|id| !found.iter().any(|c| c.id == **id)) {
                return Err(ListingsError::NotFound(*missing));
            }
            Ok(found)
        }
        None => Ok(listing_change::Entity::find()
            .filter(
                listing_change::Column::State
                    .is_in([ListingChangeState::Queued, ListingChangeState::Validated]),
            )
            .order_by_asc(listing_change::Column::Id)
            .all(db)
            .await?),
    }
}

/// What the owner decides about a change in conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictAction {
    /// Push it anyway: the live price becomes the new reference, and the change
    /// goes back to the queue (submitted again at the next pass if it was asked to be).
    Override,
    /// Drop it.
    Cancel,
}

/// Overrides or cancels a change in conflict (cancel also drops a change that
/// is only queued or validated).
///
/// # Errors
/// [`ListingsError::NotFound`]; [`ListingsError::WrongState`] when the change is
/// not in conflict (or, to cancel, already sent or final).
pub async fn resolve_conflict(
    db: &DatabaseConnection,
    id: i64,
    action: ConflictAction,
    by: &str,
) -> Result<listing_change::Model, ListingsError> {
    let change = listing_change::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ListingsError::NotFound(id))?;
    let updated = match action {
        ConflictAction::Override => {
            if change.state != ListingChangeState::Conflict {
                return Err(ListingsError::WrongState {
                    id,
                    state: change.state,
                    why: "only a change in CONFLICT can be overridden",
                });
            }
            let live = change.live_price;
            transition(
                db,
                &change,
                ListingChangeState::Queued,
                Some(format!(
                    "conflict overridden by {by}: the live price {} is the new reference",
                    live.map_or_else(|| "(none)".to_owned(), |p| p.to_string())
                )),
                |row| {
                    row.price_when_queued = Set(live);
                    row.issues = Set(serde_json::json!([]));
                },
            )
            .await?
        }
        ConflictAction::Cancel => {
            if !matches!(
                change.state,
                ListingChangeState::Conflict
                    | ListingChangeState::Queued
                    | ListingChangeState::Validated
            ) {
                return Err(ListingsError::WrongState {
                    id,
                    state: change.state,
                    why: "a change already sent to Amazon or finished cannot be cancelled",
                });
            }
            transition(
                db,
                &change,
                ListingChangeState::Canceled,
                Some(format!("cancelled by {by}")),
                |_| {},
            )
            .await?
        }
    };
    updated.ok_or_else(|| ListingsError::WrongState {
        id,
        state: change.state,
        why: "it changed while this was decided; look at it again",
    })
}

/// The history of each change, oldest first.
///
/// # Errors
/// The database error.
pub async fn histories(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<listing_change_history::Model>>, DbErr> {
    let mut out: HashMap<i64, Vec<listing_change_history::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for h in listing_change_history::Entity::find()
            .filter(listing_change_history::Column::ChangeId.is_in(chunk.iter().copied()))
            .order_by_asc(listing_change_history::Column::Id)
            .all(db)
            .await?
        {
            out.entry(h.change_id).or_default().push(h);
        }
    }
    Ok(out)
}

/// Issues as stored.
pub(crate) fn issues_json(issues: &[Issue]) -> serde_json::Value {
    serde_json::to_value(issues).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

/// One issue of our own checks.
pub(crate) fn our_issue(code: &str, message: impl Into<String>) -> Issue {
    Issue {
        code: code.to_owned(),
        severity: "ERROR".to_owned(),
        message: message.into(),
    }
}
