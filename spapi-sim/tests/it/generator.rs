//! The generated history: deterministic for a seed, realistic, and following Amazon's rules
//! (no prices while Pending, money as strings in the currency's precision).

use std::time::Duration as StdDuration;

use spapi_sim::{LiveConfig, OrderStatus, SimConfig, Simulator};

use crate::common::*;

#[tokio::test]
async fn the_same_seed_gives_the_same_history_and_another_seed_another() {
    let a = Simulator::start(config()).await.unwrap().ground_truth();
    let b = Simulator::start(config()).await.unwrap().ground_truth();
    let c = Simulator::start(SimConfig {
        seed: 12,
        ..config()
    })
    .await
    .unwrap()
    .ground_truth();
    assert_eq!(a.len(), 300);
    let strip = |v: &[spapi_sim::SimOrder]| {
        v.iter()
            .map(|o| {
                (
                    o.amazon_order_id.clone(),
                    o.order_status,
                    o.order_total.clone(),
                    o.items.clone(),
                    o.marketplace_id.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    // Dates are relative to each simulator's clock: the same offsets, give or take a second.
    let shifts: Vec<i64> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (y.purchase_date - x.purchase_date).num_seconds())
        .collect();
    let (min, max) = (shifts.iter().min().unwrap(), shifts.iter().max().unwrap());
    assert!(
        max - min <= 1,
        "purchase dates shift unevenly: {min}..{max}"
    );
    let ids_a: Vec<_> = a.iter().map(|o| &o.amazon_order_id).collect();
    let ids_c: Vec<_> = c.iter().map(|o| &o.amazon_order_id).collect();
    assert_ne!(ids_a, ids_c);
}

#[tokio::test]
async fn the_history_spreads_over_the_last_days_with_realistic_orders() {
    let sim = Simulator::start(config()).await.unwrap();
    let now = sim.now();
    let truth = sim.ground_truth();
    let mut by_status = std::collections::HashMap::new();
    for o in &truth {
        assert!(
            o.purchase_date >= now - days(20) && o.purchase_date <= now,
            "{}",
            o.purchase_date
        );
        assert!(o.last_update_date >= o.purchase_date && o.last_update_date <= now);
        assert!((1..=4).contains(&o.items.len()));
        let parts: Vec<&str> = o.amazon_order_id.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [3, 7, 7]);
        for i in &o.items {
            assert!(i.asin.starts_with("B0") && i.asin.len() == 10, "{}", i.asin);
            assert!(!i.seller_sku.is_empty() && !i.title.is_empty());
            assert!(i.quantity_shipped <= i.quantity_ordered);
        }
        *by_status.entry(o.order_status).or_insert(0) += 1;
    }
    assert!(by_status[&OrderStatus::Shipped] > 200, "{by_status:?}");
    assert!(
        by_status.get(&OrderStatus::Canceled).copied().unwrap_or(0) > 0,
        "{by_status:?}"
    );
    let marketplaces: std::collections::BTreeSet<_> =
        truth.iter().map(|o| o.marketplace_id.as_str()).collect();
    assert_eq!(marketplaces.len(), 3);
}

#[tokio::test]
async fn money_is_a_string_in_the_currency_precision_and_totals_add_up() {
    let sim = Simulator::start(config()).await.unwrap();
    for o in sim.ground_truth() {
        let Some(total) = &o.order_total else {
            continue;
        };
        let decimals = total.amount.split('.').nth(1).map_or(0, str::len);
        match total.currency_code.as_str() {
            "JPY" => assert_eq!(decimals, 0, "{}", total.amount),
            "USD" | "GBP" => assert_eq!(decimals, 2, "{}", total.amount),
            other => panic!("unexpected currency {other}"),
        }
        let minor = |s: &str| s.replace('.', "").parse::<i64>().unwrap();
        let sum: i64 = o
            .items
            .iter()
            .map(|i| minor(&i.item_price.as_ref().unwrap().amount))
            .sum();
        assert_eq!(sum, minor(&total.amount), "{}", o.amazon_order_id);
    }
}

#[tokio::test]
async fn pending_orders_show_no_prices_until_they_become_unshipped() {
    let env = start(config()).await;
    let id = env.sim.add_orders(1).remove(0);
    let pending = env
        .sim
        .ground_truth()
        .into_iter()
        .find(|o| o.amazon_order_id == id)
        .unwrap();
    assert_eq!(pending.order_status, OrderStatus::Pending);
    assert!(pending.order_total.is_none());
    assert!(pending.items.iter().all(|i| i.item_price.is_none()));
    let r = env.get(&format!("/orders/v0/orders/{id}"), &[]).await;
    assert!(r.body["payload"].get("OrderTotal").is_none());
    let r = env
        .get(&format!("/orders/v0/orders/{id}/orderItems"), &[])
        .await;
    assert!(
        r.body["payload"]["OrderItems"][0]
            .get("ItemPrice")
            .is_none()
    );
    let r = env
        .get(
            &format!("/orders/2026-01-01/orders/{id}"),
            &[("includedData", "PROCEEDS")],
        )
        .await;
    assert!(r.body["order"].get("proceeds").is_none());
    assert!(
        r.body["order"]["orderItems"][0]["product"]
            .get("price")
            .is_none()
    );

    assert!(env.sim.advance_order(&id));
    let r = env.get(&format!("/orders/v0/orders/{id}"), &[]).await;
    assert_eq!(r.body["payload"]["OrderStatus"], "Unshipped");
    assert!(r.body["payload"]["OrderTotal"]["Amount"].is_string());
    let r = env
        .get(&format!("/orders/v0/orders/{id}/orderItems"), &[])
        .await;
    assert!(r.body["payload"]["OrderItems"][0]["ItemPrice"]["Amount"].is_string());
}

#[tokio::test]
async fn orders_advance_pending_unshipped_partially_shipped_shipped_and_each_step_is_an_update() {
    let sim = Simulator::start(config()).await.unwrap();
    let ids = sim.add_orders(40);
    let find = |id: &str| {
        sim.ground_truth()
            .into_iter()
            .find(|o| o.amazon_order_id == id)
            .unwrap()
    };
    let id = ids
        .iter()
        .find(|id| {
            find(id)
                .items
                .iter()
                .map(|i| i.quantity_ordered)
                .sum::<u32>()
                > 1
        })
        .unwrap();
    let mut seen = vec![find(id).order_status];
    let mut last = find(id).last_update_date;
    while sim.advance_order(id) {
        let o = find(id);
        assert!(
            o.last_update_date > last,
            "LastUpdateDate must move on each update"
        );
        last = o.last_update_date;
        seen.push(o.order_status);
    }
    assert_eq!(
        seen,
        [
            OrderStatus::Pending,
            OrderStatus::Unshipped,
            OrderStatus::PartiallyShipped,
            OrderStatus::Shipped
        ]
    );
    let o = find(id);
    assert_eq!(o.number_of_items_unshipped, 0);
    assert!(
        o.items
            .iter()
            .all(|i| i.quantity_shipped == i.quantity_ordered)
    );
    sim.update_order_status(&ids[0], "Canceled").unwrap();
    assert_eq!(find(&ids[0]).order_status, OrderStatus::Canceled);
    assert!(sim.update_order_status(&ids[0], "Lost").is_err());
    assert!(
        sim.update_order_status("111-0000000-0000000", "Shipped")
            .is_err()
    );
}

#[tokio::test]
async fn live_mode_keeps_creating_and_advancing_orders_on_the_simulated_clock() {
    // 3600x: a simulated hour per real second.
    let sim = Simulator::start(SimConfig {
        time_scale: 3600.0,
        live: Some(LiveConfig {
            orders_per_hour: 20.0,
            updates_per_hour: 20.0,
            tick: StdDuration::from_millis(100),
        }),
        ..config()
    })
    .await
    .unwrap();
    let before = sim.ground_truth();
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    let after = sim.ground_truth();
    assert!(
        after.len() >= before.len() + 10,
        "{} -> {}",
        before.len(),
        after.len()
    );
    let changed = after
        .iter()
        .filter(|o| {
            before.iter().any(|b| {
                b.amazon_order_id == o.amazon_order_id && b.last_update_date != o.last_update_date
            })
        })
        .count();
    assert!(changed > 0);
}
