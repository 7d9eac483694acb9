//! FBA Inventory getInventorySummaries: the model's shapes, its parameter rules, pages of 50
//! with short-lived nextTokens bound to their query, startDateTime, the usage plan, and stock
//! that follows the AFN orders.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration as StdDuration;

use serde_json::{Value, json};
use spapi_sim::{NO_FBA_INVENTORY_MESSAGE, SimConfig, SimError, SimInventory, SimOrder};

use crate::common::*;

const SUMMARIES: &str = "/fba/inventory/v1/summaries";
const MODEL: &str = "fbaInventory.json";

/// The three required parameters for one marketplace, plus `extra`.
fn params<'a>(mp: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("granularityType", "Marketplace"),
        ("granularityId", mp),
        ("marketplaceIds", mp),
    ];
    p.extend_from_slice(extra);
    p
}

fn token_of(body: &Value) -> Option<String> {
    body["pagination"]["nextToken"].as_str().map(str::to_string)
}

fn skus_of(body: &Value) -> Vec<String> {
    body["payload"]["inventorySummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sellerSku"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of a query, following nextToken with the same parameters.
async fn walk(env: &Env, mp: &str, extra: &[(&str, &str)]) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut p = params(mp, extra);
        if let Some(t) = &token {
            p.push(("nextToken", t));
        }
        let r = env.get(SUMMARIES, &p).await;
        assert_eq!(r.status, 200, "{}", r.body);
        token = token_of(&r.body);
        pages.push(r.body);
        if token.is_none() {
            return pages;
        }
        assert!(pages.len() < 20, "paging does not end");
    }
}

fn truth_in(env: &Env, mp: &str) -> Vec<SimInventory> {
    env.sim
        .inventory_ground_truth()
        .into_iter()
        .filter(|s| s.marketplace_id == mp)
        .collect()
}

fn by_sku(rows: Vec<SimInventory>) -> BTreeMap<String, SimInventory> {
    rows.into_iter()
        .map(|s| (s.seller_sku.clone(), s))
        .collect()
}

fn find(rows: &[SimInventory], mp: &str, sku: &str) -> SimInventory {
    rows.iter()
        .find(|s| s.marketplace_id == mp && s.seller_sku == sku)
        .cloned()
        .unwrap_or_else(|| panic!("no inventory of {sku} in {mp}"))
}

#[tokio::test]
async fn summaries_match_the_model_with_and_without_details() {
    let env = start(config()).await;
    let v = response_validator(MODEL, SUMMARIES, 200, true);
    for mp in [US, UK, JP] {
        for details in ["true", "false"] {
            let pages = walk(&env, mp, &[("details", details)]).await;
            for page in &pages {
                assert_valid(
                    &v,
                    page,
                    &format!("getInventorySummaries {mp} details={details}"),
                );
                assert_eq!(
                    page["payload"]["granularity"],
                    json!({"granularityType": "Marketplace", "granularityId": mp})
                );
                for s in page["payload"]["inventorySummaries"].as_array().unwrap() {
                    assert_eq!(s["inventoryDetails"].is_object(), details == "true", "{s}");
                    assert_eq!(s["condition"], "NewItem");
                    assert!(s["fnSku"].as_str().unwrap().starts_with("X00"));
                }
            }
        }
    }
    // Without `details` at all: no details either.
    let r = env.get(SUMMARIES, &params(US, &[])).await;
    assert!(
        r.body["payload"]["inventorySummaries"][0]
            .get("inventoryDetails")
            .is_none()
    );
}

#[tokio::test]
async fn a_missing_or_wrong_required_parameter_is_a_400_invalid_input_naming_it() {
    let env = start(config()).await;
    let v = response_validator(MODEL, SUMMARIES, 400, true);
    let two = format!("{US},{UK}");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("granularityId", US), ("marketplaceIds", US)],
            "granularityType",
        ),
        (
            vec![("granularityType", "Marketplace"), ("marketplaceIds", US)],
            "granularityId",
        ),
        (
            vec![("granularityType", "Marketplace"), ("granularityId", US)],
            "marketplaceIds",
        ),
        (
            vec![
                ("granularityType", "Country"),
                ("granularityId", US),
                ("marketplaceIds", US),
            ],
            "granularityType",
        ),
        (
            vec![
                ("granularityType", "Marketplace"),
                ("granularityId", US),
                ("marketplaceIds", &two),
            ],
            "marketplaceIds",
        ),
        (
            vec![
                ("granularityType", "Marketplace"),
                ("granularityId", US),
                ("marketplaceIds", UK),
            ],
            "marketplaceIds",
        ),
        (params("A2EUQ1WTGCTBG2", &[]), "granularityId"),
        (params("NOTAMARKETPLACE", &[]), "granularityId"),
        (params(US, &[("details", "1")]), "details"),
        (
            params(US, &[("startDateTime", "yesterday")]),
            "startDateTime",
        ),
    ];
    for (p, named) in cases {
        let r = env.get(SUMMARIES, &p).await;
        assert_eq!(r.status, 400, "{p:?}: {}", r.body);
        assert_eq!(r.error_code(), "InvalidInput");
        assert!(
            r.error_message().contains(named),
            "{p:?}: {:?} does not name {named}",
            r.error_message()
        );
        assert_valid(&v, &r.body, "getInventorySummaries 400");
        assert!(
            r.header("x-amzn-ratelimit-limit").is_some(),
            "the model lists it on 400"
        );
    }
    assert_eq!(
        env.sim.stats().operations["getInventorySummaries"].client_errors,
        10
    );
}

#[tokio::test]
async fn more_than_50_seller_skus_is_a_400_and_50_are_answered() {
    let env = start(config()).await;
    let truth = truth_in(&env, US);
    let mut skus: Vec<String> = truth.iter().map(|s| s.seller_sku.clone()).take(3).collect();
    skus.extend((0..47).map(|n| format!("NO-SUCH-SKU-{n}")));
    let fifty = skus.join(",");
    let r = env
        .get(SUMMARIES, &params(US, &[("sellerSkus", &fifty)]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(skus_of(&r.body), skus[..3].to_vec());

    skus.push("ONE-TOO-MANY".into());
    let fifty_one = skus.join(",");
    let r = env
        .get(SUMMARIES, &params(US, &[("sellerSkus", &fifty_one)]))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "InvalidInput");
    assert!(
        r.error_message().contains("at most 50"),
        "{}",
        r.error_message()
    );
}

#[tokio::test]
async fn seller_skus_wins_over_seller_sku_which_selects_one_summary() {
    let env = start(config()).await;
    let truth = truth_in(&env, US);
    let (a, b) = (&truth[0].seller_sku, &truth[1].seller_sku);
    let r = env.get(SUMMARIES, &params(US, &[("sellerSku", a)])).await;
    assert_eq!(skus_of(&r.body), vec![a.to_string()]);
    let r = env
        .get(
            SUMMARIES,
            &params(US, &[("sellerSku", a), ("sellerSkus", b)]),
        )
        .await;
    assert_eq!(skus_of(&r.body), vec![b.to_string()]);
}

#[tokio::test]
async fn pages_of_50_walk_every_sku_exactly_once_and_equal_the_ground_truth() {
    let env = start(SimConfig {
        orders: 1000,
        ..config()
    })
    .await;
    let pages = walk(&env, US, &[("details", "true")]).await;
    assert!(pages.len() >= 2, "{} page(s)", pages.len());
    let mut seen = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        let summaries = page["payload"]["inventorySummaries"].as_array().unwrap();
        if n + 1 < pages.len() {
            assert_eq!(summaries.len(), 50);
        }
        seen.extend(summaries.iter().cloned());
    }
    let skus: Vec<String> = seen
        .iter()
        .map(|s| s["sellerSku"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<&String> = skus.iter().collect();
    assert_eq!(unique.len(), skus.len(), "a SKU was returned twice");

    let truth = by_sku(truth_in(&env, US));
    assert_eq!(
        unique.into_iter().cloned().collect::<Vec<_>>(),
        truth.keys().cloned().collect::<Vec<_>>()
    );
    for s in &seen {
        let t = &truth[s["sellerSku"].as_str().unwrap()];
        let d = &s["inventoryDetails"];
        let got = SimInventory {
            marketplace_id: US.into(),
            seller_sku: t.seller_sku.clone(),
            asin: s["asin"].as_str().unwrap().into(),
            fn_sku: s["fnSku"].as_str().unwrap().into(),
            condition: s["condition"].as_str().unwrap().into(),
            product_name: s["productName"].as_str().unwrap().into(),
            fulfillable: d["fulfillableQuantity"].as_i64().unwrap(),
            inbound_working: d["inboundWorkingQuantity"].as_i64().unwrap(),
            inbound_shipped: d["inboundShippedQuantity"].as_i64().unwrap(),
            inbound_receiving: d["inboundReceivingQuantity"].as_i64().unwrap(),
            reserved: d["reservedQuantity"]["totalReservedQuantity"]
                .as_i64()
                .unwrap(),
            unfulfillable: d["unfulfillableQuantity"]["totalUnfulfillableQuantity"]
                .as_i64()
                .unwrap(),
            researching: d["researchingQuantity"]["totalResearchingQuantity"]
                .as_i64()
                .unwrap(),
            total: s["totalQuantity"].as_i64().unwrap(),
            last_updated: t.last_updated,
        };
        assert_eq!(&got, t);
        assert_eq!(s["lastUpdatedTime"], iso(t.last_updated));
        assert_eq!(
            t.total,
            t.fulfillable
                + t.inbound_working
                + t.inbound_shipped
                + t.inbound_receiving
                + t.reserved
                + t.unfulfillable
                + t.researching
        );
    }
}

#[tokio::test]
async fn a_next_token_expires_30_simulated_seconds_after_it_was_issued() {
    // 60x: thirty simulated seconds pass in half a real second.
    let env = start(SimConfig {
        orders: 1000,
        time_scale: 60.0,
        ..config()
    })
    .await;
    let first = env.get(SUMMARIES, &params(US, &[])).await;
    let token = token_of(&first.body).unwrap();
    let fresh = env
        .get(SUMMARIES, &params(US, &[("nextToken", &token)]))
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);

    tokio::time::sleep(StdDuration::from_millis(700)).await;
    let r = env
        .get(SUMMARIES, &params(US, &[("nextToken", &token)]))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "InvalidInput");
    assert_eq!(
        r.error_message(),
        "The nextToken has expired; start a new request without nextToken."
    );
    assert_valid(
        &response_validator(MODEL, SUMMARIES, 400, true),
        &r.body,
        "400",
    );
}

#[tokio::test]
async fn a_next_token_is_refused_with_another_start_date_time_or_other_parameters() {
    let env = start(SimConfig {
        orders: 1000,
        ..config()
    })
    .await;
    let since = env.ago(days(400));
    let first = env
        .get(SUMMARIES, &params(US, &[("startDateTime", &since)]))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let token = token_of(&first.body).expect("more than 50 summaries changed in 400 days");
    let other = env.ago(days(300));
    let refused: Vec<Vec<(&str, &str)>> = vec![
        params(US, &[("nextToken", &token)]),
        params(US, &[("startDateTime", &other), ("nextToken", &token)]),
        params(
            US,
            &[
                ("startDateTime", &since),
                ("details", "true"),
                ("nextToken", &token),
            ],
        ),
    ];
    for p in refused {
        let r = env.get(SUMMARIES, &p).await;
        assert_eq!(r.status, 400, "{p:?}");
        assert_eq!(r.error_code(), "InvalidInput");
        assert!(
            r.error_message().starts_with("Invalid nextToken"),
            "{}",
            r.error_message()
        );
    }
    let r = env
        .get(
            SUMMARIES,
            &params(US, &[("startDateTime", &since), ("nextToken", &token)]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut skus = skus_of(&first.body);
    skus.extend(skus_of(&r.body));
    assert!(skus.windows(2).all(|w| w[0] < w[1]), "not in SKU order");
}

#[tokio::test]
async fn a_start_date_time_more_than_18_months_back_is_a_400() {
    let env = start(config()).await;
    let too_old = env.ago(days(560));
    let r = env
        .get(SUMMARIES, &params(US, &[("startDateTime", &too_old)]))
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.error_message().contains("18 months"),
        "{}",
        r.error_message()
    );
    let fine = env.ago(days(500));
    let r = env
        .get(SUMMARIES, &params(US, &[("startDateTime", &fine)]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn start_date_time_returns_only_the_summaries_changed_since_and_ignores_the_sku_filters() {
    let env = start(SimConfig {
        time_scale: 60.0,
        ..config()
    })
    .await;
    // Six simulated seconds: the generated history is now strictly in the past.
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    let since = env.sim.now();
    let truth = truth_in(&env, US);
    let stocked: Vec<&SimInventory> = truth.iter().filter(|s| s.fulfillable >= 5).collect();
    let (a, b, untouched) = (&stocked[0], &stocked[1], &stocked[2]);
    env.sim.receive_inbound(US, &a.seller_sku, 24).unwrap();
    env.sim.damage_units(US, &b.seller_sku, 2).unwrap();

    let r = env
        .get(
            SUMMARIES,
            &params(
                US,
                &[
                    ("startDateTime", &iso(since)),
                    ("sellerSku", &untouched.seller_sku),
                    ("sellerSkus", &untouched.seller_sku),
                ],
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let expected: Vec<String> = truth_in(&env, US)
        .into_iter()
        .filter(|s| iso(s.last_updated) >= iso(since))
        .map(|s| s.seller_sku)
        .collect();
    let mut changed = vec![a.seller_sku.clone(), b.seller_sku.clone()];
    changed.sort();
    assert_eq!(expected, changed);
    assert_eq!(skus_of(&r.body), changed);

    let after = truth_in(&env, US);
    let a_now = find(&after, US, &a.seller_sku);
    assert_eq!(a_now.fulfillable, a.fulfillable + 24);
    assert_eq!(a_now.total, a.total + 24);
    let b_now = find(&after, US, &b.seller_sku);
    assert_eq!(b_now.fulfillable, b.fulfillable - 2);
    assert_eq!(b_now.unfulfillable, b.unfulfillable + 2);
    assert_eq!(b_now.total, b.total);
}

#[tokio::test]
async fn inbound_shipments_become_fulfillable_and_only_their_arrival_touches_last_updated() {
    // Stages of about 1000 simulated seconds at 1000x: shipments move within a second or two
    // of real time. One that starts in working or shipped cannot arrive before 750 simulated
    // seconds (a quarter stage, then half a stage at least).
    let env = start(SimConfig {
        time_scale: 1000.0,
        inbound_stage_secs: 1000,
        ..config()
    })
    .await;
    let before = env.sim.inventory_ground_truth();
    let inbound = |s: &SimInventory| s.inbound_working + s.inbound_shipped + s.inbound_receiving;
    let stages = |s: &SimInventory| (s.inbound_working, s.inbound_shipped, s.inbound_receiving);
    assert!(before.iter().any(|s| inbound(s) > 0));

    tokio::time::sleep(StdDuration::from_millis(600)).await;
    let moving = env.sim.inventory_ground_truth();
    let mut moved_quietly = 0;
    for (b, m) in before.iter().zip(&moving) {
        assert_eq!(b.total, m.total, "{}", b.seller_sku);
        if m.fulfillable != b.fulfillable {
            // Arrived: its units are fulfillable and the summary says so.
            assert_eq!(m.fulfillable, b.fulfillable + inbound(b) - inbound(m));
            assert!(m.last_updated > b.last_updated, "{}", b.seller_sku);
        } else if stages(m) != stages(b) {
            // Moved between inbound stages only: startDateTime must not see it.
            assert_eq!(m.last_updated, b.last_updated, "{}", b.seller_sku);
            moved_quietly += 1;
        } else {
            assert_eq!(m, b);
        }
    }
    assert!(
        moved_quietly > 0,
        "no shipment moved to its next inbound stage"
    );

    tokio::time::sleep(StdDuration::from_millis(4000)).await;
    let arrived = env.sim.inventory_ground_truth();
    assert_eq!(arrived.len(), before.len());
    for (b, a) in before.iter().zip(&arrived) {
        assert_eq!(inbound(a), 0, "{}: {a:?}", b.seller_sku);
        assert_eq!(a.fulfillable, b.fulfillable + inbound(b));
        assert_eq!(a.total, b.total);
        if inbound(b) > 0 {
            assert!(a.last_updated > b.last_updated, "{}", b.seller_sku);
        } else {
            assert_eq!(a.last_updated, b.last_updated);
        }
    }
}

/// Adds orders one at a time until an AFN one whose SKUs all have plenty of fulfillable stock
/// comes; MFN orders on the way must leave the inventory alone.
fn add_afn_order(env: &Env) -> (SimOrder, Vec<SimInventory>) {
    for _ in 0..200 {
        let before = env.sim.inventory_ground_truth();
        let id = env.sim.add_orders(1).remove(0);
        let order = env
            .sim
            .ground_truth()
            .into_iter()
            .find(|o| o.amazon_order_id == id)
            .unwrap();
        if order.fulfillment_channel == "MFN" {
            assert_eq!(
                env.sim.inventory_ground_truth(),
                before,
                "an MFN order moved stock"
            );
            continue;
        }
        let plenty = order.items.iter().all(|i| {
            before.iter().any(|s| {
                s.marketplace_id == order.marketplace_id
                    && s.seller_sku == i.seller_sku
                    && s.fulfillable >= i64::from(i.quantity_ordered) + 20
            })
        });
        if plenty {
            return (order, before);
        }
    }
    panic!("no AFN order with stock in 200 tries");
}

#[tokio::test]
async fn an_afn_order_reserves_its_units_and_shipping_takes_them_out_of_the_network() {
    let env = start(config()).await;
    let (order, before) = add_afn_order(&env);
    let mp = order.marketplace_id.as_str();
    let placed = env.sim.inventory_ground_truth();
    for i in &order.items {
        let (b, p) = (
            find(&before, mp, &i.seller_sku),
            find(&placed, mp, &i.seller_sku),
        );
        let q = i64::from(i.quantity_ordered);
        assert_eq!(p.fulfillable, b.fulfillable - q);
        assert_eq!(p.reserved, b.reserved + q);
        assert_eq!(p.total, b.total);
        assert!(p.last_updated >= b.last_updated);
    }
    // Pending -> Unshipped changes no quantity.
    assert!(env.sim.advance_order(&order.amazon_order_id));
    let unshipped = env.sim.inventory_ground_truth();
    for i in &order.items {
        let (p, u) = (
            find(&placed, mp, &i.seller_sku),
            find(&unshipped, mp, &i.seller_sku),
        );
        assert_eq!((p.fulfillable, p.reserved), (u.fulfillable, u.reserved));
    }
    while env.sim.advance_order(&order.amazon_order_id) {}
    let shipped = env.sim.inventory_ground_truth();
    for i in &order.items {
        let (b, s) = (
            find(&before, mp, &i.seller_sku),
            find(&shipped, mp, &i.seller_sku),
        );
        let q = i64::from(i.quantity_ordered);
        assert_eq!(s.fulfillable, b.fulfillable - q, "{}", i.seller_sku);
        assert_eq!(s.reserved, b.reserved);
        assert_eq!(s.total, b.total - q);
    }
}

#[tokio::test]
async fn a_canceled_afn_order_gives_its_reserved_units_back() {
    let env = start(config()).await;
    let (order, before) = add_afn_order(&env);
    env.sim
        .update_order_status(&order.amazon_order_id, "Canceled")
        .unwrap();
    let after = env.sim.inventory_ground_truth();
    for i in &order.items {
        let (b, a) = (
            find(&before, &order.marketplace_id, &i.seller_sku),
            find(&after, &order.marketplace_id, &i.seller_sku),
        );
        assert_eq!(
            (a.fulfillable, a.reserved, a.total),
            (b.fulfillable, b.reserved, b.total)
        );
    }
}

#[tokio::test]
async fn the_usage_plan_of_2_per_second_burst_2_answers_429_when_exceeded() {
    let env = start(SimConfig {
        rate_overrides: Default::default(),
        ..config()
    })
    .await;
    let p = params(US, &[]);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = env.get(SUMMARIES, &p).await;
        if r.status == 200 {
            assert_eq!(r.header("x-amzn-ratelimit-limit"), Some("2"));
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses[..2], [200, 200], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    let stats = env.sim.stats().operations["getInventorySummaries"].clone();
    assert_eq!((stats.rate, stats.burst), (2.0, 2));
    assert_eq!(stats.calls, 4);
    assert_eq!(stats.ok + stats.throttled, 4);
    let r = env.get(SUMMARIES, &p).await;
    if r.status == 429 {
        assert_eq!(r.error_code(), "QuotaExceeded");
        assert_valid(
            &response_validator(MODEL, SUMMARIES, 429, true),
            &r.body,
            "429",
        );
    }
}

#[tokio::test]
async fn a_seller_without_fba_gets_amazons_invalid_input_and_keeps_its_orders() {
    let with = start(config()).await;
    let env = start(SimConfig {
        fba_inventory: false,
        ..config()
    })
    .await;
    let r = env
        .get(SUMMARIES, &params(US, &[("details", "true")]))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"errors": [{"code": "InvalidInput", "message": NO_FBA_INVENTORY_MESSAGE, "details": ""}]})
    );
    assert_valid(
        &response_validator(MODEL, SUMMARIES, 400, true),
        &r.body,
        "400",
    );
    assert!(env.sim.inventory_ground_truth().is_empty());
    let sku = with.sim.inventory_ground_truth()[0].seller_sku.clone();
    assert!(matches!(
        env.sim.receive_inbound(US, &sku, 5),
        Err(SimError::UnknownInventory { .. })
    ));
    let ids = |sim: &spapi_sim::SimHandle| -> Vec<(String, String)> {
        sim.ground_truth()
            .into_iter()
            .map(|o| (o.amazon_order_id, o.order_status.to_string()))
            .collect()
    };
    assert_eq!(ids(&env.sim), ids(&with.sim));
}

#[tokio::test]
async fn the_inventory_is_the_same_for_the_same_seed() {
    let strip = |rows: Vec<SimInventory>| -> Vec<SimInventory> {
        rows.into_iter()
            .map(|s| SimInventory {
                last_updated: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
                ..s
            })
            .collect()
    };
    let a = start(config()).await;
    let b = start(config()).await;
    let rows = strip(a.sim.inventory_ground_truth());
    assert!(rows.len() > 50, "{} summaries", rows.len());
    assert_eq!(rows, strip(b.sim.inventory_ground_truth()));
}

#[tokio::test]
async fn receive_and_damage_refuse_unknown_skus_and_impossible_units() {
    let env = start(config()).await;
    let s = truth_in(&env, US)[0].clone();
    assert!(matches!(
        env.sim.receive_inbound(US, "NO-SUCH-SKU", 1),
        Err(SimError::UnknownInventory { .. })
    ));
    assert!(matches!(
        env.sim.receive_inbound(US, &s.seller_sku, 0),
        Err(SimError::InvalidUnits(_))
    ));
    assert!(matches!(
        env.sim.damage_units(US, &s.seller_sku, s.fulfillable + 1),
        Err(SimError::InvalidUnits(_))
    ));
    assert_eq!(truth_in(&env, US)[0], s, "a refused change changed nothing");
}

#[tokio::test]
async fn the_control_api_serves_and_changes_the_inventory() {
    let env = start(config()).await;
    let url = |p: &str| format!("{}/_sim{p}", env.sim.base_url());
    let listed: Vec<SimInventory> = env
        .http
        .get(url("/inventory"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, env.sim.inventory_ground_truth());
    let s = &listed[0];
    let r = env
        .http
        .post(url("/inventory/receive"))
        .json(&json!({"marketplaceId": s.marketplace_id, "sellerSku": s.seller_sku, "units": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let now = find(
        &env.sim.inventory_ground_truth(),
        &s.marketplace_id,
        &s.seller_sku,
    );
    assert_eq!(now.fulfillable, s.fulfillable + 7);
    let r = env
        .http
        .post(url("/inventory/receive"))
        .json(&json!({"marketplaceId": US, "sellerSku": "NO-SUCH-SKU", "units": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn live_orders_reserve_stock_too() {
    // 3600x: a simulated hour per real second.
    let env = start(SimConfig {
        time_scale: 3600.0,
        live: Some(spapi_sim::LiveConfig {
            orders_per_hour: 40.0,
            updates_per_hour: 40.0,
            tick: StdDuration::from_millis(100),
        }),
        inventory_damage_per_hour: 5.0,
        ..config()
    })
    .await;
    let started = env.sim.now();
    let known: BTreeSet<String> = env
        .sim
        .ground_truth()
        .into_iter()
        .map(|o| o.amazon_order_id)
        .collect();
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    env.sim.stop_live();
    let stock = env.sim.inventory_ground_truth();
    let new_afn: Vec<SimOrder> = env
        .sim
        .ground_truth()
        .into_iter()
        .filter(|o| !known.contains(&o.amazon_order_id) && o.fulfillment_channel == "AFN")
        .collect();
    assert!(!new_afn.is_empty());
    for o in &new_afn {
        for i in &o.items {
            find(&stock, &o.marketplace_id, &i.seller_sku);
        }
    }
    let touched = stock.iter().filter(|s| s.last_updated >= started).count();
    assert!(touched > 0, "live mode changed no summary");
}

#[tokio::test]
async fn a_malformed_page_fault_breaks_an_inventory_page_against_the_model() {
    let env = start(config()).await;
    env.sim.set_faults(spapi_sim::Faults {
        schedule: vec![spapi_sim::ScheduledFault {
            operation: "getInventorySummaries".into(),
            fault: spapi_sim::FaultKind::MalformedPage,
            count: 1,
        }],
        ..Default::default()
    });
    let r = env.get(SUMMARIES, &params(US, &[])).await;
    assert_eq!(r.status, 200);
    let v = response_validator(MODEL, SUMMARIES, 200, true);
    assert!(!v.is_valid(&r.body), "{}", r.body);
    let last = r.body["payload"]["inventorySummaries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    assert!(last.get("lastUpdatedTime").is_none());
    assert!(last["sellerSku"].is_number());
    assert_eq!(
        env.sim.stats().faults_by_kind.get("malformed_page"),
        Some(&1)
    );
}
