//! Settlement anomalies: shipped orders whose Shipment never posts or posts a wrong principal,
//! chosen from the seed or made through the control API, so that a reconciliation of
//! settlements against orders has something to find.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use reqwest::Method;
use serde_json::{Value, json};
use spapi_sim::{
    OrderStatus, SettlementAnomaly, SettlementAnomalyKind, SimConfig, SimError, SimOrder,
    SimTransaction,
};

use crate::common::*;
use crate::control::call;
use crate::transactions::{amount, collect_leaves, decimals, leaves_of, minor};

const PRINCIPAL: &str = "Sales/ProductCharges/Principal";
const COMMISSION: &str = "Expenses/AmazonFees/Commission";

/// FNV-1a over each transaction's type, id and total, in ground-truth order.
fn fingerprint(truth: &[SimTransaction]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for tx in truth {
        let line = format!(
            "{} {} {}\n",
            tx.transaction_type, tx.transaction_id, tx.total
        );
        for b in line.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    }
    h
}

/// The sum of an order's item prices (v0 `ItemPrice`) in minor units.
fn item_prices(o: &SimOrder) -> i64 {
    o.items
        .iter()
        .map(|i| {
            let m = i.item_price.as_ref().unwrap();
            minor(&m.amount, decimals(&m.currency_code))
        })
        .sum()
}

fn sum_of(leaves: &[(String, i64)], path: &str) -> i64 {
    leaves
        .iter()
        .filter(|(p, _)| p == path)
        .map(|(_, m)| m)
        .sum()
}

/// Checks that every node of the transaction's breakdowns, and of each item's, is the sum of
/// its children and that the leaves add up to the totals; returns the transaction's leaves.
fn consistent_leaves(tx: &SimTransaction) -> Vec<(String, i64)> {
    let leaves = leaves_of(&tx.raw);
    let total = minor(&tx.total, decimals(&tx.currency));
    assert_eq!(amount(&tx.raw["totalAmount"]), total, "{}", tx.raw);
    assert_eq!(
        leaves.iter().map(|(_, m)| m).sum::<i64>(),
        total,
        "{}",
        tx.raw
    );
    for item in tx.raw["items"].as_array().unwrap() {
        let mut out = Vec::new();
        collect_leaves(&item["breakdowns"], "", &mut out);
        assert_eq!(
            out.iter().map(|(_, m)| m).sum::<i64>(),
            amount(&item["totalAmount"]),
            "{item}"
        );
    }
    leaves
}

/// The first item's leaves of a transaction.
fn first_item_leaves(tx: &SimTransaction) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    collect_leaves(&tx.raw["items"][0]["breakdowns"], "", &mut out);
    out
}

fn shipments_of<'a>(truth: &'a [SimTransaction], order: &str) -> Vec<&'a SimTransaction> {
    truth
        .iter()
        .filter(|t| t.transaction_type == "Shipment" && t.amazon_order_id.as_deref() == Some(order))
        .collect()
}

/// Amazon's referral fee on a principal, as the simulator computes it.
fn referral_fee(principal: i64) -> i64 {
    (principal * 15 + 50) / 100
}

fn shipped_orders(env: &Env) -> Vec<SimOrder> {
    env.sim
        .ground_truth()
        .into_iter()
        .filter(|o| o.order_status == OrderStatus::Shipped)
        .collect()
}

/// A shipped order of the history with exactly one Shipment (as every order of the history has).
fn a_settled_order(env: &Env) -> SimOrder {
    let truth = env.sim.transactions_ground_truth();
    shipped_orders(env)
        .into_iter()
        .find(|o| shipments_of(&truth, &o.amazon_order_id).len() == 1)
        .unwrap()
}

fn anomalies_of(env: &Env, kind: SettlementAnomalyKind) -> BTreeSet<String> {
    env.sim
        .settlement_anomalies()
        .into_iter()
        .filter(|a| a.kind == kind)
        .map(|a| a.amazon_order_id)
        .collect()
}

/// Advances an order until it is Shipped.
fn ship(env: &Env, id: &str) {
    while env.sim.advance_order(id) {}
}

#[tokio::test]
async fn two_anomalies_withhold_two_shipped_orders_and_misprice_two_others_by_a_stated_amount() {
    let env = start(SimConfig {
        settlement_anomalies: 2,
        ..config()
    })
    .await;
    let truth = env.sim.transactions_ground_truth();
    let shipped = shipped_orders(&env);
    let mut principal: HashMap<&str, i64> = HashMap::new();
    for tx in truth.iter().filter(|t| t.transaction_type == "Shipment") {
        let p = sum_of(&consistent_leaves(tx), PRINCIPAL);
        *principal
            .entry(tx.amazon_order_id.as_deref().unwrap())
            .or_default() += p;
    }

    let missing: BTreeSet<String> = shipped
        .iter()
        .filter(|o| !principal.contains_key(o.amazon_order_id.as_str()))
        .map(|o| o.amazon_order_id.clone())
        .collect();
    let off: BTreeMap<String, i64> = shipped
        .iter()
        .filter_map(|o| {
            let p = principal.get(o.amazon_order_id.as_str())?;
            (*p != item_prices(o)).then(|| (o.amazon_order_id.clone(), p - item_prices(o)))
        })
        .collect();
    assert_eq!(missing.len(), 2, "two shipped orders have no Shipment");
    assert_eq!(off.len(), 2, "two shipped orders have a principal off");
    let mut deltas: Vec<i64> = off.values().copied().collect();
    deltas.sort_unstable();
    assert_eq!(
        deltas,
        [-50, 100],
        "one is off by a unit (1.00, 100 yen), one by minus half of one"
    );

    for (id, delta) in &off {
        let shipments = shipments_of(&truth, id);
        assert_eq!(shipments.len(), 1);
        let first = first_item_leaves(shipments[0]);
        let true_principal = sum_of(&first, PRINCIPAL) - delta;
        assert_eq!(
            sum_of(&first, COMMISSION),
            -referral_fee(true_principal),
            "the referral fee follows the true principal: {}",
            shipments[0].raw
        );
    }

    let anomalies = env.sim.settlement_anomalies();
    assert_eq!(
        anomalies_of(&env, SettlementAnomalyKind::MissingSettlement),
        missing
    );
    assert_eq!(
        anomalies_of(&env, SettlementAnomalyKind::AmountMismatch),
        off.keys().cloned().collect()
    );
    let orders: HashMap<&str, &SimOrder> = shipped
        .iter()
        .map(|o| (o.amazon_order_id.as_str(), o))
        .collect();
    for a in &anomalies {
        let o = orders[a.amazon_order_id.as_str()];
        let places = decimals(&a.currency);
        assert_eq!(
            Some(&a.currency),
            o.order_total.as_ref().map(|t| &t.currency_code)
        );
        assert_eq!(minor(&a.expected, places), item_prices(o), "{a:?}");
        match a.kind {
            SettlementAnomalyKind::MissingSettlement => assert_eq!(a.actual, None),
            SettlementAnomalyKind::AmountMismatch => assert_eq!(
                minor(a.actual.as_deref().unwrap(), places),
                item_prices(o) + off[&a.amazon_order_id]
            ),
        }
    }
}

#[tokio::test]
async fn with_anomalies_the_other_orders_keep_the_transactions_they_have_without() {
    let plain = start(config()).await;
    let broken = start(SimConfig {
        settlement_anomalies: 2,
        ..config()
    })
    .await;
    let anomalous: BTreeSet<String> = broken
        .sim
        .settlement_anomalies()
        .into_iter()
        .map(|a| a.amazon_order_id)
        .collect();
    let untouched = |env: &Env| -> Vec<(String, String)> {
        env.sim
            .transactions_ground_truth()
            .into_iter()
            .filter(|t| t.transaction_type != "Transfer")
            .filter(|t| {
                t.amazon_order_id
                    .as_ref()
                    .is_none_or(|o| !anomalous.contains(o))
            })
            .map(|t| (t.transaction_id, t.total))
            .collect()
    };

    assert_eq!(anomalous.len(), 4);
    assert_eq!(untouched(&broken), untouched(&plain));
}

#[tokio::test]
async fn without_anomalies_every_seed_keeps_the_ledger_it_had_before_they_existed() {
    // Recorded at 74c92ca, before settlement anomalies existed. A deliberate change of the
    // ledger changes these; an anomaly setting must not.
    let before = [
        (config(), 285, 0x76a2_f671_3532_db13),
        (SimConfig::default(), 191, 0x8d03_267f_c743_c80e),
    ];

    for (cfg, count, print) in before {
        let env = start(cfg).await;
        let truth = env.sim.transactions_ground_truth();

        assert_eq!(truth.len(), count);
        assert_eq!(
            fingerprint(&truth),
            print,
            "ids and totals are as they were"
        );
        assert!(env.sim.settlement_anomalies().is_empty());
    }
}

#[tokio::test]
async fn anomalies_prefer_orders_shipped_more_than_20_days_ago() {
    let env = start(SimConfig {
        days: 60,
        settlement_anomalies: 3,
        ..config()
    })
    .await;
    let cutoff = env.sim.now() - days(20);
    let orders: HashMap<String, SimOrder> = env
        .sim
        .ground_truth()
        .into_iter()
        .map(|o| (o.amazon_order_id.clone(), o))
        .collect();

    let anomalies = env.sim.settlement_anomalies();

    assert_eq!(anomalies.len(), 6);
    for a in &anomalies {
        let o = &orders[&a.amazon_order_id];
        assert!(
            o.last_update_date < cutoff,
            "{a:?} shipped {}",
            o.last_update_date
        );
    }
}

#[tokio::test]
async fn more_anomalies_than_shipped_orders_take_every_shipped_order() {
    let env = start(SimConfig {
        orders: 20,
        settlement_anomalies: 50,
        ..config()
    })
    .await;
    let shipped = shipped_orders(&env).len();
    assert!(shipped > 3, "{shipped} shipped");

    let anomalies = env.sim.settlement_anomalies();

    assert_eq!(anomalies.len(), shipped);
    assert_eq!(
        anomalies_of(&env, SettlementAnomalyKind::MissingSettlement).len(),
        shipped.div_ceil(2)
    );
    let mispriced = anomalies_of(&env, SettlementAnomalyKind::AmountMismatch);
    let truth = env.sim.transactions_ground_truth();
    for o in shipped_orders(&env) {
        let posted = !shipments_of(&truth, &o.amazon_order_id).is_empty();
        assert_eq!(
            posted,
            mispriced.contains(&o.amazon_order_id),
            "of the shipped orders, only the mispriced ones have a Shipment: {}",
            o.amazon_order_id
        );
    }
}

#[tokio::test]
async fn withholding_a_settlement_removes_the_orders_shipments_and_lists_it_as_missing() {
    let env = start(config()).await;
    let order = a_settled_order(&env);
    let id = order.amazon_order_id.as_str();

    env.sim.withhold_settlement(id).unwrap();

    let truth = env.sim.transactions_ground_truth();
    assert!(shipments_of(&truth, id).is_empty());
    assert_eq!(
        env.sim.settlement_anomalies(),
        [SettlementAnomaly {
            amazon_order_id: id.to_string(),
            kind: SettlementAnomalyKind::MissingSettlement,
            currency: order.order_total.clone().unwrap().currency_code,
            expected: order.order_total.clone().unwrap().amount,
            actual: None,
        }]
    );
    let served = env
        .http
        .get(format!("{}/_sim/settlement-anomalies", env.sim.base_url()))
        .send()
        .await
        .unwrap()
        .json::<Vec<SettlementAnomaly>>()
        .await
        .unwrap();
    assert_eq!(served, env.sim.settlement_anomalies());
}

#[tokio::test]
async fn a_withheld_order_that_ships_later_gets_no_shipment_and_no_refund() {
    let env = start(config()).await;
    let id = env.sim.add_orders(1).remove(0);

    env.sim.withhold_settlement(&id).unwrap();
    assert!(
        env.sim.settlement_anomalies().is_empty(),
        "nothing is missing before units ship"
    );
    ship(&env, &id);
    env.sim.update_order_status(&id, "Canceled").unwrap();

    let of_order: Vec<SimTransaction> = env
        .sim
        .transactions_ground_truth()
        .into_iter()
        .filter(|t| t.amazon_order_id.as_deref() == Some(&id))
        .collect();
    assert!(of_order.is_empty(), "{of_order:?}");
    assert_eq!(
        anomalies_of(&env, SettlementAnomalyKind::MissingSettlement),
        BTreeSet::from([id])
    );
}

#[tokio::test]
async fn mispricing_a_settlement_moves_the_first_items_principal_and_keeps_every_sum() {
    let env = start(config()).await;
    let order = a_settled_order(&env);
    let id = order.amazon_order_id.as_str();
    let before = env.sim.transactions_ground_truth();
    let before = shipments_of(&before, id)[0].clone();

    env.sim.misprice_settlement(id, 250).unwrap();

    let after = env.sim.transactions_ground_truth();
    let after = shipments_of(&after, id)[0].clone();
    let places = decimals(&after.currency);
    assert_eq!(after.transaction_id, before.transaction_id);
    assert_eq!(
        minor(&after.total, places),
        minor(&before.total, places) + 250
    );
    let leaves = consistent_leaves(&after);
    assert_eq!(sum_of(&leaves, PRINCIPAL), item_prices(&order) + 250);
    assert_eq!(
        sum_of(&leaves, COMMISSION),
        sum_of(&leaves_of(&before.raw), COMMISSION),
        "the referral fee is still that of the true principal"
    );
    assert_eq!(
        sum_of(&first_item_leaves(&after), PRINCIPAL),
        sum_of(&first_item_leaves(&before), PRINCIPAL) + 250
    );
    let total = order.order_total.clone().unwrap();
    let anomalies = env.sim.settlement_anomalies();
    assert_eq!(anomalies.len(), 1);
    let a = &anomalies[0];
    assert_eq!(
        (&a.amazon_order_id, a.kind, &a.currency, &a.expected),
        (
            &id.to_string(),
            SettlementAnomalyKind::AmountMismatch,
            &total.currency_code,
            &total.amount
        )
    );
    assert_eq!(
        minor(a.actual.as_deref().unwrap(), places),
        item_prices(&order) + 250
    );
}

#[tokio::test]
async fn a_misprice_before_shipping_goes_to_the_first_shipment_that_posts() {
    let env = start(config()).await;
    let id = env.sim.add_orders(1).remove(0);

    env.sim.misprice_settlement(&id, -50).unwrap();
    assert!(
        env.sim.settlement_anomalies().is_empty(),
        "no mismatch before a Shipment posts"
    );
    ship(&env, &id);

    let order = env
        .sim
        .ground_truth()
        .into_iter()
        .find(|o| o.amazon_order_id == id)
        .unwrap();
    let truth = env.sim.transactions_ground_truth();
    let shipments = shipments_of(&truth, &id);
    let principal: i64 = shipments
        .iter()
        .map(|t| sum_of(&consistent_leaves(t), PRINCIPAL))
        .sum();
    assert_eq!(principal, item_prices(&order) - 50);
    let first = &order.items[0];
    let line = first.item_price.as_ref().unwrap();
    let unit_price =
        minor(&line.amount, decimals(&line.currency_code)) / i64::from(first.quantity_ordered);
    let charged = sum_of(&first_item_leaves(shipments[0]), PRINCIPAL) + 50;
    assert!(
        charged > 0 && charged % unit_price == 0,
        "the first Shipment's first item carries the delta: {}",
        shipments[0].raw
    );
    assert_eq!(
        anomalies_of(&env, SettlementAnomalyKind::AmountMismatch),
        BTreeSet::from([id])
    );
}

#[tokio::test]
async fn settlement_controls_refuse_an_unknown_order_a_zero_delta_and_mispricing_a_withheld_one() {
    let env = start(config()).await;
    let unknown = "111-0000000-0000000";
    let id = a_settled_order(&env).amazon_order_id;

    let withhold_unknown = env.sim.withhold_settlement(unknown);
    let misprice_unknown = env.sim.misprice_settlement(unknown, 100);
    let zero = env.sim.misprice_settlement(&id, 0);
    env.sim.withhold_settlement(&id).unwrap();
    let withheld = env.sim.misprice_settlement(&id, 100);

    assert!(matches!(withhold_unknown, Err(SimError::UnknownOrder(o)) if o == unknown));
    assert!(matches!(misprice_unknown, Err(SimError::UnknownOrder(o)) if o == unknown));
    assert!(
        matches!(&zero, Err(SimError::InvalidSettlementChange { reason, .. }) if reason.contains("non-zero")),
        "{zero:?}"
    );
    assert!(
        matches!(&withheld, Err(SimError::InvalidSettlementChange { reason, .. }) if reason.contains("withheld")),
        "{withheld:?}"
    );
    assert_eq!(
        anomalies_of(&env, SettlementAnomalyKind::MissingSettlement),
        BTreeSet::from([id])
    );
}

#[tokio::test]
async fn the_settlement_controls_are_served_under_sim() {
    let env = start(config()).await;
    let shipped = shipped_orders(&env);
    let (a, b) = (&shipped[0].amazon_order_id, &shipped[1].amazon_order_id);

    let (withheld, _) = call(
        &env,
        Method::POST,
        &format!("/orders/{a}/withhold-settlement"),
        None,
    )
    .await;
    let (mispriced, _) = call(
        &env,
        Method::POST,
        &format!("/orders/{b}/misprice-settlement"),
        Some(json!({"delta_minor": 100})),
    )
    .await;
    let (unknown, _) = call(
        &env,
        Method::POST,
        "/orders/111-0000000-0000000/withhold-settlement",
        None,
    )
    .await;
    let (zero, error) = call(
        &env,
        Method::POST,
        &format!("/orders/{b}/misprice-settlement"),
        Some(json!({"deltaMinor": 0})),
    )
    .await;
    let (listed, anomalies) = call(&env, Method::GET, "/settlement-anomalies", None).await;

    assert_eq!(
        (withheld, mispriced, unknown, zero, listed),
        (204, 204, 404, 400, 200)
    );
    assert!(
        error["error"].as_str().unwrap().contains("non-zero"),
        "{error}"
    );
    let kinds: Vec<(String, String)> = anomalies
        .as_array()
        .unwrap()
        .iter()
        .map(|a: &Value| {
            (
                a["amazon_order_id"].as_str().unwrap().to_string(),
                a["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut expected = vec![
        (a.clone(), "MISSING_SETTLEMENT".to_string()),
        (b.clone(), "AMOUNT_MISMATCH".to_string()),
    ];
    expected.sort();
    assert_eq!(kinds, expected);
}
