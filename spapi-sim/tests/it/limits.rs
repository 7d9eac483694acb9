//! Usage plans: one bucket per operation with the model's rate and burst, 429 QuotaExceeded
//! when empty, refill on the simulated clock, and the x-amzn-RateLimit-Limit header.

use std::time::Duration as StdDuration;

use serde_json::json;
use spapi_sim::SimConfig;

use crate::common::*;

type Params<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn each_operation_advertises_its_model_rate_on_success() {
    let env = start(SimConfig {
        rate_overrides: Default::default(),
        ..config()
    })
    .await;
    let id = env.sim.ground_truth()[0].amazon_order_id.clone();
    let after = env.ago(days(1));
    let calls: Vec<(String, Params, &str)> = vec![
        (
            "/orders/v0/orders".into(),
            vec![("MarketplaceIds", US), ("CreatedAfter", after.as_str())],
            "0.0167",
        ),
        (format!("/orders/v0/orders/{id}"), vec![], "0.5"),
        (format!("/orders/v0/orders/{id}/orderItems"), vec![], "0.5"),
        (
            "/orders/2026-01-01/orders".into(),
            vec![("createdAfter", after.as_str())],
            "0.0056",
        ),
        (format!("/orders/2026-01-01/orders/{id}"), vec![], "0.5"),
        (
            "/sellers/v1/marketplaceParticipations".into(),
            vec![],
            "0.016",
        ),
    ];
    for (path, params, rate) in calls {
        let r = env.get(&path, &params).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.header("x-amzn-ratelimit-limit"), Some(rate), "{path}");
    }
    let stats = env.sim.stats();
    assert_eq!(stats.operations["getOrders"].burst, 20);
    assert_eq!(stats.operations["searchOrders"].rate, 0.0056);
    assert_eq!(stats.operations["getMarketplaceParticipations"].burst, 15);
}

#[tokio::test]
async fn an_empty_bucket_answers_429_quota_exceeded_after_the_burst() {
    let env = start(SimConfig {
        rate_overrides: Default::default(),
        ..config()
    })
    .await;
    let after = env.ago(days(1));
    let params = [
        ("MarketplaceIds", US),
        ("CreatedAfter", after.as_str()),
        ("MaxResultsPerPage", "1"),
    ];
    let mut statuses = Vec::new();
    for _ in 0..21 {
        statuses.push(env.get("/orders/v0/orders", &params).await.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(statuses[20], 429);
    let r = env.get("/orders/v0/orders", &params).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.body,
        json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}]})
    );
    assert!(r.header("x-amzn-requestid").is_some());
    assert!(
        r.header("x-amzn-ratelimit-limit").is_none(),
        "the v0 model lists no rate header on 429"
    );
    let stats = env.sim.stats().operations["getOrders"].clone();
    assert_eq!((stats.calls, stats.ok, stats.throttled), (22, 20, 2));
    assert!(stats.bucket_level < 1.0);
    // Other operations have their own buckets.
    assert_eq!(
        env.get("/sellers/v1/marketplaceParticipations", &[])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn buckets_refill_k_times_faster_under_time_scale() {
    // 0.1 token per simulated second at 10x: one token per real second, burst 2.
    let mut cfg = SimConfig {
        time_scale: 10.0,
        ..config()
    };
    cfg.rate_overrides
        .insert("getMarketplaceParticipations".into(), (0.1, 2));
    let env = start(cfg).await;
    let path = "/sellers/v1/marketplaceParticipations";
    let mut ok = 0;
    let mut throttled = 0;
    for _ in 0..4 {
        match env.get(path, &[]).await.status {
            200 => ok += 1,
            429 => throttled += 1,
            s => panic!("unexpected {s}"),
        }
    }
    assert!(
        (2..=3).contains(&ok),
        "burst of 2 (plus at most one refill) expected, got {ok}"
    );
    assert!(throttled >= 1);
    // Two and a half real seconds are 25 simulated seconds: 2.5 tokens, capped at the burst.
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    let level = env.sim.stats().operations["getMarketplaceParticipations"].bucket_level;
    assert!((1.9..=2.0).contains(&level), "bucket level {level}");
    let first = env.get(path, &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("x-amzn-ratelimit-limit"),
        Some("1"),
        "rate is advertised per real second"
    );
}
