//! The seller's orders: the public ground-truth types, the internal records they are read from,
//! the deterministic generator and the status machine.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::marketplaces::{self, Marketplace};

/// An amount of money as Amazon sends it: a decimal string in the currency's own precision
/// (`"11.01"` USD, `"5980"` JPY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency_code: String,
    pub amount: String,
}

impl Money {
    pub(crate) fn from_minor(currency: &str, decimals: u32, minor: i64) -> Self {
        Self {
            currency_code: currency.to_string(),
            amount: format_minor(minor, decimals),
        }
    }
}

pub(crate) fn format_minor(minor: i64, decimals: u32) -> String {
    if decimals == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(decimals);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = decimals as usize
    )
}

/// Order status as the Orders API v0 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    PendingAvailability,
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    InvoiceUnconfirmed,
    Canceled,
    Unfulfillable,
}

impl OrderStatus {
    /// Every v0 status, in the model's order.
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::Pending,
        OrderStatus::Unshipped,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::Canceled,
        OrderStatus::Unfulfillable,
        OrderStatus::InvoiceUnconfirmed,
        OrderStatus::PendingAvailability,
    ];

    /// The v0 spelling (`PartiallyShipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingAvailability => "PendingAvailability",
            OrderStatus::Pending => "Pending",
            OrderStatus::Unshipped => "Unshipped",
            OrderStatus::PartiallyShipped => "PartiallyShipped",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::InvoiceUnconfirmed => "InvoiceUnconfirmed",
            OrderStatus::Canceled => "Canceled",
            OrderStatus::Unfulfillable => "Unfulfillable",
        }
    }

    /// The v2026-01-01 `FulfillmentStatus` spelling (`PARTIALLY_SHIPPED`).
    pub fn as_2026(self) -> &'static str {
        match self {
            OrderStatus::PendingAvailability => "PENDING_AVAILABILITY",
            OrderStatus::Pending => "PENDING",
            OrderStatus::Unshipped => "UNSHIPPED",
            OrderStatus::PartiallyShipped => "PARTIALLY_SHIPPED",
            OrderStatus::Shipped | OrderStatus::InvoiceUnconfirmed => "SHIPPED",
            OrderStatus::Canceled => "CANCELLED",
            OrderStatus::Unfulfillable => "UNFULFILLABLE",
        }
    }

    /// Pending orders carry no prices yet.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            OrderStatus::Pending | OrderStatus::PendingAvailability
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s || st.as_2026() == s)
            .ok_or_else(|| {
                format!(
                    "unknown order status {s:?}; expected one of {}",
                    OrderStatus::ALL.map(OrderStatus::as_str).join(", ")
                )
            })
    }
}

/// One order as it stands now (what an ideal sync should end up with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimOrder {
    pub amazon_order_id: String,
    pub seller_order_id: Option<String>,
    pub marketplace_id: String,
    pub purchase_date: DateTime<Utc>,
    pub last_update_date: DateTime<Utc>,
    pub order_status: OrderStatus,
    /// `None` while the order is Pending (Amazon sends no `OrderTotal` then).
    pub order_total: Option<Money>,
    /// `AFN` (fulfilled by Amazon) or `MFN` (by the merchant).
    pub fulfillment_channel: String,
    pub is_prime: bool,
    pub is_business_order: bool,
    pub number_of_items_shipped: u32,
    pub number_of_items_unshipped: u32,
    pub items: Vec<SimItem>,
}

/// One order item as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimItem {
    pub order_item_id: String,
    pub seller_sku: String,
    pub asin: String,
    pub title: String,
    pub quantity_ordered: u32,
    pub quantity_shipped: u32,
    /// Line price (unit price times quantity); `None` while the order is Pending.
    pub item_price: Option<Money>,
}

#[derive(Debug, Clone)]
pub(crate) struct ItemRec {
    pub id: String,
    pub sku: String,
    pub asin: String,
    pub title: String,
    pub qty: u32,
    pub shipped: u32,
    pub unit_minor: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct OrderRec {
    pub id: String,
    pub seller_order_id: Option<String>,
    pub mp: &'static Marketplace,
    pub purchase: DateTime<Utc>,
    pub last_update: DateTime<Utc>,
    pub status: OrderStatus,
    /// Whether payment was authorised (prices visible); stays true when later Canceled.
    pub priced: bool,
    pub afn: bool,
    pub is_prime: bool,
    pub is_business: bool,
    pub expedited: bool,
    pub city: usize,
    pub items: Vec<ItemRec>,
}

impl OrderRec {
    pub fn channel(&self) -> &'static str {
        if self.afn { "AFN" } else { "MFN" }
    }

    pub fn money(&self, minor: i64) -> Money {
        Money::from_minor(self.mp.currency, self.mp.decimals, minor)
    }

    pub fn total_minor(&self) -> i64 {
        self.items
            .iter()
            .map(|i| i.unit_minor * i64::from(i.qty))
            .sum()
    }

    pub fn shows_prices(&self) -> bool {
        self.priced && !self.status.is_pending()
    }

    pub fn units_shipped(&self) -> u32 {
        self.items.iter().map(|i| i.shipped).sum()
    }

    pub fn units_unshipped(&self) -> u32 {
        if self.status == OrderStatus::Canceled {
            return 0;
        }
        self.items
            .iter()
            .map(|i| i.qty - i.shipped.min(i.qty))
            .sum()
    }

    pub fn earliest_ship(&self) -> DateTime<Utc> {
        self.purchase + Duration::hours(2)
    }

    pub fn latest_ship(&self) -> DateTime<Utc> {
        self.purchase + Duration::days(if self.expedited { 1 } else { 2 })
    }

    pub fn earliest_delivery(&self) -> DateTime<Utc> {
        self.purchase + Duration::days(if self.expedited { 2 } else { 3 })
    }

    pub fn latest_delivery(&self) -> DateTime<Utc> {
        self.purchase + Duration::days(if self.expedited { 3 } else { 7 })
    }

    pub fn city(&self) -> (&'static str, &'static str, &'static str) {
        self.mp.cities[self.city % self.mp.cities.len()]
    }

    pub fn to_public(&self) -> SimOrder {
        let priced = self.shows_prices();
        SimOrder {
            amazon_order_id: self.id.clone(),
            seller_order_id: self.seller_order_id.clone(),
            marketplace_id: self.mp.id.to_string(),
            purchase_date: self.purchase,
            last_update_date: self.last_update,
            order_status: self.status,
            order_total: priced.then(|| self.money(self.total_minor())),
            fulfillment_channel: self.channel().to_string(),
            is_prime: self.is_prime,
            is_business_order: self.is_business,
            number_of_items_shipped: self.units_shipped(),
            number_of_items_unshipped: self.units_unshipped(),
            items: self
                .items
                .iter()
                .map(|i| SimItem {
                    order_item_id: i.id.clone(),
                    seller_sku: i.sku.clone(),
                    asin: i.asin.clone(),
                    title: i.title.clone(),
                    quantity_ordered: i.qty,
                    quantity_shipped: i.shipped,
                    item_price: priced.then(|| self.money(i.unit_minor * i64::from(i.qty))),
                })
                .collect(),
        }
    }

    /// Moves the order one step along Pending -> Unshipped -> PartiallyShipped -> Shipped.
    /// Returns false when it is already final (Shipped, Canceled, …).
    pub fn advance(&mut self, now: DateTime<Utc>) -> bool {
        match self.status {
            OrderStatus::PendingAvailability => self.status = OrderStatus::Pending,
            OrderStatus::Pending => {
                self.status = OrderStatus::Unshipped;
                self.priced = true;
            }
            OrderStatus::Unshipped => {
                let units: u32 = self.items.iter().map(|i| i.qty).sum();
                if units > 1 {
                    let several = self.items.len() > 1;
                    if let Some(first) = self.items.first_mut() {
                        first.shipped = if several { first.qty } else { 1 };
                    }
                    self.status = OrderStatus::PartiallyShipped;
                } else {
                    self.ship_all();
                }
            }
            OrderStatus::PartiallyShipped => self.ship_all(),
            _ => return false,
        }
        self.touch(now);
        true
    }

    fn ship_all(&mut self) {
        for i in &mut self.items {
            i.shipped = i.qty;
        }
        self.status = OrderStatus::Shipped;
    }

    /// Forces a status (control API); quantities shipped follow it.
    pub fn set_status(&mut self, status: OrderStatus, now: DateTime<Utc>) {
        match status {
            OrderStatus::Pending | OrderStatus::PendingAvailability => {
                self.priced = false;
                self.items.iter_mut().for_each(|i| i.shipped = 0);
            }
            OrderStatus::Unshipped => {
                self.priced = true;
                self.items.iter_mut().for_each(|i| i.shipped = 0);
            }
            OrderStatus::PartiallyShipped => {
                self.priced = true;
                if let Some(first) = self.items.first_mut() {
                    first.shipped = 1.min(first.qty);
                }
            }
            OrderStatus::Shipped | OrderStatus::InvoiceUnconfirmed => {
                self.priced = true;
                self.items.iter_mut().for_each(|i| i.shipped = i.qty);
            }
            OrderStatus::Canceled | OrderStatus::Unfulfillable => {}
        }
        self.status = status;
        self.touch(now);
    }

    /// An update moves the order to a new LastUpdateDate, strictly later than the old one.
    fn touch(&mut self, now: DateTime<Utc>) {
        let now = now.trunc_subsecs(0);
        self.last_update = now.max(self.last_update + Duration::seconds(1));
    }
}

/// One product of the catalog, as the listings read it.
pub(crate) struct CatalogProduct<'a> {
    pub sku: &'a str,
    pub asin: &'a str,
    pub title: &'a str,
    /// The price in the US, in cents (other marketplaces: [`local_price_minor`]).
    pub usd_cents: i64,
}

struct Product {
    asin: String,
    sku: String,
    title: String,
    usd_cents: i64,
}

const ADJECTIVES: &[&str] = &[
    "Stainless",
    "Organic",
    "Wireless",
    "Compact",
    "Premium",
    "Bamboo",
    "Ceramic",
    "Foldable",
    "Insulated",
    "Ergonomic",
    "Waterproof",
    "Rechargeable",
];
const NOUNS: &[(&str, &str, i64)] = &[
    ("Water Bottle", "BTL", 1899),
    ("Yoga Mat", "YGM", 2999),
    ("Bluetooth Speaker", "SPK", 4999),
    ("Desk Lamp", "LMP", 3499),
    ("Coffee Grinder", "GRD", 5999),
    ("Phone Case", "CSE", 1299),
    ("Cutting Board", "CBD", 2499),
    ("Backpack", "BPK", 6999),
    ("Travel Mug", "MUG", 2199),
    ("USB-C Charger", "CHG", 1999),
    ("Kitchen Scale", "SCL", 2799),
    ("Headphones", "HPH", 8999),
    ("Plant Pot", "POT", 1599),
    ("Notebook Set", "NTB", 999),
    ("Throw Blanket", "BLK", 3999),
];
const COLORS: &[&str] = &["BLK", "WHT", "RED", "BLU", "GRN", "GRY"];

/// Rough exchange rates (units of currency per USD) for realistic local prices.
pub(crate) fn per_usd(currency: &str) -> f64 {
    match currency {
        "CAD" | "SGD" => 1.35,
        "MXN" => 17.0,
        "BRL" => 5.0,
        "EUR" => 0.92,
        "GBP" => 0.79,
        "SEK" => 10.5,
        "ZAR" => 18.0,
        "PLN" => 4.0,
        "EGP" => 48.0,
        "TRY" => 32.0,
        "SAR" => 3.75,
        "AED" => 3.67,
        "INR" => 83.0,
        "AUD" => 1.5,
        "JPY" => 150.0,
        _ => 1.0,
    }
}

/// The local price, in minor units, of a product priced `usd_cents` in the US.
pub(crate) fn local_price_minor(usd_cents: i64, mp: &Marketplace) -> i64 {
    let major = usd_cents as f64 / 100.0 * per_usd(mp.currency);
    if mp.decimals == 0 {
        // 5980-style yen prices.
        (((major / 10.0).round() as i64) * 10 - 20).max(100)
    } else {
        let scale = 10_i64.pow(mp.decimals);
        ((major.floor() as i64).max(1)) * scale - 1
    }
}

/// Deterministic order generator; its RNG keeps going for orders added later.
pub(crate) struct Generator {
    rng: ChaCha8Rng,
    catalog: Vec<Product>,
    marketplaces: Vec<&'static Marketplace>,
    used_ids: HashSet<String>,
}

impl Generator {
    pub fn new(seed: u64, marketplaces: Vec<&'static Marketplace>, catalog_size: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut catalog = Vec::new();
        let mut asins = HashSet::new();
        for n in 0..catalog_size.max(1) {
            let adj = ADJECTIVES[rng.random_range(0..ADJECTIVES.len())];
            let (noun, code, base) = NOUNS[rng.random_range(0..NOUNS.len())];
            let color = COLORS[rng.random_range(0..COLORS.len())];
            let asin = loop {
                let a: String = (0..8)
                    .map(|_| {
                        let c = rng.random_range(0..36u8);
                        char::from(if c < 10 { b'0' + c } else { b'A' + c - 10 })
                    })
                    .collect();
                let a = format!("B0{a}");
                if asins.insert(a.clone()) {
                    break a;
                }
            };
            let usd_cents = base + rng.random_range(-300..=1500_i64);
            catalog.push(Product {
                asin,
                sku: format!("{code}-{color}-{n:03}"),
                title: format!("{adj} {noun}, {}", color_name(color)),
                usd_cents: usd_cents.max(499),
            });
        }
        Self {
            rng,
            catalog,
            marketplaces,
            used_ids: HashSet::new(),
        }
    }

    /// The seller's catalog in generation order (every SKU the orders draw from): what the
    /// listings are made of. Reading it draws nothing from the orders' RNG.
    pub fn catalog(&self) -> impl Iterator<Item = CatalogProduct<'_>> {
        self.catalog.iter().map(|p| CatalogProduct {
            sku: &p.sku,
            asin: &p.asin,
            title: &p.title,
            usd_cents: p.usd_cents,
        })
    }

    fn pick_marketplace(&mut self) -> &'static Marketplace {
        // The first marketplace is the seller's home: it gets about half of the orders.
        let n = self.marketplaces.len();
        if n <= 1 || self.rng.random_bool(0.5) {
            return self.marketplaces[0];
        }
        self.marketplaces[self.rng.random_range(0..n)]
    }

    fn order_id(&mut self, mp: &Marketplace) -> String {
        loop {
            let prefix = mp.order_prefixes[self.rng.random_range(0..mp.order_prefixes.len())];
            let id = format!(
                "{prefix}-{:07}-{:07}",
                self.rng.random_range(0..10_000_000u32),
                self.rng.random_range(0..10_000_000u32)
            );
            if self.used_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    /// A new order placed at `purchase`, Pending, not yet updated.
    pub fn order_at(&mut self, purchase: DateTime<Utc>) -> OrderRec {
        let mp = self.pick_marketplace();
        let id = self.order_id(mp);
        let n_items = match self.rng.random_range(0..100) {
            0..55 => 1,
            55..80 => 2,
            80..92 => 3,
            _ => 4,
        };
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < n_items {
            let p = self.rng.random_range(0..self.catalog.len());
            if !picked.contains(&p) {
                picked.push(p);
            }
        }
        let items = picked
            .into_iter()
            .map(|p| {
                let qty = match self.rng.random_range(0..100) {
                    0..80 => 1,
                    80..95 => 2,
                    _ => 3,
                };
                let prod = &self.catalog[p];
                ItemRec {
                    id: format!(
                        "{:014}",
                        self.rng
                            .random_range(10_000_000_000_000..100_000_000_000_000u64)
                    ),
                    sku: prod.sku.clone(),
                    asin: prod.asin.clone(),
                    title: prod.title.clone(),
                    qty,
                    shipped: 0,
                    unit_minor: local_price_minor(prod.usd_cents, mp),
                }
            })
            .collect();
        let afn = self.rng.random_bool(0.5);
        let purchase = purchase.trunc_subsecs(0);
        OrderRec {
            seller_order_id: (!afn && self.rng.random_bool(0.3))
                .then(|| format!("SO-{}", &id[id.len() - 7..])),
            id,
            mp,
            purchase,
            last_update: purchase,
            status: OrderStatus::Pending,
            priced: false,
            afn,
            is_prime: afn && self.rng.random_bool(0.6),
            is_business: self.rng.random_bool(0.08),
            expedited: self.rng.random_bool(0.15),
            city: self.rng.random_range(0..16),
            items,
        }
    }

    /// A historical order placed `age` before `now`, advanced as far as its age makes likely.
    pub fn historical(&mut self, now: DateTime<Utc>, days: u32) -> OrderRec {
        let span = i64::from(days.max(1)) * 86_400;
        let age = Duration::seconds(self.rng.random_range(60..span.max(61)));
        let mut o = self.order_at(now - age);
        let hours = age.num_minutes() as f64 / 60.0;
        let roll = self.rng.random_range(0.0..1.0);
        // Target status by age: young orders are still Pending or Unshipped, old ones Shipped;
        // about 4% of all orders end Canceled.
        let cancel = roll < 0.04;
        let steps = if cancel {
            0
        } else if hours < 0.5 {
            usize::from(roll > 0.6)
        } else if hours < 24.0 {
            match (roll * 100.0) as u32 {
                0..40 => 1,
                40..50 => 2,
                _ => 3,
            }
        } else if roll < 0.05 {
            1
        } else {
            3
        };
        let mut t = o.purchase;
        for _ in 0..steps {
            let gap = Duration::seconds(self.rng.random_range(60..(8 * 3600)));
            t = (t + gap).min(now - Duration::seconds(1));
            if !o.advance(t) {
                break;
            }
        }
        if cancel {
            let priced = self.rng.random_bool(0.5);
            if priced {
                o.advance(t);
            }
            t = (t + Duration::seconds(self.rng.random_range(60..7200)))
                .min(now - Duration::seconds(1));
            o.set_status(OrderStatus::Canceled, t);
        }
        o.last_update = o.last_update.min(now.trunc_subsecs(0)).max(o.purchase);
        o
    }

    /// Random index for live mode and tests.
    pub fn pick(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.random_range(0..n)
        }
    }
}

fn color_name(code: &str) -> &'static str {
    match code {
        "BLK" => "Black",
        "WHT" => "White",
        "RED" => "Red",
        "BLU" => "Blue",
        "GRN" => "Green",
        _ => "Grey",
    }
}

/// Builds the initial history: `n` orders over the last `days` days before `now`.
pub(crate) fn generate(
    gen_: &mut Generator,
    n: usize,
    days: u32,
    now: DateTime<Utc>,
) -> BTreeMap<String, OrderRec> {
    (0..n)
        .map(|_| {
            let o = gen_.historical(now, days);
            (o.id.clone(), o)
        })
        .collect()
}

/// Resolves configured marketplace ids.
pub(crate) fn resolve_marketplaces(ids: &[String]) -> Result<Vec<&'static Marketplace>, String> {
    let mut out = Vec::new();
    for id in ids {
        let mp = marketplaces::find(id)
            .ok_or_else(|| format!("{id:?} is not an Amazon marketplace id"))?;
        if !out.iter().any(|m: &&Marketplace| m.id == mp.id) {
            out.push(mp);
        }
    }
    if out.is_empty() {
        return Err("at least one marketplace id is needed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_formatted_in_the_currency_precision() {
        assert_eq!(format_minor(1101, 2), "11.01");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(5980, 0), "5980");
    }
}
