//! A seller's account in spapi-sim, a fresh database and the `worker` binary.

#![allow(dead_code, reason = "each test binary uses a part of the harness")]
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use base64::Engine as _;
use e2e::TestDb;
use entity::enums::OrdersApiVersion;
use service::amazon_account::EncryptionKey;
use spapi_sim::{SimConfig, SimHandle, Simulator};

pub const KEY: [u8; 32] = [42; 32];

pub struct Setup {
    pub t: TestDb,
    pub sim: SimHandle,
    pub data: tempfile::TempDir,
}

/// 50 orders over 3 days on the 2026-01-01 API.
pub async fn setup(refresh_token: &str) -> Setup {
    setup_with(
        SimConfig {
            orders: 50,
            days: 3,
            time_scale: 100.0,
            ..SimConfig::default()
        },
        OrdersApiVersion::V2026_01_01,
        refresh_token,
    )
    .await
}

pub async fn setup_with(
    config: SimConfig,
    version: OrdersApiVersion,
    refresh_token: &str,
) -> Setup {
    let sim = Simulator::start(config).await.unwrap();
    sim.settle(chrono::Duration::seconds(200)).await;
    let t = TestDb::migrated().await;
    e2e::connect_to_simulator(
        &t.db,
        &EncryptionKey::from_bytes(KEY),
        &sim,
        "A2SIM",
        vec!["ATVPDKIKX0DER".into()],
        version,
        refresh_token,
    )
    .await
    .unwrap();
    Setup {
        t,
        sim,
        data: tempfile::tempdir().unwrap(),
    }
}

/// The worker binary with the setup's configuration and `env` on top.
pub fn command(s: &Setup, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
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
        .env("SPAPI_ALLOW_CUSTOM_ENDPOINTS", "true")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the worker binary to its end (off the async runtime, so the simulator keeps
/// serving): whether it succeeded, and what it printed.
pub async fn worker(s: &Setup, args: &[&str]) -> (bool, String) {
    let mut cmd = command(s, args, &[]);
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
