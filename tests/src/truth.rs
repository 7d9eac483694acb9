//! Our tables against spapi-sim's ground truth, in the terms both share: the sync
//! tests assert equality with it, the chaos run counts what differs by kind.

use entity::{amazon_order, amazon_order_item, order_items, orders};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use spapi_sim::SimOrder;
use std::collections::{BTreeMap, HashMap};

/// One order as both sides describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// Marketplace, fulfilment channel and last update (seconds).
    pub header: String,
    /// The order status, v0 spelling.
    pub status: String,
    /// `CUR amount` or `none`.
    pub total: String,
    /// Each item, sorted: id, SKU, ASIN, quantities and price.
    pub items: Vec<String>,
}

impl OrderView {
    /// The whole order on one line (what the sync tests compare).
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "{} {} total {} items [{}]",
            self.header,
            self.status,
            self.total,
            self.items.join(", ")
        )
    }
}

fn money(currency: Option<&str>, amount: Option<String>) -> String {
    amount.map_or_else(
        || "none".to_owned(),
        |a| format!("{} {a}", currency.unwrap_or_default()),
    )
}

/// The simulator's orders, keyed by order id.
#[must_use]
pub fn truth(orders: Vec<SimOrder>) -> BTreeMap<String, OrderView> {
    orders
        .into_iter()
        .map(|o| {
            let mut items: Vec<String> = o
                .items
                .iter()
                .map(|i| {
                    format!(
                        "{}:{}:{}x{} shipped {} price {}",
                        i.order_item_id,
                        i.seller_sku,
                        i.asin,
                        i.quantity_ordered,
                        i.quantity_shipped,
                        money(
                            i.item_price.as_ref().map(|m| m.currency_code.as_str()),
                            i.item_price.as_ref().map(|m| m.amount.clone())
                        ),
                    )
                })
                .collect();
            items.sort();
            let view = OrderView {
                header: format!(
                    "{} {} {}",
                    o.marketplace_id,
                    o.last_update_date.timestamp(),
                    o.fulfillment_channel
                ),
                status: o.order_status.as_str().to_owned(),
                total: money(
                    o.order_total.as_ref().map(|m| m.currency_code.as_str()),
                    o.order_total.as_ref().map(|m| m.amount.clone()),
                ),
                items,
            };
            (o.amazon_order_id, view)
        })
        .collect()
}

/// Our `amazon_order` / `amazon_order_item` rows in the same terms, keyed by order id
/// (a duplicated order id keeps its last row; [`compare`] counts duplicates apart).
///
/// # Errors
/// When the database cannot be read.
pub async fn ours(db: &DatabaseConnection) -> Result<BTreeMap<String, OrderView>, DbErr> {
    let orders = amazon_order::Entity::find().all(db).await?;
    let items = amazon_order_item::Entity::find().all(db).await?;
    let mut by_order: HashMap<String, Vec<String>> = HashMap::new();
    for i in items {
        by_order
            .entry(i.amazon_order_id.clone())
            .or_default()
            .push(format!(
                "{}:{}:{}x{} shipped {} price {}",
                i.order_item_id,
                i.seller_sku.unwrap_or_default(),
                i.asin.unwrap_or_default(),
                i.quantity_ordered,
                i.quantity_shipped,
                money(
                    i.item_price_currency.as_deref(),
                    i.item_price_amount.map(|a| a.to_string())
                ),
            ));
    }
    Ok(orders
        .into_iter()
        .map(|o| {
            let mut items = by_order.remove(&o.amazon_order_id).unwrap_or_default();
            items.sort();
            let view = OrderView {
                header: format!(
                    "{} {} {}",
                    o.marketplace_id,
                    o.last_update_date.timestamp(),
                    o.fulfillment_channel.unwrap_or_default()
                ),
                status: o.order_status.as_str().to_owned(),
                total: money(
                    o.order_total_currency.as_deref(),
                    o.order_total_amount.map(|a| a.to_string()),
                ),
                items,
            };
            (o.amazon_order_id, view)
        })
        .collect())
}

/// How our tables differ from the truth, counted by kind (0 everywhere is the goal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Orders the simulator has.
    pub in_truth: usize,
    /// `amazon_order` rows.
    pub in_db: usize,
    /// Orders the simulator has and we do not.
    pub lost: usize,
    /// Extra rows for an order id (`amazon_order`, `orders`) or item id (`amazon_order_item`, `order_items`).
    pub duplicated: usize,
    /// Orders we have that the simulator does not.
    pub unknown: usize,
    /// Orders whose status differs (in `amazon_order` or the unified `orders`).
    pub stale_status: usize,
    /// Orders whose total differs (in `amazon_order` or the unified `orders`).
    pub stale_price: usize,
    /// Orders whose items differ (in `amazon_order_item` or the unified `order_items`).
    pub stale_items: usize,
    /// Orders whose marketplace, channel or last update differs.
    pub stale_other: usize,
    /// A few differences, for the reader.
    pub examples: Vec<String>,
}

impl Comparison {
    /// Whether our tables equal the truth.
    #[must_use]
    pub fn is_equal(&self) -> bool {
        self.lost + self.duplicated + self.unknown == 0
            && self.stale_status + self.stale_price + self.stale_items + self.stale_other == 0
            && self.in_db == self.in_truth
    }

    fn example(&mut self, text: String) {
        if self.examples.len() < 5 {
            self.examples.push(text);
        }
    }
}

/// Compares every order of both sides, and the unified `orders` / `order_items` too.
///
/// # Errors
/// When the database cannot be read.
pub async fn compare(
    db: &DatabaseConnection,
    truth_orders: Vec<SimOrder>,
) -> Result<Comparison, DbErr> {
    let truth = truth(truth_orders);
    let ours = ours(db).await?;
    let mut c = Comparison {
        in_truth: truth.len(),
        in_db: amazon_order::Entity::find().all(db).await?.len(),
        ..Comparison::default()
    };

    // Duplicates, in the Amazon tables and the unified ones.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut purchased = HashMap::new();
    for o in amazon_order::Entity::find().all(db).await? {
        purchased.insert(
            (o.amazon_order_id.clone(), o.marketplace_id),
            o.purchase_date,
        );
        *seen.entry(o.amazon_order_id).or_default() += 1;
    }
    let mut seen_items: HashMap<String, usize> = HashMap::new();
    for i in amazon_order_item::Entity::find().all(db).await? {
        // The item's copy of its order's purchase date (what the SKU and ASIN
        // listings are ordered by) must equal the order's.
        let order = purchased.get(&(i.amazon_order_id.clone(), i.marketplace_id.clone()));
        if order != Some(&i.order_purchase_date) {
            c.stale_items += 1;
            c.example(format!(
                "amazon_order_item {}: order_purchase_date {} but its order's is {order:?}",
                i.order_item_id, i.order_purchase_date
            ));
        }
        *seen_items.entry(i.order_item_id).or_default() += 1;
    }
    let unified = orders::Entity::find().all(db).await?;
    let mut seen_unified: HashMap<String, usize> = HashMap::new();
    for o in &unified {
        if o.source == "amazon" {
            *seen_unified.entry(o.source_order_id.clone()).or_default() += 1;
        }
    }
    let unified_items = order_items::Entity::find().all(db).await?;
    let mut seen_unified_items: HashMap<String, usize> = HashMap::new();
    for i in &unified_items {
        if let Some(id) = &i.source_order_item_id {
            *seen_unified_items.entry(id.clone()).or_default() += 1;
        }
    }
    for (what, counts) in [
        ("amazon_order", &seen),
        ("amazon_order_item", &seen_items),
        ("orders", &seen_unified),
        ("order_items", &seen_unified_items),
    ] {
        for (id, n) in counts {
            if *n > 1 {
                c.duplicated += n - 1;
                c.example(format!("{what} {id}: {n} rows"));
            }
        }
    }

    // The unified tables in the terms of the truth.
    let by_id: HashMap<i64, &orders::Model> = unified.iter().map(|o| (o.id, o)).collect();
    let mut unified_views: HashMap<String, (String, String, Vec<String>)> = HashMap::new();
    // The unified key is `marketplace/order id`.
    let order_id = |source_order_id: &str| {
        source_order_id
            .rsplit_once('/')
            .map_or(source_order_id, |(_, id)| id)
            .to_owned()
    };
    for o in &unified {
        unified_views.insert(
            order_id(&o.source_order_id),
            (
                o.status.as_str().to_owned(),
                money(o.currency.as_deref(), o.total_amount.map(|a| a.to_string())),
                Vec::new(),
            ),
        );
    }
    for i in &unified_items {
        if let Some(order) = by_id.get(&i.order_id)
            && let Some(view) = unified_views.get_mut(&order_id(&order.source_order_id))
        {
            view.2.push(format!(
                "{}:{}x{} shipped {} price {}",
                i.source_order_item_id.as_deref().unwrap_or_default(),
                i.sku.as_deref().unwrap_or_default(),
                i.quantity,
                i.quantity_shipped,
                money(i.currency.as_deref(), i.price_amount.map(|a| a.to_string())),
            ));
        }
    }

    for (id, want) in &truth {
        let Some(got) = ours.get(id) else {
            c.lost += 1;
            c.example(format!("lost {id}"));
            continue;
        };
        let unified = unified_views.get(id);
        let mut want_unified_items: Vec<String> = want
            .items
            .iter()
            .map(|line| {
                // id:sku:asinxN shipped S price P  ->  id:skuxN shipped S price P
                let mut parts = line.splitn(3, ':');
                let (item, sku, rest) = (
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                );
                let rest = rest.split_once('x').map_or(rest, |(_, r)| r);
                format!("{item}:{sku}x{rest}")
            })
            .collect();
        want_unified_items.sort();
        let status_ok = got.status == want.status && unified.is_some_and(|u| u.0 == want.status);
        let price_ok = got.total == want.total && unified.is_some_and(|u| u.1 == want.total);
        let items_ok = got.items == want.items
            && unified.is_some_and(|u| {
                let mut items = u.2.clone();
                items.sort();
                items == want_unified_items
            });
        if !status_ok {
            c.stale_status += 1;
            c.example(format!(
                "status of {id}: ours {:?}, Amazon {:?}",
                got.status, want.status
            ));
        }
        if !price_ok {
            c.stale_price += 1;
            c.example(format!(
                "total of {id}: ours {:?}, Amazon {:?}",
                got.total, want.total
            ));
        }
        if !items_ok {
            c.stale_items += 1;
            c.example(format!(
                "items of {id}: ours {:?}, Amazon {:?}",
                got.items, want.items
            ));
        }
        if got.header != want.header {
            c.stale_other += 1;
            c.example(format!(
                "{id}: ours {:?}, Amazon {:?}",
                got.header, want.header
            ));
        }
    }
    c.unknown = ours.keys().filter(|k| !truth.contains_key(*k)).count();
    Ok(c)
}

/// Our FBA stock against Amazon's, counted by kind of difference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryComparison {
    /// SKUs (marketplace, SKU) Amazon lists.
    pub in_truth: usize,
    /// SKUs we list (not gone).
    pub in_db: usize,
    /// Amazon lists them, we do not.
    pub lost: usize,
    /// Quantities an incremental read sees (fulfillable, reserved, unfulfillable,
    /// researching) or Amazon's last update differ.
    pub stale: usize,
    /// We list them, Amazon does not.
    pub unknown: usize,
    /// A few differences, for the log.
    pub examples: Vec<String>,
}

impl InventoryComparison {
    /// Nothing lost, stale or unknown.
    #[must_use]
    pub fn is_equal(&self) -> bool {
        self.lost + self.stale + self.unknown == 0 && self.in_db == self.in_truth
    }
}

/// Compares `fba_inventory` (rows not gone) with the simulator's stock. Inbound
/// quantities and the total are left out: Amazon's incremental reads do not see
/// inbound changes, which the daily full scan brings.
///
/// # Errors
/// The database error.
pub async fn compare_inventory(
    db: &DatabaseConnection,
    truth: Vec<spapi_sim::SimInventory>,
) -> Result<InventoryComparison, DbErr> {
    let ours: BTreeMap<(String, String), entity::fba_inventory::Model> =
        entity::fba_inventory::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .filter(|r| r.gone_at.is_none())
            .map(|r| ((r.marketplace_id.clone(), r.seller_sku.clone()), r))
            .collect();
    let mut c = InventoryComparison {
        in_truth: truth.len(),
        in_db: ours.len(),
        ..InventoryComparison::default()
    };
    let mut known = std::collections::BTreeSet::new();
    for s in truth {
        let key = (s.marketplace_id.clone(), s.seller_sku.clone());
        let Some(r) = ours.get(&key) else {
            c.lost += 1;
            if c.examples.len() < 5 {
                c.examples.push(format!("lost {key:?}"));
            }
            continue;
        };
        known.insert(key.clone());
        let got = (
            r.fulfillable_quantity,
            r.reserved_quantity,
            r.unfulfillable_quantity,
            r.researching_quantity,
            r.last_updated_time.map(|t| t.timestamp()),
        );
        let want = (
            s.fulfillable,
            s.reserved,
            s.unfulfillable,
            s.researching,
            Some(s.last_updated.timestamp()),
        );
        if got != want {
            c.stale += 1;
            if c.examples.len() < 5 {
                c.examples
                    .push(format!("stale {key:?}: ours {got:?}, Amazon {want:?}"));
            }
        }
    }
    c.unknown = ours.keys().filter(|k| !known.contains(*k)).count();
    Ok(c)
}

/// How our financial transactions compare with the simulator's.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TransactionsComparison {
    /// Transactions a sync reading from `from` on could list.
    pub in_truth: usize,
    /// Transactions we have.
    pub in_db: usize,
    /// Listable, and we do not have them.
    pub lost: usize,
    /// Stored more than once (the table's key forbids it; counted anyway).
    pub duplicated: usize,
    /// Total, breakdown leaves or type differ, or the status is not one it had
    /// while the last re-pull read it.
    pub stale: usize,
    /// We have them, Amazon does not list them.
    pub unknown: usize,
    /// A few differences, for the log.
    pub examples: Vec<String>,
}

impl TransactionsComparison {
    /// Nothing lost, duplicated, stale or unknown.
    #[must_use]
    pub fn is_equal(&self) -> bool {
        self.lost + self.duplicated + self.stale + self.unknown == 0
    }
}

/// A transaction's status at `at` on the simulated clock.
fn status_at(t: &spapi_sim::SimTransaction, at: chrono::DateTime<chrono::Utc>) -> &'static str {
    match t.release_at {
        None => "RELEASED",
        Some(r) if r <= at => "DEFERRED_RELEASED",
        Some(_) => "DEFERRED",
    }
}

/// Compares `amazon_transaction` and its breakdown leaves with the simulator's
/// transactions, given the simulated instants `[read_from, read_to]` during which
/// the last clean re-pull read Amazon: every transaction visible and past Amazon's
/// lag by `read_from` must be ours, with its total, type and leaves, and a status it
/// had at some instant of the re-pull (a release in between may be read either way).
///
/// # Errors
/// The database error.
pub async fn compare_transactions(
    db: &DatabaseConnection,
    truth: Vec<spapi_sim::SimTransaction>,
    read_from: chrono::DateTime<chrono::Utc>,
    read_to: chrono::DateTime<chrono::Utc>,
) -> Result<TransactionsComparison, DbErr> {
    use rust_decimal::Decimal;
    let rows = entity::amazon_transaction::Entity::find().all(db).await?;
    let mut leaves: BTreeMap<String, Vec<(String, Decimal)>> = BTreeMap::new();
    for n in entity::amazon_transaction_breakdown::Entity::find()
        .all(db)
        .await?
    {
        if n.category.is_some() {
            leaves
                .entry(n.transaction_id.clone())
                .or_default()
                .push((n.breakdown_type, n.amount.decimal().normalize()));
        }
    }
    let mut ours: BTreeMap<String, entity::amazon_transaction::Model> = BTreeMap::new();
    let mut c = TransactionsComparison {
        in_db: rows.len(),
        ..TransactionsComparison::default()
    };
    for r in rows {
        if ours.insert(r.transaction_id.clone(), r).is_some() {
            c.duplicated += 1;
        }
    }
    let all: std::collections::BTreeSet<String> =
        truth.iter().map(|t| t.transaction_id.clone()).collect();
    let lag = chrono::Duration::seconds(150);
    for t in &truth {
        let listable = t.visible_at <= read_from && t.posted_date < read_from - lag;
        let Some(r) = ours.get(&t.transaction_id) else {
            if listable {
                c.in_truth += 1;
                c.lost += 1;
                if c.examples.len() < 5 {
                    c.examples
                        .push(format!("lost {} {}", t.transaction_type, t.transaction_id));
                }
            }
            continue;
        };
        c.in_truth += usize::from(listable);
        let mut want_leaves = Vec::new();
        collect_leaves(&t.raw["breakdowns"], &mut want_leaves);
        want_leaves.sort();
        let mut got_leaves = leaves.get(&t.transaction_id).cloned().unwrap_or_default();
        got_leaves.sort();
        let statuses = [status_at(t, read_from), status_at(t, read_to)];
        let total: Option<Decimal> = t.total.parse().ok();
        let fresh = r.transaction_type == t.transaction_type
            && Some(r.total_amount.decimal().normalize()) == total.map(|d| d.normalize())
            && got_leaves == want_leaves
            && statuses.contains(&r.transaction_status.as_str());
        if !fresh {
            c.stale += 1;
            if c.examples.len() < 5 {
                c.examples.push(format!(
                    "stale {} {}: ours {} {} / Amazon {statuses:?} {}",
                    t.transaction_type,
                    t.transaction_id,
                    r.transaction_status,
                    r.total_amount,
                    t.total
                ));
            }
        }
    }
    c.unknown = ours.keys().filter(|k| !all.contains(*k)).count();
    Ok(c)
}

fn collect_leaves(v: &serde_json::Value, out: &mut Vec<(String, rust_decimal::Decimal)>) {
    for b in v.as_array().into_iter().flatten() {
        let children = &b["breakdowns"];
        if children.as_array().is_some_and(|a| !a.is_empty()) {
            collect_leaves(children, out);
        } else if let (Some(kind), Ok(amount)) = (
            b["breakdownType"].as_str(),
            b["breakdownAmount"]["currencyAmount"]
                .to_string()
                .trim_matches('"')
                .parse::<rust_decimal::Decimal>(),
        ) {
            out.push((kind.to_owned(), amount.normalize()));
        }
    }
}
