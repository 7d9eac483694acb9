//! A fresh api starts on an empty database, migrates it, and answers its health and
//! readiness probes.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::TestDb;
use migration::MigratorTrait;

#[tokio::test]
async fn a_fresh_api_migrates_its_database_and_reports_ready() {
    let t = TestDb::empty().await;
    let data = tempfile::tempdir().unwrap();
    let vars = [
        ("DATABASE_URL", t.url.clone()),
        ("DATA_DIR", data.path().display().to_string()),
        ("API_ADDR", "127.0.0.1:0".to_owned()),
    ];
    let settings = service::Settings::load(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let app = api::Application::build(&settings).await.unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run());

    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["migrations"], "current");
    assert!(
        migration::Migrator::get_pending_migrations(&t.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn readiness_fails_while_migrations_are_pending() {
    let t = TestDb::empty().await;
    let data = tempfile::tempdir().unwrap();
    let settings = e2e::settings(&t.url, data.path(), false);
    let app = api::Application::with_database(&settings, t.db.clone())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run());

    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["migrations"], "pending");
    // Liveness does not depend on the database.
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
}
