//! Listings and the change queue over GraphQL against spapi-sim, on SQLite and
//! PostgreSQL: only the owner syncs, queues, submits and resolves; anyone signed
//! in reads; nobody else. The whole journey: sync the catalog, queue from the
//! table and from a CSV (a bad line named by its number), a conflict made by a
//! repricer, a dry run, a two-phase submit followed until live.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::TestApi;
use entity::enums::OrdersApiVersion;
use serde_json::{Value, json};
use spapi_sim::{SimConfig, Simulator};

const US: &str = "ATVPDKIKX0DER";

async fn connected(api: &TestApi) -> spapi_sim::SimHandle {
    let sim = Simulator::start(SimConfig {
        orders: 30,
        seed: 5,
        days: 10,
        time_scale: 100.0,
        marketplaces: vec![US.to_owned()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    e2e::connect_to_simulator(
        &api.t.db,
        &api.settings.encryption_key,
        &sim,
        spapi_sim::DEFAULT_SELLER_ID,
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

const CHANGE: &str = "id sellerSku state desiredPrice { amount currencyCode } desiredQuantity
    priceWhenQueued { amount } livePrice { amount } issues { code message } history { state at }";

#[tokio::test]
async fn only_the_owner_changes_listings_and_anyone_signed_in_reads_them() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    let _sim = connected(&api).await;

    for mutation in [
        "mutation { syncAmazonListings(wait: true) { id } }",
        "mutation { queueListingChanges(changes: [{marketplaceId: \"ATVPDKIKX0DER\", sellerSku: \"A\", price: \"1.00\"}]) { id } }",
        "mutation { queueListingChangesCsv(csv: \"sku,marketplace_id,price,quantity\\nA,ATVPDKIKX0DER,1.00,\") { id } }",
        "mutation { submitListingChanges { id } }",
        "mutation { resolveListingConflict(id: \"1\", action: CANCEL) { id } }",
        "mutation { cancelListingFeed(feedId: \"50000000001\") { feedId } }",
    ] {
        let refused = api.run(Some(&viewer), mutation, Value::Null).await;
        assert_eq!(
            e2e::error_codes(&refused),
            ["FORBIDDEN"],
            "{mutation}: {refused}"
        );
        let anonymous = api.run(None, mutation, Value::Null).await;
        assert_eq!(
            e2e::error_codes(&anonymous),
            ["UNAUTHENTICATED"],
            "{mutation}: {anonymous}"
        );
    }
    for query in [
        "{ amazonListings { totalCount edges { cursor } } }",
        "{ listingChanges { totalCount edges { cursor } } }",
        "{ listingFeeds { totalCount edges { cursor } } }",
    ] {
        let anonymous = api.run(None, query, Value::Null).await;
        assert_eq!(
            e2e::error_codes(&anonymous),
            ["UNAUTHENTICATED"],
            "{query}: {anonymous}"
        );
        ok(&api, &viewer, query, Value::Null).await;
    }
}

#[tokio::test]
async fn the_seller_queues_checks_and_pushes_prices_and_quantities_to_amazon() {
    let api = TestApi::with_vars(&[("LISTINGS_POLL_SECS", "1")]).await;
    let owner = api.owner_token().await;
    let sim = connected(&api).await;

    // The catalog.
    let run = ok(
        &api,
        &owner,
        "mutation { syncAmazonListings(wait: true, full: true) { kind status found } }",
        Value::Null,
    )
    .await;
    assert_eq!(run["syncAmazonListings"]["kind"], "LISTINGS");
    assert_eq!(run["syncAmazonListings"]["status"], "SUCCEEDED");
    let truth = sim.listings_ground_truth();
    let page = ok(
        &api,
        &owner,
        "{ amazonListings(first: 200) { totalCount edges { node {
            sellerSku status fulfillmentChannel price { amount currencyCode } quantity productType } } } }",
        Value::Null,
    )
    .await;
    assert_eq!(page["amazonListings"]["totalCount"], truth.len());
    let mfn: Vec<&spapi_sim::SimListing> = truth
        .iter()
        .filter(|l| l.fulfillment_channel == "MFN" && l.price.is_some())
        .collect();
    let (a, b, c) = (mfn[0], mfn[1], mfn[2]);
    let price = |l: &spapi_sim::SimListing| -> rust_decimal::Decimal {
        l.price.as_ref().unwrap().amount.parse().unwrap()
    };

    // A bad CSV line is named and nothing is queued.
    let bad = api
        .run(
            Some(&owner),
            "mutation($csv: String!) { queueListingChangesCsv(csv: $csv) { id } }",
            json!({"csv": format!("sku,marketplace_id,price,quantity\n{},{US},1.00,\n{},{US},abc,\n", a.sku, b.sku)}),
        )
        .await;
    assert_eq!(e2e::error_codes(&bad), ["BAD_USER_INPUT"], "{bad}");
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{bad}"
    );

    // Queue: a raised price with a quantity (two-phase), a lower price, and one
    // that a repricer will overtake.
    let raised = (price(a) + rust_decimal::Decimal::ONE).to_string();
    let lower = (price(b) - rust_decimal::Decimal::ONE).to_string();
    let csv = format!(
        "sku,marketplace_id,price,quantity\n{},{US},{raised},9\n{},{US},{lower},\n{},{US},5.55,\n",
        a.sku, b.sku, c.sku
    );
    let queued = ok(
        &api,
        &owner,
        &format!("mutation($csv: String!) {{ queueListingChangesCsv(csv: $csv) {{ {CHANGE} }} }}"),
        json!({"csv": csv}),
    )
    .await;
    let queued = queued["queueListingChangesCsv"].as_array().unwrap().clone();
    assert_eq!(queued.len(), 3);
    assert!(queued.iter().all(|c| c["state"] == "QUEUED"));
    sim.reprice(US, &c.sku, "7.77").unwrap();

    // Dry run: nothing changes on Amazon.
    let dry = ok(
        &api,
        &owner,
        &format!("mutation {{ submitListingChanges(dryRun: true) {{ {CHANGE} }} }}"),
        Value::Null,
    )
    .await;
    let states: Vec<&str> = dry["submitListingChanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["VALIDATED", "VALIDATED", "CONFLICT"], "{dry}");
    assert!(sim.listing_submissions().iter().all(|s| s.preview));

    // Submit; the API follows them until live.
    ok(
        &api,
        &owner,
        "mutation { submitListingChanges { id state } }",
        Value::Null,
    )
    .await;
    let mut last = Value::Null;
    for _ in 0..200 {
        last = ok(
            &api,
            &owner,
            &format!("{{ listingChanges(filter: {{states: [DONE]}}) {{ totalCount edges {{ node {{ {CHANGE} }} }} }} }}"),
            Value::Null,
        )
        .await;
        if last["listingChanges"]["totalCount"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last["listingChanges"]["totalCount"], 2, "{last}");
    let two_phase = last["listingChanges"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["sellerSku"] == a.sku.as_str())
        .unwrap();
    let steps: Vec<&str> = two_phase["node"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["QUEUED", "VALIDATED", "SUBMITTED", "PRICE_LIVE", "DONE"],
        "{two_phase}"
    );
    let live = sim.listings_ground_truth();
    let find = |sku: &str| live.iter().find(|l| l.sku == sku).unwrap();
    assert_eq!(find(&a.sku).price.as_ref().unwrap().amount, raised);
    assert_eq!(find(&a.sku).quantity, Some(9));
    assert_eq!(find(&b.sku).price.as_ref().unwrap().amount, lower);
    assert_eq!(
        find(&c.sku).price.as_ref().unwrap().amount,
        "7.77",
        "the conflict was not pushed"
    );

    // The conflict, overridden, goes out too.
    let conflict = queued
        .iter()
        .find(|q| q["sellerSku"] == c.sku.as_str())
        .unwrap();
    let resolved = ok(
        &api,
        &owner,
        "mutation($id: ID!) { resolveListingConflict(id: $id, action: OVERRIDE) { state priceWhenQueued { amount } } }",
        json!({"id": conflict["id"]}),
    )
    .await;
    assert_eq!(resolved["resolveListingConflict"]["state"], "QUEUED");
    assert_eq!(
        resolved["resolveListingConflict"]["priceWhenQueued"]["amount"],
        "7.77"
    );
}

#[tokio::test]
async fn the_seller_sends_changes_as_one_feed_and_reads_each_items_result() {
    let api = TestApi::with_vars(&[("LISTINGS_POLL_SECS", "1")]).await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    let sim = connected(&api).await;
    ok(
        &api,
        &owner,
        "mutation { syncAmazonListings(wait: true, full: true) { status } }",
        Value::Null,
    )
    .await;
    let priced: Vec<spapi_sim::SimListing> = sim
        .listings_ground_truth()
        .into_iter()
        .filter(|l| l.price.is_some())
        .take(5)
        .collect();
    let csv = priced.iter().fold(
        "sku,marketplace_id,price,quantity\n".to_owned(),
        |csv, l| {
            let p: rust_decimal::Decimal = l.price.as_ref().unwrap().amount.parse().unwrap();
            format!("{csv}{},{US},{},\n", l.sku, p + rust_decimal::Decimal::ONE)
        },
    );
    ok(
        &api,
        &owner,
        "mutation($csv: String!) { queueListingChangesCsv(csv: $csv) { id } }",
        json!({"csv": csv}),
    )
    .await;
    let sent = ok(
        &api,
        &owner,
        "mutation { submitListingChanges(via: FEED) { id submitVia } }",
        Value::Null,
    )
    .await;
    assert_eq!(sent["submitListingChanges"].as_array().unwrap().len(), 5);

    let feeds = "{ listingFeeds { totalCount edges { node { feedId marketplaceId state messages
        messagesProcessed messagesAccepted messagesInvalid errors warnings submittedAt finishedAt
        items { sellerSku state changeState issues { code } } } } } }";
    let mut last = Value::Null;
    for _ in 0..200 {
        last = ok(&api, &viewer, feeds, Value::Null).await;
        let node = &last["listingFeeds"]["edges"][0]["node"];
        if node["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty() && i.iter().all(|i| i["changeState"] == "DONE"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let node = &last["listingFeeds"]["edges"][0]["node"];
    assert_eq!(last["listingFeeds"]["totalCount"], 1, "{last}");
    assert_eq!(node["state"], "DONE", "{last}");
    assert_eq!(node["marketplaceId"], US);
    assert_eq!(node["messages"], 5);
    assert_eq!(node["messagesAccepted"], 5);
    assert_eq!(node["messagesInvalid"], 0);
    assert!(node["finishedAt"].is_string());
    let items = node["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(
        items
            .iter()
            .all(|i| i["state"] == "ACCEPTED" && i["changeState"] == "DONE"),
        "{last}"
    );
    let feed_id = node["feedId"].as_str().unwrap().to_owned();
    assert_eq!(sim.feeds()[0].feed_id, feed_id);
    let changes = ok(
        &api,
        &owner,
        "{ listingChanges { edges { node { submitVia submissionId } } } }",
        Value::Null,
    )
    .await;
    for e in changes["listingChanges"]["edges"].as_array().unwrap() {
        assert_eq!(e["node"]["submitVia"], "FEED");
        assert_eq!(e["node"]["submissionId"], format!("feed:{feed_id}"));
    }

    let late = api
        .run(
            Some(&owner),
            "mutation($id: String!) { cancelListingFeed(feedId: $id) { state } }",
            json!({"id": feed_id}),
        )
        .await;
    assert_eq!(e2e::error_codes(&late), ["BAD_USER_INPUT"], "{late}");
    assert!(
        late["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("only a feed still IN_QUEUE"),
        "{late}"
    );
}
