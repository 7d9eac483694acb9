//! `api --demo` works as a newcomer would try it: it prints where to go and how to
//! sign in, and a sync right away brings in the simulated seller's orders.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};

async fn post(base: &str, token: Option<&str>, query: &str) -> Value {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_demo_prints_how_to_sign_in_and_a_sync_brings_in_the_sellers_orders() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("--demo")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir.path())
        .env("API_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut password) = (None, None);
    while base.is_none() || password.is_none() {
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
            .await
            .expect("the demo starts within a minute")
            .unwrap()
            .expect("the demo prints its address and password");
        if let Some(rest) = line.strip_prefix("demo: GraphiQL at ") {
            base = Some(rest.trim_end_matches("/graphql").to_owned());
        }
        if let Some(rest) = line.strip_prefix("demo: sign in as demo@example.com with password ") {
            password = Some(rest.to_owned());
        }
    }
    let (base, password) = (base.unwrap(), password.unwrap());

    let login = post(
        &base,
        None,
        &format!(
            r#"mutation {{ login(email: "demo@example.com", password: "{password}") {{ token }} }}"#
        ),
    )
    .await;
    let token = login["data"]["login"]["token"].as_str().unwrap().to_owned();
    let run = post(
        &base,
        Some(&token),
        "mutation { syncAmazonOrders(wait: true) { status ordersInserted } }",
    )
    .await;
    assert_eq!(
        run["data"]["syncAmazonOrders"]["status"], "SUCCEEDED",
        "{run}"
    );
    assert!(
        run["data"]["syncAmazonOrders"]["ordersInserted"]
            .as_i64()
            .unwrap()
            >= 290,
        "{run}"
    );
    let orders = post(
        &base,
        Some(&token),
        "{ amazonOrders(first: 5) { totalCount } }",
    )
    .await;
    assert!(
        orders["data"]["amazonOrders"]["totalCount"]
            .as_i64()
            .unwrap()
            >= 290,
        "{orders}"
    );
    child.kill().await.unwrap();
}

#[test]
fn the_demo_is_refused_in_production_with_a_one_line_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("--demo")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir.path())
        .env("API_ADDR", "127.0.0.1:0")
        .env("APP_ENV", "production")
        .env(
            "APP_ENCRYPTION_KEY",
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
        )
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
        .output()
        .unwrap();

    assert!(!out.status.success(), "the demo started in production");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--demo is refused with APP_ENV=production"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("demo.sqlite").exists(),
        "nothing is created before refusing"
    );
}
