//! The `worker` binary against spapi-sim: `sync`, `ping` and `status` do what they
//! say, and a failure is a non-zero exit with an error a person can act on.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use base64::Engine as _;
use e2e::TestDb;
use entity::enums::{OrdersApiVersion, Region};
use secrecy::SecretString;
use service::connection::{ConnectionInput, CredentialInput};
use service::settings::EncryptionKey;
use spapi_sim::{SimConfig, SimHandle, Simulator};

const KEY: [u8; 32] = [42; 32];

struct Setup {
    t: TestDb,
    sim: SimHandle,
    data: tempfile::TempDir,
}

async fn setup(refresh_token: &str) -> Setup {
    let sim = Simulator::start(SimConfig {
        orders: 50,
        days: 3,
        time_scale: 100.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.settle(chrono::Duration::seconds(200)).await;
    let t = TestDb::migrated().await;
    service::connection::upsert(
        &t.db,
        ConnectionInput {
            seller_id: "A2SIM".into(),
            region: Region::Na,
            sandbox: false,
            marketplace_ids: vec!["ATVPDKIKX0DER".into()],
            orders_api_version: OrdersApiVersion::V2026_01_01,
            endpoint: Some(sim.base_url()),
            token_url: Some(sim.token_url()),
            timezone: None,
        },
    )
    .await
    .unwrap();
    service::connection::set_credential(
        &t.db,
        &EncryptionKey::from_bytes(KEY),
        CredentialInput {
            lwa_client_id: spapi_sim::DEFAULT_CLIENT_ID.into(),
            lwa_client_secret: SecretString::from(spapi_sim::DEFAULT_CLIENT_SECRET.to_owned()),
            refresh_token: SecretString::from(refresh_token.to_owned()),
        },
    )
    .await
    .unwrap();
    Setup {
        t,
        sim,
        data: tempfile::tempdir().unwrap(),
    }
}

/// Runs the worker binary (off the async runtime, so the simulator keeps serving).
async fn worker(s: &Setup, args: &[&str]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_worker"));
    cmd.args(args)
        .current_dir(s.data.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &s.t.url)
        .env("DATA_DIR", s.data.path())
        .env(
            "APP_ENCRYPTION_KEY",
            base64::engine::general_purpose::STANDARD.encode(KEY),
        )
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
        .env("RUST_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

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
