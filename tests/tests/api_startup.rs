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

/// The embedded database holds password hashes and the data directory the
/// generated secrets: none of it is readable by other users, even under a
/// permissive umask, and an earlier install's open modes are tightened.
#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_is_0700_and_the_sqlite_files_and_secrets_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let vars = [
        ("DATA_DIR", data.display().to_string()),
        ("API_ADDR", "127.0.0.1:0".to_owned()),
    ];
    let load = || {
        service::Settings::load(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.clone())
        })
        .unwrap()
    };

    let settings = load();
    let app = api::Application::build(&settings).await.unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run());
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);

    assert_eq!(mode(&data), 0o700, "DATA_DIR");
    for file in [
        "app.sqlite",
        "app.sqlite-wal",
        "app.sqlite-shm",
        "encryption.key",
        "jwt.secret",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }

    // An install made before: everything world-readable. Starting again fixes it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        data.join("app.sqlite"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let settings = load();
    service::db::connect(&settings).await.unwrap();
    assert_eq!(mode(&data), 0o700, "DATA_DIR after a restart");
    assert_eq!(
        mode(&data.join("app.sqlite")),
        0o600,
        "app.sqlite after a restart"
    );
}
