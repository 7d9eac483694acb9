//! `GET /export/orders.csv`: the orders list as CSV, over HTTP, equal to what the
//! API lists with the same filter.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::TestServer;
use entity::enums::OrdersApiVersion;
use serde_json::{Value, json};
use spapi_sim::{SimConfig, Simulator};

const US: &str = "ATVPDKIKX0DER";
const CA: &str = "A2EUQ1WTGCTBG2";

async fn gql(server: &TestServer, token: &str, query: &str, variables: Value) -> Value {
    let r = server.graphql(Some(token), query, variables).await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"].clone()
}

async fn csv(server: &TestServer, token: Option<&str>, filter: &str) -> (u16, String, String) {
    let mut request = server
        .client
        .get(format!("{}/export/orders.csv", server.base))
        .query(&[("filter", filter)]);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

/// Every order of the API's list for `filter`, as the CSV would write it:
/// id, marketplace, status, total, currency.
async fn listed(server: &TestServer, token: &str, filter: &Value) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = gql(
            server,
            token,
            "query($f: AmazonOrderFilter, $a: String) { amazonOrders(first: 7, after: $a, filter: $f) {
                edges { node { amazonOrderId marketplaceId orderStatusText orderTotal { amount currencyCode } } }
                pageInfo { hasNextPage endCursor } } }",
            json!({ "f": filter, "a": after }),
        )
        .await;
        let orders = &page["amazonOrders"];
        for edge in orders["edges"].as_array().unwrap() {
            let n = &edge["node"];
            let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
            rows.push(vec![
                text(&n["amazonOrderId"]),
                text(&n["marketplaceId"]),
                text(&n["orderStatusText"]),
                text(&n["orderTotal"]["amount"]),
                text(&n["orderTotal"]["currencyCode"]),
            ]);
        }
        if orders["pageInfo"]["hasNextPage"] != true {
            return rows;
        }
        after = orders["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// The same columns read back from the CSV (whose fields here hold no commas).
fn exported(body: &str) -> Vec<Vec<String>> {
    let mut lines = body.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let wanted = [
        col("amazon_order_id"),
        col("marketplace_id"),
        col("order_status"),
        col("order_total"),
        col("currency"),
    ];
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{l}");
            wanted.iter().map(|&i| fields[i].to_owned()).collect()
        })
        .collect()
}

#[tokio::test]
async fn the_csv_export_lists_exactly_the_orders_and_amounts_the_api_lists_for_the_same_filter() {
    let server = TestServer::start().await;
    let owner = server.owner_token().await;
    let sim = Simulator::start(SimConfig {
        orders: 40,
        seed: 11,
        days: 10,
        marketplaces: vec![US.to_owned(), CA.to_owned()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    e2e::connect_to_simulator(
        &server.t.db,
        &server.settings.encryption_key,
        &sim,
        spapi_sim::DEFAULT_SELLER_ID,
        vec![US.to_owned(), CA.to_owned()],
        OrdersApiVersion::V2026_01_01,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await
    .unwrap();
    let run = gql(
        &server,
        &owner,
        "mutation { syncAmazonOrders(wait: true) { status ordersFound } }",
        Value::Null,
    )
    .await;
    assert_eq!(run["syncAmazonOrders"]["status"], "SUCCEEDED", "{run}");

    for filter in [
        json!({}),
        json!({ "marketplaceId": CA }),
        json!({ "statuses": ["SHIPPED", "UNSHIPPED"] }),
    ] {
        let (status, kind, body) = csv(&server, Some(&owner), &filter.to_string()).await;
        assert_eq!(status, 200, "{filter}: {body}");
        assert_eq!(kind, "text/csv; charset=utf-8");
        let api = listed(&server, &owner, &filter).await;
        assert!(!api.is_empty(), "{filter}: the test needs orders");
        assert_eq!(exported(&body), api, "{filter}");
    }
    let (_, _, all) = csv(&server, Some(&owner), "").await;
    assert_eq!(
        exported(&all).len(),
        40,
        "no filter: every order, not one page"
    );
    assert!(
        all.contains(",Amazon.ca,"),
        "marketplace names: {}",
        all.lines().nth(1).unwrap_or_default()
    );
}

#[tokio::test]
async fn the_csv_export_needs_a_signed_in_user_and_a_filter_the_api_would_take() {
    let server = TestServer::start().await;
    let owner = server.owner_token().await;

    let (anonymous, _, why) = csv(&server, None, "{}").await;
    let (forged, _, _) = csv(&server, Some("not-a-token"), "{}").await;
    let (not_json, _, not_json_why) = csv(&server, Some(&owner), "{statuses").await;
    let (unknown_status, _, unknown_why) =
        csv(&server, Some(&owner), r#"{"statuses":["LOST"]}"#).await;
    let (other, _, other_why) = csv(&server, Some(&owner), r#"{"statuses":["OTHER"]}"#).await;

    assert_eq!(anonymous, 401, "{why}");
    assert!(why.contains("sign in"), "{why}");
    assert_eq!(forged, 401);
    assert_eq!(not_json, 400, "{not_json_why}");
    assert!(
        not_json_why.starts_with("filter: not JSON"),
        "{not_json_why}"
    );
    assert_eq!(unknown_status, 400, "{unknown_why}");
    assert!(unknown_why.contains("LOST"), "{unknown_why}");
    assert_eq!(other, 400, "{other_why}");
}
