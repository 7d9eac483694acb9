//! The simulator's shared state: orders, FBA inventory, transactions, listings, issued tokens,
//! NextTokens, buckets, stats, faults.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::SimConfig;
use crate::clock::SimClock;
use crate::data::{self, Generator, OrderRec, OrderStatus};
use crate::faults::{FaultState, Faults};
use crate::feeds::{Feeds, FeedsSettings};
use crate::finances::{Ledger, TransactionsQuery};
use crate::inventory::Inventory;
use crate::inventory::SummariesQuery;
use crate::limits::Bucket;
use crate::listings::{Listings, ListingsSettings, SearchQuery};
use crate::marketplaces::Marketplace;
use crate::models::{Models, Op};
use crate::paging::PageTable;

/// Calls and outcomes of one operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpStats {
    /// Every request that reached the operation (including rejected ones).
    pub calls: u64,
    /// 2xx answers.
    pub ok: u64,
    /// 429 answers (empty bucket or injected).
    pub throttled: u64,
    /// 403 answers (missing, unknown or expired access token).
    pub unauthorized: u64,
    /// Other 4xx answers (400 InvalidInput, 404).
    pub client_errors: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// Requests that got an injected fault of any kind.
    pub faults_injected: u64,
    /// Tokens left in the bucket now.
    pub bucket_level: f64,
    /// The bucket's rate (per simulated second) and burst.
    pub rate: f64,
    pub burst: u32,
}

/// A snapshot of the simulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    /// Keyed by operation name (`getOrders`, `getOrder`, `getOrderItems`, `searchOrders`,
    /// `getOrder2026`, `getMarketplaceParticipations`, `getInventorySummaries`, `listTransactions`,
    /// `searchListingsItems`, `getListingsItem`, `patchListingsItem`, `createFeedDocument`,
    /// `createFeed`, `getFeed`, `getFeeds`, `cancelFeed`, `getFeedDocument`).
    pub operations: BTreeMap<String, OpStats>,
    /// Requests to `/auth/o2/token`, and how many of them issued an access token.
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// Injected faults that took effect, by [`crate::FaultKind::name`].
    #[serde(default)]
    pub faults_by_kind: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// Which sort key a listing pages by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    Created,
    Updated,
}

/// A listing query as a NextToken remembers it.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub op: Op,
    /// Empty: every marketplace of the seller.
    pub marketplaces: Vec<String>,
    pub window: Window,
    pub after: DateTime<Utc>,
    pub before: DateTime<Utc>,
    pub statuses: Option<Vec<OrderStatus>>,
    pub channels: Option<Vec<String>>,
    pub order_ids: Option<Vec<String>>,
    pub seller_order_id: Option<String>,
    pub payment_methods: Option<Vec<String>>,
    /// EasyShip filters select only Easy Ship orders; the simulator has none.
    pub easy_ship_only: bool,
    pub page_size: usize,
    /// For getOrderItems tokens: the order they page through.
    pub order_id: Option<String>,
}

impl ListQuery {
    pub fn key(&self, o: &OrderRec) -> DateTime<Utc> {
        match self.window {
            Window::Created => o.purchase,
            Window::Updated => o.last_update,
        }
    }

    pub fn matches(&self, o: &OrderRec) -> bool {
        let k = self.key(o);
        k >= self.after
            && k <= self.before
            && (self.marketplaces.is_empty() || self.marketplaces.iter().any(|m| m == o.mp.id))
            && self.statuses.as_ref().is_none_or(|s| s.contains(&o.status))
            && self
                .channels
                .as_ref()
                .is_none_or(|c| c.iter().any(|c| c == o.channel()))
            && self
                .order_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&o.id))
            && self
                .seller_order_id
                .as_ref()
                .is_none_or(|s| o.seller_order_id.as_ref() == Some(s))
            && self
                .payment_methods
                .as_ref()
                .is_none_or(|p| p.iter().any(|p| p == "Other"))
            && !self.easy_ship_only
    }
}

pub(crate) struct Inner {
    pub orders: BTreeMap<String, OrderRec>,
    pub generator: Generator,
    /// Changed only together with the orders (see the order methods below), so it follows them.
    pub inventory: Inventory,
    /// The financial transactions; changed only together with the orders, like the inventory.
    pub ledger: Ledger,
    pub access_tokens: HashMap<String, AccessToken>,
    pub token_requests: u64,
    pub tokens_issued: u64,
    pub pages: PageTable<ListQuery>,
    /// getInventorySummaries nextTokens: their own table, under a key of their own, so an
    /// orders token is not mistaken for one.
    pub inventory_pages: PageTable<SummariesQuery>,
    /// listTransactions nextTokens, in a table of their own under a key of their own.
    pub transaction_pages: PageTable<TransactionsQuery>,
    /// The seller's listings and the patches submitted to them; not tied to the orders.
    pub listings: Listings,
    /// searchListingsItems pageTokens, in a table of their own under a key of their own.
    pub listing_pages: PageTable<SearchQuery>,
    /// The seller's feeds and feed documents; their accepted messages go to the listings.
    pub feeds: Feeds,
    pub buckets: HashMap<Op, Bucket>,
    pub stats: HashMap<Op, OpStats>,
    pub faults: FaultState,
    pub fault_counts: BTreeMap<String, u64>,
    pub rng: ChaCha8Rng,
}

pub(crate) struct Shared {
    pub config: SimConfig,
    pub clock: SimClock,
    pub models: Models,
    pub marketplaces: Vec<&'static Marketplace>,
    /// HMAC key of NextTokens: random per process start, kept across resets, so a token from
    /// another simulator fails to decode and one from before a reset is unknown.
    page_key: [u8; 32],
    inner: Mutex<Inner>,
}

impl Inner {
    /// Brings the feeds and the listings to `now`: feeds that ended are processed (their
    /// messages become submissions), then the submissions due are applied. Everything that
    /// reads or changes listings or feeds calls this first.
    pub fn tick_listings(&mut self, now: DateTime<Utc>) {
        self.feeds.tick(&mut self.listings, now);
        self.listings.tick(now);
    }

    /// Adds a new order; an AFN order reserves its units.
    pub fn insert_order(&mut self, o: OrderRec, now: DateTime<Utc>) {
        self.inventory.follow(&o, now);
        self.ledger.follow(&o, now);
        self.orders.insert(o.id.clone(), o);
    }

    /// [`OrderRec::advance`], with the stock following. `None` when the order is unknown.
    pub fn advance_order(&mut self, id: &str, now: DateTime<Utc>) -> Option<bool> {
        let order = self.orders.get_mut(id)?;
        let advanced = order.advance(now);
        self.inventory.follow(order, now);
        self.ledger.follow(order, now);
        Some(advanced)
    }

    /// [`OrderRec::set_status`], with the stock following. `None` when the order is unknown.
    pub fn set_order_status(
        &mut self,
        id: &str,
        status: OrderStatus,
        now: DateTime<Utc>,
    ) -> Option<&OrderRec> {
        let order = self.orders.get_mut(id)?;
        order.set_status(status, now);
        self.inventory.follow(order, now);
        self.ledger.follow(order, now);
        Some(order)
    }
}

impl Shared {
    pub fn new(config: SimConfig, models: Models) -> Result<Self, String> {
        let marketplaces = data::resolve_marketplaces(&config.marketplaces)?;
        let clock = SimClock::new(config.clock_offset, config.time_scale);
        let page_key: [u8; 32] = rand::random();
        let inner = Self::fresh_inner(&config, &models, &clock, &marketplaces, page_key);
        Ok(Self {
            config,
            clock,
            models,
            marketplaces,
            page_key,
            inner: Mutex::new(inner),
        })
    }

    fn fresh_inner(
        config: &SimConfig,
        models: &Models,
        clock: &SimClock,
        marketplaces: &[&'static Marketplace],
        page_key: [u8; 32],
    ) -> Inner {
        let mut generator = Generator::new(config.seed, marketplaces.to_vec(), config.catalog_size);
        let now = clock.now();
        let orders = data::generate(&mut generator, config.orders, config.days, now);
        let inventory = Inventory::build(
            config.fba_inventory,
            config.seed,
            config.inbound_stage_secs,
            config.days,
            &orders,
            now,
        );
        let mut ledger = Ledger::build(
            config.finances,
            config.seed,
            config.days,
            config.settlement_anomalies,
            marketplaces,
            &orders,
            now,
        );
        // One seller: the transactions' sellingPartnerId is the sellerId the listings answer
        // to. (The ledger still draws its generated id, so its RNG stream is unchanged.)
        ledger.seller_id.clone_from(&config.seller_id);
        let listings = Listings::build(
            config.seed,
            ListingsSettings {
                apply_delay_secs: config.listings_apply_delay_secs,
                never_applied_share: config.listings_never_applied_share,
                accept_then_fail_share: config.listings_accept_then_fail_share,
            },
            generator.catalog(),
            marketplaces,
            |mp, sku| inventory.has(mp, sku),
            config.days,
            now,
        );
        let rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x005E_ED0F_5AA5);
        let pages = PageTable::new(page_key);
        let mut inventory_key = page_key;
        inventory_key.iter_mut().for_each(|b| *b ^= 0x5A);
        let mut transactions_key = page_key;
        transactions_key.iter_mut().for_each(|b| *b ^= 0xA5);
        let mut listings_key = page_key;
        listings_key.iter_mut().for_each(|b| *b ^= 0x3C);
        let mut feeds_key = page_key;
        feeds_key.iter_mut().for_each(|b| *b ^= 0x69);
        let feeds = Feeds::new(
            config.seed,
            FeedsSettings {
                seller_id: config.seller_id.clone(),
                queue_secs: config.feed_queue_secs,
                processing_secs_per_1000: config.feed_processing_secs_per_1000_messages,
                report_gzip: config.feed_report_gzip,
                url_ttl_secs: config.feed_document_url_ttl_secs,
            },
            feeds_key,
        );
        let mut inner = Inner {
            orders,
            generator,
            inventory,
            inventory_pages: PageTable::new(inventory_key),
            ledger,
            transaction_pages: PageTable::new(transactions_key),
            listings,
            listing_pages: PageTable::new(listings_key),
            feeds,
            access_tokens: HashMap::new(),
            token_requests: 0,
            tokens_issued: 0,
            pages,
            buckets: HashMap::new(),
            stats: HashMap::new(),
            faults: FaultState::new(config.faults.clone(), config.seed),
            fault_counts: BTreeMap::new(),
            rng,
        };
        Self::reset_buckets(config, models, clock, &mut inner);
        inner
    }

    fn reset_buckets(config: &SimConfig, models: &Models, clock: &SimClock, inner: &mut Inner) {
        let now = clock.sim_secs();
        inner.buckets = Op::ALL
            .into_iter()
            .map(|op| {
                let (rate, burst) = config
                    .rate_overrides
                    .get(op.name())
                    .copied()
                    .or_else(|| models.ops.get(&op).map(|m| (m.rate, m.burst)))
                    .unwrap_or((1.0, 1));
                (op, Bucket::new(rate, burst, now))
            })
            .collect();
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Back to the state right after start: regenerated orders, no tokens, full buckets,
    /// configured faults, zero counters.
    pub fn reset_all(&self) {
        let fresh = Self::fresh_inner(
            &self.config,
            &self.models,
            &self.clock,
            &self.marketplaces,
            self.page_key,
        );
        *self.lock() = fresh;
    }

    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = FaultState::new(faults, self.config.seed);
    }

    pub fn stats(&self) -> SimStats {
        let now = self.clock.sim_secs();
        let mut inner = self.lock();
        let mut operations = BTreeMap::new();
        for op in Op::ALL {
            let mut s = inner.stats.get(&op).cloned().unwrap_or_default();
            if let Some(b) = inner.buckets.get_mut(&op) {
                s.bucket_level = b.level(now);
                s.rate = b.rate;
                s.burst = b.burst;
            }
            operations.insert(op.name().to_string(), s);
        }
        SimStats {
            operations,
            token_requests: inner.token_requests,
            tokens_issued: inner.tokens_issued,
            faults_by_kind: inner.fault_counts.clone(),
        }
    }

    pub fn reset_stats(&self) {
        let mut inner = self.lock();
        inner.stats.clear();
        inner.fault_counts.clear();
        inner.token_requests = 0;
        inner.tokens_issued = 0;
    }
}
