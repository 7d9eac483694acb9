//! The sync monitor: alerts fire once when their condition starts and clear once
//! when it ends, reach the webhook, and show in `syncHealth`.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::{Duration, Utc};
use e2e::{TestApi, TestDb};
use entity::enums::{SyncStatus, SyncTrigger};
use entity::sync_runs;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use service::monitor::{AlertSettings, evaluate};

async fn run(
    db: &sea_orm::DatabaseConnection,
    status: SyncStatus,
    ago_minutes: i64,
    failure: Option<&str>,
) {
    let at = Utc::now() - Duration::minutes(ago_minutes);
    sync_runs::ActiveModel {
        kind: Set(entity::enums::SyncKind::Orders),
        trigger: Set(SyncTrigger::Schedule),
        status: Set(status),
        error: Set((status == SyncStatus::Failed)
            .then(|| "LWA rejected the credentials (invalid_grant): re-authorize".to_owned())),
        metadata: Set(Some(json!({ "failure": failure }))),
        started_at: Set(at),
        finished_at: Set(Some(at)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

fn names(t: &[service::monitor::Transition]) -> Vec<String> {
    let mut v: Vec<String> = t
        .iter()
        .map(|t| format!("{} {}", t.kind.name(), t.state))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn alerts_fire_once_when_a_condition_starts_and_clear_once_when_it_ends() {
    let t = TestDb::migrated().await;
    let s = AlertSettings::default();
    for ago in [30, 20, 10] {
        run(&t.db, SyncStatus::Failed, ago, Some("amazon_auth")).await;
    }

    let fired = evaluate(&t.db, &s).await.unwrap();
    assert_eq!(
        names(&fired),
        [
            "credentials_rejected fired",
            "freshness fired",
            "sync_failures fired"
        ]
    );
    assert!(
        evaluate(&t.db, &s).await.unwrap().is_empty(),
        "no storm: nothing new"
    );

    run(&t.db, SyncStatus::Succeeded, 0, None).await;
    let cleared = evaluate(&t.db, &s).await.unwrap();
    assert_eq!(
        names(&cleared),
        [
            "credentials_rejected cleared",
            "freshness cleared",
            "sync_failures cleared"
        ]
    );
    assert!(evaluate(&t.db, &s).await.unwrap().is_empty());
}

#[tokio::test]
async fn transitions_reach_the_webhook_as_json() {
    let t = TestDb::migrated().await;
    for ago in [30, 20, 10] {
        run(&t.db, SyncStatus::Failed, ago, Some("other")).await;
    }
    let received = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<Value>::new()));
    let sink = std::sync::Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = std::sync::Arc::clone(&sink);
            async move {
                sink.lock().await.push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let transitions = evaluate(&t.db, &AlertSettings::default()).await.unwrap();
    service::monitor::notify(Some(&url), transitions);

    for _ in 0..100 {
        if received.lock().await.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = received.lock().await.clone();
    let mut kinds: Vec<&str> = got.iter().map(|v| v["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["freshness", "sync_failures"], "{got:?}");
    assert!(
        got.iter()
            .all(|v| v["state"] == "fired" && v["message"].is_string())
    );
}

#[tokio::test]
async fn sync_health_shows_the_lag_the_failures_and_the_active_alerts() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    run(&api.t.db, SyncStatus::Succeeded, 90, None).await;
    for ago in [60, 40, 20] {
        run(
            &api.t.db,
            SyncStatus::Failed,
            ago,
            Some("amazon_unavailable"),
        )
        .await;
    }

    let r = api
        .run(
            Some(&owner),
            "{ syncHealth { ok lagSeconds consecutiveFailures activeAlerts { kind since message } } }",
            Value::Null,
        )
        .await;

    assert!(r["errors"].is_null(), "{r}");
    let h = &r["data"]["syncHealth"];
    assert_eq!(h["ok"], false);
    assert_eq!(h["consecutiveFailures"], 3);
    assert!(h["lagSeconds"].as_i64().unwrap() >= 90 * 60);
    let mut kinds: Vec<&str> = h["activeAlerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["freshness", "sync_failures"], "{h}");
}

/// A price change of `sku` in `state`, ended `ended_ago` ago, with Amazon's issue.
async fn change(
    db: &sea_orm::DatabaseConnection,
    sku: &str,
    state: entity::enums::ListingChangeState,
    ended_ago: Duration,
    issue: Option<&str>,
) -> entity::listing_change::Model {
    use entity::amazon_listing::Issue;
    let at = Utc::now() - ended_ago;
    let issues: Vec<Issue> = issue
        .map(|m| Issue {
            code: "90000900".to_owned(),
            severity: "ERROR".to_owned(),
            message: m.to_owned(),
        })
        .into_iter()
        .collect();
    entity::listing_change::ActiveModel {
        marketplace_id: Set("ATVPDKIKX0DER".to_owned()),
        seller_sku: Set(sku.to_owned()),
        desired_currency: Set(Some("USD".to_owned())),
        desired_price: Set(Some("19.99".parse().unwrap())),
        state: Set(state),
        two_phase: Set(false),
        issues: Set(serde_json::to_value(issues).unwrap()),
        attempts: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        finished_at: Set(state.is_final().then_some(at)),
        submit_via: Set(entity::enums::SubmitVia::Patch),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn price_changes_in_conflict_or_not_reaching_amazon_raise_one_alert_until_the_seller_acts() {
    use entity::enums::ListingChangeState as S;
    let t = TestDb::migrated().await;
    let s = AlertSettings::default();
    // Old news and changes that went well raise nothing.
    change(
        &t.db,
        "MUG-OLD",
        S::Failed,
        Duration::days(2),
        Some("too old"),
    )
    .await;
    change(&t.db, "MUG-OK", S::Done, Duration::minutes(5), None).await;
    change(&t.db, "MUG-WAIT", S::Submitted, Duration::minutes(5), None).await;
    assert!(evaluate(&t.db, &s).await.unwrap().is_empty());

    let conflict = change(&t.db, "MUG-A", S::Conflict, Duration::minutes(30), None).await;
    change(
        &t.db,
        "MUG-B",
        S::Failed,
        Duration::minutes(20),
        Some("'purchaseable_offer' is not a valid attribute"),
    )
    .await;
    change(&t.db, "MUG-C", S::NotApplied, Duration::minutes(10), None).await;
    assert_eq!(
        names(&evaluate(&t.db, &s).await.unwrap()),
        ["listing_changes fired"]
    );
    let health = service::monitor::health(&t.db, &s).await.unwrap();
    let alert = health
        .active_alerts
        .iter()
        .find(|a| a.kind == service::monitor::AlertKind::ListingChanges)
        .unwrap();
    assert_eq!(
        alert.message,
        "3 price or quantity change(s) need attention: 1 in conflict (override or cancel it), \
         1 not applied by Amazon in time, 1 failed; the first: MUG-A in ATVPDKIKX0DER: the live \
         price moved since it was queued (see Listings, Price & quantity queue)"
    );

    // The seller cancels the conflict and queues new changes for the other two.
    service::listings::resolve_conflict(
        &t.db,
        conflict.id,
        service::listings::ConflictAction::Cancel,
        "seller@example.com",
    )
    .await
    .unwrap();
    change(&t.db, "MUG-B", S::Queued, Duration::zero(), None).await;
    assert!(
        evaluate(&t.db, &s).await.unwrap().is_empty(),
        "one change still needs attention: the alert stays"
    );
    change(&t.db, "MUG-C", S::Done, Duration::zero(), None).await;
    assert_eq!(
        names(&evaluate(&t.db, &s).await.unwrap()),
        ["listing_changes cleared"]
    );
}
