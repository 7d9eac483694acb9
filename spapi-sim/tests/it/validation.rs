//! Each validation rule is answered 400 InvalidInput with a message that names the problem,
//! and carries x-amzn-RateLimit-Limit.

use chrono::Duration;

use crate::common::*;

async fn expect_invalid(env: &Env, path: &str, params: &[(&str, &str)], needle: &str) {
    let r = env.get(path, params).await;
    assert_eq!(r.status, 400, "{path} {params:?} -> {}", r.body);
    assert_eq!(r.error_code(), "InvalidInput");
    let message = r.error_message();
    assert!(
        message.contains(needle),
        "message {message:?} should mention {needle:?}"
    );
    assert!(
        r.header("x-amzn-ratelimit-limit").is_some(),
        "400 must carry x-amzn-RateLimit-Limit"
    );
    assert!(r.header("x-amzn-requestid").is_some());
}

const ORDERS: &str = "/orders/v0/orders";
const SEARCH: &str = "/orders/2026-01-01/orders";

#[tokio::test]
async fn get_orders_without_marketplace_ids_is_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    expect_invalid(&env, ORDERS, &[("CreatedAfter", &after)], "MarketplaceIds").await;
}

#[tokio::test]
async fn more_than_fifty_marketplace_ids_are_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    let many = vec![US; 51].join(",");
    expect_invalid(
        &env,
        ORDERS,
        &[("MarketplaceIds", &many), ("CreatedAfter", &after)],
        "at most 50",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("marketplaceIds", &many), ("createdAfter", &after)],
        "at most 50",
    )
    .await;
}

#[tokio::test]
async fn unknown_or_foreign_marketplace_ids_are_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    expect_invalid(
        &env,
        ORDERS,
        &[("MarketplaceIds", "XYZ123"), ("CreatedAfter", &after)],
        "not an Amazon marketplace id",
    )
    .await;
    // Amazon.de is real, but this seller does not sell there.
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", "A1PA6795UKMFR9"),
            ("CreatedAfter", &after),
        ],
        "does not participate",
    )
    .await;
}

#[tokio::test]
async fn neither_created_after_nor_last_updated_after_is_rejected() {
    let env = start(config()).await;
    expect_invalid(&env, ORDERS, &[("MarketplaceIds", US)], "neither was given").await;
    expect_invalid(&env, SEARCH, &[("marketplaceIds", US)], "neither was given").await;
}

#[tokio::test]
async fn both_created_after_and_last_updated_after_are_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("LastUpdatedAfter", &after),
        ],
        "both were given",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("createdAfter", &after), ("lastUpdatedAfter", &after)],
        "both were given",
    )
    .await;
}

#[tokio::test]
async fn a_before_of_the_other_window_is_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(2));
    let before = env.ago(days(1));
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("LastUpdatedBefore", &before),
        ],
        "LastUpdatedBefore cannot be set when CreatedAfter",
    )
    .await;
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("LastUpdatedAfter", &after),
            ("CreatedBefore", &before),
        ],
        "CreatedBefore cannot be set when LastUpdatedAfter",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("createdAfter", &after), ("lastUpdatedBefore", &before)],
        "lastUpdatedBefore cannot be set",
    )
    .await;
}

#[tokio::test]
async fn a_before_later_than_two_minutes_ago_is_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    let before = env.ago(Duration::seconds(60));
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("CreatedBefore", &before),
        ],
        "CreatedBefore",
    )
    .await;
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("LastUpdatedAfter", &after),
            ("LastUpdatedBefore", &before),
        ],
        "at least two minutes before",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("createdAfter", &after), ("createdBefore", &before)],
        "at least two minutes before",
    )
    .await;
    // Three minutes ago is fine.
    let ok_before = env.ago(Duration::seconds(180));
    let r = env
        .get(
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("CreatedBefore", &ok_before),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["payload"]["CreatedBefore"], ok_before.as_str());
}

#[tokio::test]
async fn an_after_later_than_two_minutes_ago_is_rejected() {
    let env = start(config()).await;
    let after = env.ago(Duration::seconds(30));
    expect_invalid(
        &env,
        ORDERS,
        &[("MarketplaceIds", US), ("LastUpdatedAfter", &after)],
        "LastUpdatedAfter",
    )
    .await;
    let future = iso(env.sim.now() + days(1));
    expect_invalid(
        &env,
        SEARCH,
        &[("createdAfter", &future)],
        "at least two minutes before",
    )
    .await;
}

#[tokio::test]
async fn a_before_earlier_than_its_after_is_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    let before = env.ago(days(2));
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("CreatedBefore", &before),
        ],
        "must be equal to or after CreatedAfter",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("lastUpdatedAfter", &after), ("lastUpdatedBefore", &before)],
        "must be equal to or after lastUpdatedAfter",
    )
    .await;
}

#[tokio::test]
async fn max_results_per_page_outside_one_to_one_hundred_is_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    for bad in ["0", "101", "-5", "ten"] {
        expect_invalid(
            &env,
            ORDERS,
            &[
                ("MarketplaceIds", US),
                ("CreatedAfter", &after),
                ("MaxResultsPerPage", bad),
            ],
            "MaxResultsPerPage",
        )
        .await;
        expect_invalid(
            &env,
            SEARCH,
            &[("createdAfter", &after), ("maxResultsPerPage", bad)],
            "maxResultsPerPage",
        )
        .await;
    }
    for good in ["1", "100"] {
        let r = env
            .get(
                ORDERS,
                &[
                    ("MarketplaceIds", US),
                    ("CreatedAfter", &after),
                    ("MaxResultsPerPage", good),
                ],
            )
            .await;
        assert_eq!(r.status, 200);
    }
}

#[tokio::test]
async fn a_date_that_is_not_iso_8601_is_rejected() {
    let env = start(config()).await;
    expect_invalid(
        &env,
        ORDERS,
        &[("MarketplaceIds", US), ("CreatedAfter", "yesterday")],
        "ISO 8601",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("lastUpdatedAfter", "01/02/2025")],
        "ISO 8601",
    )
    .await;
}

#[tokio::test]
async fn unknown_enum_values_are_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("OrderStatuses", "Shipped,Lost"),
        ],
        "\"Lost\" in OrderStatuses",
    )
    .await;
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("FulfillmentChannels", "FBA"),
        ],
        "FulfillmentChannels",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[
            ("createdAfter", &after),
            ("includedData", "BUYER,EVERYTHING"),
        ],
        "includedData",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("createdAfter", &after), ("fulfillmentStatuses", "Shipped")],
        "fulfillmentStatuses",
    )
    .await;
    expect_invalid(
        &env,
        SEARCH,
        &[("createdAfter", &after), ("fulfilledBy", "FBA")],
        "fulfilledBy",
    )
    .await;
}

#[tokio::test]
async fn seller_order_id_excludes_the_other_filters() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("SellerOrderId", "SO-1"),
            ("OrderStatuses", "Shipped"),
        ],
        "SellerOrderId",
    )
    .await;
}

#[tokio::test]
async fn more_than_fifty_amazon_order_ids_are_rejected() {
    let env = start(config()).await;
    let after = env.ago(days(1));
    let ids = vec!["111-0000000-0000000"; 51].join(",");
    expect_invalid(
        &env,
        ORDERS,
        &[
            ("MarketplaceIds", US),
            ("CreatedAfter", &after),
            ("AmazonOrderIds", &ids),
        ],
        "AmazonOrderIds",
    )
    .await;
}

#[tokio::test]
async fn malformed_order_ids_are_invalid_and_unknown_ones_not_found() {
    let env = start(config()).await;
    expect_invalid(&env, "/orders/v0/orders/12345", &[], "3-7-7").await;
    expect_invalid(&env, "/orders/2026-01-01/orders/abc-def", &[], "3-7-7").await;
    for path in [
        "/orders/v0/orders/111-0000000-0000001",
        "/orders/v0/orders/111-0000000-0000001/orderItems",
        "/orders/2026-01-01/orders/111-0000000-0000001",
    ] {
        let r = env.get(path, &[]).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.error_code(), "NotFound");
        assert!(r.error_message().contains("111-0000000-0000001"));
        assert!(
            r.header("x-amzn-ratelimit-limit").is_some(),
            "404 must carry x-amzn-RateLimit-Limit"
        );
    }
}

#[tokio::test]
async fn search_orders_needs_no_marketplace_ids_and_covers_all_of_the_sellers() {
    let env = start(config()).await;
    let after = env.ago(days(30));
    let r = env
        .get(
            SEARCH,
            &[("createdAfter", &after), ("maxResultsPerPage", "100")],
        )
        .await;
    assert_eq!(r.status, 200);
    let marketplaces: std::collections::BTreeSet<&str> = r.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["salesChannel"]["marketplaceId"].as_str().unwrap())
        .collect();
    assert_eq!(marketplaces.len(), 3, "{marketplaces:?}");
}
