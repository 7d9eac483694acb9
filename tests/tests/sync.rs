//! The orders sync against spapi-sim, on SQLite and (in the PostgreSQL leg)
//! PostgreSQL: our tables end equal to the simulator's ground truth, for both API
//! versions, through faults, throttling, token expiry, clock skew and interruption.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use common::{Harness, both_versions, sim_config};

use entity::enums::{OrdersApiVersion, SyncStatus, SyncTrigger};
use entity::{amazon_connection, amazon_order, amazon_order_item, sync_cursor, sync_runs};
use sea_orm::{EntityTrait, PaginatorTrait};
use service::sync::{SyncError, SyncOptions};
use spapi_sim::Faults;
use std::time::Duration;

#[tokio::test]
async fn a_full_sync_makes_our_tables_equal_to_amazon_for_both_api_versions() {
    for version in both_versions() {
        let h = Harness::start(sim_config(150), version).await;
        let outcome = h.sync(SyncOptions::default()).await;
        assert_eq!(
            outcome.status,
            SyncStatus::Succeeded,
            "{version:?}: {:?}",
            outcome.error
        );
        assert_eq!(
            outcome.throttled, 0,
            "{version:?}: a quiet account must see no 429"
        );
        h.assert_equal_to_truth().await;
        assert_eq!(outcome.progress.inserted, 150);
        // JPY has no decimals; the exact strings went through.
        let jpy = amazon_order::Entity::find().all(&h.t.db).await.unwrap();
        assert!(jpy.iter().any(|o| {
            o.order_total_currency.as_deref() == Some("JPY")
                && o.order_total_amount
                    .is_some_and(|a| !a.to_string().contains('.'))
        }));
        let run = sync_runs::Entity::find_by_id(outcome.run_id)
            .one(&h.t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(run.status, SyncStatus::Succeeded);
        assert_eq!(run.inserted, 150);
        assert!(run.finished_at.is_some());
        let conn = amazon_connection::Entity::find_by_id(1)
            .one(&h.t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(conn.last_orders_sync_status.as_deref(), Some("succeeded"));
        assert_eq!(conn.last_orders_sync_orders_count, Some(150));
    }
}

#[tokio::test]
async fn v2026_needs_no_item_calls_and_v0_calls_items_once_per_new_order() {
    for (version, expected_item_calls) in [
        (OrdersApiVersion::V2026_01_01, 0),
        (OrdersApiVersion::V0, 60),
    ] {
        let h = Harness::start(sim_config(60), version).await;
        h.sync(SyncOptions::default()).await;
        let items = h
            .sim
            .stats()
            .operations
            .get("getOrderItems")
            .map_or(0, |s| s.calls);
        assert_eq!(items, expected_item_calls, "{version:?}");
    }
}

#[tokio::test]
async fn a_second_sync_without_changes_makes_one_orders_call_and_writes_no_order_rows() {
    for version in both_versions() {
        let h = Harness::start(sim_config(120), version).await;
        h.sync(SyncOptions::default()).await;
        let before = h.ours().await;
        h.sim.reset_stats();
        let second = h.sync(SyncOptions::default()).await;
        assert_eq!(second.status, SyncStatus::Succeeded);
        assert_eq!(h.orders_calls(), 1, "{version:?}");
        assert_eq!(
            h.sim
                .stats()
                .operations
                .get("getOrderItems")
                .map_or(0, |s| s.calls),
            0
        );
        assert_eq!(second.progress.inserted + second.progress.updated, 0);
        assert_eq!(second.progress.items_upserted, 0);
        assert_eq!(h.ours().await, before);
    }
}

#[tokio::test]
async fn a_pending_order_gets_its_prices_when_it_becomes_unshipped() {
    for version in both_versions() {
        let h = Harness::start(sim_config(30), version).await;
        let new = h.sim.add_orders(1);
        let id = new[0].clone();
        // Orders become visible to a window ending two minutes before Amazon's now.
        h.settle().await;
        h.sync(SyncOptions::default()).await;
        let stored = amazon_order::Entity::find().all(&h.t.db).await.unwrap();
        let pending = stored.iter().find(|o| o.amazon_order_id == id).unwrap();
        assert_eq!(pending.order_status, entity::enums::OrderStatus::Pending);
        assert_eq!(pending.order_total_amount, None);

        assert!(h.sim.advance_order(&id));
        h.settle().await;
        let outcome = h.sync(SyncOptions::default()).await;
        assert_eq!(outcome.progress.updated, 1, "{version:?}");
        h.assert_equal_to_truth().await;
        let stored = amazon_order::Entity::find().all(&h.t.db).await.unwrap();
        let priced = stored.iter().find(|o| o.amazon_order_id == id).unwrap();
        assert_eq!(priced.order_status, entity::enums::OrderStatus::Unshipped);
        assert!(priced.order_total_amount.is_some());
    }
}

#[tokio::test]
async fn a_dry_run_reports_what_it_would_do_and_writes_only_its_run_row() {
    let h = Harness::start(sim_config(80), OrdersApiVersion::V2026_01_01).await;
    let outcome = h
        .sync(SyncOptions {
            dry_run: true,
            ..SyncOptions::default()
        })
        .await;
    assert_eq!(outcome.status, SyncStatus::Succeeded);
    assert_eq!(outcome.progress.inserted, 80, "would insert every order");
    assert_eq!(
        amazon_order::Entity::find().count(&h.t.db).await.unwrap(),
        0
    );
    assert_eq!(
        amazon_order_item::Entity::find()
            .count(&h.t.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(sync_cursor::Entity::find().count(&h.t.db).await.unwrap(), 0);
    let conn = amazon_connection::Entity::find_by_id(1)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        conn.last_orders_sync_at, None,
        "a dry run leaves the connection alone"
    );
    let runs = sync_runs::Entity::find().all(&h.t.db).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].dry_run);
}

#[tokio::test]
async fn include_items_false_writes_orders_but_no_items() {
    for version in both_versions() {
        let h = Harness::start(sim_config(40), version).await;
        let outcome = h
            .sync(SyncOptions {
                include_items: false,
                ..SyncOptions::default()
            })
            .await;
        assert_eq!(outcome.progress.inserted, 40);
        assert_eq!(
            amazon_order_item::Entity::find()
                .count(&h.t.db)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            h.sim
                .stats()
                .operations
                .get("getOrderItems")
                .map_or(0, |s| s.calls),
            0
        );
    }
}

#[tokio::test]
async fn faults_500_503_timeouts_cut_bodies_and_dropped_connections_are_retried_to_the_same_truth()
{
    for version in both_versions() {
        let h = Harness::start(sim_config(120), version).await;
        h.sim.set_faults(Faults {
            seed: Some(3),
            error_500: 0.08,
            error_503: 0.08,
            cut_body: 0.05,
            drop_connection: 0.05,
            // Slower than the harness's 1 s request timeout: a timed-out call.
            latency: 0.02,
            latency_ms: 1_500,
            ..Faults::default()
        });
        let outcome = h.sync(SyncOptions::default()).await;
        assert_eq!(
            outcome.status,
            SyncStatus::Succeeded,
            "{version:?}: {:?}",
            outcome.error
        );
        h.assert_equal_to_truth().await;
        let injected: u64 = h
            .sim
            .stats()
            .operations
            .values()
            .map(|s| s.faults_injected)
            .sum();
        assert!(injected > 0, "the faults must have happened");
    }
}

#[tokio::test]
async fn a_storm_of_429s_is_waited_out_and_counted() {
    let h = Harness::start(sim_config(100), OrdersApiVersion::V0).await;
    h.sim.set_faults(Faults {
        seed: Some(5),
        throttle: 0.3,
        ..Faults::default()
    });
    let outcome = h.sync(SyncOptions::default()).await;
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    assert!(outcome.throttled > 0);
    h.assert_equal_to_truth().await;
    let run = sync_runs::Entity::find_by_id(outcome.run_id)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u64::try_from(run.throttled).unwrap(), outcome.throttled);
}

#[tokio::test]
async fn an_access_token_expiring_mid_sync_is_refreshed_once_and_the_sync_goes_on() {
    let h = Harness::start(sim_config(100), OrdersApiVersion::V0).await;
    h.sim.set_faults(Faults {
        seed: Some(9),
        early_token_expiry: 0.05,
        ..Faults::default()
    });
    let outcome = h.sync(SyncOptions::default()).await;
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    h.assert_equal_to_truth().await;
    assert!(h.sim.stats().tokens_issued >= 2, "the token was refreshed");
}

#[tokio::test]
async fn a_local_clock_five_minutes_off_either_way_neither_errs_nor_misses_orders() {
    for minutes in [5, -5] {
        let mut config = sim_config(60);
        config.clock_offset = chrono::Duration::minutes(minutes);
        let h = Harness::start(config, OrdersApiVersion::V2026_01_01).await;
        let outcome = h.sync(SyncOptions::default()).await;
        assert_eq!(
            outcome.status,
            SyncStatus::Succeeded,
            "skew {minutes}: {:?}",
            outcome.error
        );
        h.assert_equal_to_truth().await;
    }
}

#[tokio::test]
async fn rejected_credentials_fail_the_run_with_a_message_that_says_what_to_do() {
    let h = Harness::start(sim_config(10), OrdersApiVersion::V2026_01_01).await;
    let client = h.client_with("Atzr|revoked");
    let outcome = h.sync_with(&client, SyncOptions::default()).await.unwrap();
    assert_eq!(outcome.status, SyncStatus::Failed);
    let error = outcome.error.unwrap();
    assert!(
        error.contains("invalid_grant") && error.contains("re-authorize"),
        "{error}"
    );
    // Stored in the spelling alerts and older rows use.
    let failure =
        h.t.strings(&format!(
            "SELECT {} FROM sync_runs",
            match h.t.backend {
                e2e::Backend::Sqlite => "json_extract(metadata, '$.failure')",
                e2e::Backend::Postgres => "metadata->>'failure'",
            }
        ))
        .await;
    assert_eq!(failure, ["amazon_auth"]);
    let conn = amazon_connection::Entity::find_by_id(1)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conn.last_orders_sync_status.as_deref(), Some("failed"));
    assert!(
        conn.last_orders_sync_error
            .unwrap()
            .contains("re-authorize")
    );
}

#[tokio::test]
async fn a_repeating_next_token_ends_the_sync_with_an_error_instead_of_looping() {
    let h = Harness::start(sim_config(600), OrdersApiVersion::V2026_01_01).await;
    h.sim.set_faults(Faults {
        repeat_next_token: true,
        ..Faults::default()
    });
    let outcome = h.sync(SyncOptions::default()).await;
    assert_eq!(outcome.status, SyncStatus::Failed);
    assert!(outcome.error.unwrap().contains("same page token twice"));
    // Windows committed before the failing one may have moved it; the failing one not.
    for mark in sync_cursor::Entity::find().all(&h.t.db).await.unwrap() {
        assert!(
            mark.watermark < outcome.window_end,
            "watermark moved past the failed window"
        );
    }
}

#[tokio::test]
async fn two_concurrent_syncs_run_one_at_a_time_and_the_second_is_told_which_run_holds_it() {
    let h = Harness::start(sim_config(150), OrdersApiVersion::V0).await;
    let (c1, c2) = (h.client(), h.client());
    let (a, b) = tokio::join!(h.sync_with(&c1, SyncOptions::default()), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        h.sync_with(&c2, SyncOptions::default()).await
    });
    let ok = a.unwrap();
    assert_eq!(ok.status, SyncStatus::Succeeded);
    match b {
        Err(SyncError::AlreadyRunning { run_id, .. }) => assert_eq!(run_id, Some(ok.run_id)),
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    assert_eq!(sync_runs::Entity::find().count(&h.t.db).await.unwrap(), 1);
}

#[tokio::test]
async fn a_sync_cancelled_mid_way_is_interrupted_and_the_next_run_converges() {
    let h = Harness::start(sim_config(300), OrdersApiVersion::V0).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let trip = cancel.clone();
    let options = SyncOptions {
        trigger: SyncTrigger::Cli,
        cancel,
        progress: Some(std::sync::Arc::new(move |p| {
            if p.pages >= 1 {
                trip.cancel();
            }
        })),
        ..SyncOptions::default()
    };
    let first = h.sync(options).await;
    assert_eq!(first.status, SyncStatus::Interrupted);
    assert!(first.progress.found < 300);
    let second = h.sync(SyncOptions::default()).await;
    assert_eq!(second.status, SyncStatus::Succeeded, "{:?}", second.error);
    h.assert_equal_to_truth().await;
}

#[tokio::test]
async fn orders_changed_while_the_sync_pages_end_equal_to_amazon_after_the_next_run() {
    let h = Harness::start(sim_config(300), OrdersApiVersion::V2026_01_01).await;
    // The orders Amazon would list last: changing them after the first page moves
    // them behind the cursor of the running sync.
    let mut truth = h.sim.ground_truth();
    truth.sort_by_key(|o| o.last_update_date);
    let late: Vec<String> = truth
        .iter()
        .rev()
        .filter(|o| o.order_status.as_str() != "Canceled" && o.order_status.as_str() != "Shipped")
        .take(20)
        .map(|o| o.amazon_order_id.clone())
        .collect();
    let sim = std::sync::Arc::clone(&h.sim);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = SyncOptions {
        progress: Some(std::sync::Arc::new(
            move |p: &service::sync::SyncProgress| {
                if p.pages == 1 && !done.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    for id in &late {
                        sim.update_order_status(id, "Canceled").unwrap();
                    }
                }
            },
        )),
        ..SyncOptions::default()
    };
    let first = h.sync(options).await;
    assert_eq!(first.status, SyncStatus::Succeeded, "{:?}", first.error);
    h.settle().await;
    let second = h.sync(SyncOptions::default()).await;
    assert_eq!(second.status, SyncStatus::Succeeded, "{:?}", second.error);
    h.assert_equal_to_truth().await;
}

#[tokio::test]
async fn a_run_whose_process_died_is_marked_interrupted_when_its_lease_is_taken_over() {
    use sea_orm::ActiveModelTrait;
    use sea_orm::ActiveValue::Set;
    let h = Harness::start(sim_config(30), OrdersApiVersion::V2026_01_01).await;
    // A process started a run, then was killed: its run says running, its lease expired.
    let dead = sync_runs::ActiveModel {
        kind: Set(entity::enums::SyncKind::Orders),
        trigger: Set(SyncTrigger::Schedule),
        status: Set(SyncStatus::Running),
        started_at: Set(chrono::Utc::now() - chrono::Duration::minutes(10)),
        ..Default::default()
    }
    .insert(&h.t.db)
    .await
    .unwrap();
    entity::sync_lease::ActiveModel {
        name: Set(service::lease::ORDERS_SYNC.into()),
        holder: Set("dead-host:1:0".into()),
        run_id: Set(Some(dead.id)),
        acquired_at: Set(chrono::Utc::now() - chrono::Duration::minutes(10)),
        expires_at: Set(chrono::Utc::now() - chrono::Duration::minutes(9)),
    }
    .insert(&h.t.db)
    .await
    .unwrap();

    let outcome = h.sync(SyncOptions::default()).await;

    assert_eq!(outcome.status, SyncStatus::Succeeded);
    let dead = sync_runs::Entity::find_by_id(dead.id)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.status, SyncStatus::Interrupted);
    assert!(dead.error.unwrap().contains("stopped before it finished"));
    assert!(dead.finished_at.is_some());
    h.assert_equal_to_truth().await;
}

/// A page of well-formed JSON that breaks the model arrives after the first page of
/// the first window: the run fails saying so, the watermark stays where it was, and
/// the database holds the first page's orders, each whole, and nothing of the bad
/// page (for v0 also when the bad answer is an order's items, fetched before the
/// page's transaction). The next clean run converges.
#[tokio::test]
async fn a_malformed_page_fails_the_run_cleanly_with_nothing_of_it_written() {
    use spapi_sim::{FaultKind, ScheduledFault};
    let cases = [
        (OrdersApiVersion::V2026_01_01, "searchOrders"),
        (OrdersApiVersion::V0, "getOrders"),
        (OrdersApiVersion::V0, "getOrderItems"),
    ];
    for (version, operation) in cases {
        let mut config = sim_config(900);
        config.seed = 23;
        let h = Harness::start(config, version).await;
        let sim = std::sync::Arc::clone(&h.sim);
        let armed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let options = SyncOptions {
            progress: Some(std::sync::Arc::new(
                move |p: &service::sync::SyncProgress| {
                    if p.pages == 1 && !armed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        sim.set_faults(Faults {
                            schedule: vec![ScheduledFault {
                                operation: operation.into(),
                                fault: FaultKind::MalformedPage,
                                count: 1,
                            }],
                            ..Faults::default()
                        });
                    }
                },
            )),
            ..SyncOptions::default()
        };

        let failed = h.sync(options).await;

        let what = format!("{version:?} malformed {operation}");
        assert_eq!(failed.status, SyncStatus::Failed, "{what}");
        let error = failed.error.clone().unwrap();
        assert!(
            error.contains("does not decode") && error.contains(operation),
            "{what}: {error}"
        );
        assert_eq!(
            failed.progress.windows_done, 0,
            "{what}: failed in the first window"
        );
        assert_eq!(
            sync_cursor::Entity::find().count(&h.t.db).await.unwrap(),
            0,
            "{what}: the watermark moved past the bad window"
        );
        let c = e2e::truth::compare(&h.t.db, h.sim.ground_truth())
            .await
            .unwrap();
        assert_eq!(
            c.in_db, 100,
            "{what}: exactly the first page is stored: {c:?}"
        );
        assert_eq!(
            c.lost,
            c.in_truth - 100,
            "{what}: nothing else is stored: {c:?}"
        );
        assert_eq!(
            c.duplicated + c.stale_status + c.stale_price + c.stale_items + c.stale_other,
            0,
            "{what}: the stored orders are whole: {c:?}"
        );

        h.sim.set_faults(Faults::none());
        let again = h.sync(SyncOptions::default()).await;
        assert_eq!(
            again.status,
            SyncStatus::Succeeded,
            "{what}: {:?}",
            again.error
        );
        h.assert_equal_to_truth().await;
    }
}

#[tokio::test]
async fn a_first_back_fill_into_empty_tables_has_postgresql_analyze_them_once() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    let h = Harness::start(sim_config(1_200), OrdersApiVersion::V2026_01_01).await;
    let outcome = h.sync(SyncOptions::default()).await;
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    assert_eq!(outcome.progress.inserted, 1_200);
    h.assert_equal_to_truth().await;
    if h.t.db.get_database_backend() != DatabaseBackend::Postgres {
        return; // SQLite plans every statement afresh: nothing to analyze
    }
    let manual_analyzes = || async {
        let row = h
            .t
            .db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT analyze_count AS n FROM pg_stat_user_tables WHERE relname = 'amazon_order'",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    assert_eq!(
        manual_analyzes().await,
        1,
        "the empty tables were not analyzed"
    );
    let reltuples =
        h.t.db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'amazon_order'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<f64>("", "n")
            .unwrap();
    assert!(reltuples >= 1_000.0, "statistics say {reltuples} orders");
}

#[tokio::test]
async fn an_order_rewritten_without_its_items_brings_its_items_purchase_date_back_in_line() {
    use chrono::TimeZone as _;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    for version in both_versions() {
        let h = Harness::start(sim_config(20), version).await;
        h.sync(SyncOptions::default()).await;
        // The items' copy of their order's purchase date orders the SKU and ASIN
        // listings. As if Amazon had moved an order's date since its items were
        // written: the copy is off, and the order changes again.
        let changed = h
            .sim
            .ground_truth()
            .into_iter()
            .map(|o| o.amazon_order_id)
            .find(|id| h.sim.advance_order(id))
            .expect("an order that can move on");
        let long_ago = chrono::Utc.with_ymd_and_hms(2001, 1, 1, 0, 0, 0).unwrap();
        let moved = amazon_order_item::Entity::update_many()
            .col_expr(
                amazon_order_item::Column::OrderPurchaseDate,
                Expr::value(long_ago),
            )
            .filter(amazon_order_item::Column::AmazonOrderId.eq(&changed))
            .exec(&h.t.db)
            .await
            .unwrap();
        assert!(moved.rows_affected > 0, "{version:?}: {changed} has items");
        h.settle().await;
        let outcome = h
            .sync(SyncOptions {
                include_items: false,
                ..SyncOptions::default()
            })
            .await;
        assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
        assert_eq!(outcome.progress.updated, 1, "{version:?}");
        let order = amazon_order::Entity::find()
            .filter(amazon_order::Column::AmazonOrderId.eq(&changed))
            .one(&h.t.db)
            .await
            .unwrap()
            .unwrap();
        let items = amazon_order_item::Entity::find()
            .filter(amazon_order_item::Column::AmazonOrderId.eq(&changed))
            .all(&h.t.db)
            .await
            .unwrap();
        assert!(
            items
                .iter()
                .all(|i| i.order_purchase_date == order.purchase_date),
            "{version:?}: {items:?} against {}",
            order.purchase_date
        );
    }
}
