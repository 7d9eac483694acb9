//! Shared helpers: start a simulator, get an access token, call the API, load model schemas.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use spapi_sim::{SimConfig, SimHandle, Simulator};

/// The official models the simulator is checked against: the copies in the
/// repository (`spapi-sim/models`, Apache-2.0, see its SOURCE.md), so a clone
/// alone runs these tests.
pub const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models");

/// The team's shared copy of the models, beside the repository where it is laid out.
pub const SHARED_MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spapi");

pub const US: &str = "ATVPDKIKX0DER";
pub const UK: &str = "A1F83G8C2ARO7P";
pub const JP: &str = "A1VC38T7YXB528";

pub const OPS: [&str; 8] = [
    "getOrders",
    "getOrder",
    "getOrderItems",
    "searchOrders",
    "getOrder2026",
    "getMarketplaceParticipations",
    "getInventorySummaries",
    "listTransactions",
];

/// A config for functional tests: three marketplaces, generous buckets, long-lived tokens.
pub fn config() -> SimConfig {
    SimConfig {
        orders: 300,
        seed: 11,
        days: 20,
        marketplaces: vec![US.into(), UK.into(), JP.into()],
        token_lifetime_secs: 30 * 86_400,
        rate_overrides: OPS
            .iter()
            .map(|op| (op.to_string(), (1000.0, 1000)))
            .collect::<HashMap<_, _>>(),
        ..SimConfig::default()
    }
}

pub struct Env {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub token: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The single error's message (panics if the body is not an error list).
    pub fn error_message(&self) -> String {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.body))
            .to_string()
    }

    pub fn error_code(&self) -> String {
        self.body["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

pub async fn start(config: SimConfig) -> Env {
    let sim = Simulator::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let token = lwa_token(&http, &sim).await;
    Env { sim, http, token }
}

pub async fn lwa_token(http: &reqwest::Client, sim: &SimHandle) -> String {
    let cfg = sim.config();
    let resp: Value = http
        .post(sim.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", cfg.refresh_token.as_str()),
            ("client_id", cfg.client_id.as_str()),
            ("client_secret", cfg.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    resp["access_token"].as_str().unwrap().to_string()
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

impl Env {
    /// GET with properly encoded query parameters.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        let resp = self
            .http
            .get(format!("{}{path}", self.sim.base_url()))
            .query(query)
            .header("x-amz-access-token", &self.token)
            .send()
            .await
            .unwrap();
        reply(resp).await
    }

    /// GET a raw URL suffix, exactly as written (for un-encoded tokens).
    pub async fn get_raw(&self, path_and_query: &str) -> Reply {
        let resp = self
            .http
            .get(format!("{}{path_and_query}", self.sim.base_url()))
            .header("x-amz-access-token", &self.token)
            .send()
            .await
            .unwrap();
        reply(resp).await
    }

    pub fn ago(&self, d: chrono::Duration) -> String {
        iso(self.sim.now() - d)
    }
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn days(n: i64) -> chrono::Duration {
    chrono::Duration::days(n)
}

fn load_model(file: &str) -> Value {
    let text = std::fs::read_to_string(format!("{MODELS}/{file}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Forbids properties the model does not declare, so a misspelt field fails validation.
fn make_strict(defs: &mut Value) {
    if let Some(map) = defs.as_object_mut() {
        for def in map.values_mut() {
            if def.get("properties").is_some() && def.get("additionalProperties").is_none() {
                def["additionalProperties"] = json!(false);
            }
        }
    }
}

/// A draft-4 validator for `#/definitions/{definition}` of a model file. `strict` forbids
/// undeclared properties everywhere.
pub fn validator(file: &str, definition: &str, strict: bool) -> jsonschema::Validator {
    let mut defs = load_model(file)["definitions"].clone();
    if strict {
        make_strict(&mut defs);
    }
    let schema = json!({"$ref": format!("#/definitions/{definition}"), "definitions": defs});
    jsonschema::draft4::new(&schema).unwrap()
}

/// The schema of an operation's response for a status code, as the model declares it.
pub fn response_validator(
    file: &str,
    path: &str,
    status: u16,
    strict: bool,
) -> jsonschema::Validator {
    let model = load_model(file);
    let reference = model["paths"][path]["get"]["responses"][status.to_string()]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{file} declares no {status} schema for {path}"))
        .trim_start_matches("#/definitions/")
        .to_string();
    validator(file, &reference, strict)
}

pub fn assert_valid(v: &jsonschema::Validator, body: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the model:\n{}\nbody: {body}",
        errors.join("\n")
    );
}
