//! The whole flow over HTTP, as a seller's script or the admin page would run it:
//! register, log in, connect, store credentials, ping, sync against spapi-sim, read
//! the orders back (equal to Amazon's), and follow a run over the WebSocket.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{OWNER_EMAIL, OWNER_PASSWORD, TestDb};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use spapi_sim::{SimConfig, Simulator};
use std::collections::BTreeMap;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

async fn post(base: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["errors"].is_null(), "{query}: {body}");
    body
}

#[tokio::test]
async fn a_seller_connects_syncs_and_reads_back_exactly_amazons_orders_over_http() {
    let sim = Simulator::start(SimConfig {
        orders: 120,
        days: 6,
        seed: 21,
        time_scale: 100.0,
        marketplaces: vec!["ATVPDKIKX0DER".into(), "A2EUQ1WTGCTBG2".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.settle(chrono::Duration::seconds(200)).await;
    let t = TestDb::migrated().await;
    let data = tempfile::tempdir().unwrap();
    let mut settings = e2e::settings(&t.url, data.path(), false);
    settings.api.metrics_token = Some(secrecy::SecretString::from("scrape-token-0123456789"));
    let app = api::Application::with_database(&settings, t.db.clone())
        .await
        .unwrap();
    let addr = app.addr();
    let base = format!("http://{addr}");
    tokio::spawn(app.run());

    post(
        &base,
        None,
        "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token } }",
        json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
    )
    .await;
    let login = post(
        &base,
        None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
    )
    .await;
    let bearer = login["data"]["login"]["token"].as_str().unwrap().to_owned();
    let token = Some(bearer.as_str());

    post(&base, token, "mutation($i: AmazonConnectionInput!) { upsertAmazonConnection(input: $i) { sellerId } }",
        json!({ "i": { "sellerId": "A2SIM", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
                       "endpoint": sim.base_url(), "tokenUrl": sim.token_url() } })).await;
    let cred = post(&base, token, "mutation($i: AmazonCredentialInput!) { setAmazonCredential(input: $i) { credentialConfigured } }",
        json!({ "i": { "lwaClientId": spapi_sim::DEFAULT_CLIENT_ID, "lwaClientSecret": spapi_sim::DEFAULT_CLIENT_SECRET,
                       "refreshToken": spapi_sim::DEFAULT_REFRESH_TOKEN } })).await;
    assert!(!cred.to_string().contains(spapi_sim::DEFAULT_CLIENT_SECRET));
    let ping = post(
        &base,
        token,
        "mutation { pingSpApi { lastCheckOk } }",
        Value::Null,
    )
    .await;
    assert_eq!(ping["data"]["pingSpApi"]["lastCheckOk"], true);
    let run = post(
        &base,
        token,
        "mutation { syncAmazonOrders(wait: true) { status ordersInserted } }",
        Value::Null,
    )
    .await;
    assert_eq!(
        run["data"]["syncAmazonOrders"]["status"], "SUCCEEDED",
        "{run}"
    );

    // Read every order back through the API, 50 a page.
    let mut ours = BTreeMap::new();
    let mut after = Value::Null;
    loop {
        let page = post(&base, token,
            "query($after: String) { amazonOrders(first: 50, after: $after) { pageInfo { hasNextPage endCursor } edges { node { amazonOrderId orderTotal { amount currencyCode } items { orderItemId itemPrice { amount } } } } } }",
            json!({ "after": after })).await;
        let conn = &page["data"]["amazonOrders"];
        for e in conn["edges"].as_array().unwrap() {
            let n = &e["node"];
            let total = n["orderTotal"]["amount"]
                .as_str()
                .map(|a| format!("{} {a}", n["orderTotal"]["currencyCode"].as_str().unwrap()));
            let mut items: Vec<String> = n["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    format!(
                        "{} {}",
                        i["orderItemId"].as_str().unwrap(),
                        i["itemPrice"]["amount"].as_str().unwrap_or("none")
                    )
                })
                .collect();
            items.sort();
            assert!(
                ours.insert(
                    n["amazonOrderId"].as_str().unwrap().to_owned(),
                    (total, items)
                )
                .is_none(),
                "an order listed twice"
            );
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    let truth: BTreeMap<String, (Option<String>, Vec<String>)> = sim
        .ground_truth()
        .into_iter()
        .map(|o| {
            let mut items: Vec<String> = o
                .items
                .iter()
                .map(|i| {
                    format!(
                        "{} {}",
                        i.order_item_id,
                        i.item_price.as_ref().map_or("none", |m| m.amount.as_str())
                    )
                })
                .collect();
            items.sort();
            (
                o.amazon_order_id,
                (
                    o.order_total
                        .map(|m| format!("{} {}", m.currency_code, m.amount)),
                    items,
                ),
            )
        })
        .collect();
    assert_eq!(ours, truth);

    // Follow a second run over the WebSocket (graphql-transport-ws).
    let since = (sim.now() - chrono::Duration::days(2)).to_rfc3339();
    let started = post(
        &base,
        token,
        "mutation($since: DateTime!) { syncAmazonOrders(since: $since) { id } }",
        json!({ "since": since }),
    )
    .await;
    let id = started["data"]["syncAmazonOrders"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |v: Value| Message::text(v.to_string());
    ws.send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {bearer}") } }))).await.unwrap();
    ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { syncRunUpdated(id: $id) { status } }", "variables": { "id": id } } }))).await.unwrap();
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(text.as_str()).unwrap();
        match v["type"].as_str() {
            Some("next") => statuses.push(
                v["payload"]["data"]["syncRunUpdated"]["status"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            Some("complete") => break,
            Some("error") => panic!("subscription error: {v}"),
            _ => {}
        }
    }
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("SUCCEEDED"),
        "{statuses:?}"
    );

    // The operator's view of all that.
    let metrics = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth("scrape-token-0123456789")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "orders_sync_runs_total{status=\"succeeded\"} 2",
        "orders_sync_runs_total{status=\"failed\"} 0",
        "orders_upserted_total 120",
        "spapi_calls_total{operation=\"searchOrders\"}",
        "spapi_calls_total{operation=\"getMarketplaceParticipations\"}",
        "orders_sync_seconds_since_success ",
        "http_requests_total ",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected:?} missing from:\n{metrics}"
        );
    }
}
