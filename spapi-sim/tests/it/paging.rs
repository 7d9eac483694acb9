//! NextTokens: opaque, containing `+`, `/` and `=`, round-tripping when URL-encoded, rejected
//! when not encoded, tampered, unknown or expired; paging over a live view.

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use serde_json::Value;
use spapi_sim::{Faults, NEXT_TOKEN_UNDECODABLE_MESSAGE, SimConfig};

use crate::common::*;

const ORDERS: &str = "/orders/v0/orders";
const SEARCH: &str = "/orders/2026-01-01/orders";

fn token_of(body: &Value) -> Option<String> {
    body["payload"]["NextToken"].as_str().map(str::to_string)
}

fn ids_of(body: &Value) -> Vec<String> {
    body["payload"]["Orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["AmazonOrderId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn next_tokens_contain_plus_slash_and_equals_and_page_through_everything_once_in_update_order()
 {
    let env = start(config()).await;
    let after = env.ago(days(30));
    let first = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", &format!("{US},{UK},{JP}")),
                ("LastUpdatedAfter", &after),
                ("MaxResultsPerPage", "7"),
            ],
        )
        .await;
    assert_eq!(first.status, 200);
    let bound = first.body["payload"]["LastUpdatedBefore"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = ids_of(&first.body);
    let mut dates: Vec<String> = Vec::new();
    let mut collect_dates = |b: &Value| {
        for o in b["payload"]["Orders"].as_array().unwrap() {
            dates.push(o["LastUpdateDate"].as_str().unwrap().to_string());
        }
    };
    collect_dates(&first.body);
    let mut token = token_of(&first.body);
    let mut tokens = Vec::new();
    while let Some(t) = token {
        tokens.push(t.clone());
        let r = env
            .get(
                ORDERS,
                &[
                    ("MarketplaceIds", &format!("{US},{UK},{JP}")),
                    ("NextToken", &t),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["payload"]["LastUpdatedBefore"], bound.as_str());
        ids.extend(ids_of(&r.body));
        collect_dates(&r.body);
        token = token_of(&r.body);
    }
    assert!(tokens.len() > 10);
    for t in &tokens {
        assert!(
            t.contains('+') && t.contains('/') && t.ends_with('='),
            "token {t} lacks +, / or ="
        );
    }
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an order was returned twice");
    let expected: BTreeSet<String> = env
        .sim
        .ground_truth()
        .into_iter()
        .filter(|o| crate::common::iso(o.last_update_date) <= bound)
        .map(|o| o.amazon_order_id)
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected
    );
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted, "results are not ordered by LastUpdateDate");
}

#[tokio::test]
async fn an_unencoded_next_token_is_rejected_as_undecodable() {
    let env = start(config()).await;
    let after = env.ago(days(30));
    let first = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("MaxResultsPerPage", "5"),
            ],
        )
        .await;
    let token = token_of(&first.body).unwrap();
    let r = env
        .get_raw(&format!("{ORDERS}?MarketplaceIds={US}&NextToken={token}"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "InvalidInput");
    assert_eq!(r.error_message(), NEXT_TOKEN_UNDECODABLE_MESSAGE);
    // The same token, encoded, works.
    let r = env
        .get(ORDERS, &[("MarketplaceIds", US), ("NextToken", &token)])
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_tampered_next_token_is_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(30));
    let first = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("MaxResultsPerPage", "5"),
            ],
        )
        .await;
    let token = token_of(&first.body).unwrap();
    let mut chars: Vec<char> = token.chars().collect();
    chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [
        tampered.as_str(),
        &token[..token.len() - 6],
        "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4",
        "not a token",
    ] {
        let r = env
            .get(ORDERS, &[("MarketplaceIds", US), ("NextToken", bad)])
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_message(), NEXT_TOKEN_UNDECODABLE_MESSAGE);
    }
}

#[tokio::test]
async fn a_next_token_issued_before_a_reset_is_unknown() {
    let env = start(config()).await;
    let after = env.ago(days(30));
    let first = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("MaxResultsPerPage", "5"),
            ],
        )
        .await;
    let token = token_of(&first.body).unwrap();
    env.sim.reset();
    let token_after_reset = lwa_token(&env.http, &env.sim).await;
    let r = reply(
        env.http
            .get(format!("{}{ORDERS}", env.sim.base_url()))
            .query(&[("MarketplaceIds", US), ("NextToken", &token)])
            .header("x-amz-access-token", token_after_reset)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.error_message().contains("unknown token"),
        "{}",
        r.error_message()
    );
}

#[tokio::test]
async fn a_next_token_expires_on_the_simulated_clock() {
    let env = start(SimConfig {
        time_scale: 120.0,
        next_token_ttl_secs: 60,
        ..config()
    })
    .await;
    let after = env.ago(days(30));
    let first = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("MaxResultsPerPage", "5"),
            ],
        )
        .await;
    let token = token_of(&first.body).unwrap();
    // 60 simulated seconds are half a real second at 120x.
    tokio::time::sleep(StdDuration::from_millis(900)).await;
    let r = env
        .get(ORDERS, &[("MarketplaceIds", US), ("NextToken", &token)])
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.error_message().contains("expired"),
        "{}",
        r.error_message()
    );
}

#[tokio::test]
async fn a_token_of_one_operation_is_refused_by_another() {
    let env = start(SimConfig {
        order_items_page_size: 1,
        ..config()
    })
    .await;
    let after = env.ago(days(30));
    let first = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("MaxResultsPerPage", "5"),
            ],
        )
        .await;
    let token = token_of(&first.body).unwrap();
    let r = env.get(SEARCH, &[("paginationToken", &token)]).await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("paginationToken"));
    let id = env.sim.ground_truth()[0].amazon_order_id.clone();
    let r = env
        .get(
            &format!("/orders/v0/orders/{id}/orderItems"),
            &[("NextToken", &token)],
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn an_order_updated_while_paging_moves_past_the_window_and_is_seen_by_the_next_window() {
    let env = start(SimConfig {
        time_scale: 120.0,
        ..config()
    })
    .await;
    let after = env.ago(days(30));
    let params = |t: Option<&str>| {
        let mut v = vec![
            ("MarketplaceIds", format!("{US},{UK},{JP}")),
            ("MaxResultsPerPage", "20".to_string()),
        ];
        match t {
            Some(t) => v.push(("NextToken", t.to_string())),
            None => v.push(("LastUpdatedAfter", after.clone())),
        }
        v
    };
    let first_params = params(None);
    let borrowed: Vec<(&str, &str)> = first_params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = env.get(ORDERS, &borrowed).await;
    let bound = first.body["payload"]["LastUpdatedBefore"]
        .as_str()
        .unwrap()
        .to_string();
    let seen_first = ids_of(&first.body);
    // The last open order in update order has not been paged over yet: advance it now.
    let mut truth = env.sim.ground_truth();
    truth.sort_by_key(|o| (o.last_update_date, o.amazon_order_id.clone()));
    let moved = truth
        .iter()
        .rev()
        .find(|o| {
            !seen_first.contains(&o.amazon_order_id)
                && !matches!(
                    o.order_status,
                    spapi_sim::OrderStatus::Shipped | spapi_sim::OrderStatus::Canceled
                )
                && crate::common::iso(o.last_update_date) <= bound
        })
        .unwrap()
        .amazon_order_id
        .clone();
    assert!(env.sim.advance_order(&moved));
    let mut ids = seen_first;
    let mut token = token_of(&first.body);
    while let Some(t) = token {
        let p = params(Some(&t));
        let borrowed: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = env.get(ORDERS, &borrowed).await;
        ids.extend(ids_of(&r.body));
        token = token_of(&r.body);
    }
    assert!(
        !ids.contains(&moved),
        "the moved order should have left this window"
    );
    // Two simulated minutes later, the next window (from the reported bound) has it.
    tokio::time::sleep(StdDuration::from_millis(1200)).await;
    let r = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", &format!("{US},{UK},{JP}")),
                ("LastUpdatedAfter", &bound),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(ids_of(&r.body).contains(&moved));
}

#[tokio::test]
async fn the_repeat_hook_makes_get_orders_and_search_orders_repeat_their_next_token() {
    let env = start(config()).await;
    env.sim.set_faults(Faults {
        repeat_next_token: true,
        ..Faults::default()
    });
    let after = env.ago(days(30));
    let first = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("MaxResultsPerPage", "5"),
            ],
        )
        .await;
    let t1 = token_of(&first.body).unwrap();
    let second = env
        .get(ORDERS, &[("MarketplaceIds", US), ("NextToken", &t1)])
        .await;
    assert_eq!(token_of(&second.body).unwrap(), t1);
    let first = env
        .get(
            SEARCH,
            &[("createdAfter", &after), ("maxResultsPerPage", "5")],
        )
        .await;
    let t1 = first.body["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();
    let second = env.get(SEARCH, &[("paginationToken", &t1)]).await;
    assert_eq!(second.body["pagination"]["nextToken"].as_str().unwrap(), t1);
}

#[tokio::test]
async fn get_order_items_pages_with_its_own_next_token() {
    let env = start(SimConfig {
        order_items_page_size: 1,
        ..config()
    })
    .await;
    let order = env
        .sim
        .ground_truth()
        .into_iter()
        .find(|o| o.items.len() >= 3)
        .unwrap();
    let path = format!("/orders/v0/orders/{}/orderItems", order.amazon_order_id);
    let mut r = env.get(&path, &[]).await;
    let mut items = Vec::new();
    loop {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.body["payload"]["AmazonOrderId"],
            order.amazon_order_id.as_str()
        );
        for i in r.body["payload"]["OrderItems"].as_array().unwrap() {
            items.push(i["OrderItemId"].as_str().unwrap().to_string());
        }
        let Some(t) = token_of(&r.body) else { break };
        assert!(t.contains('+') && t.contains('/') && t.contains('='));
        r = env.get(&path, &[("NextToken", &t)]).await;
    }
    let expected: Vec<String> = order
        .items
        .iter()
        .map(|i| i.order_item_id.clone())
        .collect();
    assert_eq!(items, expected);
}

#[tokio::test]
async fn search_orders_pages_with_pagination_token_and_reports_its_bound() {
    let env = start(config()).await;
    let after = env.ago(days(10));
    let mut r = env
        .get(
            SEARCH,
            &[
                ("createdAfter", &after),
                ("maxResultsPerPage", "9"),
                ("marketplaceIds", JP),
            ],
        )
        .await;
    let bound = r.body["createdBefore"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    loop {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["createdBefore"], bound.as_str());
        for o in r.body["orders"].as_array().unwrap() {
            ids.push(o["orderId"].as_str().unwrap().to_string());
        }
        let Some(t) = r.body["pagination"]["nextToken"]
            .as_str()
            .map(str::to_string)
        else {
            break;
        };
        r = env.get(SEARCH, &[("paginationToken", &t)]).await;
    }
    let expected: BTreeSet<String> = env
        .sim
        .ground_truth()
        .into_iter()
        .filter(|o| {
            let created = crate::common::iso(o.purchase_date);
            o.marketplace_id == JP && created >= after && created <= bound
        })
        .map(|o| o.amazon_order_id)
        .collect();
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(ids.len(), expected.len());
}
