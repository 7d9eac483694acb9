//! The seller's money over GraphQL against spapi-sim, on SQLite and PostgreSQL:
//! only the owner syncs transactions, anyone signed in reads them, nobody else;
//! the transactions page newest first and filter by order; an order's financials
//! and the days' net proceeds add up to the transactions; and the reconciliation
//! names exactly the orders the simulator left unsettled or settled at another
//! price, with the amounts side by side.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::TestApi;
use entity::enums::OrdersApiVersion;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use spapi_sim::{SimConfig, Simulator};
use std::collections::BTreeSet;

const US: &str = "ATVPDKIKX0DER";

async fn connected(api: &TestApi) -> spapi_sim::SimHandle {
    let sim = Simulator::start(SimConfig {
        orders: 150,
        seed: 5,
        days: 25,
        time_scale: 100.0,
        marketplaces: vec![US.to_owned()],
        settlement_anomalies: 2,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    e2e::connect_to_simulator(
        &api.t.db,
        &api.settings.encryption_key,
        &sim,
        "A2SIM",
        vec![US.to_owned()],
        OrdersApiVersion::V2026_01_01,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await
    .unwrap();
    sim
}

async fn ok(api: &TestApi, token: &str, query: &str, vars: Value) -> Value {
    let r = api.run(Some(token), query, vars).await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"].clone()
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_owner_syncs_the_money_anyone_signed_in_reads_it_and_reconciliation_names_the_seeded_orders()
 {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    let sim = connected(&api).await;

    // Who may do what.
    let refused = api
        .run(
            Some(&viewer),
            "mutation { syncAmazonTransactions(wait: true) { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(e2e::error_codes(&refused), ["FORBIDDEN"], "{refused}");
    for query in [
        "{ amazonTransactions { edges { cursor } } }",
        "{ profitDaily(from: \"2026-11-01\", to: \"2026-11-02\") { date } }",
        "{ reconciliationIssues { edges { cursor } } }",
    ] {
        let anonymous = api.run(None, query, Value::Null).await;
        assert_eq!(
            e2e::error_codes(&anonymous),
            ["UNAUTHENTICATED"],
            "{query}: {anonymous}"
        );
        ok(&api, &viewer, query, Value::Null).await;
    }

    ok(
        &api,
        &owner,
        "mutation { syncAmazonOrders(wait: true) { status } }",
        Value::Null,
    )
    .await;
    let run = ok(
        &api,
        &owner,
        "mutation { syncAmazonTransactions(wait: true) { kind status found inserted } }",
        Value::Null,
    )
    .await;
    let run = &run["syncAmazonTransactions"];
    assert_eq!(run["kind"], "TRANSACTIONS");
    assert_eq!(run["status"], "SUCCEEDED");
    let stored = run["inserted"].as_u64().unwrap();
    assert!(stored > 100, "{run}");

    // Every transaction, newest first, page by page.
    let page = "query($after: String, $filter: TransactionFilter) {
      amazonTransactions(first: 40, after: $after, filter: $filter) {
        pageInfo { hasNextPage endCursor }
        edges { node { transactionId transactionType transactionStatus postedDate amazonOrderIds
          totalAmount { amount currencyCode }
          breakdowns { breakdownType amount { amount } breakdowns { breakdownType amount { amount } } } } }
      }
    }";
    let mut after: Option<String> = None;
    let mut nodes = Vec::new();
    loop {
        let d = ok(&api, &viewer, page, json!({ "after": after })).await;
        let p = &d["amazonTransactions"];
        nodes.extend(
            p["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if p["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(nodes.len() as u64, stored);
    let posted: Vec<&str> = nodes
        .iter()
        .map(|n| n["postedDate"].as_str().unwrap())
        .collect();
    assert!(posted.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let ids: BTreeSet<&str> = nodes
        .iter()
        .map(|n| n["transactionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), nodes.len(), "no transaction twice across pages");
    for n in &nodes {
        let top: Decimal = n["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| dec(&b["amount"]["amount"]))
            .sum();
        assert_eq!(
            top,
            dec(&n["totalAmount"]["amount"]),
            "the tree sums to the total: {n}"
        );
    }

    // One settled order: its financials add up to its transactions.
    let anomalies = sim.settlement_anomalies();
    let odd: BTreeSet<String> = anomalies
        .iter()
        .map(|a| a.amazon_order_id.clone())
        .collect();
    let shipment = nodes
        .iter()
        .find(|n| {
            n["transactionType"] == "Shipment"
                && n["amazonOrderIds"][0]
                    .as_str()
                    .is_some_and(|o| !odd.contains(o))
        })
        .unwrap();
    let order = shipment["amazonOrderIds"][0].as_str().unwrap();
    let of_order = ok(
        &api,
        &viewer,
        page,
        json!({ "filter": { "amazonOrderId": order } }),
    )
    .await;
    let txs = of_order["amazonTransactions"]["edges"].as_array().unwrap();
    assert!(txs.iter().all(|e| e["node"]["amazonOrderIds"][0] == order));
    let total: Decimal = txs
        .iter()
        .map(|e| dec(&e["node"]["totalAmount"]["amount"]))
        .sum();
    let f = ok(
        &api,
        &viewer,
        "query($id: String!) { amazonOrder(amazonOrderId: $id) { financials {
            sales { amount currencyCode } fees { amount } netProceeds { amount currencyCode }
            feesByType { breakdownType amount { amount } } released transactionCount } } }",
        json!({ "id": order }),
    )
    .await;
    let f = &f["amazonOrder"]["financials"];
    assert_eq!(dec(&f["netProceeds"][0]["amount"]), total, "{f}");
    assert_eq!(f["netProceeds"][0]["currencyCode"], "USD");
    assert_eq!(f["transactionCount"].as_u64().unwrap() as usize, txs.len());
    let by_type: Decimal = f["feesByType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| dec(&t["amount"]["amount"]))
        .sum();
    assert_eq!(
        by_type,
        dec(&f["fees"][0]["amount"]),
        "fees by type add up to the fees"
    );

    // The days' net proceeds are every non-payout transaction's total.
    let today = chrono::Utc::now().date_naive();
    let days = ok(
        &api,
        &viewer,
        "query($from: Date!, $to: Date!) { profitDaily(from: $from, to: $to) { date currencyCode revenue fees refunds netProceeds } }",
        json!({ "from": (today - chrono::Days::new(60)).to_string(), "to": (today + chrono::Days::new(30)).to_string() }),
    )
    .await;
    let net: Decimal = days["profitDaily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| dec(&d["netProceeds"]))
        .sum();
    let expected: Decimal = nodes
        .iter()
        .filter(|n| n["transactionType"] != "Transfer")
        .map(|n| dec(&n["totalAmount"]["amount"]))
        .sum();
    assert_eq!(net, expected);

    // Reconciliation: exactly the seeded orders, with the amounts side by side.
    assert_eq!(anomalies.len(), 4, "{anomalies:?}");
    let issues = ok(
        &api,
        &viewer,
        "{ reconciliationIssues(first: 3) { pageInfo { hasNextPage endCursor } edges { node { amazonOrderId kind expected { amount currencyCode } actual { amount } } } } }",
        Value::Null,
    )
    .await;
    let first = &issues["reconciliationIssues"];
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let rest = ok(
        &api,
        &viewer,
        "query($after: String) { reconciliationIssues(first: 3, after: $after) { pageInfo { hasNextPage } edges { node { amazonOrderId kind expected { amount currencyCode } actual { amount } } } } }",
        json!({ "after": first["pageInfo"]["endCursor"] }),
    )
    .await;
    let mut found: Vec<(String, String, Decimal, Option<Decimal>)> = first["edges"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["reconciliationIssues"]["edges"].as_array().unwrap())
        .map(|e| {
            let n = &e["node"];
            (
                n["amazonOrderId"].as_str().unwrap().to_owned(),
                n["kind"].as_str().unwrap().to_owned(),
                dec(&n["expected"][0]["amount"]),
                n["actual"]
                    .as_array()
                    .unwrap()
                    .first()
                    .map(|a| dec(&a["amount"])),
            )
        })
        .collect();
    found.sort();
    let mut seeded: Vec<(String, String, Decimal, Option<Decimal>)> = anomalies
        .iter()
        .map(|a| {
            (
                a.amazon_order_id.clone(),
                a.kind.as_str().to_owned(),
                a.expected.parse().unwrap(),
                a.actual.as_ref().map(|x| x.parse().unwrap()),
            )
        })
        .collect();
    seeded.sort();
    assert_eq!(found, seeded, "the seeded orders and nothing else");
}
