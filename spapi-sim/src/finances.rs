//! The seller's financial transactions: what Finances 2024-06-19 `listTransactions` reads.
//! They follow the simulated business:
//!
//! - units that ship post a `Shipment` (per shipment: the items' principal as sales, the
//!   referral fee and, for AFN orders, the FBA fee per unit as expenses); it is `DEFERRED`
//!   until 7 to 14 simulated days later, then `DEFERRED_RELEASED`;
//! - an order canceled after units shipped posts a `Refund` of what was charged for them (the
//!   referral fee comes back, less a refund administration fee of a fifth of it);
//! - a monthly `ServiceFee` (the Professional selling subscription) in the home marketplace;
//! - every 14 days a `Transfer` per marketplace pays out what was released and not yet paid.
//!
//! A transaction's status is a function of the clock (released once its release time has
//! passed), so the ground truth and the answers agree at any instant. Each transaction becomes
//! visible to `listTransactions` only some time (0 to 48 simulated hours) after it is posted,
//! as Amazon warns ("financial events might not include orders from the last 48 hours").
//!
//! Amounts are kept in minor units and every node of a breakdown tree is the sum of its
//! children, so the leaves of a transaction sum exactly to its total. The ledger draws from
//! its own RNG stream (seeded from the simulator's seed), so the orders and the inventory are
//! the same with or without it.
//!
//! Settlement anomalies give a reconciliation something to find: an order whose Shipment is
//! *withheld* never gets one, and one whose settlement is *mispriced* gets a first Shipment
//! whose first item's principal is off by a delta (the referral fee still follows the true
//! principal; totals and breakdown parents follow the changed leaf). The orders chosen at
//! build time come from yet another RNG stream, so a seed without anomalies keeps its ledger.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::iso;
use crate::data::{OrderRec, OrderStatus, format_minor, per_usd};
use crate::marketplaces::Marketplace;

/// One financial transaction as it stands now: what `GET /_sim/transactions` and
/// `SimHandle::transactions_ground_truth` return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimTransaction {
    pub transaction_id: String,
    /// `Shipment`, `Refund`, `ServiceFee` or `Transfer`.
    pub transaction_type: String,
    /// `DEFERRED`, `RELEASED` or `DEFERRED_RELEASED`, as of now.
    pub status: String,
    pub posted_date: DateTime<Utc>,
    /// From this instant on, `listTransactions` lists it.
    pub visible_at: DateTime<Utc>,
    /// When a deferred transaction is (or was) released; `None` for one released
    /// when posted. Its status at any instant follows from it.
    pub release_at: Option<DateTime<Utc>>,
    pub marketplace_id: Option<String>,
    pub amazon_order_id: Option<String>,
    pub currency: String,
    /// The total as an exact decimal in the currency's precision (`"-12.34"`, `"5980"`).
    pub total: String,
    /// The transaction exactly as `listTransactions` renders it now.
    pub raw: Value,
}

/// What a reconciliation of settlements against orders should find about one order: what
/// `GET /_sim/settlement-anomalies` and `SimHandle::settlement_anomalies` return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementAnomaly {
    pub amazon_order_id: String,
    pub kind: SettlementAnomalyKind,
    pub currency: String,
    /// The sum of the order's item prices (v0 `ItemPrice`, unit price times quantity) as an
    /// exact decimal in the currency's precision (`"23.98"`, `"5980"`).
    pub expected: String,
    /// The principal of the order's Shipment transactions as posted, in the same form; `None`
    /// when no Shipment was posted.
    pub actual: Option<String>,
}

/// The kinds of [`SettlementAnomaly`], serialized as `MISSING_SETTLEMENT` and
/// `AMOUNT_MISMATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SettlementAnomalyKind {
    /// Units of the order shipped and no Shipment transaction was posted for them.
    MissingSettlement,
    /// The principal of the order's Shipment transactions differs from its item prices.
    AmountMismatch,
}

impl SettlementAnomalyKind {
    /// The serialized spelling (`MISSING_SETTLEMENT`, `AMOUNT_MISMATCH`).
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementAnomalyKind::MissingSettlement => "MISSING_SETTLEMENT",
            SettlementAnomalyKind::AmountMismatch => "AMOUNT_MISMATCH",
        }
    }
}

/// The statuses of the model's `transactionStatus` parameter.
pub(crate) const STATUSES: [&str; 3] = ["DEFERRED", "RELEASED", "DEFERRED_RELEASED"];

/// Settlement period: one financial event group per marketplace, closed by a transfer.
const PERIOD_DAYS: i64 = 14;
/// The subscription fee comes every this many days.
const FEE_DAYS: i64 = 30;
/// Longest lag between a transaction's posting and its visibility.
const MAX_LAG_SECS: i64 = 48 * 3600;
/// Orders last updated (shipped) longer ago than this are preferred for the anomalies chosen at
/// build time: a reconciliation that waits 14 days for a settlement will flag them.
const ANOMALY_MIN_AGE_DAYS: i64 = 20;

/// A node of a breakdown tree: a leaf holds an amount, an inner node sums its children.
#[derive(Debug, Clone)]
struct Node {
    kind: &'static str,
    leaf_minor: i64,
    children: Vec<Node>,
}

impl Node {
    fn amount(&self) -> i64 {
        if self.children.is_empty() {
            self.leaf_minor
        } else {
            self.children.iter().map(Node::amount).sum()
        }
    }
}

/// Builds trees from leaves given by path (`["Sales", "ProductCharges", "Principal"]`);
/// leaves of the same path add up.
fn tree(leaves: &[(&[&'static str], i64)]) -> Vec<Node> {
    let mut nodes = Vec::new();
    for (path, minor) in leaves {
        let mut chain: Option<Node> = None;
        for kind in path.iter().rev() {
            chain = Some(Node {
                kind,
                leaf_minor: if chain.is_none() { *minor } else { 0 },
                children: chain.into_iter().collect(),
            });
        }
        if let Some(n) = chain {
            merge(&mut nodes, n);
        }
    }
    nodes
}

fn merge(into: &mut Vec<Node>, n: Node) {
    if let Some(existing) = into.iter_mut().find(|e| e.kind == n.kind) {
        existing.leaf_minor += n.leaf_minor;
        for c in n.children {
            merge(&mut existing.children, c);
        }
    } else {
        into.push(n);
    }
}

type Leaves = Vec<(&'static [&'static str], i64)>;

const PRINCIPAL: &[&str] = &["Sales", "ProductCharges", "Principal"];
const COMMISSION: &[&str] = &["Expenses", "AmazonFees", "Commission"];
const REFUND_COMMISSION: &[&str] = &["Expenses", "AmazonFees", "RefundCommission"];
const FBA_FEE: &[&str] = &["Expenses", "AmazonFees", "FBAPerUnitFulfillmentFee"];
const SUBSCRIPTION: &[&str] = &["Expenses", "ServiceFees", "Subscription"];
const TRANSFER: &[&str] = &["Transfer"];

#[derive(Debug, Clone)]
struct ItemTx {
    order_item_id: String,
    leaves: Leaves,
}

#[derive(Debug, Clone)]
pub(crate) struct TxRec {
    pub id: String,
    pub kind: &'static str,
    pub posted: DateTime<Utc>,
    pub visible_at: DateTime<Utc>,
    /// When a deferred transaction is released; `None`: released when posted.
    pub release_at: Option<DateTime<Utc>>,
    pub mp: &'static Marketplace,
    pub order_id: Option<String>,
    /// FINANCIAL_EVENT_GROUP_ID.
    pub group: String,
    /// Other related identifiers (SHIPMENT_ID, REFUND_ID, DISBURSEMENT_ID…).
    related: Vec<(&'static str, String)>,
    description: String,
    items: Vec<ItemTx>,
    leaves: Leaves,
    /// Already paid out by a transfer (transfers count as paid).
    disbursed: bool,
}

impl TxRec {
    pub fn total_minor(&self) -> i64 {
        self.leaves.iter().map(|(_, m)| m).sum()
    }

    /// The sum of its `Sales/ProductCharges/Principal` leaves.
    fn principal_minor(&self) -> i64 {
        self.leaves
            .iter()
            .filter(|(path, _)| *path == PRINCIPAL)
            .map(|(_, m)| m)
            .sum()
    }

    /// Moves the principal of its first item by `delta`; the total and every breakdown parent
    /// follow (they are sums of the leaves), the fees stay as they were.
    fn shift_principal(&mut self, delta: i64) {
        if let Some(first) = self.items.first_mut() {
            shift_principal(&mut first.leaves, delta);
        }
        self.leaves = self.items.iter().flat_map(|i| i.leaves.clone()).collect();
    }

    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        match self.release_at {
            None => "RELEASED",
            Some(r) if r <= now => "DEFERRED_RELEASED",
            Some(_) => "DEFERRED",
        }
    }

    fn released_by(&self, t: DateTime<Utc>) -> bool {
        self.release_at.is_none_or(|r| r <= t)
    }

    /// Whether it carries `name` = `value` among its related identifiers.
    pub fn related_to(&self, name: &str, value: &str) -> bool {
        match name {
            "ORDER_ID" => self.order_id.as_deref() == Some(value),
            "FINANCIAL_EVENT_GROUP_ID" => self.group == value,
            _ => self.related.iter().any(|(n, v)| *n == name && v == value),
        }
    }

    fn money(&self, minor: i64) -> Value {
        let text = format_minor(minor, self.mp.decimals);
        let amount = if self.mp.decimals == 0 {
            json!(minor)
        } else {
            // A JSON number with the decimal digits as written (the model says BigDecimal).
            text.parse::<serde_json::Number>()
                .map_or_else(|_| json!(text), Value::Number)
        };
        json!({"currencyCode": self.mp.currency, "currencyAmount": amount})
    }

    fn render_nodes(&self, nodes: &[Node]) -> Value {
        Value::Array(
            nodes
                .iter()
                .map(|n| {
                    json!({
                        "breakdownType": n.kind,
                        "breakdownAmount": self.money(n.amount()),
                        "breakdowns": self.render_nodes(&n.children),
                    })
                })
                .collect(),
        )
    }

    /// The transaction as the model's `Transaction`, at `now` (which decides the status).
    pub fn render(&self, seller_id: &str, now: DateTime<Utc>) -> Value {
        let mut related: Vec<Value> = Vec::new();
        if let Some(order) = &self.order_id {
            related.push(
                json!({"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": order}),
            );
        }
        for (name, value) in &self.related {
            related.push(json!({"relatedIdentifierName": name, "relatedIdentifierValue": value}));
        }
        related.push(json!({"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID", "relatedIdentifierValue": self.group}));
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|i| {
                let total: i64 = i.leaves.iter().map(|(_, m)| m).sum();
                json!({
                    "relatedIdentifiers": [{
                        "itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                        "itemRelatedIdentifierValue": i.order_item_id,
                    }],
                    "totalAmount": self.money(total),
                    "breakdowns": self.render_nodes(&tree(&i.leaves)),
                })
            })
            .collect();
        json!({
            "sellingPartnerMetadata": {
                "sellingPartnerId": seller_id,
                "accountType": "Standard Orders",
                "marketplaceId": self.mp.id,
            },
            "relatedIdentifiers": related,
            "transactionType": self.kind,
            "transactionId": self.id,
            "transactionStatus": self.status(now),
            "description": self.description,
            "postedDate": iso(self.posted),
            "totalAmount": self.money(self.total_minor()),
            "marketplaceDetails": {"marketplaceId": self.mp.id, "marketplaceName": self.mp.name},
            "items": items,
            "breakdowns": self.render_nodes(&tree(&self.leaves)),
        })
    }

    pub fn to_public(&self, seller_id: &str, now: DateTime<Utc>) -> SimTransaction {
        SimTransaction {
            transaction_id: self.id.clone(),
            transaction_type: self.kind.to_string(),
            status: self.status(now).to_string(),
            posted_date: self.posted,
            visible_at: self.visible_at,
            release_at: self.release_at,
            marketplace_id: Some(self.mp.id.to_string()),
            amazon_order_id: self.order_id.clone(),
            currency: self.mp.currency.to_string(),
            total: format_minor(self.total_minor(), self.mp.decimals),
            raw: self.render(seller_id, now),
        }
    }
}

/// An amount given in US cents, in a marketplace's currency (minor units).
fn local_minor(usd_cents: i64, mp: &Marketplace) -> i64 {
    let major = usd_cents as f64 / 100.0 * per_usd(mp.currency);
    (major * 10_f64.powi(i32::try_from(mp.decimals).unwrap_or(2))).round() as i64
}

/// Amazon's referral fee: 15% of the principal, rounded to the minor unit.
fn referral_fee(principal: i64) -> i64 {
    (principal * 15 + 50) / 100
}

/// Adds `delta` to the first principal leaf.
fn shift_principal(leaves: &mut Leaves, delta: i64) {
    if let Some((_, minor)) = leaves.iter_mut().find(|(path, _)| *path == PRINCIPAL) {
        *minor += delta;
    }
}

/// The amount the `k`-th order mispriced at build time is off by: one unit of the currency, or
/// minus half of one (whole yen: +100 and -50).
fn misprice_delta(k: usize, decimals: u32) -> i64 {
    let unit = if decimals == 0 {
        100
    } else {
        10_i64.pow(decimals)
    };
    if k.is_multiple_of(2) { unit } else { -unit / 2 }
}

/// Picks, on an RNG stream of its own, up to `n` orders whose Shipment is withheld and `n`
/// others whose Shipment is mispriced, among the fully shipped priced orders, those shipped
/// more than [`ANOMALY_MIN_AGE_DAYS`] days before `now` first.
fn choose_anomalies(
    seed: u64,
    n: usize,
    orders: &BTreeMap<String, OrderRec>,
    now: DateTime<Utc>,
) -> (BTreeSet<String>, HashMap<String, i64>) {
    let mut withheld = BTreeSet::new();
    let mut mispriced = HashMap::new();
    if n == 0 {
        return (withheld, mispriced);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5E77_1E0A_0A11_0003);
    let cutoff = now - Duration::days(ANOMALY_MIN_AGE_DAYS);
    let (mut old, mut young): (Vec<&OrderRec>, Vec<&OrderRec>) = orders
        .values()
        .filter(|o| {
            o.status == OrderStatus::Shipped
                && o.shows_prices()
                && o.items.iter().all(|i| i.shipped == i.qty)
        })
        .partition(|o| o.last_update < cutoff);
    old.shuffle(&mut rng);
    young.shuffle(&mut rng);
    for (k, o) in old.into_iter().chain(young).take(2 * n).enumerate() {
        if k.is_multiple_of(2) {
            withheld.insert(o.id.clone());
        } else {
            mispriced.insert(o.id.clone(), misprice_delta(k / 2, o.mp.decimals));
        }
    }
    (withheld, mispriced)
}

/// What has been posted for an order so far.
#[derive(Debug, Clone, Default)]
struct Posted {
    /// Units shipped and charged, per item.
    units: Vec<u32>,
    refunded: bool,
}

pub(crate) struct Ledger {
    enabled: bool,
    rng: ChaCha8Rng,
    seed: u64,
    pub seller_id: String,
    home: &'static Marketplace,
    marketplaces: Vec<&'static Marketplace>,
    /// Start of settlement period 0.
    anchor: DateTime<Utc>,
    next_transfer: DateTime<Utc>,
    next_fee: DateTime<Utc>,
    /// By (posted, id): the order listTransactions pages in.
    txs: BTreeMap<(DateTime<Utc>, String), TxRec>,
    posted: HashMap<String, Posted>,
    ids: HashSet<String>,
    /// Orders whose Shipments are never posted (settlement anomalies).
    withheld: BTreeSet<String>,
    /// Orders whose first Shipment carries a wrong principal, with the delta applied so far.
    mispriced: BTreeMap<String, i64>,
    /// Deltas waiting for the order's first Shipment.
    pending_misprice: HashMap<String, i64>,
}

impl Ledger {
    /// The transactions of the orders' history up to `now`, with the fees and transfers of
    /// the last `days` days; `anomalies` orders have their Shipment withheld and as many others
    /// mispriced (see [`choose_anomalies`]).
    pub fn build(
        enabled: bool,
        seed: u64,
        days: u32,
        anomalies: usize,
        marketplaces: &[&'static Marketplace],
        orders: &BTreeMap<String, OrderRec>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xF1_4A4C_E500_0002);
        let seller_id: String = (0..13)
            .map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[rng.random_range(0..36)]))
            .collect();
        let now = now.trunc_subsecs(0);
        let span = Duration::days(i64::from(days.max(1)));
        let anchor = now - span - Duration::seconds(rng.random_range(0..PERIOD_DAYS * 86_400));
        let next_fee = anchor + Duration::seconds(rng.random_range(0..FEE_DAYS * 86_400));
        let home = marketplaces
            .first()
            .copied()
            .unwrap_or(&crate::marketplaces::MARKETPLACES[0]);
        let mut ledger = Self {
            enabled,
            rng,
            seed,
            seller_id: format!("A{seller_id}"),
            home,
            marketplaces: marketplaces.to_vec(),
            anchor,
            next_transfer: anchor + Duration::days(PERIOD_DAYS),
            next_fee,
            txs: BTreeMap::new(),
            posted: HashMap::new(),
            ids: HashSet::new(),
            withheld: BTreeSet::new(),
            mispriced: BTreeMap::new(),
            pending_misprice: HashMap::new(),
        };
        if !enabled {
            return ledger;
        }
        (ledger.withheld, ledger.pending_misprice) = choose_anomalies(seed, anomalies, orders, now);
        // An order's last update is when its last units shipped; the transfers of the history
        // (made by `tick` below) only pay out what was posted before them.
        for o in orders.values() {
            ledger.post_order(o, o.last_update.min(now));
        }
        ledger.tick(now);
        ledger
    }

    fn new_id(&mut self) -> String {
        loop {
            let bytes: [u8; 32] = self.rng.random();
            let id = URL_SAFE_NO_PAD.encode(bytes);
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    /// FINANCIAL_EVENT_GROUP_ID of the settlement period holding `t` in `mp`.
    fn group(&self, mp: &Marketplace, t: DateTime<Utc>) -> String {
        let period = (t - self.anchor)
            .num_seconds()
            .div_euclid(PERIOD_DAYS * 86_400);
        let mut h: u64 = self.seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in mp.id.bytes().chain(period.to_be_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        let mut bytes = [0u8; 32];
        for (n, chunk) in bytes.chunks_mut(8).enumerate() {
            let v = h.wrapping_mul(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1));
            chunk.copy_from_slice(&v.to_be_bytes());
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn add(&mut self, mut tx: TxRec) {
        let lag = self.rng.random_range(0..=MAX_LAG_SECS);
        // A withheld Shipment is drawn like any other, so the transactions after it keep the
        // ids and lags they have without anomalies; it is just never posted.
        if tx.kind == "Shipment"
            && tx
                .order_id
                .as_ref()
                .is_some_and(|o| self.withheld.contains(o))
        {
            return;
        }
        tx.visible_at = tx.posted + Duration::seconds(lag);
        self.txs.insert((tx.posted, tx.id.clone()), tx);
    }

    /// Posts what an order's status asks for at `t`: a shipment of the newly shipped units, or
    /// a refund of everything charged when it is canceled after shipping.
    fn post_order(&mut self, o: &OrderRec, t: DateTime<Utc>) {
        let t = t.trunc_subsecs(0);
        let posted = self.posted.entry(o.id.clone()).or_default().clone();
        let mut units = posted.units.clone();
        units.resize(o.items.len(), 0);
        if o.status == OrderStatus::Canceled {
            // Nothing was settled for a withheld order, so nothing is refunded.
            if posted.refunded || units.iter().all(|u| *u == 0) || self.withheld.contains(&o.id) {
                return;
            }
            let mut items = Vec::new();
            for (item, u) in o.items.iter().zip(&units).filter(|(_, u)| **u > 0) {
                let principal = item.unit_minor * i64::from(*u);
                let fee = referral_fee(principal);
                items.push(ItemTx {
                    order_item_id: item.id.clone(),
                    leaves: vec![
                        (PRINCIPAL, -principal),
                        (COMMISSION, fee),
                        (REFUND_COMMISSION, -(fee / 5)),
                    ],
                });
            }
            let id = self.new_id();
            let refund_id = format!("R{}", &id[..12]);
            let tx = TxRec {
                id,
                kind: "Refund",
                posted: t,
                visible_at: t,
                release_at: None,
                mp: o.mp,
                order_id: Some(o.id.clone()),
                group: self.group(o.mp, t),
                related: vec![("REFUND_ID", refund_id)],
                description: "Order Refund".to_string(),
                leaves: items.iter().flat_map(|i| i.leaves.clone()).collect(),
                items,
                disbursed: false,
            };
            self.add(tx);
            if let Some(p) = self.posted.get_mut(&o.id) {
                p.refunded = true;
            }
            return;
        }
        let fba = local_minor(322, o.mp);
        let mut items = Vec::new();
        for (item, u) in o.items.iter().zip(units.iter_mut()) {
            let new = item.shipped.saturating_sub(*u);
            if new == 0 {
                continue;
            }
            *u += new;
            let principal = item.unit_minor * i64::from(new);
            let mut leaves: Leaves = vec![
                (PRINCIPAL, principal),
                (COMMISSION, -referral_fee(principal)),
            ];
            if o.afn {
                leaves.push((FBA_FEE, -fba * i64::from(new)));
            }
            items.push(ItemTx {
                order_item_id: item.id.clone(),
                leaves,
            });
        }
        if items.is_empty() {
            return;
        }
        if let Some(p) = self.posted.get_mut(&o.id) {
            p.units = units;
        }
        if let Some(delta) = self.pending_misprice.remove(&o.id) {
            if let Some(first) = items.first_mut() {
                shift_principal(&mut first.leaves, delta);
            }
            *self.mispriced.entry(o.id.clone()).or_default() += delta;
        }
        let id = self.new_id();
        let shipment_id = format!("S{}", &id[..12]);
        let release = Duration::seconds(self.rng.random_range(7 * 86_400..=14 * 86_400));
        let tx = TxRec {
            id,
            kind: "Shipment",
            posted: t,
            visible_at: t,
            release_at: Some(t + release),
            mp: o.mp,
            order_id: Some(o.id.clone()),
            group: self.group(o.mp, t),
            related: vec![("SHIPMENT_ID", shipment_id)],
            description: "Order Payment".to_string(),
            leaves: items.iter().flat_map(|i| i.leaves.clone()).collect(),
            items,
            disbursed: false,
        };
        self.add(tx);
    }

    /// Lets the ledger follow an order's current status, at `now`.
    pub fn follow(&mut self, o: &OrderRec, now: DateTime<Utc>) {
        if !self.enabled {
            return;
        }
        self.tick(now);
        self.post_order(o, now);
    }

    /// Posts the subscription fees and transfers that fall due by `now`, in time order.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        if !self.enabled {
            return;
        }
        loop {
            let t = self.next_fee.min(self.next_transfer);
            if t > now {
                break;
            }
            if self.next_fee <= self.next_transfer {
                self.next_fee += Duration::days(FEE_DAYS);
                let id = self.new_id();
                let tx = TxRec {
                    id,
                    kind: "ServiceFee",
                    posted: t,
                    visible_at: t,
                    release_at: None,
                    mp: self.home,
                    order_id: None,
                    group: self.group(self.home, t),
                    related: Vec::new(),
                    description: "Subscription Fee".to_string(),
                    items: Vec::new(),
                    leaves: vec![(SUBSCRIPTION, -local_minor(3999, self.home))],
                    disbursed: false,
                };
                self.add(tx);
            } else {
                self.next_transfer += Duration::days(PERIOD_DAYS);
                for mp in self.marketplaces.clone() {
                    self.transfer(mp, t);
                }
            }
        }
    }

    /// Pays out, at `t`, what was released in `mp` and not yet paid.
    fn transfer(&mut self, mp: &'static Marketplace, t: DateTime<Utc>) {
        let due =
            |tx: &TxRec| !tx.disbursed && tx.mp.id == mp.id && tx.posted < t && tx.released_by(t);
        let balance: i64 = self
            .txs
            .values()
            .filter(|tx| due(tx))
            .map(TxRec::total_minor)
            .sum();
        // A negative balance stays for the next period (Amazon would charge the seller's card).
        if balance <= 0 {
            return;
        }
        for tx in self.txs.values_mut().filter(|tx| due(tx)) {
            tx.disbursed = true;
        }
        let id = self.new_id();
        let disbursement = format!("D{}", &id[..12]);
        // The transfer closes the period that ends at `t`.
        let group = self.group(mp, t - Duration::seconds(1));
        let tx = TxRec {
            id,
            kind: "Transfer",
            posted: t,
            visible_at: t,
            release_at: None,
            mp,
            order_id: None,
            group,
            related: vec![("DISBURSEMENT_ID", disbursement)],
            description: "Disbursement to bank account".to_string(),
            items: Vec::new(),
            leaves: vec![(TRANSFER, -balance)],
            disbursed: true,
        };
        self.add(tx);
    }

    /// Withholds an order's settlement: its Shipments are removed (even those a Transfer already
    /// paid out: the anomaly is that they vanish) and none is posted for it from now on. A
    /// misprice of the order is forgotten.
    pub fn withhold(&mut self, order_id: &str) {
        if !self.enabled {
            return;
        }
        self.txs
            .retain(|_, tx| !(tx.kind == "Shipment" && tx.order_id.as_deref() == Some(order_id)));
        self.mispriced.remove(order_id);
        self.pending_misprice.remove(order_id);
        self.withheld.insert(order_id.to_string());
    }

    pub fn is_withheld(&self, order_id: &str) -> bool {
        self.withheld.contains(order_id)
    }

    /// Moves the principal of the first item of the order's first Shipment by `delta` (even if
    /// a Transfer already paid it out); without a Shipment yet, the first one to post gets it.
    pub fn misprice(&mut self, order_id: &str, delta: i64) {
        if !self.enabled {
            return;
        }
        let first = self
            .txs
            .values_mut()
            .find(|tx| tx.kind == "Shipment" && tx.order_id.as_deref() == Some(order_id));
        match first {
            Some(tx) => {
                tx.shift_principal(delta);
                *self.mispriced.entry(order_id.to_string()).or_default() += delta;
            }
            None => {
                *self
                    .pending_misprice
                    .entry(order_id.to_string())
                    .or_default() += delta
            }
        }
    }

    /// The anomalies a reconciliation can see now, by order id: a withheld order once some of
    /// its units shipped, a mispriced one once its mispriced Shipment is posted.
    pub fn anomalies(&self, orders: &BTreeMap<String, OrderRec>) -> Vec<SettlementAnomaly> {
        let anomaly = |o: &OrderRec, kind, actual: Option<i64>| SettlementAnomaly {
            amazon_order_id: o.id.clone(),
            kind,
            currency: o.mp.currency.to_string(),
            expected: format_minor(o.total_minor(), o.mp.decimals),
            actual: actual.map(|m| format_minor(m, o.mp.decimals)),
        };
        let missing = self
            .withheld
            .iter()
            .filter_map(|id| orders.get(id))
            .filter(|o| o.units_shipped() > 0)
            .map(|o| anomaly(o, SettlementAnomalyKind::MissingSettlement, None));
        let mismatched = self
            .mispriced
            .iter()
            .filter(|(_, delta)| **delta != 0)
            .filter_map(|(id, _)| orders.get(id))
            .map(|o| {
                let principal = self
                    .txs
                    .values()
                    .filter(|tx| tx.kind == "Shipment" && tx.order_id.as_deref() == Some(&o.id))
                    .map(TxRec::principal_minor)
                    .sum();
                anomaly(o, SettlementAnomalyKind::AmountMismatch, Some(principal))
            });
        let mut all: Vec<SettlementAnomaly> = missing.chain(mismatched).collect();
        all.sort_by(|a, b| a.amazon_order_id.cmp(&b.amazon_order_id));
        all
    }

    /// Every transaction, ordered by (posted, id).
    pub fn records(&self) -> impl Iterator<Item = &TxRec> {
        self.txs.values()
    }

    /// The transactions after `cursor` in (posted, id) order.
    pub fn after<'a>(
        &'a self,
        cursor: &(DateTime<Utc>, String),
    ) -> impl Iterator<Item = &'a TxRec> + 'a {
        use std::ops::Bound;
        self.txs
            .range((Bound::Excluded(cursor.clone()), Bound::Unbounded))
            .map(|(_, tx)| tx)
    }
}

/// A listTransactions query as its nextToken remembers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TransactionsQuery {
    pub posted_after: Option<DateTime<Utc>>,
    /// As given (`None`: two minutes before the first page's time, see `until`).
    pub posted_before: Option<DateTime<Utc>>,
    pub marketplace: Option<String>,
    pub status: Option<String>,
    pub related: Option<(String, String)>,
    /// The end of the window the first page resolved; not a parameter.
    pub until: DateTime<Utc>,
}

impl TransactionsQuery {
    pub fn matches(&self, tx: &TxRec, now: DateTime<Utc>) -> bool {
        tx.visible_at <= now
            && self.posted_after.is_none_or(|a| tx.posted >= a)
            && tx.posted < self.until
            && self.marketplace.as_ref().is_none_or(|m| m == tx.mp.id)
            && self.status.as_ref().is_none_or(|s| s == tx.status(now))
            && self
                .related
                .as_ref()
                .is_none_or(|(n, v)| tx.related_to(n, v))
    }

    /// The first parameter in which `other` differs from the query the token was issued for.
    pub fn differs(&self, other: &Self) -> Option<&'static str> {
        if self.posted_after != other.posted_after {
            Some("postedAfter")
        } else if self.posted_before != other.posted_before {
            Some("postedBefore")
        } else if self.marketplace != other.marketplace {
            Some("marketplaceId")
        } else if self.status != other.status {
            Some("transactionStatus")
        } else if self.related != other.related {
            Some("relatedIdentifierName/relatedIdentifierValue")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_sums_its_leaves_at_every_level() {
        let leaves: Leaves = vec![
            (PRINCIPAL, 1000),
            (COMMISSION, -150),
            (FBA_FEE, -322),
            (PRINCIPAL, 5),
        ];
        let t = tree(&leaves);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].amount(), 1005);
        assert_eq!(t[1].amount(), -472);
        assert_eq!(t[1].children[0].children.len(), 2);
    }

    #[test]
    fn a_misprice_is_a_unit_or_minus_half_a_unit_and_whole_in_yen() {
        assert_eq!([misprice_delta(0, 2), misprice_delta(1, 2)], [100, -50]);
        assert_eq!([misprice_delta(2, 0), misprice_delta(3, 0)], [100, -50]);
    }

    #[test]
    fn shifting_the_principal_moves_the_first_items_principal_leaf_only() {
        let mut leaves: Leaves = vec![(PRINCIPAL, 1000), (COMMISSION, -150), (PRINCIPAL, 500)];
        shift_principal(&mut leaves, -50);
        assert_eq!(
            leaves,
            vec![(PRINCIPAL, 950), (COMMISSION, -150), (PRINCIPAL, 500)]
        );
    }
}
