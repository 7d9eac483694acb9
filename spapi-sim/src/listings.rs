//! The seller's listings: what the Listings Items API (2021-08-01) reads and patches.
//!
//! Every SKU of the generated catalog (the products the orders draw from) is listed in every
//! marketplace of the seller, with the catalog's ASIN and title, a product type that follows the
//! kind of product, and the local price the orders are sold at. A SKU that has FBA inventory in
//! a marketplace is an AFN listing there (fulfilled by Amazon: no quantity the seller can set);
//! every other one is MFN, with a quantity the seller keeps in `fulfillment_availability`.
//!
//! A patch that passes validation is only *accepted*: it is applied
//! `SimConfig::listings_apply_delay_secs` simulated seconds later, lazily, whenever something
//! reads the listings (as the inventory moves its inbound shipments). A share of accepted
//! submissions is never applied, and another ends up not applied with an issue on the listing
//! ("a preview can pass while the real submission fails"); both draw from an RNG stream of their
//! own, as do the generated listings, so the orders, the inventory and the ledger of every seed
//! are what they were before listings existed.
//!
//! Prices are kept in minor units (cents, whole yen), so every amount in and out is exact.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::data::{CatalogProduct, Money, format_minor, local_price_minor};
use crate::marketplaces::Marketplace;

/// The codes of the issues a patch can get (documented in the README). Amazon's codes are
/// numbers written as strings; these are the simulator's own.
pub mod issue_codes {
    /// The path is not `/attributes/<name>`: nested (indexed) patches are not supported.
    pub const NESTED_PATH: &str = "4000001";
    /// `productType` is missing or is not the listing's product type.
    pub const PRODUCT_TYPE: &str = "4000003";
    /// The attribute is not an attribute of the product type (a misspelt name, usually).
    pub const UNKNOWN_ATTRIBUTE: &str = "90000900";
    /// A required attribute or value is missing (also: deleting a required attribute).
    pub const MISSING_VALUE: &str = "90220";
    /// A value has the wrong shape or type (not an array of objects, a `schedule` that is not
    /// an array, a price that is not a number above 0, a quantity that is not an integer >= 0).
    pub const INVALID_VALUE: &str = "99022";
    /// `marketplace_id` in the value is not the marketplace of the request.
    pub const WRONG_MARKETPLACE: &str = "99023";
    /// `currency` is not the currency of the marketplace.
    pub const WRONG_CURRENCY: &str = "99024";
    /// A price with more decimals than the currency has (two for USD, none for JPY).
    pub const TOO_PRECISE: &str = "99025";
    /// A quantity for a listing fulfilled by Amazon (its stock is Amazon's to count).
    pub const QUANTITY_ON_FBA: &str = "99026";
    /// A fulfillment channel other than the listing's (`DEFAULT` for MFN listings).
    pub const WRONG_CHANNEL: &str = "99027";
    /// Put on the listing when an accepted submission could not be processed in the end.
    pub const NOT_APPLIED: &str = "99030";
}

use issue_codes as codes;

/// One listing as it stands now (what an ideal listings sync should end up with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimListing {
    pub marketplace_id: String,
    pub sku: String,
    pub asin: String,
    pub product_type: String,
    pub item_name: String,
    /// `BUYABLE` and `DISCOVERABLE`, or `DISCOVERABLE` alone (an MFN listing without quantity).
    pub status: Vec<String>,
    /// `MFN` (by the merchant) or `AFN` (by Amazon).
    pub fulfillment_channel: String,
    /// The offer's price (`our_price`) in the marketplace's currency and precision.
    pub price: Option<Money>,
    /// The quantity the seller makes available; MFN listings only.
    pub quantity: Option<i64>,
    /// The codes of the listing's issues.
    pub issues: Vec<String>,
    pub created_date: DateTime<Utc>,
    pub last_updated_date: DateTime<Utc>,
}

/// One patchListingsItem submission: what `SimHandle::listing_submissions` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimSubmission {
    pub submission_id: String,
    pub marketplace_id: String,
    pub sku: String,
    /// Sent with `mode=VALIDATION_PREVIEW`.
    pub preview: bool,
    /// `ACCEPTED`, `INVALID` or `VALID`, as answered.
    pub status: String,
    pub received_at: DateTime<Utc>,
    /// When the change became live; `None` until then, and forever for one never applied.
    pub applied_at: Option<DateTime<Utc>>,
    /// The price the patch set, as a decimal string (`"19.99"`, `"5980"`).
    pub price: Option<String>,
    /// The quantity the patch set.
    pub quantity: Option<i64>,
}

/// An issue of a listing or a submission, as the model's `Issue`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IssueRec {
    pub code: &'static str,
    pub message: String,
    pub severity: &'static str,
    pub attribute_names: Vec<String>,
    pub categories: Vec<&'static str>,
}

impl IssueRec {
    fn error(code: &'static str, attribute: &str, category: &'static str, message: String) -> Self {
        Self {
            code,
            message,
            severity: "ERROR",
            attribute_names: if attribute.is_empty() {
                Vec::new()
            } else {
                vec![attribute.to_string()]
            },
            categories: vec![category],
        }
    }
}

/// The attributes every product type of the simulated catalog has. A patch of any other name
/// is refused with [`issue_codes::UNKNOWN_ATTRIBUTE`].
const ATTRIBUTES: &[&str] = &[
    "item_name",
    "brand",
    "bullet_point",
    "product_description",
    "generic_keyword",
    "condition_type",
    "list_price",
    "purchasable_offer",
    "fulfillment_availability",
    "merchant_shipping_group",
    "main_product_image_locator",
    "externally_assigned_product_identifier",
    "country_of_origin",
    "max_order_quantity",
    "batteries_required",
    "supplier_declared_dg_hz_regulation",
];

/// Attributes a listing cannot lose.
const REQUIRED: &[&str] = &["item_name", "purchasable_offer"];

/// The product type of a catalog SKU, from the kind of product its SKU starts with.
fn product_type(sku: &str) -> &'static str {
    match sku.get(..3).unwrap_or_default() {
        "BTL" => "BOTTLE",
        "YGM" => "SPORTING_GOODS",
        "SPK" => "SPEAKERS",
        "LMP" => "LAMP",
        "GRD" | "CBD" | "SCL" => "KITCHEN",
        "CSE" => "CELLULAR_PHONE_CASE",
        "BPK" => "BACKPACK",
        "MUG" => "DRINKING_CUP",
        "CHG" => "CHARGING_ADAPTER",
        "HPH" => "HEADPHONES",
        "POT" => "PLANTER",
        "NTB" => "OFFICE_PRODUCTS",
        "BLK" => "HOME_BED_AND_BATH",
        _ => "HOME",
    }
}

/// The fulfillment channel code of Amazon's network in a marketplace's region.
pub(crate) fn afn_channel(mp: &Marketplace) -> &'static str {
    match mp.country_code {
        "US" | "CA" | "MX" | "BR" => "AMAZON_NA",
        "JP" => "AMAZON_JP",
        "AU" => "AMAZON_AU",
        "IN" => "AMAZON_IN",
        "SG" => "AMAZON_SG",
        _ => "AMAZON_EU",
    }
}

/// One SKU's listing in one marketplace.
#[derive(Debug, Clone)]
pub(crate) struct ListingRec {
    pub mp: &'static Marketplace,
    pub sku: String,
    pub asin: String,
    pub product_type: &'static str,
    pub item_name: String,
    pub afn: bool,
    /// AFN listings: whether Amazon offers it (MFN listings are buyable with a quantity).
    afn_buyable: bool,
    pub price_minor: i64,
    /// MFN only.
    pub quantity: Option<i64>,
    /// Other attributes, as last patched.
    pub attributes: BTreeMap<String, Value>,
    pub issues: Vec<IssueRec>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    /// Accepted submissions that fall due while this is set are never applied.
    never_apply: bool,
}

impl ListingRec {
    pub fn buyable(&self) -> bool {
        if self.afn {
            self.afn_buyable
        } else {
            self.quantity.unwrap_or(0) > 0
        }
    }

    pub fn status(&self) -> Vec<&'static str> {
        if self.buyable() {
            vec!["BUYABLE", "DISCOVERABLE"]
        } else {
            vec!["DISCOVERABLE"]
        }
    }

    pub fn channel(&self) -> &'static str {
        if self.afn { "AFN" } else { "MFN" }
    }

    pub fn price(&self) -> Money {
        Money::from_minor(self.mp.currency, self.mp.decimals, self.price_minor)
    }

    fn touch(&mut self, at: DateTime<Utc>) {
        self.last_updated = self.last_updated.max(at.trunc_subsecs(0));
    }

    pub fn to_public(&self) -> SimListing {
        SimListing {
            marketplace_id: self.mp.id.to_string(),
            sku: self.sku.clone(),
            asin: self.asin.clone(),
            product_type: self.product_type.to_string(),
            item_name: self.item_name.clone(),
            status: self.status().into_iter().map(str::to_string).collect(),
            fulfillment_channel: self.channel().to_string(),
            price: Some(self.price()),
            quantity: self.quantity,
            issues: self.issues.iter().map(|i| i.code.to_string()).collect(),
            created_date: self.created,
            last_updated_date: self.last_updated,
        }
    }
}

/// What an accepted patch changes once it is applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Change {
    pub price_minor: Option<i64>,
    pub quantity: Option<i64>,
    pub item_name: Option<String>,
    pub set: Vec<(String, Value)>,
    pub delete: Vec<String>,
}

/// What will become of an accepted submission (drawn when it is accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Apply,
    Never,
    Fail,
}

#[derive(Debug, Clone)]
struct SubmissionRec {
    id: String,
    mp: &'static Marketplace,
    sku: String,
    preview: bool,
    status: &'static str,
    received_at: DateTime<Utc>,
    /// When an accepted submission falls due; `None` for the others and the never-applied.
    due: Option<DateTime<Utc>>,
    fate: Fate,
    settled: bool,
    applied_at: Option<DateTime<Utc>>,
    change: Change,
}

impl SubmissionRec {
    fn to_public(&self) -> SimSubmission {
        SimSubmission {
            submission_id: self.id.clone(),
            marketplace_id: self.mp.id.to_string(),
            sku: self.sku.clone(),
            preview: self.preview,
            status: self.status.to_string(),
            received_at: self.received_at,
            applied_at: self.applied_at,
            price: self
                .change
                .price_minor
                .map(|m| format_minor(m, self.mp.decimals)),
            quantity: self.change.quantity,
        }
    }
}

/// Why a control call on the listings was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListingError {
    Unknown,
    Price(String),
}

/// How the listings behave, from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListingsSettings {
    pub apply_delay_secs: u64,
    pub never_applied_share: f64,
    pub accept_then_fail_share: f64,
}

pub(crate) struct Listings {
    /// Submission ids and live reprices.
    rng: ChaCha8Rng,
    /// The fate of accepted submissions, on a stream of its own so that the shares do not
    /// move anything else.
    fate_rng: ChaCha8Rng,
    settings: ListingsSettings,
    items: BTreeMap<(&'static str, String), ListingRec>,
    submissions: Vec<SubmissionRec>,
}

impl Listings {
    /// Every catalog product listed in every marketplace; `afn(mp, sku)` tells the SKUs with
    /// FBA inventory. Created 1 to 400 days before the orders' history, last updated since.
    pub fn build<'a>(
        seed: u64,
        settings: ListingsSettings,
        catalog: impl Iterator<Item = CatalogProduct<'a>>,
        marketplaces: &[&'static Marketplace],
        afn: impl Fn(&'static str, &str) -> bool,
        days: u32,
        now: DateTime<Utc>,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0715_7146_5000_0003);
        let fate_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0FA7_E500_0000_0004);
        let now = now.trunc_subsecs(0);
        let mut items = BTreeMap::new();
        for product in catalog {
            for &mp in marketplaces {
                let afn = afn(mp.id, product.sku);
                let quantity = (!afn).then(|| {
                    if rng.random_bool(0.08) {
                        0
                    } else {
                        rng.random_range(1..=150)
                    }
                });
                let afn_buyable = !rng.random_bool(0.05);
                let created = now
                    - Duration::days(i64::from(days) + rng.random_range(1..=400))
                    - Duration::seconds(rng.random_range(0..86_400));
                let span = (now - Duration::minutes(10) - created).num_seconds().max(1);
                let last_updated = created + Duration::seconds(rng.random_range(0..span));
                let rec = ListingRec {
                    mp,
                    sku: product.sku.to_string(),
                    asin: product.asin.to_string(),
                    product_type: product_type(product.sku),
                    item_name: product.title.to_string(),
                    afn,
                    afn_buyable,
                    price_minor: local_price_minor(product.usd_cents, mp),
                    quantity,
                    attributes: BTreeMap::new(),
                    issues: Vec::new(),
                    created,
                    last_updated,
                    never_apply: false,
                };
                items.insert((mp.id, product.sku.to_string()), rec);
            }
        }
        Self {
            rng,
            fate_rng,
            settings,
            items,
            submissions: Vec::new(),
        }
    }

    /// Applies (or fails) the accepted submissions that are due by `now`, in arrival order.
    /// Submissions fall due in the order of their due time (ties: arrival order): a feed's
    /// messages are recorded when the feed is processed, which can be after a patch that
    /// arrived later than the feed ended.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        let mut due_now: Vec<(DateTime<Utc>, usize)> = self
            .submissions
            .iter()
            .enumerate()
            .filter_map(|(n, sub)| {
                sub.due
                    .filter(|d| !sub.settled && *d <= now)
                    .map(|d| (d, n))
            })
            .collect();
        due_now.sort_unstable();
        for (due, n) in due_now {
            let sub = &mut self.submissions[n];
            sub.settled = true;
            let Some(rec) = self.items.get_mut(&(sub.mp.id, sub.sku.clone())) else {
                continue;
            };
            if rec.never_apply {
                continue;
            }
            match sub.fate {
                Fate::Apply => {
                    apply(rec, &sub.change, due);
                    sub.applied_at = Some(due);
                }
                Fate::Fail => {
                    rec.issues.retain(|i| i.code != codes::NOT_APPLIED);
                    rec.issues.push(IssueRec::error(
                        codes::NOT_APPLIED,
                        "",
                        "INVALID_ATTRIBUTE",
                        format!(
                            "Submission {} could not be processed; the listing keeps its previous values. Submit the change again.",
                            sub.id
                        ),
                    ));
                }
                Fate::Never => {}
            }
        }
    }

    /// Every listing, ordered by (marketplace id, SKU).
    pub fn records(&self) -> impl Iterator<Item = &ListingRec> {
        self.items.values()
    }

    /// The listings of one marketplace, ordered by SKU.
    pub fn in_marketplace<'a>(&'a self, mp: &'a str) -> impl Iterator<Item = &'a ListingRec> + 'a {
        self.items
            .range((mp, String::new())..)
            .take_while(move |((m, _), _)| *m == mp)
            .map(|(_, rec)| rec)
    }

    pub fn get(&self, mp: &str, sku: &str) -> Option<&ListingRec> {
        let mp = crate::marketplaces::find(mp)?.id;
        self.items.get(&(mp, sku.to_string()))
    }

    fn get_mut(&mut self, mp: &str, sku: &str) -> Result<&mut ListingRec, ListingError> {
        let mp = crate::marketplaces::find(mp)
            .ok_or(ListingError::Unknown)?
            .id;
        self.items
            .get_mut(&(mp, sku.to_string()))
            .ok_or(ListingError::Unknown)
    }

    /// Records a submission of a patch to an existing listing and returns its status and id.
    /// `checked` is the validated change or the issues that make it invalid.
    pub fn submit(
        &mut self,
        rec_key: (&'static Marketplace, &str),
        preview: bool,
        checked: &Result<Change, Vec<IssueRec>>,
        now: DateTime<Utc>,
    ) -> (&'static str, String) {
        let id = crate::server::request_id(&mut self.rng);
        let status = self.record(id.clone(), rec_key, preview, checked, now);
        (status, id)
    }

    /// Records an accepted message of a feed (`id` like `feed:{feedId}:{messageId}`) received
    /// at `at` (the feed's processing end): applied after the same delay, with the same fates,
    /// as an accepted patch.
    pub fn submit_from_feed(
        &mut self,
        id: String,
        rec_key: (&'static Marketplace, &str),
        change: Change,
        at: DateTime<Utc>,
    ) {
        self.record(id, rec_key, false, &Ok(change), at);
    }

    fn record(
        &mut self,
        id: String,
        rec_key: (&'static Marketplace, &str),
        preview: bool,
        checked: &Result<Change, Vec<IssueRec>>,
        now: DateTime<Utc>,
    ) -> &'static str {
        let (status, due, fate) = match (checked, preview) {
            (Err(_), _) => ("INVALID", None, Fate::Never),
            (Ok(_), true) => ("VALID", None, Fate::Never),
            (Ok(_), false) => {
                // Two draws for every accepted submission, whatever the shares.
                let never = self
                    .fate_rng
                    .random_bool(self.settings.never_applied_share.clamp(0.0, 1.0));
                let fail = self
                    .fate_rng
                    .random_bool(self.settings.accept_then_fail_share.clamp(0.0, 1.0));
                let fate = if never {
                    Fate::Never
                } else if fail {
                    Fate::Fail
                } else {
                    Fate::Apply
                };
                let delay = Duration::seconds(
                    i64::try_from(self.settings.apply_delay_secs).unwrap_or(i64::MAX / 2_000),
                );
                let due = (fate != Fate::Never).then(|| now + delay);
                ("ACCEPTED", due, fate)
            }
        };
        self.submissions.push(SubmissionRec {
            id,
            mp: rec_key.0,
            sku: rec_key.1.to_string(),
            preview,
            status,
            received_at: now,
            due,
            fate,
            settled: false,
            applied_at: None,
            change: checked.clone().unwrap_or_default(),
        });
        // A delay of 0 applies at once.
        self.tick(now);
        status
    }

    /// Every submission in arrival order.
    pub fn submissions(&self) -> Vec<SimSubmission> {
        self.submissions
            .iter()
            .map(SubmissionRec::to_public)
            .collect()
    }

    /// An outside price change (a repricer, an edit in Seller Central) at `now`.
    pub fn reprice(
        &mut self,
        mp: &str,
        sku: &str,
        amount: &str,
        now: DateTime<Utc>,
    ) -> Result<SimListing, ListingError> {
        self.tick(now);
        let rec = self.get_mut(mp, sku)?;
        let minor = match decimal_minor(amount, rec.mp.decimals) {
            Ok(m) => m,
            Err(e) => {
                return Err(ListingError::Price(format!(
                    "amount {amount:?} is not a price in {}: {}",
                    rec.mp.currency,
                    e.describe(rec.mp)
                )));
            }
        };
        rec.price_minor = minor;
        rec.touch(now);
        Ok(rec.to_public())
    }

    /// From now on, accepted submissions for the listing that fall due are not applied (or
    /// are again, with `on = false`).
    pub fn set_never_apply(&mut self, mp: &str, sku: &str, on: bool) -> Result<(), ListingError> {
        self.get_mut(mp, sku)?.never_apply = on;
        Ok(())
    }

    /// Amazon moves the listing to the generic product type `PRODUCT` (a
    /// reclassification): a later patch or feed message naming its old type is refused.
    pub fn reclassify(
        &mut self,
        mp: &str,
        sku: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ListingError> {
        self.tick(now);
        let rec = self.get_mut(mp, sku)?;
        rec.product_type = "PRODUCT";
        rec.touch(now);
        Ok(())
    }

    /// Live mode: a random listing's price moves by 1 to 5 percent (at least one minor unit).
    pub fn random_reprice(&mut self, now: DateTime<Utc>) {
        if self.items.is_empty() {
            return;
        }
        self.tick(now);
        let n = self.rng.random_range(0..self.items.len());
        let pct = self.rng.random_range(1..=5_i64);
        let up = self.rng.random_bool(0.5);
        let Some(rec) = self.items.values_mut().nth(n) else {
            return;
        };
        let step = (rec.price_minor * pct / 100).max(1);
        let new = if up {
            rec.price_minor + step
        } else {
            rec.price_minor - step
        };
        if new > 0 {
            rec.price_minor = new;
            rec.touch(now);
        }
    }
}

fn apply(rec: &mut ListingRec, change: &Change, at: DateTime<Utc>) {
    if let Some(price) = change.price_minor {
        rec.price_minor = price;
    }
    if let (Some(q), false) = (change.quantity, rec.afn) {
        rec.quantity = Some(q);
    }
    if let Some(name) = &change.item_name {
        rec.item_name.clone_from(name);
    }
    for (name, value) in &change.set {
        rec.attributes.insert(name.clone(), value.clone());
    }
    for name in &change.delete {
        rec.attributes.remove(name);
    }
    rec.issues.retain(|i| i.code != codes::NOT_APPLIED);
    rec.touch(at);
}

/// A patch operation's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchKind {
    Add,
    Replace,
    Merge,
    Delete,
}

impl PatchKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "add" => Some(Self::Add),
            "replace" => Some(Self::Replace),
            "merge" => Some(Self::Merge),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// One well-formed patch operation of a request body.
#[derive(Debug, Clone)]
pub(crate) struct PatchOp {
    pub kind: PatchKind,
    pub path: String,
    pub value: Option<Value>,
}

/// Why a decimal is not a price in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    NotANumber,
    NotPositive,
    TooPrecise,
}

impl DecimalError {
    fn describe(self, mp: &Marketplace) -> String {
        match self {
            Self::NotANumber => "it is not a decimal number".into(),
            Self::NotPositive => "a price must be more than 0".into(),
            Self::TooPrecise => format!("{} has {} decimal places", mp.currency, mp.decimals),
        }
    }
}

/// Reads a decimal (`19.99`, `5980`, `1.999e1`) as minor units of a currency with `decimals`
/// places, exactly: trailing zeros are fine, any other digit past the currency's precision is
/// [`DecimalError::TooPrecise`].
pub(crate) fn decimal_minor(text: &str, decimals: u32) -> Result<i64, DecimalError> {
    let text = text.trim();
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (
            &text[..i],
            text[i + 1..]
                .parse::<i32>()
                .map_err(|_| DecimalError::NotANumber)?,
        ),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(DecimalError::NotANumber);
    }
    let mut digits: String = format!("{int}{frac}").trim_start_matches('0').to_string();
    let frac_len = i32::try_from(frac.len()).map_err(|_| DecimalError::NotANumber)?;
    let mut scale = exp
        .checked_sub(frac_len)
        .and_then(|s| s.checked_add(i32::try_from(decimals).ok()?))
        .ok_or(DecimalError::NotANumber)?;
    if digits.is_empty() {
        return Err(DecimalError::NotPositive);
    }
    while scale < 0 && digits.ends_with('0') {
        digits.pop();
        scale += 1;
    }
    if scale < 0 {
        return Err(DecimalError::TooPrecise);
    }
    let minor = digits
        .parse::<i64>()
        .ok()
        .and_then(|d| d.checked_mul(10_i64.checked_pow(u32::try_from(scale).ok()?)?))
        .ok_or(DecimalError::NotANumber)?;
    if negative {
        return Err(DecimalError::NotPositive);
    }
    Ok(minor)
}

/// A price as a JSON number with exactly the currency's digits (`19.99`, `5980`).
pub(crate) fn price_number(minor: i64, decimals: u32) -> Value {
    let text = format_minor(minor, decimals);
    text.parse::<serde_json::Number>()
        .map_or(Value::String(text), Value::Number)
}

/// Checks a patch against the listing; the change it makes, or every issue found.
pub(crate) fn validate(
    rec: &ListingRec,
    product_type: Option<&str>,
    patches: &[PatchOp],
) -> Result<Change, Vec<IssueRec>> {
    let mut issues = Vec::new();
    let mut change = Change::default();
    match product_type {
        None => issues.push(IssueRec::error(
            codes::PRODUCT_TYPE,
            "",
            "MISSING_ATTRIBUTE",
            format!(
                "productType is required; this listing's product type is {}.",
                rec.product_type
            ),
        )),
        Some(pt) if pt != rec.product_type => issues.push(IssueRec::error(
            codes::PRODUCT_TYPE,
            "",
            "INVALID_ATTRIBUTE",
            format!(
                "productType {pt:?} is not the product type of SKU {:?} ({}).",
                rec.sku, rec.product_type
            ),
        )),
        Some(_) => {}
    }
    for patch in patches {
        let name = match patch.path.strip_prefix("/attributes/") {
            Some(name) if !name.is_empty() && !name.contains('/') => name,
            _ => {
                issues.push(IssueRec::error(
                    codes::NESTED_PATH,
                    patch
                        .path
                        .strip_prefix("/attributes/")
                        .and_then(|p| p.split('/').next())
                        .unwrap_or_default(),
                    "INVALID_ATTRIBUTE",
                    format!(
                        "Path {:?} is not supported: only top-level attributes can be patched, with a path of the form /attributes/<attribute name>; nested patches are not supported.",
                        patch.path
                    ),
                ));
                continue;
            }
        };
        if !ATTRIBUTES.contains(&name) {
            issues.push(IssueRec::error(
                codes::UNKNOWN_ATTRIBUTE,
                name,
                "INVALID_ATTRIBUTE",
                format!(
                    "The attribute {name:?} is not an attribute of product type {}.",
                    rec.product_type
                ),
            ));
            continue;
        }
        if patch.kind == PatchKind::Delete {
            if REQUIRED.contains(&name) || (name == "fulfillment_availability" && !rec.afn) {
                issues.push(IssueRec::error(
                    codes::MISSING_VALUE,
                    name,
                    "MISSING_ATTRIBUTE",
                    format!("'{name}' is required and cannot be deleted."),
                ));
            } else {
                change.delete.push(name.to_string());
            }
            continue;
        }
        let Some(entries) = patch
            .value
            .as_ref()
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty() && a.iter().all(Value::is_object))
        else {
            issues.push(IssueRec::error(
                codes::INVALID_VALUE,
                name,
                "INVALID_ATTRIBUTE",
                format!("The value of '{name}' must be a non-empty array of objects."),
            ));
            continue;
        };
        let result = match name {
            "purchasable_offer" => offer_price(rec, entries).map(|p| change.price_minor = Some(p)),
            "fulfillment_availability" => {
                availability(rec, entries).map(|q| change.quantity = q.or(change.quantity))
            }
            "item_name" => match entries[0].get("value").and_then(Value::as_str) {
                Some(v) if !v.trim().is_empty() => {
                    change.item_name = Some(v.to_string());
                    Ok(())
                }
                _ => Err(vec![IssueRec::error(
                    codes::MISSING_VALUE,
                    name,
                    "MISSING_ATTRIBUTE",
                    "'item_name' needs a non-empty string 'value'.".into(),
                )]),
            },
            _ => {
                change
                    .set
                    .push((name.to_string(), Value::Array(entries.clone())));
                Ok(())
            }
        };
        if let Err(mut found) = result {
            issues.append(&mut found);
        }
    }
    if issues.is_empty() {
        Ok(change)
    } else {
        Err(issues)
    }
}

/// The price of a `purchasable_offer` value: `[{marketplace_id, currency, our_price:
/// [{schedule: [{value_with_tax}]}]}]`. The first entry for all buyers (no `audience`, or
/// `ALL`) gives it.
fn offer_price(rec: &ListingRec, entries: &[Value]) -> Result<i64, Vec<IssueRec>> {
    const NAME: &str = "purchasable_offer";
    let mut issues = Vec::new();
    let mut price = None;
    let missing = |what: &str| {
        IssueRec::error(
            codes::MISSING_VALUE,
            NAME,
            "MISSING_PRICE",
            format!("'{NAME}' needs '{what}'."),
        )
    };
    let invalid = |what: String| IssueRec::error(codes::INVALID_VALUE, NAME, "INVALID_PRICE", what);
    for entry in entries {
        match entry.get("marketplace_id").and_then(Value::as_str) {
            None => issues.push(missing("marketplace_id")),
            Some(m) if m != rec.mp.id => issues.push(IssueRec::error(
                codes::WRONG_MARKETPLACE,
                NAME,
                "INVALID_ATTRIBUTE",
                format!(
                    "marketplace_id {m:?} is not the marketplace of the request ({}).",
                    rec.mp.id
                ),
            )),
            Some(_) => {}
        }
        match entry.get("currency").and_then(Value::as_str) {
            None => issues.push(missing("currency")),
            Some(c) if c != rec.mp.currency => issues.push(IssueRec::error(
                codes::WRONG_CURRENCY,
                NAME,
                "INVALID_PRICE",
                format!(
                    "currency {c:?} is not the currency of marketplace {} ({}).",
                    rec.mp.id, rec.mp.currency
                ),
            )),
            Some(_) => {}
        }
        let for_all = entry
            .get("audience")
            .is_none_or(|a| a.as_str() == Some("ALL"));
        let Some(our_price) = entry.get("our_price") else {
            issues.push(missing("our_price"));
            continue;
        };
        let Some(our_price) = our_price.as_array().filter(|a| !a.is_empty()) else {
            issues.push(invalid(
                "'our_price' must be a non-empty array of {\"schedule\": [...]} objects.".into(),
            ));
            continue;
        };
        for p in our_price {
            let Some(schedule) = p.get("schedule") else {
                issues.push(missing("our_price[].schedule"));
                continue;
            };
            let Some(schedule) = schedule.as_array().filter(|a| !a.is_empty()) else {
                issues.push(invalid(
                    "'schedule' must be a non-empty array of {\"value_with_tax\": <number>} objects."
                        .into(),
                ));
                continue;
            };
            for s in schedule {
                let found = match s.get("value_with_tax") {
                    None => Err(missing("our_price[].schedule[].value_with_tax")),
                    Some(Value::Number(n)) => decimal_minor(&n.to_string(), rec.mp.decimals)
                        .map_err(|e| match e {
                            DecimalError::TooPrecise => IssueRec::error(
                                codes::TOO_PRECISE,
                                NAME,
                                "INVALID_PRICE",
                                format!(
                                    "value_with_tax {n} has more decimal places than {} allows ({}).",
                                    rec.mp.currency, rec.mp.decimals
                                ),
                            ),
                            _ => invalid(format!(
                                "value_with_tax must be a number greater than 0; {n} was given."
                            )),
                        }),
                    Some(other) => Err(invalid(format!(
                        "value_with_tax must be a JSON number; {other} was given."
                    ))),
                };
                match found {
                    Ok(minor) => {
                        if for_all && price.is_none() {
                            price = Some(minor);
                        }
                    }
                    Err(issue) => issues.push(issue),
                }
            }
        }
    }
    match (issues.is_empty(), price) {
        (true, Some(p)) => Ok(p),
        (true, None) => Err(vec![missing(
            "an entry for all buyers (no audience, or ALL)",
        )]),
        (false, _) => Err(issues),
    }
}

/// The quantity of a `fulfillment_availability` value: `[{fulfillment_channel_code: DEFAULT,
/// quantity}]` for MFN listings; an AFN listing takes its own channel code, without quantity.
fn availability(rec: &ListingRec, entries: &[Value]) -> Result<Option<i64>, Vec<IssueRec>> {
    const NAME: &str = "fulfillment_availability";
    let mut issues = Vec::new();
    let mut quantity = None;
    for entry in entries {
        let Some(channel) = entry
            .get("fulfillment_channel_code")
            .and_then(Value::as_str)
        else {
            issues.push(IssueRec::error(
                codes::MISSING_VALUE,
                NAME,
                "MISSING_ATTRIBUTE",
                format!("'{NAME}' needs 'fulfillment_channel_code'."),
            ));
            continue;
        };
        if rec.afn {
            if entry.get("quantity").is_some() {
                issues.push(IssueRec::error(
                    codes::QUANTITY_ON_FBA,
                    NAME,
                    "INVALID_ATTRIBUTE",
                    format!(
                        "SKU {:?} is fulfilled by Amazon ({}): its quantity is Amazon's inventory and cannot be set.",
                        rec.sku,
                        afn_channel(rec.mp)
                    ),
                ));
            } else if channel != afn_channel(rec.mp) {
                issues.push(IssueRec::error(
                    codes::WRONG_CHANNEL,
                    NAME,
                    "INVALID_ATTRIBUTE",
                    format!(
                        "fulfillment_channel_code {channel:?} is not this listing's channel ({}).",
                        afn_channel(rec.mp)
                    ),
                ));
            }
            continue;
        }
        if channel != "DEFAULT" {
            issues.push(IssueRec::error(
                codes::WRONG_CHANNEL,
                NAME,
                "INVALID_ATTRIBUTE",
                format!(
                    "fulfillment_channel_code {channel:?} is not this listing's channel: a merchant-fulfilled listing uses DEFAULT."
                ),
            ));
            continue;
        }
        match entry.get("quantity") {
            None => issues.push(IssueRec::error(
                codes::MISSING_VALUE,
                NAME,
                "MISSING_ATTRIBUTE",
                "'fulfillment_availability' with DEFAULT needs 'quantity'.".into(),
            )),
            Some(q) => match q.as_i64().filter(|q| *q >= 0) {
                Some(q) => quantity = Some(q),
                None => issues.push(IssueRec::error(
                    codes::INVALID_VALUE,
                    NAME,
                    "INVALID_ATTRIBUTE",
                    format!("quantity must be an integer of 0 or more; {q} was given."),
                )),
            },
        }
    }
    if issues.is_empty() {
        Ok(quantity)
    } else {
        Err(issues)
    }
}

/// The sort key of searchListingsItems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortBy {
    Sku,
    CreatedDate,
    LastUpdatedDate,
}

/// A searchListingsItems query as its pageToken remembers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchQuery {
    pub marketplace: &'static str,
    pub included: Vec<&'static str>,
    /// (identifiersType, identifiers)
    pub identifiers: Option<(String, Vec<String>)>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    pub with_status: Option<Vec<String>>,
    pub without_status: Option<Vec<String>>,
    pub with_issue_severity: Option<Vec<String>>,
    /// variationParentSku or packageHierarchySku: the simulator has no such relationships.
    pub related_sku: bool,
    pub sort_by: SortBy,
    pub descending: bool,
    pub page_size: usize,
}

impl SearchQuery {
    pub fn matches(&self, rec: &ListingRec) -> bool {
        let status = rec.status();
        !self.related_sku
            && self
                .identifiers
                .as_ref()
                .is_none_or(|(kind, ids)| match kind.as_str() {
                    "SKU" => ids.contains(&rec.sku),
                    "ASIN" => ids.contains(&rec.asin),
                    _ => false,
                })
            && self.created_after.is_none_or(|t| rec.created >= t)
            && self.created_before.is_none_or(|t| rec.created <= t)
            && self.updated_after.is_none_or(|t| rec.last_updated >= t)
            && self.updated_before.is_none_or(|t| rec.last_updated <= t)
            && self
                .with_status
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| status.contains(&s.as_str())))
            && self
                .without_status
                .as_ref()
                .is_none_or(|s| !s.iter().any(|s| status.contains(&s.as_str())))
            && self
                .with_issue_severity
                .as_ref()
                .is_none_or(|s| rec.issues.iter().any(|i| s.iter().any(|s| s == i.severity)))
    }

    /// The position of a listing in the order of the query: (date or epoch, SKU).
    pub fn key(&self, rec: &ListingRec) -> (DateTime<Utc>, String) {
        let t = match self.sort_by {
            SortBy::Sku => DateTime::<Utc>::UNIX_EPOCH,
            SortBy::CreatedDate => rec.created,
            SortBy::LastUpdatedDate => rec.last_updated,
        };
        (t, rec.sku.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_exactly_in_the_currency_precision() {
        assert_eq!(decimal_minor("19.99", 2), Ok(1999));
        assert_eq!(decimal_minor("19.9", 2), Ok(1990));
        assert_eq!(decimal_minor("20", 2), Ok(2000));
        assert_eq!(decimal_minor("5980", 0), Ok(5980));
        assert_eq!(decimal_minor("5980.0", 0), Ok(5980));
        assert_eq!(decimal_minor("1.999e1", 2), Ok(1999));
        assert_eq!(decimal_minor("19.999", 2), Err(DecimalError::TooPrecise));
        assert_eq!(decimal_minor("59.8", 0), Err(DecimalError::TooPrecise));
        assert_eq!(decimal_minor("0", 2), Err(DecimalError::NotPositive));
        assert_eq!(decimal_minor("-1.00", 2), Err(DecimalError::NotPositive));
        assert_eq!(decimal_minor("abc", 2), Err(DecimalError::NotANumber));
        assert_eq!(decimal_minor("", 2), Err(DecimalError::NotANumber));
    }

    #[test]
    fn prices_are_written_as_exact_numbers() {
        assert_eq!(price_number(1999, 2).to_string(), "19.99");
        assert_eq!(price_number(1990, 2).to_string(), "19.9");
        assert_eq!(price_number(5980, 0).to_string(), "5980");
    }
}
