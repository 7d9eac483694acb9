//! The `worker` binary against spapi-sim: `sync`, `ping` and `status` do what they
//! say, and a failure is a non-zero exit with an error a person can act on.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use common::{setup, worker};

#[tokio::test]
async fn worker_sync_writes_the_orders_prints_a_summary_and_status_shows_the_run() {
    let s = setup(spapi_sim::DEFAULT_REFRESH_TOKEN).await;

    let (ok, out) = worker(&s, &["sync"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("Succeeded") && out.contains("50 found, 50 inserted"),
        "{out}"
    );
    assert_eq!(
        s.t.strings("SELECT COUNT(*) || '' FROM amazon_order").await,
        ["50"]
    );

    let (ok, out) = worker(&s, &["ping"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("SP-API ping ok"), "{out}");

    let (ok, out) = worker(&s, &["status", "--json"]).await;
    assert!(ok, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["runs"][0]["status"], "succeeded", "{out}");
    assert_eq!(report["runs"][0]["trigger"], "cli");
    assert_eq!(report["consecutive_failures"], 0);
    assert!(report["last_success_at"].is_string());

    let (ok, out) = worker(&s, &["status"]).await;
    assert!(ok && out.contains("last runs:"), "{out}");
    drop(s.sim);
}

#[tokio::test]
async fn a_rejected_refresh_token_makes_sync_and_ping_exit_non_zero_saying_what_to_do() {
    let s = setup("Atzr|revoked").await;

    let (ok, out) = worker(&s, &["sync"]).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("Failed") && out.contains("re-authorize"),
        "{out}"
    );
    assert!(
        !out.contains("Atzr|revoked"),
        "the refresh token leaked: {out}"
    );

    let (ok, out) = worker(&s, &["ping"]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("invalid_grant"), "{out}");
}

#[tokio::test]
async fn worker_sync_inventory_reads_the_fba_stock_and_status_shows_its_freshness() {
    let s = setup(spapi_sim::DEFAULT_REFRESH_TOKEN).await;

    let (ok, out) = worker(&s, &["sync", "inventory", "--full"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("Succeeded") && out.contains("SKUs"), "{out}");
    let skus =
        s.t.strings("SELECT COUNT(*) || '' FROM fba_inventory")
            .await;
    assert_ne!(skus, ["0"], "{out}");

    let (ok, out) = worker(&s, &["status"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("FBA inventory              {} SKUs", skus[0]))
            && out.contains("inventory watermark")
            && out.contains("inventory "),
        "{out}"
    );
    println!("worker status after `worker sync inventory --full`:\n{out}");

    let (ok, out) = worker(
        &s,
        &["sync", "inventory", "--since", "2026-01-01T00:00:00Z"],
    )
    .await;
    assert!(!ok && out.contains("--full"), "{out}");
    drop(s.sim);
}

#[tokio::test]
async fn status_reads_only_and_says_when_the_schema_is_behind_instead_of_migrating() {
    let s = setup(spapi_sim::DEFAULT_REFRESH_TOKEN).await;
    let empty = e2e::TestDb::empty().await;

    let mut cmd = common::command(&s, &["status"], &[("DATABASE_URL", &empty.url)]);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();

    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("migration(s) behind") && text.contains("worker migrate"),
        "{text}"
    );
    assert!(
        !empty.tables().await.iter().any(|t| t == "amazon_order"),
        "status migrated the database"
    );
    drop(s.sim);
}

#[tokio::test]
async fn reset_password_prints_a_one_time_password_that_signs_in_and_must_be_changed() {
    let s = setup(spapi_sim::DEFAULT_REFRESH_TOKEN).await;
    service::auth::create_user(
        &s.t.db,
        "viewer@example.com",
        "a viewer password",
        entity::enums::Role::Viewer,
    )
    .await
    .unwrap();

    let (ok, out) = worker(&s, &["reset-password", "Viewer@Example.com"]).await;
    let (unknown_ok, unknown) = worker(&s, &["reset-password", "nobody@example.com"]).await;

    assert!(ok, "{out}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("one-time password for viewer@example.com (viewer): "))
        .unwrap_or_else(|| panic!("no password line in {out}"));
    assert_eq!(password.len(), 20, "{out}");
    let user = service::auth::find_by_email(&s.t.db, "viewer@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.must_change_password);
    assert!(service::auth::verify_password(
        password,
        &user.password_hash
    ));
    assert!(!unknown_ok, "{unknown}");
    assert!(
        unknown.contains("no user has the email") && unknown.contains("nothing was changed"),
        "{unknown}"
    );
    drop(s.sim);
}
