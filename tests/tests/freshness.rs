//! The freshness loop beside the api: a sync asked for while the schedule's run
//! holds the orders lease waits for that run and runs next, on both databases.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{TestApi, error_codes};
use entity::enums::{SyncKind, SyncStatus, SyncTrigger};
use entity::{sync_lease, sync_runs};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use spapi_sim::{SimConfig, SimHandle, Simulator};
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

/// A scheduled orders run of another process, holding the lease as the loop's does.
async fn scheduled_run_holding_the_lease(api: &TestApi, trigger: SyncTrigger) -> i64 {
    let now = chrono::Utc::now();
    let run = sync_runs::ActiveModel {
        kind: Set(SyncKind::Orders),
        trigger: Set(trigger),
        status: Set(SyncStatus::Running),
        dry_run: Set(false),
        include_items: Set(true),
        pages: Set(0),
        api_calls: Set(0),
        throttled: Set(0),
        found: Set(0),
        inserted: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        items_upserted: Set(0),
        started_at: Set(now),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap();
    sync_lease::ActiveModel {
        name: Set(service::lease::ORDERS_SYNC.to_owned()),
        holder: Set("worker-host:1:loop".to_owned()),
        run_id: Set(Some(run.id)),
        acquired_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(60)),
    }
    .insert(&api.t.db)
    .await
    .unwrap();
    run.id
}

/// What the other process does when its run ends: the run finished, the lease gone.
async fn finish(api: &TestApi, run_id: i64) {
    let mut run: sync_runs::ActiveModel = sync_runs::Entity::find_by_id(run_id)
        .one(&api.t.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    run.status = Set(SyncStatus::Succeeded);
    run.finished_at = Set(Some(chrono::Utc::now()));
    run.update(&api.t.db).await.unwrap();
    sync_lease::Entity::delete_by_id(service::lease::ORDERS_SYNC.to_owned())
        .exec(&api.t.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_manual_sync_meeting_the_schedules_run_waits_for_it_and_runs_next() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(&api, &owner, 30).await;
    let loop_run = scheduled_run_holding_the_lease(&api, SyncTrigger::Schedule).await;

    let (answer, ()) = tokio::join!(
        api.run(
            Some(&owner),
            "mutation { syncAmazonOrders(wait: true) { id status trigger ordersInserted } }",
            Value::Null,
        ),
        async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            finish(&api, loop_run).await;
        }
    );

    assert!(answer["errors"].is_null(), "served, not refused: {answer}");
    let run = &answer["data"]["syncAmazonOrders"];
    assert_ne!(run["id"], loop_run.to_string(), "a run of its own: {run}");
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["trigger"], "MANUAL");
    assert_eq!(run["ordersInserted"], 30);
}

#[tokio::test]
async fn a_manual_sync_meeting_another_requested_run_is_still_refused_at_once() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(&api, &owner, 5).await;
    scheduled_run_holding_the_lease(&api, SyncTrigger::Cli).await;

    let started = std::time::Instant::now();
    let answer = api
        .run(
            Some(&owner),
            "mutation { syncAmazonOrders { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(error_codes(&answer), ["SYNC_ALREADY_RUNNING"], "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no wait for a requested run"
    );
}
