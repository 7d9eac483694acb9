//! LWA token endpoint, access tokens on SP-API calls, and their expiry on the simulated clock.

use std::time::Duration as StdDuration;

use serde_json::{Value, json};
use spapi_sim::{FaultKind, Faults, ScheduledFault, SimConfig, Simulator};

use crate::common::*;

async fn post_form(http: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> Reply {
    reply(http.post(url).form(fields).send().await.unwrap()).await
}

#[tokio::test]
async fn a_refresh_token_grant_returns_a_bearer_access_token_form_or_json() {
    let sim = Simulator::start(SimConfig {
        token_lifetime_secs: 3600,
        ..config()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let cfg = sim.config();
    let r = post_form(
        &http,
        &sim.token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &cfg.refresh_token),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("Atza|")
    );
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 3600);
    let r = reply(
        http.post(sim.token_url())
            .json(&json!({
                "grant_type": "refresh_token",
                "refresh_token": cfg.refresh_token,
                "client_id": cfg.client_id,
                "client_secret": cfg.client_secret,
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("Atza|")
    );
    assert_eq!(sim.stats().tokens_issued, 2);
}

#[tokio::test]
async fn wrong_credentials_get_lwa_error_bodies() {
    let sim = Simulator::start(config()).await.unwrap();
    let http = reqwest::Client::new();
    let cfg = sim.config().clone();
    let url = sim.token_url();
    let base = |rt: &str, id: &str, secret: &str, grant: &str| {
        vec![
            ("grant_type".to_string(), grant.to_string()),
            ("refresh_token".to_string(), rt.to_string()),
            ("client_id".to_string(), id.to_string()),
            ("client_secret".to_string(), secret.to_string()),
        ]
    };
    let cases = [
        (
            base(
                "Atzr|wrong",
                &cfg.client_id,
                &cfg.client_secret,
                "refresh_token",
            ),
            400,
            "invalid_grant",
        ),
        (
            base(
                &cfg.refresh_token,
                "someone-else",
                &cfg.client_secret,
                "refresh_token",
            ),
            401,
            "invalid_client",
        ),
        (
            base(
                &cfg.refresh_token,
                &cfg.client_id,
                "bad-secret",
                "refresh_token",
            ),
            401,
            "invalid_client",
        ),
        (
            base(
                &cfg.refresh_token,
                &cfg.client_id,
                &cfg.client_secret,
                "client_credentials",
            ),
            400,
            "unsupported_grant_type",
        ),
        (
            base("", &cfg.client_id, &cfg.client_secret, "refresh_token"),
            400,
            "invalid_request",
        ),
    ];
    for (fields, status, error) in cases {
        let r = reply(http.post(&url).form(&fields).send().await.unwrap()).await;
        assert_eq!(r.status, status, "{fields:?}");
        assert_eq!(r.body["error"], error);
        assert!(!r.body["error_description"].as_str().unwrap().is_empty());
    }
    assert_eq!(sim.stats().tokens_issued, 0);
}

#[tokio::test]
async fn calls_without_a_valid_access_token_are_refused_with_403_unauthorized() {
    let env = start(config()).await;
    let url = format!(
        "{}/sellers/v1/marketplaceParticipations",
        env.sim.base_url()
    );
    for token in [None, Some("Atza|made-up"), Some("")] {
        let mut req = env.http.get(&url);
        if let Some(t) = token {
            req = req.header("x-amz-access-token", t);
        }
        let r = reply(req.send().await.unwrap()).await;
        assert_eq!(r.status, 403);
        assert_eq!(
            r.body,
            json!({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]})
        );
        assert!(r.header("x-amzn-requestid").is_some());
        // The model lists x-amzn-RateLimit-Limit on the sellers 403, but not on the orders 403.
    }
    let r = reply(
        env.http
            .get(format!("{}/orders/v0/orders", env.sim.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.header("x-amzn-ratelimit-limit").is_none());
    assert_eq!(
        env.sim.stats().operations["getMarketplaceParticipations"].unauthorized,
        3
    );
}

#[tokio::test]
async fn access_tokens_expire_on_the_simulated_clock_with_a_message_that_says_so() {
    // 1800 simulated seconds at 600x: the token lives three real seconds.
    let env = start(SimConfig {
        time_scale: 600.0,
        token_lifetime_secs: 1800,
        ..config()
    })
    .await;
    let cfg = env.sim.config();
    let r = post_form(
        &env.http,
        &env.sim.token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &cfg.refresh_token),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
        ],
    )
    .await;
    assert_eq!(
        r.body["expires_in"], 3,
        "expires_in is in real seconds under time scale"
    );
    let ok = env.get("/sellers/v1/marketplaceParticipations", &[]).await;
    assert_eq!(ok.status, 200);
    tokio::time::sleep(StdDuration::from_millis(3500)).await;
    let r = env.get("/sellers/v1/marketplaceParticipations", &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "Unauthorized");
    assert_eq!(
        r.error_message(),
        "The access token you provided has expired."
    );
    // A fresh token works again.
    let fresh = lwa_token(&env.http, &env.sim).await;
    let r = reply(
        env.http
            .get(format!(
                "{}/sellers/v1/marketplaceParticipations",
                env.sim.base_url()
            ))
            .header("x-amz-access-token", fresh)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn an_early_expiry_fault_expires_the_token_for_good() {
    let env = start(config()).await;
    env.sim.set_faults(Faults {
        schedule: vec![ScheduledFault {
            operation: "getOrder".into(),
            fault: FaultKind::ExpireToken,
            count: 1,
        }],
        ..Faults::default()
    });
    let id = env.sim.ground_truth()[0].amazon_order_id.clone();
    let r = env.get(&format!("/orders/v0/orders/{id}"), &[]).await;
    assert_eq!(r.status, 403);
    assert!(r.error_message().contains("expired"));
    // The schedule is used up, but the token stays expired, on every operation.
    let r = env.get("/sellers/v1/marketplaceParticipations", &[]).await;
    assert_eq!(r.status, 403);
    let body: Value = r.body;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}
