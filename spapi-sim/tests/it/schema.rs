//! Every kind of body the simulator produces validates against the official model schema of
//! its operation (strictly: no property the model does not declare).

use serde_json::Value;

use crate::common::*;

type Params<'a> = Vec<(&'a str, &'a str)>;

const V0: &str = "ordersV0.json";
const V2026: &str = "orders_2026-01-01.json";
const SELLERS: &str = "sellers.json";

/// An environment whose orders cover every status: history, plus fresh Pending orders and
/// orders pushed through each step, aged past the two-minute window.
async fn varied() -> Env {
    let env = start(spapi_sim::SimConfig {
        time_scale: 240.0,
        ..config()
    })
    .await;
    let fresh = env.sim.add_orders(12);
    for (n, id) in fresh.iter().enumerate() {
        for _ in 0..(n % 4) {
            env.sim.advance_order(id);
        }
    }
    env.sim.update_order_status(&fresh[11], "Canceled").unwrap();
    // 240x: two simulated minutes pass in half a real second.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    env
}

async fn all_pages(
    env: &Env,
    path: &str,
    first: Vec<(&str, String)>,
    token_param: &str,
    next: fn(&Value) -> Option<String>,
) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut params = first.clone();
    loop {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = env.get(path, &borrowed).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let token = next(&r.body);
        pages.push(r.body);
        match token {
            Some(t) => {
                params = first.clone();
                params.push((token_param, t));
            }
            None => break,
        }
        assert!(pages.len() < 100, "paging does not end");
    }
    pages
}

#[tokio::test]
async fn get_orders_pages_match_the_model_for_every_status_and_currency() {
    let env = varied().await;
    let v = response_validator(V0, "/orders/v0/orders", 200, true);
    for window in ["CreatedAfter", "LastUpdatedAfter"] {
        let first = vec![
            ("MarketplaceIds", format!("{US},{UK},{JP}")),
            (window, env.ago(days(30))),
            ("MaxResultsPerPage", "50".to_string()),
        ];
        let pages = all_pages(&env, "/orders/v0/orders", first, "NextToken", |b| {
            b["payload"]["NextToken"].as_str().map(str::to_string)
        })
        .await;
        let mut statuses = std::collections::BTreeSet::new();
        let mut currencies = std::collections::BTreeSet::new();
        for page in &pages {
            assert_valid(&v, page, "getOrders 200");
            for o in page["payload"]["Orders"].as_array().unwrap() {
                statuses.insert(o["OrderStatus"].as_str().unwrap().to_string());
                if let Some(c) = o["OrderTotal"]["CurrencyCode"].as_str() {
                    currencies.insert(c.to_string());
                }
            }
        }
        for s in [
            "Pending",
            "Unshipped",
            "PartiallyShipped",
            "Shipped",
            "Canceled",
        ] {
            assert!(
                statuses.contains(s),
                "{window}: no {s} order among {statuses:?}"
            );
        }
        assert_eq!(
            currencies.into_iter().collect::<Vec<_>>(),
            ["GBP", "JPY", "USD"]
        );
    }
}

#[tokio::test]
async fn get_order_and_get_order_items_match_the_model_for_every_order() {
    let env = varied().await;
    let order_v = response_validator(V0, "/orders/v0/orders/{orderId}", 200, true);
    let items_v = response_validator(V0, "/orders/v0/orders/{orderId}/orderItems", 200, true);
    let truth = env.sim.ground_truth();
    let mut seen_pending = false;
    for o in truth
        .iter()
        .step_by(7)
        .chain(truth.iter().filter(|o| o.order_status.is_pending()))
    {
        seen_pending |= o.order_status.is_pending();
        let r = env
            .get(&format!("/orders/v0/orders/{}", o.amazon_order_id), &[])
            .await;
        assert_eq!(r.status, 200);
        assert_valid(&order_v, &r.body, "getOrder 200");
        let r = env
            .get(
                &format!("/orders/v0/orders/{}/orderItems", o.amazon_order_id),
                &[],
            )
            .await;
        assert_eq!(r.status, 200);
        assert_valid(&items_v, &r.body, "getOrderItems 200");
    }
    assert!(seen_pending);
}

#[tokio::test]
async fn search_orders_matches_the_model_with_each_included_dataset_and_all_of_them() {
    let env = varied().await;
    let v = response_validator(V2026, "/orders/2026-01-01/orders", 200, true);
    let datasets = [
        "BUYER",
        "RECIPIENT",
        "PROCEEDS",
        "EXPENSE",
        "PROMOTION",
        "CANCELLATION",
        "FULFILLMENT",
        "PACKAGES",
        "TAX",
        "PAYMENT",
        "FULFILLMENT_ORDERS",
    ];
    let mut choices: Vec<String> = datasets.iter().map(|d| d.to_string()).collect();
    choices.push(datasets.join(","));
    choices.push(String::new());
    for included in choices {
        let mut first = vec![
            ("lastUpdatedAfter", env.ago(days(30))),
            ("maxResultsPerPage", "100".into()),
        ];
        if !included.is_empty() {
            first.push(("includedData", included.clone()));
        }
        let pages = all_pages(
            &env,
            "/orders/2026-01-01/orders",
            first,
            "paginationToken",
            |b| b["pagination"]["nextToken"].as_str().map(str::to_string),
        )
        .await;
        for page in &pages {
            assert_valid(
                &v,
                page,
                &format!("searchOrders 200 includedData={included}"),
            );
        }
    }
}

#[tokio::test]
async fn get_order_2026_matches_the_model_with_all_datasets() {
    let env = varied().await;
    let v = response_validator(V2026, "/orders/2026-01-01/orders/{orderId}", 200, true);
    let all = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT,FULFILLMENT_ORDERS";
    for o in env.sim.ground_truth().iter().step_by(5) {
        let r = env
            .get(
                &format!("/orders/2026-01-01/orders/{}", o.amazon_order_id),
                &[("includedData", all)],
            )
            .await;
        assert_eq!(r.status, 200);
        assert_valid(&v, &r.body, "getOrder 2026 200");
    }
}

#[tokio::test]
async fn marketplace_participations_match_the_model() {
    let env = start(config()).await;
    let v = response_validator(SELLERS, "/sellers/v1/marketplaceParticipations", 200, true);
    let r = env.get("/sellers/v1/marketplaceParticipations", &[]).await;
    assert_eq!(r.status, 200);
    assert_valid(&v, &r.body, "getMarketplaceParticipations 200");
    assert_eq!(r.body["payload"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn every_error_body_matches_the_model_of_its_operation() {
    let mut cfg = config();
    // One token for the 400 case below, one for the 200, then empty.
    cfg.rate_overrides.insert("getOrders".into(), (0.0001, 2));
    let env = start(cfg).await;
    let created = env.ago(days(1));
    let cases: Vec<(&str, &str, &str, Params)> = vec![
        (
            V0,
            "/orders/v0/orders",
            "/orders/v0/orders",
            vec![("MarketplaceIds", US)],
        ),
        (
            V0,
            "/orders/v0/orders/{orderId}",
            "/orders/v0/orders/111-0000000-0000000",
            vec![],
        ),
        (
            V0,
            "/orders/v0/orders/{orderId}",
            "/orders/v0/orders/bad-id",
            vec![],
        ),
        (
            V0,
            "/orders/v0/orders/{orderId}/orderItems",
            "/orders/v0/orders/111-0000000-0000000/orderItems",
            vec![],
        ),
        (
            V2026,
            "/orders/2026-01-01/orders",
            "/orders/2026-01-01/orders",
            vec![("maxResultsPerPage", "0")],
        ),
        (
            V2026,
            "/orders/2026-01-01/orders/{orderId}",
            "/orders/2026-01-01/orders/111-0000000-0000000",
            vec![],
        ),
    ];
    for (file, model_path, path, params) in &cases {
        let r = env.get(path, params).await;
        assert!(r.status == 400 || r.status == 404, "{path}: {}", r.status);
        assert_valid(
            &response_validator(file, model_path, r.status, true),
            &r.body,
            &format!("{path} {}", r.status),
        );
    }
    // 403 on each operation, without a token.
    for (file, model_path, path) in [
        (V0, "/orders/v0/orders", "/orders/v0/orders"),
        (
            V2026,
            "/orders/2026-01-01/orders",
            "/orders/2026-01-01/orders",
        ),
        (
            SELLERS,
            "/sellers/v1/marketplaceParticipations",
            "/sellers/v1/marketplaceParticipations",
        ),
    ] {
        let r = reply(
            env.http
                .get(format!("{}{path}", env.sim.base_url()))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 403);
        assert_valid(
            &response_validator(file, model_path, 403, true),
            &r.body,
            "403",
        );
    }
    // 429 once the one-token bucket is empty.
    let ok = env
        .get(
            "/orders/v0/orders",
            &[("MarketplaceIds", US), ("CreatedAfter", &created)],
        )
        .await;
    assert_eq!(ok.status, 200);
    let r = env
        .get(
            "/orders/v0/orders",
            &[("MarketplaceIds", US), ("CreatedAfter", &created)],
        )
        .await;
    assert_eq!(r.status, 429);
    assert_valid(
        &response_validator(V0, "/orders/v0/orders", 429, true),
        &r.body,
        "429",
    );
    // 500 and 503 injected.
    for (fault, status) in [
        (spapi_sim::FaultKind::InternalError, 500),
        (spapi_sim::FaultKind::ServiceUnavailable, 503),
    ] {
        env.sim.set_faults(spapi_sim::Faults {
            schedule: vec![spapi_sim::ScheduledFault {
                operation: "*".into(),
                fault,
                count: 3,
            }],
            ..Default::default()
        });
        for (file, model_path, path) in [
            (
                V0,
                "/orders/v0/orders/{orderId}",
                "/orders/v0/orders/111-0000000-0000000",
            ),
            (
                V2026,
                "/orders/2026-01-01/orders",
                "/orders/2026-01-01/orders",
            ),
            (
                SELLERS,
                "/sellers/v1/marketplaceParticipations",
                "/sellers/v1/marketplaceParticipations",
            ),
        ] {
            let r = env.get(path, &[]).await;
            assert_eq!(r.status, status);
            assert_valid(
                &response_validator(file, model_path, status, true),
                &r.body,
                &status.to_string(),
            );
        }
    }
}

#[tokio::test]
async fn embedded_models_are_identical_to_the_shared_ones() {
    if !std::path::Path::new(SHARED_MODELS).is_dir() {
        // A clone on its own: the embedded copies are all there is to test against.
        eprintln!("{SHARED_MODELS} is not beside the repository: nothing to compare");
        return;
    }
    for file in [
        V0,
        V2026,
        SELLERS,
        "fbaInventory.json",
        "finances_2024-06-19.json",
        "listingsItems_2021-08-01.json",
        "feeds_2021-06-30.json",
        "listings-feed-schema-v2.json",
        "listings-feed-message-schema-v2.json",
        "listings-feed-processing-report-schema-v2.json",
        "listings-feed-schema-v2.example.json",
        "listings-feed-processing-report-schema-v2.example.json",
    ] {
        let shared = std::fs::read(format!("{SHARED_MODELS}/{file}")).unwrap();
        let embedded = std::fs::read(format!("{MODELS}/{file}")).unwrap();
        assert!(
            shared == embedded,
            "models/{file} differs from shared/spapi/{file}"
        );
    }
}
