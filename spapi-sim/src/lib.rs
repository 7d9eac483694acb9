//! `spapi-sim`: a faithful local stand-in for Amazon's Selling Partner API.
//!
//! It serves, on one HTTP port on 127.0.0.1:
//! - LWA `POST /auth/o2/token` (refresh-token grant),
//! - Orders v0 `getOrders`, `getOrder`, `getOrderItems`,
//! - Orders 2026-01-01 `searchOrders` and `getOrder`,
//! - Sellers `getMarketplaceParticipations`,
//! - FBA Inventory `getInventorySummaries` (stock that follows the AFN orders),
//! - Finances 2024-06-19 `listTransactions` (shipments, refunds, fees and transfers that follow
//!   the orders, with settlement anomalies on demand),
//! - Listings Items 2021-08-01 `searchListingsItems`, `getListingsItem` and `patchListingsItem`
//!   (the catalog's SKUs listed in each marketplace, MFN or FBA as the inventory says; patches
//!   are accepted and applied some simulated minutes later, or never, or fail afterwards),
//! - Feeds 2021-06-30 `createFeedDocument`, `createFeed`, `getFeed`, `getFeeds`, `cancelFeed`
//!   and `getFeedDocument` for `JSON_LISTINGS_FEED` (documents behind presigned URLs on the
//!   simulator's own host; feeds queued and processed one at a time on the simulated clock, their
//!   accepted messages applied to the listings like accepted patches, with a processing report),
//! - a control API under `/_sim/`.
//!
//! The official models (compiled in from `models/`) are the specification: usage plans,
//! rate-limit headers and sandbox cases are read from them. [`SimConfig::time_scale`] makes the
//! simulated clock, every rate and every lifetime run K times faster. Start one in-process with
//! [`Simulator::start`]; the server stops when the [`SimHandle`] is dropped.

mod auth;
mod clock;
mod control;
mod data;
mod faults;
mod feeds;
mod finances;
mod inventory;
mod limits;
mod listings;
mod live;
pub mod marketplaces;
mod models;
mod ops;
mod paging;
mod query;
mod server;
mod state;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

pub use data::{Money, OrderStatus, SimItem, SimOrder};
pub use faults::{FaultKind, Faults, ScheduledFault};
pub use feeds::SimFeed;
pub use feeds::issue_codes as feed_issue_codes;
pub use finances::{SettlementAnomaly, SettlementAnomalyKind, SimTransaction};
pub use inventory::SimInventory;
pub use listings::issue_codes as listing_issue_codes;
pub use listings::{SimListing, SimSubmission};
pub use ops::inventory::NO_FBA_INVENTORY_MESSAGE;
pub use paging::UNDECODABLE as NEXT_TOKEN_UNDECODABLE_MESSAGE;
pub use state::{OpStats, SimStats};

/// LWA client id accepted by default.
pub const DEFAULT_CLIENT_ID: &str = "amzn1.application-oa2-client.spapisim0000000000000000";
/// LWA client secret accepted by default.
pub const DEFAULT_CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.spapisim-secret";
/// LWA refresh token accepted by default.
pub const DEFAULT_REFRESH_TOKEN: &str = "Atzr|spapi-sim-refresh-token";
/// The seller id ([`SimConfig::seller_id`]) by default.
pub const DEFAULT_SELLER_ID: &str = "A2SIMSELLER0001";

/// Live mode: orders keep arriving and advancing on the simulated clock.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConfig {
    /// New orders per simulated hour.
    pub orders_per_hour: f64,
    /// Status advances (Pending -> Unshipped -> …) per simulated hour.
    pub updates_per_hour: f64,
    /// How often (real time) the live task wakes up.
    pub tick: std::time::Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            orders_per_hour: 120.0,
            updates_per_hour: 240.0,
            tick: std::time::Duration::from_millis(500),
        }
    }
}

/// Everything the simulator can be told at start.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Orders in the generated history.
    pub orders: usize,
    pub seed: u64,
    /// The history spreads over the last `days` days of the simulated clock.
    pub days: u32,
    /// Marketplace ids the seller sells in; the first is the home marketplace.
    pub marketplaces: Vec<String>,
    /// K: the simulated clock, rates and token lifetimes run K times faster than real time.
    pub time_scale: f64,
    /// Simulated Amazon clock minus the local clock (clock-skew tests).
    pub clock_offset: chrono::Duration,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// Access-token lifetime in simulated seconds.
    pub token_lifetime_secs: u64,
    /// NextToken lifetime in simulated seconds.
    pub next_token_ttl_secs: u64,
    /// Items per getOrderItems page (Amazon's page size is not documented; 100 by default).
    pub order_items_page_size: usize,
    /// (rate per simulated second, burst) by operation name, e.g. `getOrders`.
    pub rate_overrides: HashMap<String, (f64, u32)>,
    /// Answer the models' `x-amzn-api-sandbox` static cases when a request matches one.
    pub sandbox: bool,
    pub faults: Faults,
    pub live: Option<LiveConfig>,
    /// Whether the seller sells with FBA. Without it there is no inventory and
    /// getInventorySummaries answers 400 `InvalidInput` [`NO_FBA_INVENTORY_MESSAGE`], as Amazon
    /// does for an account without FBA SKUs. The orders are the same either way.
    pub fba_inventory: bool,
    /// getInventorySummaries nextToken lifetime in simulated seconds (Amazon: 30).
    pub inventory_next_token_ttl_secs: u64,
    /// Simulated seconds an inbound shipment spends, on average, in each of working, shipped
    /// and receiving before its units become fulfillable.
    pub inbound_stage_secs: u64,
    /// Live mode: units that become unfulfillable (damaged, defective, damaged returns) per
    /// simulated hour.
    pub inventory_damage_per_hour: f64,
    /// Products in the seller's catalog (each a SKU the orders draw from; default 60).
    /// The default keeps every seed's orders as they were; another size draws others.
    pub catalog_size: usize,
    /// Whether the seller has financial transactions (listTransactions answers an empty list
    /// without them). The orders are the same either way.
    pub finances: bool,
    /// Transactions per listTransactions page (Amazon does not document its page size).
    pub transactions_page_size: usize,
    /// N: settlement anomalies for a reconciliation to find. N fully shipped orders never get
    /// a Shipment transaction, and N others get one whose first item's principal is off by
    /// one currency unit or minus half of one (+100 / -50 whole yen); orders shipped more than
    /// 20 days ago are chosen first. They are listed by [`SimHandle::settlement_anomalies`].
    /// The choice has an RNG stream of its own: with 0 (the default) every seed's ledger is as
    /// it was, and with N the other orders' transactions keep their ids.
    pub settlement_anomalies: usize,
    /// The seller's id (merchant token): the `sellerId` the Listings API answers to (another
    /// one gets 403) and the `sellingPartnerId` of the transactions.
    pub seller_id: String,
    /// Simulated seconds between a patch being accepted and its change going live.
    pub listings_apply_delay_secs: u64,
    /// Share (0..=1) of accepted patches that are never applied (drawn from an RNG stream of
    /// their own).
    pub listings_never_applied_share: f64,
    /// Share (0..=1) of accepted patches that end up not applied, with an issue
    /// ([`listing_issue_codes::NOT_APPLIED`]) on the listing: a preview can pass while the real
    /// submission fails.
    pub listings_accept_then_fail_share: f64,
    /// Live mode: outside price changes (a repricer, an edit in Seller Central) per simulated
    /// hour, each moving a random listing's price by 1 to 5 percent. (A field of `SimConfig`
    /// rather than [`LiveConfig`], like `inventory_damage_per_hour`, so that code building a
    /// `LiveConfig` field by field keeps compiling.)
    pub reprices_per_hour: f64,
    /// createFeed calls of `JSON_LISTINGS_FEED` accepted per 5 simulated minutes (Amazon limits
    /// this feed type to a few submissions per 5 minutes per region); more answer 429
    /// `QuotaExceeded` although the usage plan's bucket has tokens.
    pub feed_submissions_per_5_min: u32,
    /// Simulated seconds a feed waits `IN_QUEUE` after it is created (and while an earlier feed
    /// of the seller is processed).
    pub feed_queue_secs: u64,
    /// Simulated seconds `IN_PROGRESS` per 1000 messages of a feed (at least one second).
    pub feed_processing_secs_per_1000_messages: u64,
    /// Store processing reports GZIP-compressed (getFeedDocument then says
    /// `compressionAlgorithm: GZIP`).
    pub feed_report_gzip: bool,
    /// Lifetime of the presigned document URLs, in simulated seconds (Amazon: 5 minutes).
    pub feed_document_url_ttl_secs: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            orders: 200,
            seed: 7,
            days: 30,
            marketplaces: vec!["ATVPDKIKX0DER".to_string()],
            time_scale: 1.0,
            clock_offset: chrono::Duration::zero(),
            client_id: DEFAULT_CLIENT_ID.to_string(),
            client_secret: DEFAULT_CLIENT_SECRET.to_string(),
            refresh_token: DEFAULT_REFRESH_TOKEN.to_string(),
            token_lifetime_secs: 3600,
            next_token_ttl_secs: 24 * 3600,
            order_items_page_size: 100,
            rate_overrides: HashMap::new(),
            sandbox: true,
            faults: Faults::default(),
            live: None,
            fba_inventory: true,
            inventory_next_token_ttl_secs: 30,
            inbound_stage_secs: 86_400,
            inventory_damage_per_hour: 1.0,
            catalog_size: 60,
            finances: true,
            transactions_page_size: 100,
            settlement_anomalies: 0,
            seller_id: DEFAULT_SELLER_ID.to_string(),
            listings_apply_delay_secs: 300,
            listings_never_applied_share: 0.0,
            listings_accept_then_fail_share: 0.0,
            reprices_per_hour: 6.0,
            feed_submissions_per_5_min: 5,
            feed_queue_secs: 60,
            feed_processing_secs_per_1000_messages: 120,
            feed_report_gzip: false,
            feed_document_url_ttl_secs: 300,
        }
    }
}

/// Why the simulator could not start or a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "could not bind 127.0.0.1:{port}: {source} (pick another --port, or 0 for any free one)"
    )]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    #[error("the embedded API models could not be read: {0}")]
    Models(String),
    #[error("no order {0:?} in the simulator (read /_sim/ground-truth for the ids)")]
    UnknownOrder(String),
    #[error("invalid order status: {0}")]
    InvalidStatus(String),
    #[error(
        "no FBA inventory of SKU {seller_sku:?} in marketplace {marketplace_id} (read /_sim/inventory for the SKUs)"
    )]
    UnknownInventory {
        marketplace_id: String,
        seller_sku: String,
    },
    #[error("invalid inventory change: {0}")]
    InvalidUnits(String),
    #[error("cannot change the settlement of order {order_id:?}: {reason}")]
    InvalidSettlementChange { order_id: String, reason: String },
    #[error(
        "no listing of SKU {sku:?} in marketplace {marketplace_id} (read /_sim/listings for the SKUs)"
    )]
    UnknownListing { marketplace_id: String, sku: String },
    #[error("invalid price: {0}")]
    InvalidPrice(String),
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Generates the history, binds 127.0.0.1:`config.port` and serves until the handle drops.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
            return Err(SimError::Config(format!(
                "time_scale must be a positive number, not {}",
                config.time_scale
            )));
        }
        for (name, share) in [
            (
                "listings_never_applied_share",
                config.listings_never_applied_share,
            ),
            (
                "listings_accept_then_fail_share",
                config.listings_accept_then_fail_share,
            ),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(SimError::Config(format!(
                    "{name} must be a share between 0 and 1, not {share}"
                )));
            }
        }
        let models = models::Models::load().map_err(SimError::Models)?;
        let port = config.port;
        let live = config.live.clone();
        let shared = Arc::new(state::Shared::new(config, models).map_err(SimError::Config)?);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| SimError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { port, source })?;
        let shutdown = CancellationToken::new();
        let live_stop = shutdown.child_token();
        tokio::spawn(server::serve(listener, shared.clone(), shutdown.clone()));
        if let Some(live) = live {
            tokio::spawn(live::run(shared.clone(), live, live_stop.clone()));
        }
        tracing::info!(%addr, "spapi-sim listening");
        Ok(SimHandle {
            shared,
            addr,
            shutdown,
            live_stop,
        })
    }
}

/// A running simulator; dropping it stops the server.
pub struct SimHandle {
    shared: Arc<state::Shared>,
    addr: SocketAddr,
    shutdown: CancellationToken,
    live_stop: CancellationToken,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl SimHandle {
    /// SP-API base URL, e.g. `http://127.0.0.1:8787`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// LWA token endpoint: `{base}/auth/o2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/auth/o2/token", self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration the simulator runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The simulated Amazon clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Jumps the simulated clock forward by `by` (a negative duration does nothing), as
    /// if that much time had passed at once: deferred transactions get released, late
    /// ones become visible, fees and transfers fall due, buckets refill and tokens age.
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.shared.clock.advance(by);
    }

    /// Every order with its items as it stands now, ordered by AmazonOrderId.
    pub fn ground_truth(&self) -> Vec<SimOrder> {
        self.shared
            .lock()
            .orders
            .values()
            .map(data::OrderRec::to_public)
            .collect()
    }

    /// Stops live mode: no more new orders or status changes (the server keeps serving).
    pub fn stop_live(&self) {
        self.live_stop.cancel();
    }

    /// Replaces the fault settings (and restarts the fault RNG from its seed).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Adds `n` new Pending orders placed now; returns their ids.
    pub fn add_orders(&self, n: usize) -> Vec<String> {
        control::add_orders(&self.shared, n)
    }

    /// Moves an order one step: Pending -> Unshipped -> PartiallyShipped -> Shipped, bumping
    /// its LastUpdateDate (shipped AFN units leave the inventory). Returns false when the order
    /// is unknown or already final.
    pub fn advance_order(&self, id: &str) -> bool {
        let now = self.now();
        self.shared.lock().advance_order(id, now) == Some(true)
    }

    /// Forces an order's status (`Canceled`, `Shipped`, … or the 2026 spellings), bumping its
    /// LastUpdateDate (an AFN order's reserved units follow: released when Canceled).
    pub fn update_order_status(&self, id: &str, status: &str) -> Result<(), SimError> {
        let status: OrderStatus = status.parse().map_err(SimError::InvalidStatus)?;
        let now = self.now();
        self.shared
            .lock()
            .set_order_status(id, status, now)
            .map(|_| ())
            .ok_or_else(|| SimError::UnknownOrder(id.to_string()))
    }

    /// Every FBA inventory summary as it stands now (with inbound shipments moved up to now),
    /// ordered by (marketplace id, seller SKU). Empty when the seller has no FBA.
    pub fn inventory_ground_truth(&self) -> Vec<SimInventory> {
        control::inventory_ground_truth(&self.shared)
    }

    /// `units` of a SKU arrive at a fulfillment center of the marketplace and are fulfillable
    /// now; the summary's lastUpdatedTime becomes now.
    pub fn receive_inbound(
        &self,
        marketplace_id: &str,
        seller_sku: &str,
        units: i64,
    ) -> Result<(), SimError> {
        control::receive_inbound(&self.shared, marketplace_id, seller_sku, units).map(|_| ())
    }

    /// `units` of a SKU's fulfillable stock are damaged in the warehouse (fulfillable ->
    /// unfulfillable, warehouseDamagedQuantity); the summary's lastUpdatedTime becomes now.
    pub fn damage_units(
        &self,
        marketplace_id: &str,
        seller_sku: &str,
        units: i64,
    ) -> Result<(), SimError> {
        control::damage_units(&self.shared, marketplace_id, seller_sku, units).map(|_| ())
    }

    /// Every financial transaction that exists now, visible to listTransactions yet or not,
    /// with its status as of now, ordered by (posted date, transaction id).
    pub fn transactions_ground_truth(&self) -> Vec<SimTransaction> {
        control::transactions_ground_truth(&self.shared)
    }

    /// A settlement anomaly: removes the order's Shipment transactions and never posts one for
    /// it again, whatever happens to the order (nor a Refund, as nothing was settled). A
    /// Shipment that a Transfer already paid out is removed all the same; the Transfer stays.
    /// The order is listed as `MISSING_SETTLEMENT` once some of its units shipped.
    pub fn withhold_settlement(&self, order_id: &str) -> Result<(), SimError> {
        control::withhold_settlement(&self.shared, order_id)
    }

    /// A settlement anomaly: the principal of the first item of the order's first Shipment
    /// transaction moves by `delta_minor` (minor units of its currency: cents, whole yen). Its
    /// total and breakdown parents follow; the referral fee stays computed from the true
    /// principal. Without a Shipment yet, the first one to post gets the delta. A Shipment that
    /// a Transfer already paid out is changed all the same; the Transfer stays as it was. The
    /// order is listed as `AMOUNT_MISMATCH` once the changed Shipment is posted. Refused for a
    /// delta of 0 and for a withheld order.
    pub fn misprice_settlement(&self, order_id: &str, delta_minor: i64) -> Result<(), SimError> {
        control::misprice_settlement(&self.shared, order_id, delta_minor)
    }

    /// The settlement anomalies a reconciliation can see now (those of
    /// [`SimConfig::settlement_anomalies`] and of the two calls above), ordered by order id.
    pub fn settlement_anomalies(&self) -> Vec<SettlementAnomaly> {
        control::settlement_anomalies(&self.shared)
    }

    /// Every listing as it stands now (submissions that are due applied), ordered by
    /// (marketplace id, SKU).
    pub fn listings_ground_truth(&self) -> Vec<SimListing> {
        control::listings_ground_truth(&self.shared)
    }

    /// An outside price change now, as a repricer or an edit in Seller Central would make:
    /// the listing's price becomes `amount` (a decimal in the currency's precision, `"17.49"`,
    /// `"5480"`) and its lastUpdatedDate now.
    pub fn reprice(&self, marketplace_id: &str, sku: &str, amount: &str) -> Result<(), SimError> {
        control::reprice(&self.shared, marketplace_id, sku, amount).map(|_| ())
    }

    /// From now on, accepted submissions for this listing are not applied when they fall due
    /// (those already pending too); `on = false` lets later ones apply again.
    pub fn never_apply(&self, marketplace_id: &str, sku: &str, on: bool) -> Result<(), SimError> {
        control::never_apply(&self.shared, marketplace_id, sku, on)
    }

    /// Amazon reclassifies the listing into the generic product type `PRODUCT`: a patch or
    /// feed message sent later with its old product type is refused (code 4000003).
    pub fn reclassify_listing(&self, marketplace_id: &str, sku: &str) -> Result<(), SimError> {
        control::reclassify(&self.shared, marketplace_id, sku)
    }

    /// Every patchListingsItem submission (every patch answered with a submission: ACCEPTED,
    /// INVALID or VALID, previews included), in arrival order, and every accepted feed message
    /// (id `feed:{feedId}:{messageId}`, one per marketplace of the feed, recorded when the feed
    /// ends).
    pub fn listing_submissions(&self) -> Vec<SimSubmission> {
        control::listing_submissions(&self.shared)
    }

    /// Every feed, in creation order, as it stands now (feeds that ended are processed).
    pub fn feeds(&self) -> Vec<SimFeed> {
        control::feeds(&self.shared)
    }

    /// Every presigned document URL issued so far (upload and download) expires now; URLs
    /// issued afterwards work. (Advancing the clock past `feed_document_url_ttl_secs` does the
    /// same for the URLs issued before.)
    pub fn expire_feed_documents(&self) {
        self.shared.lock().feeds.expire_urls();
    }

    /// The next `n` upload URLs `createFeedDocument` answers are already expired (as
    /// when an upload starts after their five minutes): the upload is refused with 403.
    pub fn expire_next_feed_uploads(&self, n: u32) {
        self.shared.lock().feeds.expire_next_uploads(n);
    }

    /// The next `n` feeds created end FATAL when processed, whatever they carry (code
    /// `feed_issue_codes::PROCESSING_FAILED`), as Amazon's internal failures do.
    pub fn abort_next_feeds(&self, n: u32) {
        self.shared.lock().feeds.abort_next(n);
    }

    /// Waits (on the simulated clock) until every order's last update is older than
    /// `lag`, so that a client, which may not ask for anything newer than two minutes
    /// before now, can see all of them. Tests and benchmarks call it before a sync
    /// whose result they compare with [`Self::ground_truth`].
    pub async fn settle(&self, lag: chrono::Duration) {
        let newest = self.ground_truth().iter().map(|o| o.last_update_date).max();
        if let Some(newest) = newest {
            while self.now() - newest < lag {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }

    /// Per-operation calls, 429s, bucket levels and LWA tokens issued.
    pub fn stats(&self) -> SimStats {
        self.shared.stats()
    }

    /// Zeroes the counters (buckets, tokens and orders are left as they are).
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Back to the state right after start (orders, inventory, ledger and listings regenerated,
    /// feeds, feed documents, submissions, tokens, NextTokens and pageTokens forgotten, buckets full, configured
    /// faults, counters zero). The clock keeps running.
    pub fn reset(&self) {
        self.shared.reset_all();
    }
}
