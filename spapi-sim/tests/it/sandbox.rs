//! The models' x-amzn-api-sandbox static cases are answered with their recorded responses.

use serde_json::Value;

use crate::common::*;

fn cases(file: &str, path: &str) -> Vec<(u16, serde_json::Map<String, Value>, Value)> {
    let text = std::fs::read_to_string(format!("{MODELS}/{file}")).unwrap();
    let model: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (code, resp) in model["paths"][path]["get"]["responses"]
        .as_object()
        .unwrap()
    {
        for case in resp["x-amzn-api-sandbox"]["static"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let params: serde_json::Map<String, Value> = case["request"]["parameters"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v["value"].clone()))
                .collect();
            out.push((code.parse().unwrap(), params, case["response"].clone()));
        }
    }
    out
}

async fn run(env: &Env, file: &str, model_path: &str) -> usize {
    let mut n = 0;
    for (status, params, expected) in cases(file, model_path) {
        if params.is_empty() {
            continue; // would shadow every real request; not served (see README)
        }
        let mut path = model_path.to_string();
        let mut query: Vec<(String, String)> = Vec::new();
        for (k, v) in &params {
            let value = match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.as_str().unwrap().to_string(),
            };
            if k == "orderId" {
                path = path.replace("{orderId}", &value);
            } else {
                query.push((k.clone(), value));
            }
        }
        let borrowed: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = env.get(&path, &borrowed).await;
        assert_eq!(r.status, status, "{path} {query:?}");
        assert_eq!(r.body, expected, "{path} {query:?}");
        assert_valid(
            &response_validator(file, model_path, status, false),
            &r.body,
            &format!("sandbox {path}"),
        );
        n += 1;
    }
    n
}

#[tokio::test]
async fn every_orders_sandbox_case_is_answered_with_its_recorded_response() {
    let env = start(config()).await;
    let mut n = 0;
    n += run(&env, "ordersV0.json", "/orders/v0/orders").await;
    n += run(&env, "ordersV0.json", "/orders/v0/orders/{orderId}").await;
    n += run(
        &env,
        "ordersV0.json",
        "/orders/v0/orders/{orderId}/orderItems",
    )
    .await;
    n += run(&env, "orders_2026-01-01.json", "/orders/2026-01-01/orders").await;
    n += run(
        &env,
        "orders_2026-01-01.json",
        "/orders/2026-01-01/orders/{orderId}",
    )
    .await;
    assert_eq!(n, 17);
}

#[tokio::test]
async fn a_request_with_extra_parameters_is_not_a_sandbox_case() {
    let env = start(config()).await;
    let r = env
        .get(
            "/orders/v0/orders",
            &[
                ("CreatedAfter", "TEST_CASE_200"),
                ("MarketplaceIds", US),
                ("MaxResultsPerPage", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("ISO 8601"));
}

#[tokio::test]
async fn sandbox_cases_can_be_switched_off() {
    let env = start(spapi_sim::SimConfig {
        sandbox: false,
        ..config()
    })
    .await;
    let r = env.get("/orders/v0/orders/TEST_CASE_200", &[]).await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("3-7-7"));
}
