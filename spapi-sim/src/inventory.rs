//! The seller's FBA inventory, per marketplace and seller SKU: what `getInventorySummaries`
//! reads. It moves with the simulated business:
//!
//! - an open AFN order (Pending, Unshipped, the unshipped rest of PartiallyShipped) holds its
//!   units as reserved (`pendingCustomerOrderQuantity`), taken from fulfillable;
//! - a shipped unit leaves reserved and the network (it is no longer counted anywhere);
//! - a cancellation gives the held units back to fulfillable;
//! - inbound shipments move working -> shipped -> receiving on the simulated clock and then
//!   become fulfillable; a SKU running low gets a new shipment;
//! - live mode makes a unit unfulfillable now and then (warehouse damaged, defective, or a
//!   customer return that comes back damaged).
//!
//! `totalQuantity` is everything Amazon counts for the SKU: fulfillable + reserved +
//! unfulfillable + researching + the three inbound quantities. Every change of a quantity sets
//! the summary's `lastUpdatedTime` to the simulated time of the change, except changes of the
//! inbound quantities alone: Amazon documents that `startDateTime` does not see those, so an
//! inbound shipment only touches the summary when its units become fulfillable.
//!
//! The inventory draws from its own RNG stream (seeded from the simulator's seed), so the
//! orders, and every test's ground truth built on them, are the same with or without it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{ItemRec, OrderRec, OrderStatus};
use crate::marketplaces::Marketplace;

/// One FBA inventory summary as it stands now (what an ideal inventory sync should end up
/// with). Quantities are units; `total` is fulfillable + reserved + unfulfillable +
/// researching + the three inbound quantities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimInventory {
    pub marketplace_id: String,
    pub seller_sku: String,
    pub asin: String,
    pub fn_sku: String,
    /// As Amazon writes it, e.g. `NewItem`.
    pub condition: String,
    pub product_name: String,
    pub fulfillable: i64,
    pub inbound_working: i64,
    pub inbound_shipped: i64,
    pub inbound_receiving: i64,
    /// All reserved units (customer orders, transshipment, FC processing).
    pub reserved: i64,
    /// All unfulfillable units, whatever their disposition.
    pub unfulfillable: i64,
    pub researching: i64,
    pub total: i64,
    /// `lastUpdatedTime`: the last change of a quantity other than the inbound ones.
    pub last_updated: DateTime<Utc>,
}

/// Reserved units by reason.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reserved {
    pub pending_customer_order: i64,
    pub pending_transshipment: i64,
    pub fc_processing: i64,
}

impl Reserved {
    pub fn total(&self) -> i64 {
        self.pending_customer_order + self.pending_transshipment + self.fc_processing
    }
}

/// Unfulfillable units by disposition.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unfulfillable {
    pub customer_damaged: i64,
    pub warehouse_damaged: i64,
    pub distributor_damaged: i64,
    pub carrier_damaged: i64,
    pub defective: i64,
    pub expired: i64,
}

impl Unfulfillable {
    pub fn total(&self) -> i64 {
        self.customer_damaged
            + self.warehouse_damaged
            + self.distributor_damaged
            + self.carrier_damaged
            + self.defective
            + self.expired
    }
}

/// Units under research, by how long they have been (1–10, 11–20, 21+ days).
#[derive(Debug, Clone, Default)]
pub(crate) struct Researching {
    pub short_term: i64,
    pub mid_term: i64,
    pub long_term: i64,
}

impl Researching {
    pub fn total(&self) -> i64 {
        self.short_term + self.mid_term + self.long_term
    }
}

/// One SKU's stock in one marketplace.
#[derive(Debug, Clone)]
pub(crate) struct StockRec {
    pub mp: &'static Marketplace,
    pub sku: String,
    pub asin: String,
    pub fn_sku: String,
    pub product_name: String,
    pub fulfillable: i64,
    pub inbound_working: i64,
    pub inbound_shipped: i64,
    pub inbound_receiving: i64,
    pub reserved: Reserved,
    pub unfulfillable: Unfulfillable,
    pub researching: Researching,
    pub last_updated: DateTime<Utc>,
}

/// Amazon's spelling of the only condition the simulated seller stocks.
pub(crate) const CONDITION: &str = "NewItem";

impl StockRec {
    fn new(mp: &'static Marketplace, item: &ItemRec, last_updated: DateTime<Utc>) -> Self {
        Self {
            mp,
            sku: item.sku.clone(),
            asin: item.asin.clone(),
            fn_sku: fn_sku(&item.sku),
            product_name: item.title.clone(),
            fulfillable: 0,
            inbound_working: 0,
            inbound_shipped: 0,
            inbound_receiving: 0,
            reserved: Reserved::default(),
            unfulfillable: Unfulfillable::default(),
            researching: Researching::default(),
            last_updated,
        }
    }

    pub fn total(&self) -> i64 {
        self.fulfillable
            + self.inbound_working
            + self.inbound_shipped
            + self.inbound_receiving
            + self.reserved.total()
            + self.unfulfillable.total()
            + self.researching.total()
    }

    fn touch(&mut self, at: DateTime<Utc>) {
        self.last_updated = self.last_updated.max(at.trunc_subsecs(0));
    }

    pub fn to_public(&self) -> SimInventory {
        SimInventory {
            marketplace_id: self.mp.id.to_string(),
            seller_sku: self.sku.clone(),
            asin: self.asin.clone(),
            fn_sku: self.fn_sku.clone(),
            condition: CONDITION.to_string(),
            product_name: self.product_name.clone(),
            fulfillable: self.fulfillable,
            inbound_working: self.inbound_working,
            inbound_shipped: self.inbound_shipped,
            inbound_receiving: self.inbound_receiving,
            reserved: self.reserved.total(),
            unfulfillable: self.unfulfillable.total(),
            researching: self.researching.total(),
            total: self.total(),
            last_updated: self.last_updated,
        }
    }
}

/// Amazon's fulfillment network SKU: `X00` and seven letters or digits, the same for a seller
/// SKU in every marketplace (derived from the SKU, so it needs no RNG draw).
fn fn_sku(sku: &str) -> String {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sku.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let digits: String = (0..7)
        .map(|_| {
            let c = (h % 36) as u8;
            h /= 36;
            char::from(if c < 10 { b'0' + c } else { b'A' + c - 10 })
        })
        .collect();
    format!("X00{digits}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Working,
    Shipped,
    Receiving,
}

/// An inbound shipment of one SKU to one marketplace's fulfillment network.
#[derive(Debug, Clone)]
struct Shipment {
    key: (&'static str, String),
    units: i64,
    stage: Stage,
    /// When it moves to the next stage.
    next_at: DateTime<Utc>,
}

/// What an order item holds of its SKU's stock.
#[derive(Debug, Clone, Copy, Default)]
struct Hold {
    /// Units reserved for it now.
    held: i64,
    /// Units shipped when the inventory last looked at it.
    shipped_seen: u32,
}

/// Why a control call on the inventory was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StockError {
    Unknown,
    Units(String),
}

/// Below this many fulfillable and inbound units, the seller sends a new inbound shipment.
const REORDER_POINT: i64 = 10;

pub(crate) struct Inventory {
    enabled: bool,
    rng: ChaCha8Rng,
    stage: Duration,
    stock: BTreeMap<(&'static str, String), StockRec>,
    holds: HashMap<String, Vec<Hold>>,
    shipments: Vec<Shipment>,
}

/// Units an order item keeps reserved in its status.
fn wanted(o: &OrderRec, i: &ItemRec) -> i64 {
    match o.status {
        OrderStatus::PendingAvailability
        | OrderStatus::Pending
        | OrderStatus::Unshipped
        | OrderStatus::PartiallyShipped => i64::from(i.qty.saturating_sub(i.shipped)),
        _ => 0,
    }
}

impl Inventory {
    /// The stock at `now` for the SKUs of the AFN orders in `orders`, with the open orders'
    /// units reserved. A summary's first `lastUpdatedTime` is the later of a generated
    /// restock date and its newest AFN order's last update.
    pub fn build(
        enabled: bool,
        seed: u64,
        stage_secs: u64,
        days: u32,
        orders: &BTreeMap<String, OrderRec>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut inv = Self {
            enabled,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x0F8A_1BE7_0000_0001),
            stage: Duration::seconds(i64::try_from(stage_secs.max(1)).unwrap_or(86_400)),
            stock: BTreeMap::new(),
            holds: HashMap::new(),
            shipments: Vec::new(),
        };
        if !enabled {
            return inv;
        }
        let now = now.trunc_subsecs(0);
        for o in orders.values().filter(|o| o.afn) {
            for item in &o.items {
                let rec = inv
                    .stock
                    .entry((o.mp.id, item.sku.clone()))
                    .or_insert_with(|| StockRec::new(o.mp, item, o.last_update));
                rec.last_updated = rec.last_updated.max(o.last_update);
            }
        }
        let span = i64::from(days.max(1)) * 86_400;
        let keys: Vec<(&'static str, String)> = inv.stock.keys().cloned().collect();
        for key in keys {
            let rng = &mut inv.rng;
            let Some(rec) = inv.stock.get_mut(&key) else {
                continue;
            };
            rec.fulfillable = if rng.random_bool(0.08) {
                0
            } else {
                rng.random_range(5..=300)
            };
            if rng.random_bool(0.3) {
                rec.unfulfillable.customer_damaged = rng.random_range(1..=4);
            }
            if rng.random_bool(0.1) {
                rec.unfulfillable.warehouse_damaged = rng.random_range(1..=3);
            }
            if rng.random_bool(0.05) {
                rec.unfulfillable.carrier_damaged = 1;
            }
            if rng.random_bool(0.05) {
                rec.unfulfillable.defective = rng.random_range(1..=2);
            }
            if rng.random_bool(0.1) {
                rec.researching.short_term = rng.random_range(1..=3);
            }
            if rng.random_bool(0.05) {
                rec.researching.long_term = 1;
            }
            if rng.random_bool(0.15) {
                rec.reserved.pending_transshipment = rng.random_range(1..=12);
            }
            if rng.random_bool(0.1) {
                rec.reserved.fc_processing = rng.random_range(1..=5);
            }
            let restocked = now - Duration::seconds(rng.random_range(3600..span.max(3601)));
            rec.last_updated = rec.last_updated.max(restocked).min(now);
            if rng.random_bool(0.35) {
                let stage = match rng.random_range(0..3) {
                    0 => Stage::Working,
                    1 => Stage::Shipped,
                    _ => Stage::Receiving,
                };
                let units = rng.random_range(20..=200);
                // A quarter of a stage at least: nothing moves in the first moments of a run.
                let wait = inv.stage.num_seconds() * rng.random_range(25..=100) / 100;
                add_inbound(rec, stage, units);
                inv.shipments.push(Shipment {
                    key,
                    units,
                    stage,
                    next_at: now + Duration::seconds(wait),
                });
            }
        }
        // The open orders hold their units; the stock above is what is left free.
        for o in orders.values().filter(|o| o.afn) {
            let holds = o
                .items
                .iter()
                .map(|item| {
                    let held = wanted(o, item);
                    if let Some(rec) = inv.stock.get_mut(&(o.mp.id, item.sku.clone())) {
                        rec.reserved.pending_customer_order += held;
                    }
                    Hold {
                        held,
                        shipped_seen: item.shipped,
                    }
                })
                .collect();
            inv.holds.insert(o.id.clone(), holds);
        }
        inv
    }

    /// Moves the inbound shipments that are due by `now`, in the order they fall due.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        loop {
            let due = self
                .shipments
                .iter()
                .enumerate()
                .filter(|(_, s)| s.next_at <= now)
                .min_by_key(|(n, s)| (s.next_at, *n))
                .map(|(n, _)| n);
            let Some(n) = due else { break };
            let s = &mut self.shipments[n];
            let Some(rec) = self.stock.get_mut(&s.key) else {
                self.shipments.swap_remove(n);
                continue;
            };
            remove_inbound(rec, s.stage, s.units);
            let next = match s.stage {
                Stage::Working => Some(Stage::Shipped),
                Stage::Shipped => Some(Stage::Receiving),
                Stage::Receiving => None,
            };
            if let Some(stage) = next {
                add_inbound(rec, stage, s.units);
                s.stage = stage;
                let secs = self.stage.num_seconds() * self.rng.random_range(50..=150) / 100;
                s.next_at += Duration::seconds(secs.max(1));
            } else {
                rec.fulfillable += s.units;
                rec.touch(s.next_at);
                self.shipments.remove(n);
            }
        }
    }

    /// Lets the stock follow an AFN order's current status (a no-op for MFN orders).
    pub fn follow(&mut self, o: &OrderRec, now: DateTime<Utc>) {
        if !self.enabled || !o.afn {
            return;
        }
        self.tick(now);
        let holds = self
            .holds
            .entry(o.id.clone())
            .or_insert_with(|| vec![Hold::default(); o.items.len()]);
        holds.resize(o.items.len(), Hold::default());
        for (item, hold) in o.items.iter().zip(holds.iter_mut()) {
            let key = (o.mp.id, item.sku.clone());
            if !self.stock.contains_key(&key) {
                // A SKU new to this marketplace's network arrives with a first shipment.
                let mut rec = StockRec::new(o.mp, item, now.trunc_subsecs(0));
                rec.fulfillable = self.rng.random_range(20..=150);
                self.stock.insert(key.clone(), rec);
            }
            let Some(rec) = self.stock.get_mut(&key) else {
                continue;
            };
            let mut changed = false;
            let shipped = i64::from(item.shipped.saturating_sub(hold.shipped_seen));
            hold.shipped_seen = item.shipped;
            let consumed = shipped.min(hold.held);
            if consumed > 0 {
                hold.held -= consumed;
                rec.reserved.pending_customer_order -= consumed;
                changed = true;
            }
            let want = wanted(o, item);
            if want < hold.held {
                let released = hold.held - want;
                hold.held = want;
                rec.reserved.pending_customer_order -= released;
                rec.fulfillable += released;
                changed = true;
            } else if want > hold.held {
                // Amazon would not have taken an order it has no stock for; the simulated
                // orders do not look at the stock, so a shortfall is simply not reserved.
                let taken = (want - hold.held).min(rec.fulfillable);
                if taken > 0 {
                    hold.held += taken;
                    rec.reserved.pending_customer_order += taken;
                    rec.fulfillable -= taken;
                    changed = true;
                }
            }
            if changed {
                rec.touch(now);
            }
            let inbound = rec.inbound_working + rec.inbound_shipped + rec.inbound_receiving;
            if rec.fulfillable + inbound < REORDER_POINT {
                let units = self.rng.random_range(50..=200);
                add_inbound(rec, Stage::Working, units);
                self.shipments.push(Shipment {
                    key,
                    units,
                    stage: Stage::Working,
                    next_at: now + self.stage,
                });
            }
        }
    }

    /// Every summary, ordered by (marketplace id, seller SKU).
    pub fn records(&self) -> impl Iterator<Item = &StockRec> {
        self.stock.values()
    }

    /// Whether the SKU has FBA inventory in the marketplace.
    pub fn has(&self, mp: &'static str, sku: &str) -> bool {
        self.stock.contains_key(&(mp, sku.to_string()))
    }

    /// The fulfillable units of a SKU in a marketplace, if it has FBA inventory there.
    pub fn fulfillable(&self, mp: &'static str, sku: &str) -> Option<i64> {
        self.stock
            .get(&(mp, sku.to_string()))
            .map(|rec| rec.fulfillable)
    }

    /// The summaries of one marketplace, ordered by seller SKU.
    pub fn in_marketplace<'a>(&'a self, mp: &'a str) -> impl Iterator<Item = &'a StockRec> + 'a {
        self.stock
            .range((mp, String::new())..)
            .take_while(move |((m, _), _)| *m == mp)
            .map(|(_, rec)| rec)
    }

    fn get_mut(&mut self, mp: &str, sku: &str) -> Result<&mut StockRec, StockError> {
        let mp = crate::marketplaces::find(mp).ok_or(StockError::Unknown)?.id;
        self.stock
            .get_mut(&(mp, sku.to_string()))
            .ok_or(StockError::Unknown)
    }

    /// `units` arrive at the fulfillment center and are fulfillable now.
    pub fn receive(
        &mut self,
        mp: &str,
        sku: &str,
        units: i64,
        now: DateTime<Utc>,
    ) -> Result<SimInventory, StockError> {
        if units <= 0 {
            return Err(StockError::Units(format!(
                "units must be a positive number of units to receive; {units} was given"
            )));
        }
        self.tick(now);
        let rec = self.get_mut(mp, sku)?;
        rec.fulfillable += units;
        rec.touch(now);
        Ok(rec.to_public())
    }

    /// `units` of fulfillable stock are damaged in the warehouse (fulfillable -> unfulfillable).
    pub fn damage(
        &mut self,
        mp: &str,
        sku: &str,
        units: i64,
        now: DateTime<Utc>,
    ) -> Result<SimInventory, StockError> {
        if units <= 0 {
            return Err(StockError::Units(format!(
                "units must be a positive number of units to damage; {units} was given"
            )));
        }
        self.tick(now);
        let rec = self.get_mut(mp, sku)?;
        if rec.fulfillable < units {
            return Err(StockError::Units(format!(
                "only {} units of {sku} are fulfillable in {mp}; cannot damage {units}",
                rec.fulfillable
            )));
        }
        rec.fulfillable -= units;
        rec.unfulfillable.warehouse_damaged += units;
        rec.touch(now);
        Ok(rec.to_public())
    }

    /// Live mode: one unit of a random SKU becomes unfulfillable (warehouse damaged,
    /// defective, or a customer return that comes back damaged).
    pub fn random_damage(&mut self, now: DateTime<Utc>) {
        if self.stock.is_empty() {
            return;
        }
        self.tick(now);
        let n = self.rng.random_range(0..self.stock.len());
        let roll = self.rng.random_range(0..100);
        let Some(rec) = self.stock.values_mut().nth(n) else {
            return;
        };
        match roll {
            0..40 => rec.unfulfillable.customer_damaged += 1,
            40..80 if rec.fulfillable > 0 => {
                rec.fulfillable -= 1;
                rec.unfulfillable.warehouse_damaged += 1;
            }
            80..100 if rec.fulfillable > 0 => {
                rec.fulfillable -= 1;
                rec.unfulfillable.defective += 1;
            }
            _ => return,
        }
        rec.touch(now);
    }
}

fn add_inbound(rec: &mut StockRec, stage: Stage, units: i64) {
    match stage {
        Stage::Working => rec.inbound_working += units,
        Stage::Shipped => rec.inbound_shipped += units,
        Stage::Receiving => rec.inbound_receiving += units,
    }
}

fn remove_inbound(rec: &mut StockRec, stage: Stage, units: i64) {
    add_inbound(rec, stage, -units);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fn_skus_look_like_amazons_and_depend_only_on_the_sku() {
        let a = fn_sku("BTL-BLK-001");
        assert_eq!(a.len(), 10);
        assert!(a.starts_with("X00"));
        assert_eq!(a, fn_sku("BTL-BLK-001"));
        assert_ne!(a, fn_sku("BTL-BLK-002"));
    }
}

/// A getInventorySummaries query as its nextToken remembers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SummariesQuery {
    pub marketplace: String,
    pub details: bool,
    pub start: Option<DateTime<Utc>>,
    pub seller_skus: Option<Vec<String>>,
    pub seller_sku: Option<String>,
}

impl SummariesQuery {
    /// Amazon's precedence: startDateTime ignores both SKU filters, sellerSkus ignores
    /// sellerSku.
    pub fn matches(&self, rec: &StockRec) -> bool {
        if let Some(start) = self.start {
            return rec.last_updated >= start;
        }
        if let Some(skus) = &self.seller_skus {
            return skus.contains(&rec.sku);
        }
        self.seller_sku.as_ref().is_none_or(|s| *s == rec.sku)
    }

    /// The first parameter in which `other` differs from the query the token was issued for.
    pub fn differs(&self, other: &Self) -> Option<&'static str> {
        if self.marketplace != other.marketplace {
            Some("marketplaceIds")
        } else if self.start != other.start {
            Some("startDateTime")
        } else if self.details != other.details {
            Some("details")
        } else if self.seller_skus != other.seller_skus {
            Some("sellerSkus")
        } else if self.seller_sku != other.seller_sku {
            Some("sellerSku")
        } else {
            None
        }
    }
}
