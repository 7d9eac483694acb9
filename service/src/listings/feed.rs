//! Listing changes submitted as `JSON_LISTINGS_FEED` documents, and the feeds
//! followed until Amazon ends them.
//!
//! A feed is one marketplace's batch: one `PATCH` message per change (its id is
//! the change's id), price and/or quantity with the listing's product type. The
//! push pass that sends it first commits the feed (`PREPARING`), its items and
//! its changes' intent in one transaction, then uploads the document and creates
//! the feed; a pass that finds a feed still `PREPARING` (the process died, or
//! Amazon failed) uploads it again. An upload URL that expired is answered by a
//! new document. Amazon takes few listings feeds per five minutes: a pass sends
//! no more than [`MAX_FEEDS_PER_5_MIN`], the rest waits for the next pass.
//!
//! Each pass asks `getFeed` once about every feed not finished. When it is
//! `DONE`, its processing report sets each item: a refused message fails its
//! change with Amazon's issues; an accepted one gets its deadline (the apply
//! timeout from now, Amazon's clock) and is then followed on the listing like a
//! patch. `FATAL` fails every change of the feed with the reason; `CANCELLED`
//! cancels them. A feed not finished `LISTINGS_FEED_STUCK_MINUTES` after Amazon
//! took it is reported: cancelled when it has not started, otherwise its changes
//! stop waiting (`NOT_APPLIED`) and the feed is still looked at, every ten
//! minutes, so its history shows how it ended.
//!
//! Two-phase by feed: the price feed goes first; the quantity of its changes goes
//! in a second feed once no price of a feed in that marketplace is still on its
//! way (each change's own deadline bounds the wait).

use super::push::{
    Outgoing, PHASE_BOTH, PHASE_PRICE, PHASE_QUANTITY, Pass, PushError, fatal, transient,
};
use super::{ListingsError, issues_json, our_issue, transition};
use crate::spapi::feeds::{
    FeedMessage, FeedStatus, JSON_LISTINGS_FEED, MAX_MESSAGES, listings_feed,
};
use crate::spapi::{ListingPatch, Money, SpApiError};
use chrono::{DateTime, Utc};
use entity::amazon_listing::Issue;
use entity::enums::{
    ListingChangeState as State, ListingFeedItemResult as ItemResult, ListingFeedState, SubmitVia,
};
use entity::{amazon_listing, listing_change, listing_feed, listing_feed_item};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most listings feeds a pass lets be created in five minutes (Amazon limits
/// `JSON_LISTINGS_FEED` submissions per five minutes on top of `createFeed`'s
/// usage plan).
pub const MAX_FEEDS_PER_5_MIN: u64 = 4;

/// Uploads tried (each with a new document) before the feed waits for a pass.
const UPLOAD_TRIES: u32 = 3;

/// A stuck feed is still asked about, this often.
const STUCK_POLL: chrono::Duration = chrono::Duration::minutes(10);

const NOT_FINAL: [ListingFeedState; 3] = [
    ListingFeedState::Preparing,
    ListingFeedState::InQueue,
    ListingFeedState::InProgress,
];

/// The changes carried by feeds Amazon has not finished.
///
/// # Errors
/// The database error.
pub(super) async fn changes_in_open_feeds(db: &DatabaseConnection) -> Result<HashSet<i64>, DbErr> {
    let open: Vec<i64> = listing_feed::Entity::find()
        .filter(listing_feed::Column::State.is_in(NOT_FINAL))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    let mut out = HashSet::new();
    for chunk in open.chunks(500) {
        for item in listing_feed_item::Entity::find()
            .filter(listing_feed_item::Column::ListingFeedId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.insert(item.change_id);
        }
    }
    Ok(out)
}

/// Whether a feed is waiting for Amazon and not yet given up on.
///
/// # Errors
/// The database error.
pub(super) async fn has_open_feeds(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(listing_feed::Entity::find()
        .filter(listing_feed::Column::State.is_in(NOT_FINAL))
        .filter(listing_feed::Column::StuckAt.is_null())
        .count(db)
        .await?
        > 0)
}

fn status_state(s: FeedStatus) -> ListingFeedState {
    match s {
        FeedStatus::InQueue => ListingFeedState::InQueue,
        FeedStatus::InProgress => ListingFeedState::InProgress,
        FeedStatus::Done => ListingFeedState::Done,
        FeedStatus::Cancelled => ListingFeedState::Cancelled,
        FeedStatus::Fatal => ListingFeedState::Fatal,
    }
}

fn count(n: u64) -> Option<i32> {
    Some(i32::try_from(n).unwrap_or(i32::MAX))
}

fn issue_of(i: &crate::spapi::feeds::ReportIssue) -> Issue {
    Issue {
        code: i.code.clone(),
        severity: if i.severity.is_empty() {
            "ERROR".to_owned()
        } else {
            i.severity.clone()
        },
        message: match &i.attribute_name {
            Some(a) if !a.is_empty() => format!("{} ({a})", i.message),
            _ => i.message.clone(),
        },
    }
}

fn feed_name(f: &listing_feed::Model) -> String {
    f.feed_id
        .as_ref()
        .map_or_else(|| format!("(local {})", f.id), |id| format!("feed {id}"))
}

impl Pass<'_> {
    /// Follows every feed not finished: uploads again those still `PREPARING`,
    /// asks Amazon about the others.
    pub(super) async fn follow_feeds(&mut self) -> Result<(), PushError> {
        let open = listing_feed::Entity::find()
            .filter(listing_feed::Column::State.is_in(NOT_FINAL))
            .order_by_asc(listing_feed::Column::Id)
            .all(self.db)
            .await?;
        for f in open {
            self.heartbeat().await?;
            if f.state == ListingFeedState::Preparing {
                self.submit_feed(f).await?;
            } else {
                self.poll_feed(f).await?;
            }
        }
        Ok(())
    }

    /// Sends the changes kept for feeds in this pass: one feed per marketplace
    /// (of at most [`MAX_MESSAGES`]), quantities held while prices of a feed of
    /// the same marketplace are still on their way.
    pub(super) async fn send_feeds(&mut self) -> Result<(), PushError> {
        let outgoing = std::mem::take(&mut self.outgoing);
        if outgoing.is_empty() {
            return Ok(());
        }
        let prices_on_the_way: HashSet<String> = listing_change::Entity::find()
            .filter(listing_change::Column::State.eq(State::Submitted))
            .filter(listing_change::Column::Phase.eq(PHASE_PRICE))
            .filter(listing_change::Column::SubmitVia.eq(SubmitVia::Feed))
            .all(self.db)
            .await?
            .into_iter()
            .map(|c| c.marketplace_id)
            .collect();
        let mut by_mp: BTreeMap<String, Vec<Outgoing>> = BTreeMap::new();
        let mut held = 0usize;
        for o in outgoing {
            if o.phase == PHASE_QUANTITY && prices_on_the_way.contains(&o.change.marketplace_id) {
                held += 1;
                continue;
            }
            by_mp
                .entry(o.change.marketplace_id.clone())
                .or_default()
                .push(o);
        }
        if held > 0 {
            self.report.notes.push(format!(
                "{held} quantities wait for the rest of their price feed to go live"
            ));
        }
        for (mp, batch) in by_mp {
            let mut batch = batch;
            while !batch.is_empty() {
                let rest = batch.split_off(batch.len().min(MAX_MESSAGES));
                let chunk = std::mem::replace(&mut batch, rest);
                let now = self.api.amazon_now();
                let recent = listing_feed::Entity::find()
                    .filter(
                        listing_feed::Column::SubmittedAt.gte(now - chrono::Duration::minutes(5)),
                    )
                    .count(self.db)
                    .await?;
                if recent >= MAX_FEEDS_PER_5_MIN {
                    self.report.notes.push(format!(
                        "{} changes for {mp} wait: {recent} feeds were sent in the last five minutes, the most Amazon takes",
                        chunk.len() + batch.len()
                    ));
                    break;
                }
                self.start_feed(&mp, chunk).await?;
            }
        }
        Ok(())
    }

    /// Commits a feed with its items and its changes' intent, then submits it.
    async fn start_feed(&mut self, mp: &str, chunk: Vec<Outgoing>) -> Result<(), PushError> {
        let now = self.api.amazon_now();
        let txn = self.db.begin().await?;
        let feed = listing_feed::ActiveModel {
            feed_type: Set(JSON_LISTINGS_FEED.to_owned()),
            marketplace_id: Set(mp.to_owned()),
            state: Set(ListingFeedState::Preparing),
            messages: Set(0),
            issues: Set(serde_json::json!([])),
            submitted_by: Set(chunk.first().and_then(|o| o.change.queued_by.clone())),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut items = Vec::with_capacity(chunk.len());
        for o in chunk {
            let c = &o.change;
            if c.attempts >= self.config.max_attempts {
                let note = format!(
                    "{} submissions were sent without Amazon taking one; giving up",
                    c.attempts
                );
                if transition(&txn, c, State::Failed, Some(note.clone()), |row| {
                    row.issues = Set(issues_json(&[our_issue("NOT_SENT", note)]));
                })
                .await?
                .is_some()
                {
                    self.report.failed += 1;
                }
                continue;
            }
            let phase = o.phase;
            let note = match phase {
                PHASE_PRICE => "two-phase: the price goes first, in a feed".to_owned(),
                PHASE_QUANTITY => "the price is live: sending the quantity in a feed".to_owned(),
                _ => "sent in a feed".to_owned(),
            };
            let listing = &o.listing;
            // Like a patch: the history says so when the state moves.
            let note = Some(note).filter(|_| o.state != c.state);
            let Some(c) = transition(&txn, c, o.state, note, |row| {
                row.phase = Set(Some(phase.to_owned()));
                row.sent_at = Set(Some(now));
                row.deadline_at = Set(None);
                row.attempts = Set(c.attempts + 1);
                row.submit_via = Set(SubmitVia::Feed);
                row.live_price = Set(listing.price.as_ref().map(|p| p.amount));
                row.live_quantity = Set(listing.quantity);
                if phase == PHASE_QUANTITY {
                    row.quantity_submission_id = Set(None);
                } else {
                    row.price_submission_id = Set(None);
                    row.quantity_submission_id = Set(None);
                }
            })
            .await?
            else {
                // The owner acted on it meanwhile: it is not sent.
                continue;
            };
            items.push(listing_feed_item::ActiveModel {
                listing_feed_id: Set(feed.id),
                change_id: Set(c.id),
                message_id: Set(c.id),
                seller_sku: Set(c.seller_sku.clone()),
                phase: Set(phase.to_owned()),
                result: Set(ItemResult::Pending),
                issues: Set(serde_json::json!([])),
                ..Default::default()
            });
        }
        if items.is_empty() {
            listing_feed::Entity::delete_by_id(feed.id)
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Ok(());
        }
        let n = items.len();
        for chunk in items.chunks(500) {
            listing_feed_item::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        let mut row: listing_feed::ActiveModel = feed.clone().into();
        row.messages = Set(i32::try_from(n).unwrap_or(i32::MAX));
        let feed = row.update(&txn).await?;
        txn.commit().await?;
        self.submit_feed(feed).await
    }

    /// The feed document of a stored feed: each item's change as a patch of
    /// its phase, with the product type known for the listing.
    async fn document(&self, feed: &listing_feed::Model) -> Result<Vec<u8>, PushError> {
        let items = listing_feed_item::Entity::find()
            .filter(listing_feed_item::Column::ListingFeedId.eq(feed.id))
            .order_by_asc(listing_feed_item::Column::MessageId)
            .all(self.db)
            .await?;
        let ids: Vec<i64> = items.iter().map(|i| i.change_id).collect();
        let mut changes: HashMap<i64, listing_change::Model> = HashMap::new();
        let mut types: HashMap<String, Option<String>> = HashMap::new();
        for chunk in ids.chunks(500) {
            for c in listing_change::Entity::find()
                .filter(listing_change::Column::Id.is_in(chunk.iter().copied()))
                .all(self.db)
                .await?
            {
                changes.insert(c.id, c);
            }
        }
        let skus: Vec<String> = items.iter().map(|i| i.seller_sku.clone()).collect();
        for chunk in skus.chunks(500) {
            for l in amazon_listing::Entity::find()
                .filter(amazon_listing::Column::MarketplaceId.eq(&feed.marketplace_id))
                .filter(amazon_listing::Column::SellerSku.is_in(chunk.iter().cloned()))
                .all(self.db)
                .await?
            {
                types.insert(l.seller_sku, l.product_type);
            }
        }
        let messages: Vec<FeedMessage> = items
            .iter()
            .filter_map(|item| {
                let c = changes.get(&item.change_id)?;
                let phase = item.phase.as_str();
                let price = (phase != PHASE_QUANTITY)
                    .then(|| {
                        c.desired_price.map(|amount| Money {
                            currency: c.desired_currency.clone().unwrap_or_default(),
                            amount,
                        })
                    })
                    .flatten();
                Some(FeedMessage {
                    message_id: u64::try_from(item.message_id).unwrap_or_default(),
                    sku: item.seller_sku.clone(),
                    patch: ListingPatch {
                        product_type: types
                            .get(&item.seller_sku)
                            .cloned()
                            .flatten()
                            .unwrap_or_default(),
                        price,
                        quantity: if phase == PHASE_PRICE {
                            None
                        } else {
                            c.desired_quantity
                        },
                    },
                })
            })
            .collect();
        let doc = listings_feed(self.seller_id, &feed.marketplace_id, &messages)
            .map_err(PushError::Api)?;
        serde_json::to_vec(&doc).map_err(|e| PushError::Api(SpApiError::Config(e.to_string())))
    }

    /// Uploads a `PREPARING` feed's document and creates the feed at Amazon.
    async fn submit_feed(&mut self, feed: listing_feed::Model) -> Result<(), PushError> {
        let content = self.document(&feed).await?;
        let mut tries = 0;
        let document_id = loop {
            tries += 1;
            match self.api.upload_feed_document(&content).await {
                Ok(id) => break id,
                Err(e) if fatal(&e) => return Err(PushError::Api(e)),
                Err(e) if tries < UPLOAD_TRIES => {
                    self.report.notes.push(format!(
                        "{}: the upload failed ({e}); trying again with a new document",
                        feed_name(&feed)
                    ));
                }
                Err(e) => {
                    self.report.notes.push(format!(
                        "{}: the upload failed {tries} times ({e}); the next pass tries again",
                        feed_name(&feed)
                    ));
                    return Ok(());
                }
            }
        };
        let mut row: listing_feed::ActiveModel = feed.clone().into();
        row.document_id = Set(Some(document_id.clone()));
        row.updated_at = Set(Utc::now());
        let feed = row.update(self.db).await?;
        match self
            .api
            .create_feed(
                JSON_LISTINGS_FEED,
                std::slice::from_ref(&feed.marketplace_id),
                &document_id,
            )
            .await
        {
            Ok(feed_id) => {
                let now = self.api.amazon_now();
                let submission = format!("feed:{feed_id}");
                let txn = self.db.begin().await?;
                let mut row: listing_feed::ActiveModel = feed.clone().into();
                row.feed_id = Set(Some(feed_id));
                row.state = Set(ListingFeedState::InQueue);
                row.submitted_at = Set(Some(now));
                row.checked_at = Set(Some(now));
                row.updated_at = Set(Utc::now());
                row.update(&txn).await?;
                let items = listing_feed_item::Entity::find()
                    .filter(listing_feed_item::Column::ListingFeedId.eq(feed.id))
                    .all(&txn)
                    .await?;
                for (phase, columns) in [
                    (
                        PHASE_PRICE,
                        &[listing_change::Column::PriceSubmissionId][..],
                    ),
                    (
                        PHASE_QUANTITY,
                        &[listing_change::Column::QuantitySubmissionId][..],
                    ),
                    (
                        PHASE_BOTH,
                        &[
                            listing_change::Column::PriceSubmissionId,
                            listing_change::Column::QuantitySubmissionId,
                        ][..],
                    ),
                ] {
                    let ids: Vec<i64> = items
                        .iter()
                        .filter(|i| i.phase == phase)
                        .map(|i| i.change_id)
                        .collect();
                    for chunk in ids.chunks(500) {
                        let mut update = listing_change::Entity::update_many();
                        for col in columns {
                            update = update.col_expr(*col, Expr::value(submission.clone()));
                        }
                        update
                            .filter(listing_change::Column::Id.is_in(chunk.iter().copied()))
                            .exec(&txn)
                            .await?;
                    }
                }
                txn.commit().await?;
                self.report.feeds_sent += 1;
            }
            Err(e) if fatal(&e) => return Err(PushError::Api(e)),
            Err(e) if transient(&e) => {
                self.report.notes.push(format!(
                    "{}: createFeed failed ({e}); the next pass uploads it again",
                    feed_name(&feed)
                ));
            }
            Err(e) => {
                let reason = format!("Amazon refused the feed: {e}");
                self.close(
                    &feed,
                    ListingFeedState::Fatal,
                    Some(reason.clone()),
                    Outcome::Fail(our_issue("FEED_REFUSED", reason)),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Asks Amazon where a feed stands and acts on it.
    async fn poll_feed(&mut self, feed: listing_feed::Model) -> Result<(), PushError> {
        let Some(feed_id) = feed.feed_id.clone() else {
            return Ok(());
        };
        let now = self.api.amazon_now();
        if feed.stuck_at.is_some() && feed.checked_at.is_some_and(|c| now - c < STUCK_POLL) {
            return Ok(());
        }
        let remote = match self.api.feed(&feed_id).await {
            Ok(r) => r,
            Err(e) if fatal(&e) => return Err(PushError::Api(e)),
            Err(e) => {
                self.report.notes.push(format!(
                    "feed {feed_id}: getFeed failed ({e}); asked again at the next pass"
                ));
                return Ok(());
            }
        };
        let now = self.api.amazon_now();
        let mut row: listing_feed::ActiveModel = feed.clone().into();
        row.checked_at = Set(Some(now));
        row.started_at = Set(remote.processing_start_time.or(feed.started_at));
        if !remote.status.is_final() {
            row.state = Set(status_state(remote.status));
        }
        row.updated_at = Set(Utc::now());
        let feed = row.update(self.db).await?;
        match remote.status {
            FeedStatus::Done => {
                self.finish_done(feed, remote.result_document_id, remote.processing_end_time)
                    .await
            }
            FeedStatus::Fatal => {
                let report = match &remote.result_document_id {
                    Some(doc) => self.api.processing_report(doc).await.ok(),
                    None => None,
                };
                let reasons: Vec<String> = report
                    .iter()
                    .flat_map(|r| r.issues.iter())
                    .filter(|i| i.severity != "WARNING" && i.severity != "INFO")
                    .take(3)
                    .map(|i| format!("{} {}", i.code, i.message))
                    .collect();
                let reason = if reasons.is_empty() {
                    format!("Amazon aborted feed {feed_id} (FATAL) without a reason")
                } else {
                    format!(
                        "Amazon aborted feed {feed_id} (FATAL): {}",
                        reasons.join("; ")
                    )
                };
                let mut row: listing_feed::ActiveModel = feed.clone().into();
                row.finished_at = Set(remote.processing_end_time.or(Some(now)));
                row.result_document_id = Set(remote.result_document_id.clone());
                if let Some(r) = &report {
                    row.issues = Set(issues_json(
                        &r.issues.iter().map(issue_of).collect::<Vec<_>>(),
                    ));
                }
                let feed = row.update(self.db).await?;
                self.close(
                    &feed,
                    ListingFeedState::Fatal,
                    Some(reason.clone()),
                    Outcome::Fail(our_issue("FEED_FATAL", reason)),
                )
                .await
            }
            FeedStatus::Cancelled => {
                let why = format!("feed {feed_id} was cancelled at Amazon before it started");
                self.close(
                    &feed,
                    ListingFeedState::Cancelled,
                    Some(why.clone()),
                    Outcome::Cancel(why),
                )
                .await
            }
            FeedStatus::InQueue | FeedStatus::InProgress => {
                let limit = chrono::Duration::from_std(self.config.feed_stuck_after)
                    .unwrap_or(chrono::Duration::hours(4));
                let since = feed.submitted_at.unwrap_or(feed.created_at);
                if feed.stuck_at.is_some() || now - since < limit {
                    return Ok(());
                }
                let minutes = limit.num_minutes();
                if remote.status == FeedStatus::InQueue
                    && self.api.cancel_feed(&feed_id).await.is_ok()
                {
                    let why = format!(
                        "Amazon had not started feed {feed_id} after {minutes} minutes; it was cancelled: submit the changes again"
                    );
                    self.report.notes.push(why.clone());
                    return self
                        .close(
                            &feed,
                            ListingFeedState::Cancelled,
                            Some(why.clone()),
                            Outcome::Fail(our_issue("FEED_STUCK", why)),
                        )
                        .await;
                }
                let why = format!(
                    "Amazon has not finished feed {feed_id} after {minutes} minutes: its changes stopped waiting; the feed is still followed"
                );
                self.report.notes.push(why.clone());
                tracing::warn!(feed_id, minutes, "a listings feed is stuck at Amazon");
                let mut row: listing_feed::ActiveModel = feed.clone().into();
                row.stuck_at = Set(Some(now));
                row.note = Set(Some(why.clone()));
                row.updated_at = Set(Utc::now());
                let feed = row.update(self.db).await?;
                self.settle_changes(&feed, &Outcome::NotApplied(our_issue("FEED_STUCK", why)))
                    .await?;
                Ok(())
            }
        }
    }

    /// A feed Amazon processed: its report sets each item and change.
    async fn finish_done(
        &mut self,
        feed: listing_feed::Model,
        result_document_id: Option<String>,
        ended: Option<DateTime<Utc>>,
    ) -> Result<(), PushError> {
        let report = match &result_document_id {
            Some(doc) => match self.api.processing_report(doc).await {
                Ok(r) => Some(r),
                Err(e) if fatal(&e) => return Err(PushError::Api(e)),
                Err(e) => {
                    self.report.notes.push(format!(
                        "{}: its processing report could not be read ({e}); read again at the next pass",
                        feed_name(&feed)
                    ));
                    return Ok(());
                }
            },
            None => None,
        };
        let now = self.api.amazon_now();
        let deadline = now
            + chrono::Duration::from_std(self.config.apply_timeout)
                .unwrap_or(chrono::Duration::minutes(30));
        let report = report.unwrap_or_default();
        let items = listing_feed_item::Entity::find()
            .filter(listing_feed_item::Column::ListingFeedId.eq(feed.id))
            .all(self.db)
            .await?;
        let mut by_message: HashMap<i64, Vec<Issue>> = HashMap::new();
        let mut feed_issues = Vec::new();
        for i in &report.issues {
            match i.message_id.and_then(|m| i64::try_from(m).ok()) {
                Some(m) => by_message.entry(m).or_default().push(issue_of(i)),
                None => feed_issues.push(issue_of(i)),
            }
        }
        let changes = load_changes(self.db, items.iter().map(|i| i.change_id)).await?;
        let mut accepted = Vec::new();
        for item in &items {
            self.heartbeat().await?;
            let issues = by_message.remove(&item.message_id).unwrap_or_default();
            let refused = u64::try_from(item.message_id).is_ok_and(|m| report.refused(m));
            let mut row: listing_feed_item::ActiveModel = item.clone().into();
            row.result = Set(if refused {
                ItemResult::Invalid
            } else {
                ItemResult::Accepted
            });
            row.issues = Set(issues_json(&issues));
            row.update(self.db).await?;
            let Some(c) = changes.get(&item.change_id) else {
                continue;
            };
            if !super::in_flight(c.state) {
                continue;
            }
            if refused {
                let first = issues
                    .iter()
                    .find(|i| i.severity == "ERROR")
                    .map(|i| format!("{} {}", i.code, i.message))
                    .unwrap_or_default();
                let note = format!(
                    "Amazon refused its message in {}: {first}",
                    feed_name(&feed)
                );
                if transition(self.db, c, State::Failed, Some(note), |row| {
                    row.issues = Set(issues_json(&issues));
                })
                .await?
                .is_some()
                {
                    self.report.failed += 1;
                }
            } else if issues.is_empty() {
                accepted.push(c.id);
            } else {
                let mut row: listing_change::ActiveModel = c.clone().into();
                row.deadline_at = Set(Some(deadline));
                row.issues = Set(issues_json(&issues));
                row.updated_at = Set(Utc::now());
                row.update(self.db).await?;
            }
        }
        for chunk in accepted.chunks(500) {
            listing_change::Entity::update_many()
                .col_expr(listing_change::Column::DeadlineAt, Expr::value(deadline))
                .col_expr(listing_change::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(listing_change::Column::Id.is_in(chunk.iter().copied()))
                .filter(listing_change::Column::State.is_in([State::Submitted, State::PriceLive]))
                .exec(self.db)
                .await?;
        }
        let s = &report.summary;
        let mut row: listing_feed::ActiveModel = feed.into();
        row.state = Set(ListingFeedState::Done);
        row.result_document_id = Set(result_document_id);
        row.messages_processed = Set(count(s.messages_processed));
        row.messages_accepted = Set(count(s.messages_accepted));
        row.messages_invalid = Set(count(s.messages_invalid));
        row.errors = Set(count(s.errors));
        row.warnings = Set(count(s.warnings));
        row.issues = Set(issues_json(&feed_issues));
        row.finished_at = Set(ended.or(Some(now)));
        row.updated_at = Set(Utc::now());
        row.update(self.db).await?;
        self.report.feeds_finished += 1;
        Ok(())
    }

    /// Ends a feed that carried nothing to Amazon's listings (cancelled,
    /// refused or aborted): its items are not processed and its changes settle.
    async fn close(
        &mut self,
        feed: &listing_feed::Model,
        state: ListingFeedState,
        note: Option<String>,
        outcome: Outcome,
    ) -> Result<(), PushError> {
        let mut row: listing_feed::ActiveModel = feed.clone().into();
        row.state = Set(state);
        row.note = Set(note);
        row.finished_at = Set(feed.finished_at.or(Some(self.api.amazon_now())));
        row.updated_at = Set(Utc::now());
        let feed = row.update(self.db).await?;
        listing_feed_item::Entity::update_many()
            .col_expr(
                listing_feed_item::Column::Result,
                Expr::value(ItemResult::NotProcessed),
            )
            .filter(listing_feed_item::Column::ListingFeedId.eq(feed.id))
            .filter(listing_feed_item::Column::Result.eq(ItemResult::Pending))
            .exec(self.db)
            .await?;
        self.settle_changes(&feed, &outcome).await?;
        self.report.feeds_finished += 1;
        Ok(())
    }

    /// Moves the feed's changes still in flight as `outcome` says.
    async fn settle_changes(
        &mut self,
        feed: &listing_feed::Model,
        outcome: &Outcome,
    ) -> Result<(), PushError> {
        let items = listing_feed_item::Entity::find()
            .filter(listing_feed_item::Column::ListingFeedId.eq(feed.id))
            .all(self.db)
            .await?;
        let changes = load_changes(self.db, items.iter().map(|i| i.change_id)).await?;
        for c in changes.values() {
            if !super::in_flight(c.state) {
                continue;
            }
            self.heartbeat().await?;
            let (state, note, issue) = match outcome {
                Outcome::Fail(i) => (State::Failed, i.message.clone(), Some(i)),
                Outcome::NotApplied(i) => (State::NotApplied, i.message.clone(), Some(i)),
                Outcome::Cancel(why) => (State::Canceled, why.clone(), None),
            };
            let moved = transition(self.db, c, state, Some(note), |row| {
                if let Some(i) = issue {
                    let mut issues = c.issue_list();
                    issues.push(i.clone());
                    row.issues = Set(issues_json(&issues));
                }
            })
            .await?;
            if moved.is_some() {
                match state {
                    State::Failed => self.report.failed += 1,
                    State::NotApplied => self.report.not_applied += 1,
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// What becomes of the changes of a feed that ends without applying them.
enum Outcome {
    Fail(Issue),
    NotApplied(Issue),
    Cancel(String),
}

async fn load_changes(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, listing_change::Model>, DbErr> {
    let ids: Vec<i64> = ids.collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for c in listing_change::Entity::find()
            .filter(listing_change::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.insert(c.id, c);
        }
    }
    Ok(out)
}

/// Cancels a feed Amazon has not started, and the changes it carries.
///
/// # Errors
/// [`ListingsError::FeedNotFound`]; [`ListingsError::FeedNotCancellable`] when
/// the feed is finished or Amazon has started it; Amazon's or the database's error.
pub async fn cancel_feed(
    db: &DatabaseConnection,
    api: &dyn super::push::PushApi,
    feed_id: &str,
    by: &str,
) -> Result<listing_feed::Model, PushError> {
    let find = || async {
        listing_feed::Entity::find()
            .filter(listing_feed::Column::FeedId.eq(feed_id))
            .one(db)
            .await
    };
    let feed = find()
        .await?
        .ok_or_else(|| ListingsError::FeedNotFound(feed_id.to_owned()))?;
    if feed.state.is_final() {
        return Err(ListingsError::FeedNotCancellable {
            feed_id: feed_id.to_owned(),
            state: feed.state,
        }
        .into());
    }
    match api.cancel_feed(feed_id).await {
        Ok(()) => {}
        Err(e) if fatal(&e) => return Err(PushError::Api(e)),
        Err(e) => {
            // Amazon cancels only a feed still in its queue: say where it is.
            let state = match api.feed(feed_id).await {
                Ok(r) => status_state(r.status),
                Err(_) => return Err(PushError::Api(e)),
            };
            return Err(ListingsError::FeedNotCancellable {
                feed_id: feed_id.to_owned(),
                state,
            }
            .into());
        }
    }
    let why = format!("feed {feed_id} cancelled by {by}");
    // The path a pass takes for a feed Amazon reports cancelled, without the
    // lease: each step moves only what is still in flight.
    let config = super::PushConfig::default();
    let mut pass = Pass::detached(db, api, &config);
    pass.close(
        &feed,
        ListingFeedState::Cancelled,
        Some(why.clone()),
        Outcome::Cancel(why),
    )
    .await?;
    Ok(find().await?.unwrap_or(feed))
}
