//! Secrets never reach the logs: a whole sync, with token refreshes, retries and a
//! rejected refresh token, is logged at TRACE and searched for every secret.
//! (Its own test binary, so the captured subscriber sees every event.)

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use common::{Harness, sim_config};
use entity::enums::{OrdersApiVersion, SyncStatus};
use secrecy::SecretString;
use service::spapi::lwa::LwaCredentials;
use service::sync::SyncOptions;
use spapi_sim::Faults;

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_token_secret_or_refresh_token_reaches_the_logs_of_a_full_sync() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = Harness::start(sim_config(80), OrdersApiVersion::V0).await;
    h.sim.set_faults(Faults {
        seed: Some(1),
        early_token_expiry: 0.05,
        error_500: 0.05,
        throttle: 0.05,
        ..Faults::default()
    });
    let client = h.client();
    let outcome = h.sync_with(&client, SyncOptions::default()).await.unwrap();
    assert_eq!(outcome.status, SyncStatus::Succeeded);
    let bad = h
        .sync_with(
            &h.client_with("Atzr|some-other-refresh-token"),
            SyncOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, SyncStatus::Failed);
    tracing::info!(client = ?client, "debug output of the client");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("sync finished"),
        "logs were captured: {} bytes: {}",
        logs.len(),
        logs.chars().take(600).collect::<String>()
    );
    for secret in [
        spapi_sim::DEFAULT_CLIENT_SECRET,
        spapi_sim::DEFAULT_REFRESH_TOKEN,
        "Atzr|some-other-refresh-token",
        "Atza|",
    ] {
        assert!(!logs.contains(secret), "{secret:?} leaked into the logs");
    }
    let debug = format!(
        "{client:?} {:?}",
        LwaCredentials {
            client_id: "id".into(),
            client_secret: SecretString::from("s3cr3t".to_owned()),
            refresh_token: SecretString::from("Atzr|r3fr3sh".to_owned()),
        }
    );
    assert!(!debug.contains("s3cr3t") && !debug.contains("r3fr3sh"));
}

#[tokio::test]
async fn an_unreachable_alert_webhook_is_logged_without_its_url() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Nothing listens on port 1; the path is the webhook's secret, as in Slack's.
    let secret = "T000-B000-webhook-secret-path";
    let transition = service::monitor::Transition {
        kind: service::monitor::AlertKind::SyncFailures,
        sku: None,
        state: "fired",
        message: "3 failed syncs in a row".to_owned(),
        at: chrono::Utc::now(),
    };

    service::monitor::notify(
        Some(&format!("http://127.0.0.1:1/services/{secret}")),
        vec![transition],
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let logs = loop {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        if logs.contains("alert webhook unreachable") || tokio::time::Instant::now() > deadline {
            break logs;
        }
    };

    assert!(logs.contains("alert webhook unreachable"), "{logs}");
    assert!(
        !logs.contains(secret),
        "the webhook URL reached the logs:\n{logs}"
    );
}
