//! `worker run`, the real binary against spapi-sim: a tick drives a real sync, SIGTERM
//! stops cleanly, replicas never overlap, kill -9 is survived, and a spent quota
//! skips a run instead of queueing it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use chrono::{DateTime, Utc};
use common::{Setup, command, setup, setup_with};
use entity::enums::{OrdersApiVersion, SyncStatus, SyncTrigger};
use entity::{sync_lease, sync_runs};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder};
use spapi_sim::SimConfig;
use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A `worker run` process; its output goes to a file read by [`Running::log`].
struct Running {
    child: Child,
    log: std::path::PathBuf,
}

impl Running {
    fn start(s: &Setup, name: &str, env: &[(&str, &str)]) -> Self {
        let log = s.data.path().join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut env = env.to_vec();
        env.push(("RUST_LOG", "info"));
        let child = command(s, &["run"], &env)
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap();
        Self { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status (within 30 s).
    async fn terminate(mut self) -> (bool, String) {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::task::spawn_blocking(move || {
                let status = self.child.wait().unwrap();
                (status, self.log)
            }),
        )
        .await
        .expect("the worker did not exit within 30 s of SIGTERM")
        .unwrap();
        let log = std::fs::read_to_string(&status.1).unwrap_or_default();
        (status.0.success(), log)
    }

    /// SIGKILL: no chance to clean up.
    fn kill_9(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }
}

async fn runs(s: &Setup) -> Vec<sync_runs::Model> {
    sync_runs::Entity::find()
        .order_by_asc(sync_runs::Column::Id)
        .all(&s.t.db)
        .await
        .unwrap()
}

/// Polls `check` every 100 ms until it is true or `secs` have passed; whether it came true.
async fn wait_until<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check().await {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

async fn orders_in_db(s: &Setup) -> usize {
    s.t.strings("SELECT amazon_order_id FROM amazon_order")
        .await
        .len()
}

/// 500 orders in one marketplace, and a searchOrders quota of one request per two
/// seconds with no burst: a first sync takes about 20 s, long enough to interrupt.
async fn slow_setup() -> Setup {
    setup_with(
        SimConfig {
            orders: 500,
            days: 3,
            time_scale: 100.0,
            marketplaces: vec!["ATVPDKIKX0DER".into()],
            rate_overrides: HashMap::from([("searchOrders".to_owned(), (0.005, 1))]),
            ..SimConfig::default()
        },
        OrdersApiVersion::V2026_01_01,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
    )
    .await
}

async fn running_run(s: &Setup) -> Option<sync_runs::Model> {
    runs(s)
        .await
        .into_iter()
        .find(|r| r.status == SyncStatus::Running)
}

#[tokio::test]
async fn a_scheduler_tick_runs_a_real_sync_and_sigterm_then_exits_cleanly() {
    let s = setup(spapi_sim::DEFAULT_REFRESH_TOKEN).await;
    let w = Running::start(&s, "worker", &[]);

    assert!(
        wait_until(60, || async {
            runs(&s)
                .await
                .iter()
                .any(|r| r.trigger == SyncTrigger::Schedule && r.status == SyncStatus::Succeeded)
        })
        .await,
        "timed out waiting for a scheduled sync to succeed: {:#?}\n{}",
        runs(&s).await,
        w.log()
    );
    assert_eq!(orders_in_db(&s).await, 50);

    let (ok, log) = w.terminate().await;
    assert!(ok, "worker run should exit 0 on SIGTERM: {log}");
    assert!(log.contains("scheduler started"), "{log}");
    assert!(log.contains("scheduler stopped"), "{log}");
    assert_eq!(sync_lease::Entity::find().count(&s.t.db).await.unwrap(), 0);
}

#[tokio::test]
async fn sigterm_during_a_sync_leaves_an_interrupted_run_and_a_free_lease() {
    let s = slow_setup().await;
    let w = Running::start(&s, "worker", &[]);
    assert!(
        wait_until(60, || async { running_run(&s).await.is_some() }).await,
        "timed out waiting for the scheduled sync to start: {:#?}\n{}",
        runs(&s).await,
        w.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (ok, log) = w.terminate().await;
    assert!(ok, "worker run should exit 0 on SIGTERM: {log}");
    let all = runs(&s).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].status, SyncStatus::Interrupted, "{all:?}");
    assert!(all[0].finished_at.is_some());
    assert_eq!(
        sync_lease::Entity::find().count(&s.t.db).await.unwrap(),
        0,
        "the lease must be released"
    );
    assert!(
        orders_in_db(&s).await < 500,
        "the sync should not have finished"
    );
}

#[tokio::test]
async fn a_worker_killed_with_sigkill_mid_sync_is_taken_over_and_the_data_converges() {
    let s = slow_setup().await;
    // Every 2 s, so the second replica retries soon after the dead one's lease expires.
    let env = [
        ("SYNC_LEASE_TTL_SECS", "3"),
        ("SYNC_SCHEDULE", "*/2 * * * * * incremental"),
    ];
    let a = Running::start(&s, "a", &env);
    assert!(
        wait_until(60, || async { running_run(&s).await.is_some() }).await,
        "timed out waiting for the first worker's sync to start: {:#?}\n{}",
        runs(&s).await,
        a.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    a.kill_9();
    let abandoned = running_run(&s)
        .await
        .expect("the killed run stays 'running'");

    let b = Running::start(&s, "b", &env);
    assert!(
        wait_until(120, || async {
            runs(&s)
                .await
                .iter()
                .any(|r| r.id > abandoned.id && r.status == SyncStatus::Succeeded)
        })
        .await,
        "timed out waiting for the second worker to finish a sync: {:#?}\n{}",
        runs(&s).await,
        b.log()
    );
    let (ok, log) = b.terminate().await;
    assert!(ok, "{log}");

    let after = sync_runs::Entity::find_by_id(abandoned.id)
        .one(&s.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, SyncStatus::Interrupted, "{after:?}");
    let mut truth: Vec<String> = s
        .sim
        .ground_truth()
        .into_iter()
        .map(|o| format!("{} {}", o.amazon_order_id, o.order_status.as_str()))
        .collect();
    truth.sort();
    let mut ours =
        s.t.strings("SELECT amazon_order_id || ' ' || order_status FROM amazon_order")
            .await;
    ours.sort();
    assert_eq!(ours.len(), 500);
    assert_eq!(ours, truth, "every order once, with Amazon's status");
}

#[tokio::test]
async fn two_workers_on_one_database_never_sync_at_the_same_time() {
    let s = slow_setup().await;
    let env = [("SYNC_SCHEDULE", "* * * * * * incremental")];
    let a = Running::start(&s, "a", &env);
    let b = Running::start(&s, "b", &env);
    assert!(
        wait_until(120, || async {
            runs(&s)
                .await
                .iter()
                .filter(|r| r.status == SyncStatus::Succeeded)
                .count()
                >= 3
        })
        .await,
        "timed out waiting for the back-fill and two more syncs: {:#?}\n{}",
        runs(&s).await,
        a.log() + &b.log()
    );
    let (ok_a, log_a) = a.terminate().await;
    let (ok_b, log_b) = b.terminate().await;
    assert!(ok_a && ok_b, "{log_a}\n{log_b}");

    // One lease per dataset: no two runs of the same dataset overlap.
    let all = runs(&s).await;
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = all
        .iter()
        .filter(|r| r.kind == entity::enums::SyncKind::Orders)
        .map(|r| (r.started_at, r.finished_at.expect("every run finished")))
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "two syncs overlapped: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
    let refused = format!("{log_a}{log_b}")
        .matches("already running elsewhere")
        .count();
    assert!(
        refused > 0,
        "the replicas should have met the lease at least once"
    );
    assert_eq!(orders_in_db(&s).await, 500);
}

#[tokio::test]
async fn a_run_is_skipped_and_counted_when_amazons_quota_is_spent() {
    let s = setup(spapi_sim::DEFAULT_REFRESH_TOKEN).await;
    // A back-fill just spent the whole searchOrders bucket (20 requests).
    let now = Utc::now();
    sync_runs::ActiveModel {
        kind: Set(entity::enums::SyncKind::Orders),
        trigger: Set(SyncTrigger::Manual),
        status: Set(SyncStatus::Succeeded),
        dry_run: Set(false),
        include_items: Set(true),
        pages: Set(20),
        api_calls: Set(20),
        throttled: Set(0),
        found: Set(0),
        inserted: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        items_upserted: Set(0),
        metadata: Set(Some(serde_json::json!({
            "calls_by_operation": { "searchOrders": 20 },
            "rates_by_operation": { "searchOrders": 0.0056 },
        }))),
        started_at: Set(now - chrono::Duration::minutes(5)),
        finished_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&s.t.db)
    .await
    .unwrap();

    let w = Running::start(&s, "worker", &[]);
    assert!(
        wait_until(30, || async { w.log().contains("run skipped") }).await,
        "timed out waiting for the skip to be logged: {:#?}\n{}",
        runs(&s).await,
        w.log()
    );
    let (ok, log) = w.terminate().await;
    assert!(ok, "{log}");
    assert!(
        log.contains("searchOrders")
            && log.contains("skipped_for_quota=1")
            && !log.contains("\x1b["),
        "{log}"
    );
    // The inventory has its own quota; no orders sync may have been started.
    let orders_runs = runs(&s)
        .await
        .iter()
        .filter(|r| r.kind == entity::enums::SyncKind::Orders)
        .count();
    assert_eq!(orders_runs, 1, "no orders sync may have been started");
}
