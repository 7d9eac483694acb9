//! The control API under /_sim/ mirrors the Rust handle.

use serde_json::{Value, json};

use crate::common::*;

pub(crate) async fn call(
    env: &Env,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = env
        .http
        .request(method, format!("{}/_sim{path}", env.sim.base_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_control_api_reads_and_changes_the_simulator() {
    let env = start(config()).await;
    let (s, truth) = call(&env, reqwest::Method::GET, "/ground-truth", None).await;
    assert_eq!(s, 200);
    assert_eq!(truth.as_array().unwrap().len(), 300);
    assert!(truth[0]["amazon_order_id"].is_string());

    let (s, added) = call(
        &env,
        reqwest::Method::POST,
        "/orders",
        Some(json!({"count": 2})),
    )
    .await;
    assert_eq!(s, 200);
    let id = added["added"][0].as_str().unwrap().to_string();
    assert_eq!(env.sim.ground_truth().len(), 302);

    let (s, adv) = call(
        &env,
        reqwest::Method::POST,
        &format!("/orders/{id}/advance"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(adv["order"]["order_status"], "Unshipped");
    let (s, st) = call(
        &env,
        reqwest::Method::POST,
        &format!("/orders/{id}/status"),
        Some(json!({"status": "Canceled"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(st["order"]["order_status"], "Canceled");
    let (s, _) = call(
        &env,
        reqwest::Method::POST,
        "/orders/111-0000000-0000000/advance",
        None,
    )
    .await;
    assert_eq!(s, 404);

    let (s, _) = call(
        &env,
        reqwest::Method::PUT,
        "/faults",
        Some(json!({"error_500": 1.0, "operations": ["getMarketplaceParticipations"]})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, faults) = call(&env, reqwest::Method::GET, "/faults", None).await;
    assert_eq!(faults["error_500"], 1.0);
    assert_eq!(
        env.get("/sellers/v1/marketplaceParticipations", &[])
            .await
            .status,
        500
    );

    let (_, stats) = call(&env, reqwest::Method::GET, "/stats", None).await;
    assert_eq!(
        stats["operations"]["getMarketplaceParticipations"]["server_errors"],
        1
    );
    assert_eq!(stats["tokens_issued"], 1);
    let (s, _) = call(&env, reqwest::Method::POST, "/stats/reset", None).await;
    assert_eq!(s, 204);
    assert_eq!(
        env.sim.stats().operations["getMarketplaceParticipations"].calls,
        0
    );

    let (_, now) = call(&env, reqwest::Method::GET, "/now", None).await;
    assert!(now["now"].as_str().unwrap().ends_with('Z'));

    let (s, _) = call(&env, reqwest::Method::POST, "/reset", None).await;
    assert_eq!(s, 204);
    assert_eq!(env.sim.ground_truth().len(), 300);
    // Tokens are forgotten on reset.
    assert_eq!(
        env.get("/sellers/v1/marketplaceParticipations", &[])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn responses_carry_a_request_id_and_a_date_from_the_simulated_clock() {
    let env = start(spapi_sim::SimConfig {
        clock_offset: chrono::Duration::minutes(-5),
        ..config()
    })
    .await;
    let r = env.get("/sellers/v1/marketplaceParticipations", &[]).await;
    let date = chrono::DateTime::parse_from_rfc2822(r.header("date").unwrap()).unwrap();
    let skew = chrono::Utc::now().signed_duration_since(date).num_seconds();
    assert!(
        (295..=305).contains(&skew),
        "Date header should be five minutes behind, skew {skew}s"
    );
    let id = r.header("x-amzn-requestid").unwrap();
    assert_eq!(id.len(), 36);
    let other = env.get("/sellers/v1/marketplaceParticipations", &[]).await;
    assert_ne!(other.header("x-amzn-requestid").unwrap(), id);
    let unknown = env.get("/orders/v1/nothing", &[]).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.header("x-amzn-requestid").is_some());
}
