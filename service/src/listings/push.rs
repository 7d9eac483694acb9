//! The push: one pass that moves the queue of listing changes forward, from what
//! is stored, so a process killed at any point resumes every change where it was.
//!
//! A pass, under the `listings_push` lease:
//! 1. reads the live listings of every change it will touch, 20 SKUs per
//!    `searchListingsItems` call (and stores them in `amazon_listing`);
//! 2. follows the changes in flight (`SUBMITTED`, `PRICE_LIVE`): a change whose
//!    values show on the listing moves on (two-phase: the price is live, so the
//!    quantity is sent now; otherwise `DONE`); one still not live at its deadline
//!    ends `NOT_APPLIED` (a price that never went live never gets its quantity);
//!    one whose patch may not have reached Amazon (the process died between
//!    recording the intent and recording Amazon's answer, or Amazon failed) is
//!    sent again: a patch sets absolute values, so a second copy is harmless;
//! 3. checks and sends the changes the owner asked to submit: the listing exists
//!    and has a product type, the price is in its currency, a quantity only for
//!    MFN; and the **conflict** check: a live price that is no longer the one
//!    known when the change was queued means someone else (a repricer, Seller
//!    Central) moved it, and the change waits in `CONFLICT` for the owner.
//!    When a change raises the price and sets a quantity, the price goes first
//!    and the quantity only once the price is live (two-phase).
//!
//! The intent (state, phase, deadline) is committed before each patch is sent,
//! and Amazon's answer after. Deadlines are on Amazon's clock (its `Date`
//! headers), as everything it shows is.
//!
//! How a change goes to Amazon is its `submit_via`: `PATCH` (one
//! `patchListingsItem` per SKU), `FEED` (one `JSON_LISTINGS_FEED` per marketplace
//! with a message per SKU, see [`super::feed`]), or `AUTO`: a feed when at least
//! `LISTINGS_FEED_THRESHOLD` changes are sent in the pass, patches otherwise; the
//! choice is stored at the first send, so the quantity of a two-phase change goes
//! the way its price went.
//!
//! A dry run ([`PushMode::Preview`]) does steps 1 and 3 with Amazon's
//! `VALIDATION_PREVIEW`: nothing changes on Amazon; a change found sound is
//! `VALIDATED`.

use super::{ListingsError, issues_json, load, our_issue, transition};
use crate::lease::{self, Lease, LeaseError};
use crate::spapi::feeds::FeedsApi;
use crate::spapi::listings::{MAX_PAGE_SIZE, MAX_SKUS_PER_CALL};
use crate::spapi::{
    ListingPatch, ListingsApi, ListingsQuery, Money, RemoteListing, SpApiError, SubmissionStatus,
};
use crate::sync::SyncConfig;
use chrono::{DateTime, Utc};
use entity::amazon_connection;
use entity::amazon_listing::Issue;
use entity::enums::{ListingChangeState as State, SubmitVia};
use entity::listing_change;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// Phase values of `listing_change.phase`.
pub(super) const PHASE_PRICE: &str = "PRICE";
pub(super) const PHASE_QUANTITY: &str = "QUANTITY";
pub(super) const PHASE_BOTH: &str = "BOTH";

/// What the push needs from Amazon: listings and feeds.
pub trait PushApi: ListingsApi + FeedsApi {}

impl<T: ListingsApi + FeedsApi> PushApi for T {}

/// How the push waits and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushConfig {
    /// How long (Amazon's clock) an accepted change may take to show on the listing
    /// before it ends `NOT_APPLIED` (`LISTINGS_APPLY_TIMEOUT_MINUTES`, default 30).
    pub apply_timeout: Duration,
    /// A change recorded as sent without Amazon's answer is sent again after this.
    pub resend_after: Duration,
    /// Patches sent for one change before it ends `FAILED`.
    pub max_attempts: i32,
    /// Time to live of the push lease.
    pub lease_ttl: Duration,
    /// `AUTO` sends a feed when at least this many changes go in one pass.
    pub feed_threshold: usize,
    /// A feed not finished this long after Amazon took it is reported stuck.
    pub feed_stuck_after: Duration,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            apply_timeout: Duration::from_secs(30 * 60),
            resend_after: Duration::from_secs(60),
            max_attempts: 5,
            lease_ttl: Duration::from_secs(60),
            feed_threshold: 200,
            feed_stuck_after: Duration::from_secs(4 * 3600),
        }
    }
}

impl PushConfig {
    /// The push's settings from the sync configuration (its apply timeout and lease).
    #[must_use]
    pub fn from_sync(sync: &SyncConfig) -> Self {
        Self {
            apply_timeout: sync.listings_apply_timeout,
            lease_ttl: sync.lease_ttl,
            feed_threshold: sync.listings_feed_threshold,
            feed_stuck_after: sync.listings_feed_stuck_after,
            ..Self::default()
        }
    }
}

/// What a pass does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushMode {
    /// Follow the changes in flight and send those asked to be submitted.
    Submit,
    /// Dry run: check these changes (all queued and validated ones when None)
    /// with Amazon's `VALIDATION_PREVIEW`; nothing changes on Amazon.
    Preview(Option<Vec<i64>>),
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Changes looked at.
    pub checked: u64,
    /// Patches sent (previews included).
    pub patches: u64,
    /// Changes that went into `CONFLICT`.
    pub conflicts: u64,
    /// Changes that ended `FAILED`.
    pub failed: u64,
    /// Changes found sound by a preview.
    pub validated: u64,
    /// Changes whose price went live (two-phase).
    pub price_live: u64,
    /// Changes that ended `DONE`.
    pub done: u64,
    /// Changes that ended `NOT_APPLIED`.
    pub not_applied: u64,
    /// Changes in flight after the pass.
    pub in_flight: u64,
    /// Feeds sent (`createFeed` accepted).
    pub feeds_sent: u64,
    /// Feeds that Amazon finished (done, cancelled or aborted) in the pass.
    pub feeds_finished: u64,
    /// SP-API requests sent.
    pub api_calls: u64,
    /// Problems that leave a change for the next pass (Amazon unavailable…).
    pub notes: Vec<String>,
}

/// Why a pass did not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Another pass holds the lease.
    #[error("another push of listing changes is running; it will carry these changes too")]
    Busy,
    /// The queue refused (unknown ids…).
    #[error(transparent)]
    Listings(#[from] ListingsError),
    /// Amazon refused the credentials or the app's access: nothing can be sent.
    #[error(transparent)]
    Api(SpApiError),
    /// Amazon is not configured, or the credentials cannot be opened.
    #[error(transparent)]
    Connect(crate::sync::SyncError),
    /// The lease was lost or failed.
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// Runs passes for the stored connection and credentials with one client, so
/// its rate limiter remembers what earlier passes spent of Amazon's buckets.
pub struct Pusher {
    db: DatabaseConnection,
    key: std::sync::Arc<crate::amazon_account::seal::EncryptionKey>,
    sync: SyncConfig,
    client: Option<(amazon_connection::Model, crate::spapi::SpApiClient)>,
}

impl Pusher {
    /// A pusher with a syncer's database, key and configuration.
    #[must_use]
    pub fn for_syncer(syncer: &crate::sync::Syncer) -> Self {
        let (db, key, sync) = syncer.parts();
        Self::new(db, key, sync)
    }

    /// A pusher for this database, key and configuration (it connects at its
    /// first pass).
    #[must_use]
    pub fn new(
        db: DatabaseConnection,
        key: std::sync::Arc<crate::amazon_account::seal::EncryptionKey>,
        sync: SyncConfig,
    ) -> Self {
        Self {
            db,
            key,
            sync,
            client: None,
        }
    }

    /// One pass. After Amazon refused the credentials, the next pass reads them
    /// again (the owner may have stored new ones).
    ///
    /// # Errors
    /// See [`push_once_with`]; also [`PushError::Connect`] when Amazon is not
    /// configured or the credentials cannot be opened.
    pub async fn pass(&mut self, mode: PushMode) -> Result<PushReport, PushError> {
        let (conn, client) = match self.client.take() {
            Some(kept) => kept,
            None => crate::sync::connect(&self.db, &self.key, &self.sync)
                .await
                .map_err(PushError::Connect)?,
        };
        let config = PushConfig::from_sync(&self.sync);
        let result = push_once_with(&self.db, &client, &conn, &config, mode).await;
        if !matches!(result, Err(PushError::Api(_))) {
            self.client = Some((conn, client));
        }
        result
    }
}

impl Pusher {
    /// Cancels a feed Amazon has not started, and its changes (see
    /// [`super::feed::cancel_feed`]).
    ///
    /// # Errors
    /// See [`super::feed::cancel_feed`]; [`PushError::Connect`] when Amazon is not
    /// configured.
    pub async fn cancel_feed(
        &mut self,
        feed_id: &str,
        by: &str,
    ) -> Result<entity::listing_feed::Model, PushError> {
        let (conn, client) = match self.client.take() {
            Some(kept) => kept,
            None => crate::sync::connect(&self.db, &self.key, &self.sync)
                .await
                .map_err(PushError::Connect)?,
        };
        let result = super::feed::cancel_feed(&self.db, &client, feed_id, by).await;
        if !matches!(result, Err(PushError::Api(_))) {
            self.client = Some((conn, client));
        }
        result
    }
}

/// Runs one pass with the given client.
///
/// # Errors
/// [`PushError::Busy`] when another pass holds the lease; [`PushError::Api`]
/// when Amazon refuses the credentials (every change stays as it was);
/// [`PushError::Listings`] for unknown ids; the database error.
#[tracing::instrument(skip_all, fields(mode = ?mode))]
pub async fn push_once_with(
    db: &DatabaseConnection,
    api: &dyn PushApi,
    conn: &amazon_connection::Model,
    config: &PushConfig,
    mode: PushMode,
) -> Result<PushReport, PushError> {
    let lease = match Lease::acquire(
        db,
        lease::LISTINGS_PUSH,
        &lease::holder_id(),
        config.lease_ttl,
    )
    .await
    {
        Ok(l) => l,
        Err(LeaseError::Held { .. }) => return Err(PushError::Busy),
        Err(e) => return Err(e.into()),
    };
    let base = api.stats();
    let mut pass = Pass {
        db,
        api,
        seller_id: &conn.seller_id,
        config,
        lease: Some(&lease),
        report: PushReport::default(),
        touched: 0,
        auto_via: SubmitVia::Patch,
        outgoing: Vec::new(),
    };
    let result = pass.run(mode).await;
    let mut report = pass.report;
    report.api_calls = api.stats().since(&base).total_calls();
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "could not release the push lease; it expires on its own");
    }
    result.map(|()| report)
}

pub(super) struct Pass<'a> {
    pub(super) db: &'a DatabaseConnection,
    pub(super) api: &'a dyn PushApi,
    pub(super) seller_id: &'a str,
    pub(super) config: &'a PushConfig,
    /// None for a step taken outside a pass (cancelling a feed).
    lease: Option<&'a Lease>,
    pub(super) report: PushReport,
    touched: u32,
    /// What `AUTO` means in this pass.
    auto_via: SubmitVia,
    /// Changes to go by feed at the end of the pass.
    pub(super) outgoing: Vec<Outgoing>,
}

/// A change to be sent in a feed.
pub(super) struct Outgoing {
    pub(super) change: listing_change::Model,
    pub(super) listing: RemoteListing,
    pub(super) phase: &'static str,
    pub(super) state: State,
}

type Key = (String, String);

fn key(c: &listing_change::Model) -> Key {
    (c.marketplace_id.clone(), c.seller_sku.clone())
}

/// Whether Amazon's answer stops every change, not only this one.
pub(super) fn fatal(e: &SpApiError) -> bool {
    e.is_credentials_rejected() || matches!(e, SpApiError::Forbidden { .. } | SpApiError::Config(_))
}

/// Whether a patch that failed so may still have reached Amazon, or may pass if
/// sent again (the change stays for the next pass).
pub(super) fn transient(e: &SpApiError) -> bool {
    matches!(
        e,
        SpApiError::Throttled { .. } | SpApiError::Upstream { .. } | SpApiError::Decode { .. }
    )
}

impl<'a> Pass<'a> {
    /// A pass's steps used outside a pass (no lease, nothing to read from Amazon).
    pub(super) fn detached(
        db: &'a DatabaseConnection,
        api: &'a dyn PushApi,
        config: &'a PushConfig,
    ) -> Self {
        Self {
            db,
            api,
            seller_id: "",
            config,
            lease: None,
            report: PushReport::default(),
            touched: 0,
            auto_via: SubmitVia::Patch,
            outgoing: Vec::new(),
        }
    }

    async fn run(&mut self, mode: PushMode) -> Result<(), PushError> {
        // Amazon's clock (deadlines) comes from the `Date` of the listings read
        // first; no call to another quota is needed for it.
        match mode {
            PushMode::Preview(ids) => {
                let changes: Vec<_> = load(self.db, ids.as_deref())
                    .await?
                    .into_iter()
                    .filter(|c| matches!(c.state, State::Queued | State::Validated))
                    .collect();
                let live = self.live(changes.iter().map(key)).await?;
                for c in changes {
                    self.heartbeat().await?;
                    self.report.checked += 1;
                    let listing = live.get(&key(&c)).cloned().flatten();
                    if let Some(listing) = self.check(&c, listing.as_ref()).await? {
                        self.preview(&c, &listing).await?;
                    }
                }
            }
            PushMode::Submit => {
                self.follow_feeds().await?;
                // A change in a feed Amazon has not finished is the feed's to follow.
                let in_feeds = super::feed::changes_in_open_feeds(self.db).await?;
                let flying: Vec<_> = listing_change::Entity::find()
                    .filter(
                        listing_change::Column::State.is_in([State::Submitted, State::PriceLive]),
                    )
                    .order_by_asc(listing_change::Column::Id)
                    .all(self.db)
                    .await?
                    .into_iter()
                    .filter(|c| !in_feeds.contains(&c.id))
                    .collect();
                let to_send = listing_change::Entity::find()
                    .filter(listing_change::Column::State.is_in([State::Queued, State::Validated]))
                    .filter(listing_change::Column::SubmitRequestedAt.is_not_null())
                    .order_by_asc(listing_change::Column::Id)
                    .all(self.db)
                    .await?;
                let autos = to_send
                    .iter()
                    .filter(|c| c.submit_via == SubmitVia::Auto)
                    .count();
                self.auto_via = if autos >= self.config.feed_threshold.max(1) {
                    SubmitVia::Feed
                } else {
                    SubmitVia::Patch
                };
                let live = self
                    .live(flying.iter().chain(to_send.iter()).map(key))
                    .await?;
                for c in flying {
                    self.heartbeat().await?;
                    self.report.checked += 1;
                    let listing = live.get(&key(&c)).cloned().flatten();
                    self.follow(c, listing.as_ref()).await?;
                }
                for c in to_send {
                    self.heartbeat().await?;
                    self.report.checked += 1;
                    let listing = live.get(&key(&c)).cloned().flatten();
                    if let Some(listing) = self.check(&c, listing.as_ref()).await? {
                        let phase = if c.two_phase
                            && c.desired_quantity.is_some()
                            && c.desired_price.is_some_and(|p| {
                                listing.price.as_ref().is_none_or(|l| p.0 > l.amount.0)
                            }) {
                            PHASE_PRICE
                        } else {
                            PHASE_BOTH
                        };
                        self.dispatch(&c, &listing, phase, State::Submitted).await?;
                    }
                }
                self.send_feeds().await?;
                self.report.in_flight = listing_change::Entity::find()
                    .filter(
                        listing_change::Column::State.is_in([State::Submitted, State::PriceLive]),
                    )
                    .count(self.db)
                    .await?;
            }
        }
        Ok(())
    }

    /// Renews the lease now and then during a long pass.
    pub(super) async fn heartbeat(&mut self) -> Result<(), PushError> {
        self.touched += 1;
        if let Some(lease) = self.lease
            && self.touched.is_multiple_of(20)
        {
            lease.renew().await?;
        }
        Ok(())
    }

    /// The live listings of these keys (None: Amazon does not know the SKU),
    /// stored in `amazon_listing` as they are read.
    async fn live(
        &mut self,
        keys: impl Iterator<Item = Key>,
    ) -> Result<HashMap<Key, Option<RemoteListing>>, PushError> {
        let mut by_mp: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (mp, sku) in keys {
            by_mp.entry(mp).or_default().insert(sku);
        }
        let mut out = HashMap::new();
        for (mp, skus) in by_mp {
            let skus: Vec<String> = skus.into_iter().collect();
            for chunk in skus.chunks(MAX_SKUS_PER_CALL) {
                self.heartbeat().await?;
                let query = ListingsQuery {
                    marketplace_id: mp.clone(),
                    skus: chunk.to_vec(),
                    last_updated_after: None,
                    page_size: MAX_PAGE_SIZE,
                };
                let mut found = Vec::new();
                let mut token: Option<String> = None;
                for _ in 0..10 {
                    let page = self
                        .api
                        .listings_page(self.seller_id, &query, token.as_deref())
                        .await
                        .map_err(PushError::Api)?;
                    found.extend(page.listings);
                    match page.next_token {
                        Some(t) => token = Some(t),
                        None => break,
                    }
                }
                for sku in chunk {
                    out.insert((mp.clone(), sku.clone()), None);
                }
                for l in &found {
                    out.insert((l.marketplace_id.clone(), l.sku.clone()), Some(l.clone()));
                }
                crate::sync::store_listings(self.db, found, false).await?;
            }
        }
        Ok(out)
    }

    /// The checks before anything is sent, and the conflict check. Returns the
    /// listing when the change may go on; otherwise it was moved to `FAILED` or
    /// `CONFLICT`.
    async fn check(
        &mut self,
        c: &listing_change::Model,
        listing: Option<&RemoteListing>,
    ) -> Result<Option<RemoteListing>, PushError> {
        let fail = |message: String| our_issue("NOT_SENT", message);
        let problem = match listing {
            None => Some(fail(format!(
                "{} is not a listing in {} on Amazon (sync the listings, or check the SKU)",
                c.seller_sku, c.marketplace_id
            ))),
            Some(l) if l.product_type.is_none() => Some(fail(format!(
                "Amazon reports no product type for {}; a patch must name it",
                c.seller_sku
            ))),
            Some(l)
                if c.desired_quantity.is_some()
                    && l.fulfillment_channel.as_deref() != Some("MFN") =>
            {
                Some(fail(format!(
                    "{} is fulfilled by Amazon: its quantity is Amazon's, not ours to set",
                    c.seller_sku
                )))
            }
            Some(l)
                if c.desired_price.is_some()
                    && l.price.as_ref().is_some_and(|p| {
                        Some(p.currency.as_str()) != c.desired_currency.as_deref()
                    }) =>
            {
                Some(fail(format!(
                    "{} is priced in {} on Amazon, not {}",
                    c.seller_sku,
                    l.price.as_ref().map_or("", |p| p.currency.as_str()),
                    c.desired_currency.as_deref().unwrap_or("?")
                )))
            }
            Some(_) => None,
        };
        if let Some(issue) = problem {
            let note = issue.message.clone();
            transition(self.db, c, State::Failed, Some(note), |row| {
                row.issues = Set(issues_json(&[issue]));
                row.live_price = Set(listing.and_then(|l| l.price.as_ref().map(|p| p.amount)));
                row.live_quantity = Set(listing.and_then(|l| l.quantity));
            })
            .await?;
            self.report.failed += 1;
            return Ok(None);
        }
        let Some(listing) = listing else {
            return Ok(None);
        };
        let live_price = listing.price.as_ref().map(|p| p.amount);
        if c.price_when_queued != live_price {
            let show =
                |p: Option<entity::Amount>| p.map_or_else(|| "none".to_owned(), |p| p.to_string());
            let note = format!(
                "the live price is {} but was {} when the change was queued (a repricer or Seller Central changed it): override to push anyway, or cancel",
                show(live_price),
                show(c.price_when_queued)
            );
            transition(self.db, c, State::Conflict, Some(note), |row| {
                row.live_price = Set(live_price);
                row.live_quantity = Set(listing.quantity);
            })
            .await?;
            self.report.conflicts += 1;
            return Ok(None);
        }
        Ok(Some(listing.clone()))
    }

    /// Sends a change now by patch, or keeps it for the pass's feed.
    async fn dispatch(
        &mut self,
        c: &listing_change::Model,
        listing: &RemoteListing,
        phase: &'static str,
        state: State,
    ) -> Result<(), PushError> {
        let via = match c.submit_via {
            SubmitVia::Auto => self.auto_via,
            via => via,
        };
        if via == SubmitVia::Feed {
            self.outgoing.push(Outgoing {
                change: c.clone(),
                listing: listing.clone(),
                phase,
                state,
            });
            return Ok(());
        }
        self.send(c, listing, phase, state).await
    }

    pub(super) fn patch(
        c: &listing_change::Model,
        listing: &RemoteListing,
        phase: &str,
    ) -> ListingPatch {
        let price = (phase != PHASE_QUANTITY)
            .then(|| {
                c.desired_price.map(|amount| Money {
                    currency: c.desired_currency.clone().unwrap_or_default(),
                    amount,
                })
            })
            .flatten();
        ListingPatch {
            product_type: listing.product_type.clone().unwrap_or_default(),
            price,
            quantity: if phase == PHASE_PRICE {
                None
            } else {
                c.desired_quantity
            },
        }
    }

    /// A dry run of one change.
    async fn preview(
        &mut self,
        c: &listing_change::Model,
        listing: &RemoteListing,
    ) -> Result<(), PushError> {
        let patch = Self::patch(c, listing, PHASE_BOTH);
        self.report.patches += 1;
        match self
            .api
            .patch_listing(
                self.seller_id,
                &c.marketplace_id,
                &c.seller_sku,
                &patch,
                true,
            )
            .await
        {
            Ok(s) if s.status == SubmissionStatus::Invalid => {
                self.fail_with(c, &s.issues, "Amazon's preview refused it")
                    .await?;
            }
            Ok(s) => {
                transition(
                    self.db,
                    c,
                    State::Validated,
                    Some("Amazon's preview found nothing wrong; nothing was changed".to_owned()),
                    |row| {
                        row.issues = Set(issues_json(&s.issues));
                        row.live_price = Set(listing.price.as_ref().map(|p| p.amount));
                        row.live_quantity = Set(listing.quantity);
                    },
                )
                .await?;
                self.report.validated += 1;
            }
            Err(e) if fatal(&e) => return Err(PushError::Api(e)),
            Err(e) => {
                self.report
                    .notes
                    .push(format!("{}: the preview failed: {e}", c.seller_sku));
            }
        }
        Ok(())
    }

    async fn fail_with(
        &mut self,
        c: &listing_change::Model,
        issues: &[Issue],
        why: &str,
    ) -> Result<(), PushError> {
        let first = issues
            .iter()
            .map(|i| format!("{} {}", i.code, i.message))
            .next()
            .unwrap_or_default();
        transition(
            self.db,
            c,
            State::Failed,
            Some(format!("{why}: {first}")),
            |row| row.issues = Set(issues_json(issues)),
        )
        .await?;
        self.report.failed += 1;
        Ok(())
    }

    /// Records the intent, sends the patch of `phase` and records Amazon's answer.
    async fn send(
        &mut self,
        c: &listing_change::Model,
        listing: &RemoteListing,
        phase: &str,
        state: State,
    ) -> Result<(), PushError> {
        if c.attempts >= self.config.max_attempts {
            let note = format!(
                "{} patches were sent without Amazon taking one; giving up",
                c.attempts
            );
            transition(self.db, c, State::Failed, Some(note.clone()), |row| {
                row.issues = Set(issues_json(&[our_issue("NOT_SENT", note)]));
            })
            .await?;
            self.report.failed += 1;
            return Ok(());
        }
        let now = self.api.amazon_now();
        let deadline = now
            + chrono::Duration::from_std(self.config.apply_timeout)
                .unwrap_or(chrono::Duration::minutes(30));
        let phase_owned = phase.to_owned();
        let note = match phase {
            PHASE_PRICE => Some("two-phase: the price goes first".to_owned()),
            PHASE_QUANTITY => Some("the price is live: sending the quantity".to_owned()),
            _ => None,
        };
        let Some(c) = transition(
            self.db,
            c,
            state,
            note.filter(|_| state != c.state),
            |row| {
                row.phase = Set(Some(phase_owned));
                row.sent_at = Set(Some(now));
                row.deadline_at = Set(Some(deadline));
                row.attempts = Set(c.attempts + 1);
                row.submit_via = Set(SubmitVia::Patch);
                row.live_price = Set(listing.price.as_ref().map(|p| p.amount));
                row.live_quantity = Set(listing.quantity);
                if phase == PHASE_QUANTITY {
                    row.quantity_submission_id = Set(None);
                } else {
                    row.price_submission_id = Set(None);
                    row.quantity_submission_id = Set(None);
                }
            },
        )
        .await?
        else {
            // The owner acted on it meanwhile: nothing is sent.
            return Ok(());
        };
        let patch = Self::patch(&c, listing, phase);
        self.report.patches += 1;
        match self
            .api
            .patch_listing(
                self.seller_id,
                &c.marketplace_id,
                &c.seller_sku,
                &patch,
                false,
            )
            .await
        {
            Ok(s) if s.status == SubmissionStatus::Invalid => {
                self.fail_with(&c, &s.issues, "Amazon refused the patch")
                    .await?;
            }
            Ok(s) => {
                let id = s.submission_id;
                let mut row: listing_change::ActiveModel = c.clone().into();
                if phase == PHASE_QUANTITY {
                    row.quantity_submission_id = Set(Some(id));
                } else {
                    if patch.price.is_some() {
                        row.price_submission_id = Set(Some(id.clone()));
                    }
                    if patch.quantity.is_some() {
                        row.quantity_submission_id = Set(Some(id));
                    }
                }
                row.issues = Set(issues_json(&s.issues));
                row.updated_at = Set(Utc::now());
                sea_orm::ActiveModelTrait::update(row, self.db).await?;
            }
            Err(e) if fatal(&e) => return Err(PushError::Api(e)),
            Err(e) if transient(&e) => {
                self.report.notes.push(format!(
                    "{}: the patch may not have reached Amazon ({e}); it is sent again at a later pass",
                    c.seller_sku
                ));
            }
            Err(e) => {
                let issue = our_issue("REFUSED", e.to_string());
                self.fail_with(&c, &[issue], "Amazon refused the patch")
                    .await?;
            }
        }
        Ok(())
    }

    /// Follows one change in flight.
    async fn follow(
        &mut self,
        c: listing_change::Model,
        listing: Option<&RemoteListing>,
    ) -> Result<(), PushError> {
        let Some(listing) = listing else {
            let note = format!(
                "{} is no longer a listing in {} on Amazon",
                c.seller_sku, c.marketplace_id
            );
            transition(self.db, &c, State::Failed, Some(note.clone()), |row| {
                row.issues = Set(issues_json(&[our_issue("GONE", note)]));
            })
            .await?;
            self.report.failed += 1;
            return Ok(());
        };
        let now = self.api.amazon_now();
        let phase = c.phase.clone().unwrap_or_else(|| PHASE_BOTH.to_owned());
        let live_price = listing.price.as_ref().map(|p| p.amount);
        let price_live = c.desired_price.is_none() || c.desired_price == live_price;
        let quantity_live = c.desired_quantity.is_none() || c.desired_quantity == listing.quantity;
        let live_now = match phase.as_str() {
            PHASE_PRICE => price_live,
            PHASE_QUANTITY => quantity_live,
            _ => price_live && quantity_live,
        };
        let record_live = |row: &mut listing_change::ActiveModel| {
            row.live_price = Set(live_price);
            row.live_quantity = Set(listing.quantity);
        };
        if live_now {
            if phase == PHASE_PRICE {
                // Already PRICE_LIVE with the phase still PRICE: its quantity waited
                // for a feed (the rest of its price feed going live first).
                let c = if c.state == State::PriceLive {
                    c
                } else {
                    let Some(c) = transition(
                        self.db,
                        &c,
                        State::PriceLive,
                        Some(format!(
                            "the price {} is live on Amazon",
                            live_price.map_or_else(String::new, |p| p.to_string())
                        )),
                        |row| {
                            record_live(row);
                            row.attempts = Set(0);
                        },
                    )
                    .await?
                    else {
                        return Ok(());
                    };
                    self.report.price_live += 1;
                    c
                };
                self.dispatch(&c, listing, PHASE_QUANTITY, State::PriceLive)
                    .await?;
            } else {
                transition(
                    self.db,
                    &c,
                    State::Done,
                    Some("live on Amazon".to_owned()),
                    record_live,
                )
                .await?;
                self.report.done += 1;
            }
            return Ok(());
        }
        let sent_id = if phase == PHASE_QUANTITY {
            c.quantity_submission_id.as_ref()
        } else {
            c.price_submission_id
                .as_ref()
                .or(c.quantity_submission_id.as_ref())
        };
        let resend_due = c.sent_at.is_none_or(|s| {
            now - s
                > chrono::Duration::from_std(self.config.resend_after)
                    .unwrap_or(chrono::Duration::minutes(1))
        });
        if sent_id.is_none() && resend_due {
            // The intent was recorded, Amazon's answer was not: send it again.
            let state = c.state;
            let phase = match phase.as_str() {
                PHASE_PRICE => PHASE_PRICE,
                PHASE_QUANTITY => PHASE_QUANTITY,
                _ => PHASE_BOTH,
            };
            return self.dispatch(&c, listing, phase, state).await;
        }
        if c.deadline_at.is_some_and(|d: DateTime<Utc>| now >= d) {
            let what = match phase.as_str() {
                PHASE_PRICE => {
                    "the price did not show on Amazon in time; the quantity was not sent"
                }
                PHASE_QUANTITY => {
                    "the price is live but the quantity did not show on Amazon in time"
                }
                _ => "the change did not show on Amazon in time",
            };
            let mut issues = c.issue_list();
            issues.extend(
                listing
                    .issues
                    .iter()
                    .filter(|i| i.severity == "ERROR")
                    .cloned(),
            );
            transition(
                self.db,
                &c,
                State::NotApplied,
                Some(what.to_owned()),
                |row| {
                    record_live(row);
                    row.issues = Set(issues_json(&issues));
                },
            )
            .await?;
            self.report.not_applied += 1;
            return Ok(());
        }
        if c.live_price != live_price || c.live_quantity != listing.quantity {
            let mut row: listing_change::ActiveModel = c.into();
            record_live(&mut row);
            row.updated_at = Set(Utc::now());
            sea_orm::ActiveModelTrait::update(row, self.db).await?;
        }
        Ok(())
    }
}

/// Pushes the submitted listing changes in the background (on the sync thread)
/// and answers at once: a pass now, then one every `listings_poll_interval` while
/// changes are in flight, until none is (or shutdown). When the syncer's loop runs
/// already, its next pass takes the new changes. A pass running elsewhere (the
/// worker) carries them too; a failure is logged and the worker's passes try again.
pub fn kick(syncer: &crate::sync::Syncer) {
    let mut pusher = Pusher::for_syncer(syncer);
    let every = syncer.config().listings_poll_interval;
    syncer.spawn_background("listings push", move |shutdown| async move {
        loop {
            match pusher.pass(PushMode::Submit).await {
                Ok(report) if report.in_flight == 0 => return,
                Ok(report) => tracing::debug!(?report, "listing changes pushed"),
                Err(PushError::Busy) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the push of listing changes failed");
                    return;
                }
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = shutdown.cancelled() => return,
            }
        }
    });
}
