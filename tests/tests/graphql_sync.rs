//! `pingSpApi` and `syncAmazonOrders` through the schema, against spapi-sim.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{TestApi, error_codes};
use serde_json::{Value, json};
use spapi_sim::{SimConfig, SimHandle, Simulator};
use std::time::Duration;

const RUN_FIELDS: &str = "id kind status trigger dryRun includeItems ordersFound ordersInserted itemsUpserted apiCalls error";

async fn connected(
    api: &TestApi,
    owner: &str,
    orders: usize,
    version: &str,
    refresh_token: &str,
) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        orders,
        seed: 5,
        days: 5,
        time_scale: 100.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // Let the newest order age past Amazon's two-minute listing lag.
    sim.settle(chrono::Duration::seconds(200)).await;
    let saved = api
        .run(
            Some(owner),
            "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { sellerId } }",
            json!({ "input": {
                "sellerId": "A2SIM", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER"],
                "ordersApiVersion": version, "endpoint": sim.base_url(), "tokenUrl": sim.token_url()
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
                "refreshToken": refresh_token,
            } }),
        )
        .await;
    assert!(cred["errors"].is_null(), "{cred}");
    sim
}

#[tokio::test]
async fn ping_records_success_and_a_rejected_refresh_token_as_a_result_a_person_can_act_on() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(
        &api,
        &owner,
        5,
        "V2026_01_01",
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await;

    let ok = api
        .run(
            Some(&owner),
            "mutation { pingSpApi { lastCheckAt lastCheckOk lastCheckError } }",
            Value::Null,
        )
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
    assert_eq!(ok["data"]["pingSpApi"]["lastCheckOk"], true);
    assert!(ok["data"]["pingSpApi"]["lastCheckAt"].is_string());

    let _sim2 = connected(&api, &owner, 5, "V2026_01_01", "Atzr|revoked").await;
    let bad = api
        .run(
            Some(&owner),
            "mutation { pingSpApi { lastCheckOk lastCheckError } }",
            Value::Null,
        )
        .await;
    assert!(bad["errors"].is_null(), "{bad}");
    assert_eq!(bad["data"]["pingSpApi"]["lastCheckOk"], false);
    let message = bad["data"]["pingSpApi"]["lastCheckError"].as_str().unwrap();
    assert!(
        message.contains("invalid_grant") && message.contains("re-authorize"),
        "{message}"
    );
    assert!(
        !message.contains("Atzr|revoked"),
        "the refresh token leaked: {message}"
    );
}

#[tokio::test]
async fn a_sync_that_waits_returns_the_finished_run_and_the_orders_are_listed() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(
        &api,
        &owner,
        40,
        "V2026_01_01",
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await;

    let r = api
        .run(
            Some(&owner),
            &format!("mutation {{ syncAmazonOrders(wait: true) {{ {RUN_FIELDS} }} }}"),
            Value::Null,
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let run = &r["data"]["syncAmazonOrders"];
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["kind"], "ORDERS");
    assert_eq!(run["trigger"], "MANUAL");
    assert_eq!(run["ordersInserted"], 40);

    let listed = api
        .run(
            Some(&owner),
            "{ amazonOrders(first: 5) { totalCount } }",
            Value::Null,
        )
        .await;
    assert_eq!(listed["data"]["amazonOrders"]["totalCount"], 40, "{listed}");
    let conn = api
        .run(
            Some(&owner),
            "{ amazonConnection { lastOrdersSyncStatus lastOrdersSyncOrdersCount } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        conn["data"]["amazonConnection"]["lastOrdersSyncStatus"], "SUCCEEDED",
        "{conn}"
    );
}

#[tokio::test]
async fn a_background_sync_returns_running_and_a_second_one_is_refused_with_the_running_id() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(&api, &owner, 300, "V0", spapi_sim::DEFAULT_REFRESH_TOKEN).await;

    let first = api
        .run(
            Some(&owner),
            &format!("mutation {{ syncAmazonOrders {{ {RUN_FIELDS} }} }}"),
            Value::Null,
        )
        .await;
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(first["data"]["syncAmazonOrders"]["status"], "RUNNING");
    let id = first["data"]["syncAmazonOrders"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let second = api
        .run(
            Some(&owner),
            &format!("mutation {{ syncAmazonOrders {{ {RUN_FIELDS} }} }}"),
            Value::Null,
        )
        .await;
    assert_eq!(error_codes(&second), ["SYNC_ALREADY_RUNNING"], "{second}");
    assert_eq!(
        second["errors"][0]["extensions"]["runningRunId"],
        id.as_str()
    );

    // The first run finishes on its own.
    let mut status = Value::Null;
    for _ in 0..300 {
        let r = api
            .run(
                Some(&owner),
                "query($id: ID!) { syncRun(id: $id) { status ordersInserted } }",
                json!({"id": id}),
            )
            .await;
        status = r["data"]["syncRun"].clone();
        if status["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["status"], "SUCCEEDED", "{status}");
    assert_eq!(status["ordersInserted"], 300);
}

#[tokio::test]
async fn a_dry_run_through_the_api_writes_no_orders() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(
        &api,
        &owner,
        20,
        "V2026_01_01",
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await;
    let r = api
        .run(
            Some(&owner),
            &format!(
                "mutation {{ syncAmazonOrders(dryRun: true, wait: true) {{ {RUN_FIELDS} }} }}"
            ),
            Value::Null,
        )
        .await;
    assert_eq!(r["data"]["syncAmazonOrders"]["dryRun"], true, "{r}");
    assert_eq!(r["data"]["syncAmazonOrders"]["ordersInserted"], 20);
    let listed = api
        .run(
            Some(&owner),
            "{ amazonOrders(first: 5) { totalCount } }",
            Value::Null,
        )
        .await;
    assert_eq!(listed["data"]["amazonOrders"]["totalCount"], 0);
}

#[tokio::test]
async fn syncing_before_amazon_is_configured_says_so() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let r = api
        .run(
            Some(&owner),
            "mutation { syncAmazonOrders(wait: true) { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(error_codes(&r), ["NOT_CONFIGURED"], "{r}");
    let p = api
        .run(
            Some(&owner),
            "mutation { pingSpApi { lastCheckOk } }",
            Value::Null,
        )
        .await;
    assert_eq!(error_codes(&p), ["NOT_CONFIGURED"], "{p}");
}

#[tokio::test]
async fn a_subscription_follows_a_background_run_page_by_page_to_its_end() {
    use futures_util::StreamExt as _;
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(&api, &owner, 300, "V0", spapi_sim::DEFAULT_REFRESH_TOKEN).await;
    let started = api
        .run(
            Some(&owner),
            "mutation { syncAmazonOrders { id status } }",
            Value::Null,
        )
        .await;
    let id = started["data"]["syncAmazonOrders"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let request = async_graphql::Request::new(
        "subscription($id: ID!) { syncRunUpdated(id: $id) { status pages ordersFound } }",
    )
    .variables(async_graphql::Variables::from_json(json!({ "id": id })))
    .data(api::schema::RequestAuth::bearer(owner.as_str()));
    let updates: Vec<Value> = tokio::time::timeout(
        Duration::from_secs(120),
        api.schema
            .execute_stream(request)
            .map(|r| serde_json::to_value(r).unwrap())
            .collect(),
    )
    .await
    .expect("the stream ends when the run ends");

    assert!(updates.iter().all(|u| u["errors"].is_null()), "{updates:?}");
    let runs: Vec<&Value> = updates
        .iter()
        .map(|u| &u["data"]["syncRunUpdated"])
        .collect();
    assert_eq!(runs.last().unwrap()["status"], "SUCCEEDED", "{runs:?}");
    assert_eq!(runs.last().unwrap()["ordersFound"], 300);
    assert!(
        runs.iter()
            .any(|r| r["status"] == "RUNNING" && r["pages"].as_i64().unwrap() > 0),
        "no progress while running: {runs:?}"
    );

    let anonymous = api
        .schema
        .execute_stream(async_graphql::Request::new(format!(
            "subscription {{ syncRunUpdated(id: \"{id}\") {{ status }} }}"
        )))
        .map(|r| serde_json::to_value(r).unwrap())
        .collect::<Vec<_>>()
        .await;
    assert_eq!(
        error_codes(&anonymous[0]),
        ["UNAUTHENTICATED"],
        "{anonymous:?}"
    );
}

#[tokio::test]
async fn a_waited_sync_that_amazon_ends_is_an_error_code_saying_what_to_do_with_the_run_id() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let _sim = connected(&api, &owner, 10, "V2026_01_01", "Atzr|revoked").await;
    let r = api
        .run(
            Some(&owner),
            "mutation { syncAmazonOrders(wait: true) { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(error_codes(&r), ["SPAPI_AUTH_FAILED"], "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("re-authorize"),
        "{r}"
    );
    let run_id = r["errors"][0]["extensions"]["runId"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = api
        .run(
            Some(&owner),
            "query($id: ID!) { syncRun(id: $id) { status error } }",
            json!({ "id": run_id }),
        )
        .await;
    assert_eq!(run["data"]["syncRun"]["status"], "FAILED", "{run}");

    let sim = connected(
        &api,
        &owner,
        10,
        "V2026_01_01",
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await;
    sim.set_faults(spapi_sim::Faults {
        error_503: 1.0,
        operations: vec!["searchOrders".into()],
        ..spapi_sim::Faults::default()
    });
    let r = api
        .run(
            Some(&owner),
            "mutation { syncAmazonOrders(wait: true) { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(error_codes(&r), ["SPAPI_UNAVAILABLE"], "{r}");
}
