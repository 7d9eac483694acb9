//! Finances 2024-06-19 listTransactions: the model's shapes, its parameter rules, paging with
//! nextTokens bound to their query, transactions that appear late and are released as
//! simulated days pass, exact amounts, the usage plan.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use spapi_sim::{SimConfig, SimTransaction};

use crate::common::*;

const TRANSACTIONS: &str = "/finances/2024-06-19/transactions";
const MODEL: &str = "finances_2024-06-19.json";

fn token_of(body: &Value) -> Option<String> {
    body["payload"]["nextToken"].as_str().map(str::to_string)
}

fn transactions_of(body: &Value) -> Vec<Value> {
    body["payload"]["transactions"].as_array().unwrap().clone()
}

/// Every page of a query, following nextToken with the same parameters.
async fn walk(env: &Env, params: &[(&str, &str)]) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut p = params.to_vec();
        if let Some(t) = &token {
            p.push(("nextToken", t));
        }
        let r = env.get(TRANSACTIONS, &p).await;
        assert_eq!(r.status, 200, "{}", r.body);
        token = token_of(&r.body);
        pages.push(r.body);
        if token.is_none() {
            return pages;
        }
        assert!(pages.len() < 500, "paging does not end");
    }
}

/// An amount of the model (a JSON number) or of the ground truth (a decimal string) in minor
/// units of a currency with `decimals` digits, exactly.
pub(crate) fn minor(text: &str, decimals: u32) -> i64 {
    let (sign, digits) = text.strip_prefix('-').map_or((1, text), |rest| (-1, rest));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(
        frac.len() <= decimals as usize || frac.trim_end_matches('0').len() <= decimals as usize,
        "{text} has more digits than the currency"
    );
    let frac: String = frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(decimals as usize)
        .collect();
    let scale = 10_i64.pow(decimals);
    sign * (whole.parse::<i64>().unwrap() * scale + frac.parse::<i64>().unwrap_or(0))
}

pub(crate) fn decimals(currency: &str) -> u32 {
    if currency == "JPY" { 0 } else { 2 }
}

pub(crate) fn amount(currency: &Value) -> i64 {
    let code = currency["currencyCode"].as_str().unwrap();
    let number = &currency["currencyAmount"];
    assert!(number.is_number(), "currencyAmount is a number: {currency}");
    minor(&number.to_string(), decimals(code))
}

/// The leaves of a breakdown tree with their path (`Sales/ProductCharges/Principal`).
pub(crate) fn collect_leaves(breakdowns: &Value, prefix: &str, out: &mut Vec<(String, i64)>) {
    for b in breakdowns.as_array().unwrap() {
        let path = format!("{prefix}{}", b["breakdownType"].as_str().unwrap());
        let children = &b["breakdowns"];
        if children.as_array().unwrap().is_empty() {
            out.push((path, amount(&b["breakdownAmount"])));
        } else {
            let mut sub = Vec::new();
            collect_leaves(children, &format!("{path}/"), &mut sub);
            let sum: i64 = sub.iter().map(|(_, m)| m).sum();
            assert_eq!(
                sum,
                amount(&b["breakdownAmount"]),
                "{path} is the sum of its children"
            );
            out.extend(sub);
        }
    }
}

pub(crate) fn leaves_of(tx: &Value) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    collect_leaves(&tx["breakdowns"], "", &mut out);
    out
}

fn order_id_of(tx: &Value) -> Option<String> {
    tx["relatedIdentifiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["relatedIdentifierName"] == "ORDER_ID")
        .map(|r| r["relatedIdentifierValue"].as_str().unwrap().to_string())
}

fn visible_by(truth: &[SimTransaction], t: DateTime<Utc>) -> Vec<&SimTransaction> {
    truth.iter().filter(|tx| tx.visible_at <= t).collect()
}

/// A simulator whose clock runs `scale` times faster, with tokens that outlive the test.
async fn fast(scale: f64) -> Env {
    start(SimConfig {
        orders: 50,
        time_scale: scale,
        token_lifetime_secs: 3650 * 86_400,
        ..config()
    })
    .await
}

/// Ships `n` new orders now; returns their ids.
fn ship_new_orders(env: &Env, n: usize) -> Vec<String> {
    let ids = env.sim.add_orders(n);
    for id in &ids {
        while env.sim.advance_order(id) {}
    }
    ids
}

async fn wait_until(env: &Env, t: DateTime<Utc>) {
    while env.sim.now() <= t {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn paging_walks_every_visible_transaction_once_and_matches_the_model_and_the_ground_truth() {
    let env = start(SimConfig {
        transactions_page_size: 25,
        ..config()
    })
    .await;
    let v = response_validator(MODEL, TRANSACTIONS, 200, true);
    let (after, before) = (env.ago(days(60)), env.ago(chrono::Duration::minutes(5)));
    let started = env.sim.now();
    let pages = walk(&env, &[("postedAfter", &after), ("postedBefore", &before)]).await;
    let truth = env.sim.transactions_ground_truth();
    let ended = env.sim.now();

    for page in &pages {
        assert_valid(&v, page, "listTransactions page");
    }
    let listed: Vec<Value> = pages.iter().flat_map(transactions_of).collect();
    let ids: Vec<&str> = listed
        .iter()
        .map(|t| t["transactionId"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no transaction is listed twice");
    assert!(pages.len() > 3, "several pages: {}", pages.len());
    assert!(
        pages[..pages.len() - 1]
            .iter()
            .any(|p| transactions_of(p).is_empty() && token_of(p).is_some()),
        "now and then a page is empty with a nextToken following"
    );

    let (after, before) = (parse(&after), parse(&before));
    let in_window = |tx: &&SimTransaction| tx.posted_date >= after && tx.posted_date < before;
    let surely: BTreeSet<&str> = visible_by(&truth, started)
        .into_iter()
        .filter(in_window)
        .map(|tx| tx.transaction_id.as_str())
        .collect();
    let possibly: BTreeSet<&str> = visible_by(&truth, ended)
        .into_iter()
        .filter(in_window)
        .map(|tx| tx.transaction_id.as_str())
        .collect();
    assert!(
        unique.is_superset(&surely),
        "every transaction visible at the start is listed"
    );
    assert!(
        unique.is_subset(&possibly),
        "nothing invisible or outside the window is listed"
    );
    assert!(
        truth.iter().any(|tx| tx.visible_at > ended),
        "some transactions are not visible yet"
    );

    let by_id: HashMap<&str, &SimTransaction> = truth
        .iter()
        .map(|tx| (tx.transaction_id.as_str(), tx))
        .collect();
    for tx in &listed {
        let truth = by_id[tx["transactionId"].as_str().unwrap()];
        assert_eq!(*tx, truth.raw, "the listing renders the ground truth");
    }
    let order: Vec<(DateTime<Utc>, &str)> =
        ids.iter().map(|id| (by_id[id].posted_date, *id)).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "listed by (postedDate, transactionId)");
    let kinds: BTreeSet<&str> = truth.iter().map(|t| t.transaction_type.as_str()).collect();
    assert!(
        ["Shipment", "ServiceFee", "Transfer"]
            .iter()
            .all(|k| kinds.contains(k)),
        "{kinds:?}"
    );
}

fn parse(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

#[tokio::test]
async fn the_ground_truth_is_sorted_and_served_by_the_control_api() {
    let env = start(config()).await;
    let truth = env.sim.transactions_ground_truth();
    let keys: Vec<_> = truth
        .iter()
        .map(|t| (t.posted_date, t.transaction_id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let served: Vec<SimTransaction> = env
        .http
        .get(format!("{}/_sim/transactions", env.sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = |rows: &[SimTransaction]| -> Vec<String> {
        rows.iter().map(|t| t.transaction_id.clone()).collect()
    };
    assert_eq!(ids(&served), ids(&truth));
}

#[tokio::test]
async fn posted_after_is_required_without_a_related_identifier() {
    let env = start(config()).await;
    let before = env.ago(days(1));
    let r = env.get(TRANSACTIONS, &[("postedBefore", &before)]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "InvalidInput");
    assert!(
        r.error_message().contains("postedAfter is required"),
        "{}",
        r.body
    );
    assert_valid(
        &response_validator(MODEL, TRANSACTIONS, 400, true),
        &r.body,
        "400",
    );

    let order = env
        .sim
        .ground_truth()
        .into_iter()
        .find(|o| o.order_status == spapi_sim::OrderStatus::Shipped)
        .unwrap();
    let r = env
        .get(
            TRANSACTIONS,
            &[
                ("relatedIdentifierName", "ORDER_ID"),
                ("relatedIdentifierValue", &order.amazon_order_id),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_bound_less_than_two_minutes_before_now_is_a_400() {
    let env = start(config()).await;
    let recent = env.ago(chrono::Duration::seconds(60));
    let old = env.ago(days(2));
    for params in [
        vec![("postedAfter", recent.as_str())],
        vec![
            ("postedAfter", old.as_str()),
            ("postedBefore", recent.as_str()),
        ],
    ] {
        let r = env.get(TRANSACTIONS, &params).await;
        assert_eq!(r.status, 400, "{params:?}");
        assert!(
            r.error_message().contains("more than two minutes before"),
            "{}",
            r.body
        );
    }
    let r = env
        .get(
            TRANSACTIONS,
            &[("postedAfter", &old), ("postedBefore", &old)],
        )
        .await;
    assert_eq!(r.status, 400, "postedBefore must be later than postedAfter");
}

#[tokio::test]
async fn a_window_longer_than_180_days_answers_an_empty_list() {
    let env = start(SimConfig {
        days: 200,
        ..config()
    })
    .await;
    let before = env.sim.now() - days(1);
    let too_wide = env
        .get(
            TRANSACTIONS,
            &[
                ("postedAfter", &iso(before - days(181))),
                ("postedBefore", &iso(before)),
            ],
        )
        .await;
    assert_eq!(too_wide.status, 200, "{}", too_wide.body);
    assert!(transactions_of(&too_wide.body).is_empty());
    assert!(token_of(&too_wide.body).is_none());

    let (after, before) = (iso(before - days(180)), iso(before));
    let widest = walk(&env, &[("postedAfter", &after), ("postedBefore", &before)]).await;
    assert!(
        widest.iter().any(|page| !transactions_of(page).is_empty()),
        "180 days still answer"
    );
}

#[tokio::test]
async fn a_next_token_sent_with_other_parameters_is_a_400() {
    let env = start(SimConfig {
        transactions_page_size: 10,
        ..config()
    })
    .await;
    let after = env.ago(days(30));
    let first = walk_first_token(&env, &after).await;
    let r = env
        .get(
            TRANSACTIONS,
            &[
                ("postedAfter", &after),
                ("marketplaceId", US),
                ("nextToken", &first),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("marketplaceId"), "{}", r.body);
    let r = env
        .get(
            TRANSACTIONS,
            &[("postedAfter", &after), ("nextToken", &first)],
        )
        .await;
    assert_eq!(r.status, 200, "the same parameters are fine: {}", r.body);
}

async fn walk_first_token(env: &Env, after: &str) -> String {
    let r = env.get(TRANSACTIONS, &[("postedAfter", after)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    token_of(&r.body).unwrap()
}

#[tokio::test]
async fn the_order_id_filter_returns_that_orders_transactions_only() {
    let env = start(config()).await;
    let truth = env.sim.transactions_ground_truth();
    let now = env.sim.now();
    let tx = truth
        .iter()
        .find(|t| t.transaction_type == "Shipment" && t.visible_at <= now)
        .unwrap();
    let order = tx.amazon_order_id.clone().unwrap();
    let pages = walk(
        &env,
        &[
            ("relatedIdentifierName", "ORDER_ID"),
            ("relatedIdentifierValue", &order),
        ],
    )
    .await;
    let listed: Vec<Value> = pages.iter().flat_map(transactions_of).collect();
    assert!(!listed.is_empty());
    for t in &listed {
        assert_eq!(order_id_of(t).as_deref(), Some(order.as_str()));
    }
    let expected = truth
        .iter()
        .filter(|t| t.amazon_order_id.as_deref() == Some(&order) && t.visible_at <= now)
        .count();
    assert_eq!(listed.len(), expected);
}

#[tokio::test]
async fn a_transaction_is_listed_only_from_its_visible_at() {
    // 36000x: the 48 simulated hours of lag pass in under five real seconds.
    let env = fast(36_000.0).await;
    let ids = ship_new_orders(&env, 5);
    let truth = env.sim.transactions_ground_truth();
    let latest = truth
        .iter()
        .filter(|t| t.amazon_order_id.as_ref().is_some_and(|o| ids.contains(o)))
        .max_by_key(|t| t.visible_at)
        .unwrap()
        .clone();
    let order = latest.amazon_order_id.clone().unwrap();
    let by_order = [
        ("relatedIdentifierName", "ORDER_ID"),
        ("relatedIdentifierValue", order.as_str()),
    ];
    assert!(
        latest.visible_at > env.sim.now(),
        "its visibility lies ahead"
    );
    let r = env.get(TRANSACTIONS, &by_order).await;
    assert!(
        transactions_of(&r.body)
            .iter()
            .all(|t| t["transactionId"] != latest.transaction_id.as_str()),
        "not listed before visible_at"
    );

    wait_until(&env, latest.visible_at).await;
    let r = env.get(TRANSACTIONS, &by_order).await;
    assert!(
        transactions_of(&r.body)
            .iter()
            .any(|t| t["transactionId"] == latest.transaction_id.as_str()),
        "listed after visible_at: {}",
        r.body
    );
}

#[tokio::test]
async fn a_shipments_leaves_sum_to_its_total_and_its_principal_is_the_orders_item_prices() {
    let env = start(config()).await;
    let truth = env.sim.transactions_ground_truth();
    let mut principal: HashMap<String, i64> = HashMap::new();
    for tx in &truth {
        let total = minor(&tx.total, decimals(&tx.currency));
        if tx.currency == "JPY" {
            assert!(
                tx.raw["totalAmount"]["currencyAmount"].is_i64(),
                "yen are whole: {}",
                tx.raw
            );
        }
        assert_eq!(amount(&tx.raw["totalAmount"]), total, "{}", tx.raw);
        let leaves = leaves_of(&tx.raw);
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
                amount(&item["totalAmount"])
            );
        }
        if tx.transaction_type == "Shipment" {
            let p: i64 = leaves
                .iter()
                .filter(|(path, _)| path == "Sales/ProductCharges/Principal")
                .map(|(_, m)| m)
                .sum();
            let fee: i64 = leaves
                .iter()
                .filter(|(path, _)| path == "Expenses/AmazonFees/Commission")
                .map(|(_, m)| m)
                .sum();
            assert!(p > 0 && fee < 0, "{}", tx.raw);
            *principal
                .entry(tx.amazon_order_id.clone().unwrap())
                .or_default() += p;
        }
    }
    let shipped: Vec<_> = env
        .sim
        .ground_truth()
        .into_iter()
        .filter(|o| o.order_status == spapi_sim::OrderStatus::Shipped)
        .collect();
    assert!(shipped.len() > 50);
    for o in shipped {
        let prices: i64 = o
            .items
            .iter()
            .map(|i| {
                let m = i.item_price.as_ref().unwrap();
                minor(&m.amount, decimals(&m.currency_code))
            })
            .sum();
        assert_eq!(
            principal.get(&o.amazon_order_id),
            Some(&prices),
            "{}",
            o.amazon_order_id
        );
    }
}

#[tokio::test]
async fn an_order_canceled_after_shipping_gets_a_refund_of_its_principal() {
    let env = start(config()).await;
    let id = ship_new_orders(&env, 1).remove(0);
    env.sim.update_order_status(&id, "Canceled").unwrap();
    let of_order: Vec<SimTransaction> = env
        .sim
        .transactions_ground_truth()
        .into_iter()
        .filter(|t| t.amazon_order_id.as_deref() == Some(&id))
        .collect();
    let principal = |kind: &str| -> i64 {
        of_order
            .iter()
            .filter(|t| t.transaction_type == kind)
            .flat_map(|t| leaves_of(&t.raw))
            .filter(|(p, _)| p == "Sales/ProductCharges/Principal")
            .map(|(_, m)| m)
            .sum()
    };
    assert!(principal("Shipment") > 0);
    assert_eq!(principal("Refund"), -principal("Shipment"));
    let refund = of_order
        .iter()
        .find(|t| t.transaction_type == "Refund")
        .unwrap();
    assert_eq!(refund.status, "RELEASED");
}

#[tokio::test]
async fn a_shipment_is_deferred_then_released_as_simulated_days_pass() {
    // 500000x: two simulated weeks pass in under three real seconds.
    let env = fast(500_000.0).await;
    let id = ship_new_orders(&env, 1).remove(0);
    // A multi-unit order ships in two steps: two shipments.
    let shipments = || -> Vec<SimTransaction> {
        env.sim
            .transactions_ground_truth()
            .into_iter()
            .filter(|t| {
                t.amazon_order_id.as_deref() == Some(&id) && t.transaction_type == "Shipment"
            })
            .collect()
    };
    let first = shipments();
    assert!(!first.is_empty());
    for tx in &first {
        assert_eq!(tx.status, "DEFERRED");
        assert_eq!(tx.raw["transactionStatus"], "DEFERRED");
    }

    wait_until(&env, first[0].posted_date + days(15)).await;
    let later = shipments();
    assert!(
        later.iter().all(|t| t.status == "DEFERRED_RELEASED"),
        "{later:?}"
    );
    let by_status = |status: &'static str| {
        [
            ("relatedIdentifierName", "ORDER_ID"),
            ("relatedIdentifierValue", id.as_str()),
            ("transactionStatus", status),
        ]
    };
    let released = env.get(TRANSACTIONS, &by_status("DEFERRED_RELEASED")).await;
    let listed = transactions_of(&released.body);
    assert_eq!(listed.len(), later.len(), "{}", released.body);
    assert!(
        listed
            .iter()
            .all(|t| t["transactionStatus"] == "DEFERRED_RELEASED")
    );
    let deferred = env.get(TRANSACTIONS, &by_status("DEFERRED")).await;
    assert!(
        transactions_of(&deferred.body).is_empty(),
        "{}",
        deferred.body
    );
}

#[tokio::test]
async fn the_usage_plan_of_half_a_request_per_second_answers_429_after_a_burst_of_10() {
    let mut cfg = config();
    cfg.rate_overrides.remove("listTransactions");
    let env = start(cfg).await;
    let after = env.ago(days(3));
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(
            env.get(TRANSACTIONS, &[("postedAfter", &after)])
                .await
                .status,
        );
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10], 429);
    let stats = env.sim.stats();
    let op = &stats.operations["listTransactions"];
    assert_eq!((op.rate, op.burst), (0.5, 10));
    assert_eq!(op.throttled, 1);
}

#[tokio::test]
async fn a_seller_without_finances_lists_no_transactions() {
    let env = start(SimConfig {
        finances: false,
        ..config()
    })
    .await;
    assert!(env.sim.transactions_ground_truth().is_empty());
    let r = env
        .get(TRANSACTIONS, &[("postedAfter", &env.ago(days(30)))])
        .await;
    assert_eq!(r.status, 200);
    assert!(transactions_of(&r.body).is_empty());
}

#[tokio::test]
async fn transfers_pay_out_every_14_days_per_marketplace() {
    let env = start(SimConfig {
        days: 90,
        ..config()
    })
    .await;
    let truth = env.sim.transactions_ground_truth();
    for mp in [US, UK, JP] {
        let transfers: Vec<&SimTransaction> = truth
            .iter()
            .filter(|t| t.transaction_type == "Transfer" && t.marketplace_id.as_deref() == Some(mp))
            .collect();
        assert!(transfers.len() >= 3, "{mp}: {} transfers", transfers.len());
        for pair in transfers.windows(2) {
            let gap = pair[1].posted_date - pair[0].posted_date;
            assert_eq!(gap.num_seconds() % (14 * 86_400), 0, "{mp}: {gap}");
        }
        for t in transfers {
            assert!(
                t.total.starts_with('-'),
                "money leaves the account: {}",
                t.total
            );
            assert_eq!(t.status, "RELEASED");
        }
    }
}

fn group_of(tx: &Value) -> String {
    tx["relatedIdentifiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["relatedIdentifierName"] == "FINANCIAL_EVENT_GROUP_ID")
        .map(|r| r["relatedIdentifierValue"].as_str().unwrap().to_string())
        .unwrap()
}

#[tokio::test]
async fn the_financial_event_group_filter_returns_that_groups_transactions_only() {
    let env = start(config()).await;
    let now = env.sim.now();
    let truth = env.sim.transactions_ground_truth();
    let group = group_of(&truth.iter().find(|t| t.visible_at <= now).unwrap().raw);
    let pages = walk(
        &env,
        &[
            ("relatedIdentifierName", "FINANCIAL_EVENT_GROUP_ID"),
            ("relatedIdentifierValue", &group),
        ],
    )
    .await;
    let listed: Vec<Value> = pages.iter().flat_map(transactions_of).collect();
    assert!(!listed.is_empty());
    assert!(listed.iter().all(|t| group_of(t) == group));
}

#[tokio::test]
async fn an_unknown_status_or_identifier_name_is_a_400_naming_it() {
    let env = start(config()).await;
    let after = env.ago(days(3));
    let r = env
        .get(
            TRANSACTIONS,
            &[("postedAfter", &after), ("transactionStatus", "PENDING")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.error_message().contains("transactionStatus"),
        "{}",
        r.body
    );
    let r = env
        .get(
            TRANSACTIONS,
            &[
                ("relatedIdentifierName", "SHIPMENT_ID"),
                ("relatedIdentifierValue", "S1"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.error_message()
            .contains("only ORDER_ID and FINANCIAL_EVENT_GROUP_ID"),
        "{}",
        r.body
    );
}
