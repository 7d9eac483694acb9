//! `worker backup` and `worker restore` (their logic, `service::backup`): a backup
//! restored into a fresh database brings back every order and credentials that open
//! with the key; a restore refuses another key and a database that is not empty. On
//! SQLite, and on PostgreSQL (a second database on the same cluster) with
//! `TEST_PG_URL`.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::{Duration, TimeZone, Utc};
use e2e::{Backend, TestDb};
use entity::enums::{OrdersApiVersion, Region};
use entity::{amazon_credential, amazon_order};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder, Set};
use secrecy::{ExposeSecret, SecretString};
use service::amazon_account::seal::{self, Field, Sealed};
use service::amazon_account::{ConnectionInput, CredentialInput};
use service::backup::{self, BackupError, DatabaseKind};
use std::path::Path;

const REFRESH_TOKEN: &str = "Atzr|backup-test-refresh-token";

async fn seed(db: &DatabaseConnection, settings: &service::Settings, orders: usize) {
    service::amazon_account::upsert(
        db,
        ConnectionInput {
            seller_id: "A1B2C3D4E5".into(),
            region: Region::Na,
            sandbox: false,
            marketplace_ids: vec!["ATVPDKIKX0DER".into()],
            orders_api_version: OrdersApiVersion::V2026_01_01,
            endpoint: None,
            token_url: None,
            timezone: None,
        },
        service::spapi::EndpointPolicy::AmazonOnly,
    )
    .await
    .unwrap();
    service::amazon_account::set_credential(
        db,
        &settings.encryption_key,
        CredentialInput {
            lwa_client_id: "amzn1.application-oa2-client.backup".into(),
            lwa_client_secret: SecretString::from("client-secret-for-backup".to_owned()),
            refresh_token: SecretString::from(REFRESH_TOKEN.to_owned()),
        },
    )
    .await
    .unwrap();
    let start = Utc.timestamp_opt(1_790_000_000, 0).single().unwrap();
    for n in 0..orders {
        let at = start + Duration::minutes(i64::try_from(n).unwrap());
        amazon_order::ActiveModel {
            amazon_order_id: Set(format!("113-0000000-{n:07}")),
            marketplace_id: Set("ATVPDKIKX0DER".into()),
            purchase_date: Set(at),
            last_update_date: Set(at),
            order_status: Set(entity::enums::OrderStatus::parse("Shipped")),
            fulfillment_channel: Set(Some("MFN".into())),
            is_prime: Set(false),
            is_business_order: Set(false),
            raw_payload: Set(serde_json::json!({ "n": n })),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
}

async fn order_ids(db: &DatabaseConnection) -> Vec<String> {
    amazon_order::Entity::find()
        .order_by_asc(amazon_order::Column::AmazonOrderId)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.amazon_order_id)
        .collect()
}

/// A second, empty database on the backend of this run (for SQLite, a path where
/// nothing exists yet, as on a new machine).
async fn fresh_target(root: &Path) -> (String, Option<TestDb>) {
    match e2e::backend() {
        Backend::Sqlite => (
            format!("sqlite://{}/restored/app.sqlite?mode=rwc", root.display()),
            None,
        ),
        Backend::Postgres => {
            let t = TestDb::empty().await;
            (t.url.clone(), Some(t))
        }
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_backup_restored_into_a_fresh_database_has_every_order_and_credentials_that_open() {
    let source = TestDb::migrated().await;
    let data = tempfile::tempdir().unwrap();
    let settings = e2e::settings(&source.url, data.path(), false);
    seed(&source.db, &settings, 120).await;
    let expected = order_ids(&source.db).await;
    let dir = tempfile::tempdir().unwrap();
    let backup_dir = dir.path().join("backup-1");

    let report = backup::backup(&settings, &backup_dir, false).await.unwrap();

    let m = &report.manifest;
    let kind = match source.backend {
        Backend::Sqlite => DatabaseKind::Sqlite,
        Backend::Postgres => DatabaseKind::Postgresql,
    };
    assert_eq!(m.database, kind);
    let newest = <migration::Migrator as migration::MigratorTrait>::migrations()
        .last()
        .map(|m| m.name().to_owned())
        .unwrap();
    assert_eq!(
        m.latest_migration, newest,
        "the newest migration this build knows"
    );
    assert_eq!(m.key_fingerprint, settings.encryption_key.id());
    assert!(!m.key_included && m.key_note.contains("not in this backup"));
    assert!(!backup_dir.join(backup::KEY_FILE).exists());
    let manifest_text = std::fs::read_to_string(backup_dir.join("manifest.json")).unwrap();
    let key_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(settings.encryption_key.expose())
    };
    assert!(
        !manifest_text.contains(&key_b64),
        "the key is not in the manifest"
    );
    assert_eq!(backup::read_manifest(&backup_dir).unwrap(), *m);
    #[cfg(unix)]
    assert_eq!(mode(&backup_dir.join(&m.database_file)), 0o600);

    let (target_url, _target) = fresh_target(dir.path()).await;
    let target_settings = e2e::settings(&target_url, data.path(), false);
    let restored = backup::restore(&target_settings, &backup_dir)
        .await
        .unwrap();

    assert_eq!(restored.orders, 120);
    assert!(restored.credentials_opened);
    assert_eq!(restored.pending_migrations, 0);
    let db = service::db::open(&target_url).await.unwrap();
    assert_eq!(order_ids(&db).await, expected);
    let cred = amazon_credential::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let opened = seal::open(
        &target_settings.encryption_key,
        &cred.key_id,
        cred.connection_id,
        Field::RefreshToken,
        &Sealed {
            ciphertext: cred.refresh_token_ciphertext,
            nonce: cred.refresh_token_nonce,
        },
    )
    .unwrap();
    assert_eq!(opened.expose_secret(), REFRESH_TOKEN);
    // The api's own path to them opens them too.
    service::amazon_account::client_config(
        &db,
        &target_settings.encryption_key,
        service::spapi::EndpointPolicy::AmazonOnly,
    )
    .await
    .unwrap();
    db.close().await.unwrap();

    // Restoring again over what is there now is refused, and changes nothing.
    let again = backup::restore(&target_settings, &backup_dir)
        .await
        .unwrap_err();
    assert!(matches!(again, BackupError::NotEmpty(_)), "{again}");
    assert!(
        again
            .to_string()
            .starts_with("the target database is not empty"),
        "{again}"
    );
    let db = service::db::open(&target_url).await.unwrap();
    assert_eq!(order_ids(&db).await.len(), 120);
}

#[tokio::test]
async fn a_restore_with_another_key_is_refused_naming_both_fingerprints() {
    let source = TestDb::migrated().await;
    let data = tempfile::tempdir().unwrap();
    let settings = e2e::settings(&source.url, data.path(), false);
    seed(&source.db, &settings, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let backup_dir = dir.path().join("b");
    backup::backup(&settings, &backup_dir, false).await.unwrap();
    let (target_url, _target) = fresh_target(dir.path()).await;
    let other_key = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode([42u8; 32])
    };
    let other = e2e::settings_with(
        &target_url,
        data.path(),
        false,
        &[("APP_ENCRYPTION_KEY", &other_key)],
    );

    let err = backup::restore(&other, &backup_dir).await.unwrap_err();

    assert_eq!(
        err.to_string().split(" (").next().unwrap(),
        format!(
            "the backup was made with key {}; this configuration's key is {}; the stored credentials could not be opened",
            settings.encryption_key.id(),
            other.encryption_key.id()
        )
    );
    // Nothing was written: the target is still empty (SQLite: still absent).
    if let Some(file) = target_url
        .strip_prefix("sqlite://")
        .and_then(|r| r.split('?').next())
    {
        assert!(!Path::new(file).exists());
    }
}

#[tokio::test]
async fn the_key_is_copied_only_when_asked_with_mode_0600_and_a_backup_is_never_overwritten() {
    let source = TestDb::migrated().await;
    let data = tempfile::tempdir().unwrap();
    let settings = e2e::settings(&source.url, data.path(), false);
    seed(&source.db, &settings, 1).await;
    let dir = tempfile::tempdir().unwrap();

    let report = backup::backup(&settings, dir.path(), true).await.unwrap();
    let again = backup::backup(&settings, dir.path(), true)
        .await
        .unwrap_err();

    assert!(report.manifest.key_included);
    let key_file = dir.path().join(backup::KEY_FILE);
    let text = std::fs::read_to_string(&key_file).unwrap();
    let bytes = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .unwrap()
    };
    assert_eq!(bytes.as_slice(), settings.encryption_key.expose());
    #[cfg(unix)]
    assert_eq!(mode(&key_file), 0o600);
    assert!(matches!(again, BackupError::Exists(_)), "{again}");
}

#[tokio::test]
async fn a_backup_reads_only_it_never_creates_the_schema_of_an_empty_database() {
    let empty = TestDb::empty().await;
    let data = tempfile::tempdir().unwrap();
    let settings = e2e::settings(&empty.url, data.path(), true);
    let dir = tempfile::tempdir().unwrap();

    let err = backup::backup(&settings, &dir.path().join("b"), false)
        .await
        .unwrap_err();

    assert!(matches!(err, BackupError::NoSchema), "{err}");
    assert!(empty.tables().await.is_empty());
    assert!(
        !empty
            .strings(match empty.backend {
                Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
                Backend::Postgres =>
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            })
            .await
            .contains(&"seaql_migrations".to_owned())
    );
}
