//! Injected faults: schedules, probabilities (deterministic for a seed), targeting.

use std::time::{Duration as StdDuration, Instant};

use spapi_sim::{FaultKind, Faults, ScheduledFault, SimConfig};

use crate::common::*;

fn schedule(op: &str, fault: FaultKind, count: u32) -> Faults {
    Faults {
        schedule: vec![ScheduledFault {
            operation: op.into(),
            fault,
            count,
        }],
        latency_ms: 300,
        ..Faults::default()
    }
}

const SELLERS: &str = "/sellers/v1/marketplaceParticipations";

#[tokio::test]
async fn a_scheduled_fault_hits_the_next_n_calls_of_its_operation_only() {
    let env = start(config()).await;
    env.sim.set_faults(schedule(
        "getMarketplaceParticipations",
        FaultKind::ServiceUnavailable,
        2,
    ));
    let id = env.sim.ground_truth()[0].amazon_order_id.clone();
    assert_eq!(
        env.get(&format!("/orders/v0/orders/{id}"), &[])
            .await
            .status,
        200
    );
    let r = env.get(SELLERS, &[]).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.error_code(), "ServiceUnavailable");
    assert_eq!(env.get(SELLERS, &[]).await.status, 503);
    assert_eq!(env.get(SELLERS, &[]).await.status, 200);
    let stats = env.sim.stats().operations["getMarketplaceParticipations"].clone();
    assert_eq!(
        (stats.server_errors, stats.faults_injected, stats.ok),
        (2, 2, 1)
    );
}

#[tokio::test]
async fn a_cut_off_body_fails_while_reading_and_the_next_call_works() {
    let env = start(config()).await;
    env.sim.set_faults(schedule(
        "getMarketplaceParticipations",
        FaultKind::CutBody,
        1,
    ));
    let url = format!("{}{SELLERS}", env.sim.base_url());
    let resp = env
        .http
        .get(&url)
        .header("x-amz-access-token", &env.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "headers arrive");
    assert!(resp.text().await.is_err(), "the body must be cut off");
    assert_eq!(env.get(SELLERS, &[]).await.status, 200);
}

#[tokio::test]
async fn a_dropped_connection_gives_no_response_at_all() {
    let env = start(config()).await;
    env.sim
        .set_faults(schedule("*", FaultKind::DropConnection, 1));
    let url = format!("{}{SELLERS}", env.sim.base_url());
    let err = env
        .http
        .get(&url)
        .header("x-amz-access-token", &env.token)
        .send()
        .await;
    assert!(
        err.is_err(),
        "expected a transport error, got {:?}",
        err.map(|r| r.status())
    );
    assert_eq!(env.get(SELLERS, &[]).await.status, 200);
}

#[tokio::test]
async fn added_latency_delays_the_response() {
    let env = start(config()).await;
    env.sim.set_faults(schedule("*", FaultKind::Latency, 1));
    let t = Instant::now();
    assert_eq!(env.get(SELLERS, &[]).await.status, 200);
    assert!(t.elapsed() >= StdDuration::from_millis(300));
}

#[tokio::test]
async fn an_injected_throttle_answers_429_without_taking_a_token() {
    let env = start(config()).await;
    let level = env.sim.stats().operations["getMarketplaceParticipations"].bucket_level;
    env.sim.set_faults(schedule(
        "getMarketplaceParticipations",
        FaultKind::Throttle,
        3,
    ));
    for _ in 0..3 {
        let r = env.get(SELLERS, &[]).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.error_code(), "QuotaExceeded");
    }
    let after = env.sim.stats().operations["getMarketplaceParticipations"].bucket_level;
    assert!(after >= level - 0.01, "{level} -> {after}");
}

async fn statuses_with(seed: u64) -> Vec<u16> {
    let env = start(SimConfig { seed, ..config() }).await;
    env.sim.set_faults(Faults {
        error_500: 0.3,
        error_503: 0.1,
        operations: vec!["getMarketplaceParticipations".into()],
        ..Faults::default()
    });
    let id = env.sim.ground_truth()[0].amazon_order_id.clone();
    let mut out = Vec::new();
    for n in 0..40 {
        out.push(env.get(SELLERS, &[]).await.status);
        if n % 10 == 0 {
            // Untargeted operations are never hit.
            assert_eq!(
                env.get(&format!("/orders/v0/orders/{id}"), &[])
                    .await
                    .status,
                200
            );
        }
    }
    out
}

#[tokio::test]
async fn probabilistic_faults_are_deterministic_for_a_seed() {
    let a = statuses_with(5).await;
    let b = statuses_with(5).await;
    let c = statuses_with(6).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.contains(&200) && a.contains(&500), "{a:?}");
}
