//! `ordersChanged` through the schema: the pages another process commits reach a
//! subscriber of the api, on SQLite (polling) and PostgreSQL (LISTEN/NOTIFY)
//! (`TEST_PG_URL`).

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::TestApi;
use entity::enums::{SyncStatus, SyncTrigger};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use service::amazon_account::EncryptionKey;
use service::sync::{SyncOptions, SyncRequest, Syncer};
use spapi_sim::{SimConfig, SimHandle, Simulator};
use std::collections::BTreeSet;
use std::time::Duration;

async fn connected(api: &TestApi, owner: &str, orders: usize) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        orders,
        seed: 9,
        days: 3,
        time_scale: 100.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.settle(chrono::Duration::seconds(200)).await;
    let saved = api
        .run(
            Some(owner),
            "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { sellerId } }",
            json!({ "input": {
                "sellerId": "A2SIM", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER"],
                "ordersApiVersion": "V2026_01_01", "endpoint": sim.base_url(), "tokenUrl": sim.token_url()
            } }),
        )
        .await;
    assert!(saved["errors"].is_null(), "{saved}");
    let cred = api
        .run(
            Some(owner),
            "mutation($input: AmazonCredentialInput!) { setAmazonCredential(input: $input) { credentialConfigured } }",
            json!({ "input": {
                "lwaClientId": spapi_sim::DEFAULT_CLIENT_ID,
                "lwaClientSecret": spapi_sim::DEFAULT_CLIENT_SECRET,
                "refreshToken": spapi_sim::DEFAULT_REFRESH_TOKEN,
            } }),
        )
        .await;
    assert!(cred["errors"].is_null(), "{cred}");
    sim
}

#[tokio::test]
async fn orders_changed_reaches_a_subscriber_for_orders_another_process_commits() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(&api, &owner, 150).await;

    // A subscriber of the api…
    let request = async_graphql::Request::new(
        "subscription { ordersChanged { runId inserted updated amazonOrderIds } }",
    )
    .data(api::schema::RequestAuth::bearer(owner.as_str()));
    let mut stream = api.schema.execute_stream(request);
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let follower = tokio::spawn(async move {
        while let Some(r) = stream.next().await {
            if tx.send(serde_json::to_value(r).unwrap()).is_err() {
                break;
            }
        }
    });
    // …listening (PostgreSQL) or polling (SQLite) before anything commits.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Another process: its own pool on the same database and its own syncer,
    // sharing nothing with the api but the database.
    let other = service::db::open(&api.t.url).await.unwrap();
    let syncer = Syncer::new(
        other.clone(),
        std::sync::Arc::new(EncryptionKey::from_bytes(
            *api.settings.encryption_key.expose(),
        )),
        api.settings.sync.clone(),
    );
    let options = SyncOptions {
        trigger: SyncTrigger::Cli,
        ..SyncOptions::default()
    };
    let outcome = syncer.run(SyncRequest::Orders, options).await.unwrap();
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.progress.inserted, 150);
    assert!(outcome.progress.pages > 1, "several pages: {outcome:?}");

    let mut ids = BTreeSet::new();
    let mut inserted = 0;
    let mut pages = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ids.len() < 150 {
        let Ok(Some(r)) = tokio::time::timeout_at(deadline, events.recv()).await else {
            panic!("only {} of 150 orders were told", ids.len());
        };
        assert!(r["errors"].is_null(), "{r}");
        let e = &r["data"]["ordersChanged"];
        assert_eq!(e["runId"], outcome.run_id.to_string(), "{e}");
        assert_eq!(e["updated"], 0, "{e}");
        inserted += e["inserted"].as_i64().unwrap();
        pages += 1;
        for id in e["amazonOrderIds"].as_array().unwrap() {
            ids.insert(id.as_str().unwrap().to_owned());
        }
    }
    follower.abort();

    assert_eq!(inserted, 150);
    assert!(pages > 1, "one event per committed page, not one per run");
    let ours: BTreeSet<String> = api
        .t
        .strings("SELECT amazon_order_id FROM amazon_order")
        .await
        .into_iter()
        .collect();
    assert_eq!(ids, ours, "every committed order was told, and only those");
}
