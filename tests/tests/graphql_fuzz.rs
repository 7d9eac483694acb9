//! Bad input against the real HTTP server: seeded random and mutated GraphQL
//! documents, wrong variable types, huge and deeply nested queries, oversized
//! bodies, invalid JSON, wrong content types and batches. The server never answers
//! 5xx, never dies, answers GraphQL-shaped JSON (refusals with 400, 413 or 415 too) whose
//! every error has an `extensions.code`, and serves
//! a valid query normally afterwards.
//!
//! `FUZZ_CASES` (default 4000) and `FUZZ_SEED` (default 20261122) change the run.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{OWNER_EMAIL, TestServer};
use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The api over HTTP with a registered owner.
struct App {
    server: TestServer,
    token: String,
}

impl std::ops::Deref for App {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

impl App {
    async fn start() -> Self {
        let server = TestServer::start().await;
        let token = server.owner_token().await;
        Self { server, token }
    }
}

/// Valid documents over the whole schema (no sign-in or sync mutations: those are
/// slowed down or call Amazon on purpose, and are covered elsewhere).
const SEEDS: &[&str] = &[
    "{ me { id email role createdAt } }",
    "query Q($n: Int!, $a: String) { amazonOrders(first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { amazonOrderId orderStatus orderTotal { amount currencyCode } items { sellerSku quantityOrdered itemPrice { amount currencyCode } unitPrice { amount } } } } } }",
    "{ amazonOrders(first: 5, filter: {statuses: [UNSHIPPED, SHIPPED], marketplaceId: \"ATVPDKIKX0DER\", purchasedFrom: \"2026-01-01T00:00:00Z\", sku: \"SKU-1\"}) { totalCount } }",
    "query($id: String!) { amazonOrder(amazonOrderId: $id) { amazonOrderId purchaseDate lastUpdateDate isPrime isBusinessOrder } }",
    "{ syncRuns(first: 3) { edges { node { id status trigger dryRun apiVersion pages apiCalls throttled error startedAt finishedAt } } } }",
    "query($id: ID!) { syncRun(id: $id) { id status ordersFound } }",
    "{ amazonConnection { sellerId region sandbox marketplaceIds ordersApiVersion credentialConfigured lastCheckOk lastOrdersSyncStatus } }",
    "{ marketplaces { marketplaceId region countryCode name currency } }",
    "{ syncHealth { ok lagSeconds lastOrderAt consecutiveFailures activeAlerts { __typename } } }",
    "mutation($i: AmazonConnectionInput!) { upsertAmazonConnection(input: $i) { sellerId marketplaceIds } }",
    "mutation { upsertAmazonConnection(input: {sellerId: \"A1B2C3\", region: NA, marketplaceIds: [\"ATVPDKIKX0DER\"], endpoint: \"http://127.0.0.1:9\"}) { sellerId } }",
    "mutation($i: AmazonCredentialInput!) { setAmazonCredential(input: $i) { credentialConfigured lwaClientId } }",
    "fragment F on User { email } query { me { ...F } __typename }",
    "{ __schema { types { name fields { name args { name type { name kind ofType { name } } } } } } }",
    "{ a: me { email } b: me { role } c: syncHealth { ok } }",
    "query($skip: Boolean!) { me @skip(if: $skip) { email } marketplaces @include(if: true) { name } }",
];

/// Tokens thrown into documents: punctuation, wrong literals, unknown names, directives.
const JUNK: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$",
    "!",
    "=",
    "@",
    "...",
    "|",
    "&",
    ",",
    "\"",
    "\"\"\"",
    "0",
    "-1",
    "99999999999999999999",
    "1.5e308",
    "\"text\"",
    "true",
    "null",
    "[1, \"a\"]",
    "{x: 1}",
    "$undefined",
    "nope",
    "__typename",
    "__type(name: \"User\") { name }",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "me",
    "email",
    "amazonOrders",
    "first: -5",
    "first: \"ten\"",
    "after: 12",
    "@skip(if: \"no\")",
    "@deprecated",
    "\u{0}",
    "\u{feff}",
    "é",
    "🦀",
    "#",
    "\\u0000",
    "\\",
    "\n",
    "\t",
    "$n: Int!",
    "...on User { id }",
    "...F",
    "input",
    "enum",
    "schema",
    "extend",
    "type",
    "directive",
    "ON",
    "NA",
    "UNSHIPPED",
];

fn tokens(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_string = false;
    for c in doc.chars() {
        if in_string {
            cur.push(c);
            if c == '"' {
                out.push(std::mem::take(&mut cur));
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.push(c);
                in_string = true;
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' => cur.push(c),
            c => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                if !c.is_whitespace() {
                    out.push(c.to_string());
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn mutate(rng: &mut StdRng, doc: &str) -> String {
    let mut t = tokens(doc);
    for _ in 0..rng.random_range(1..=4) {
        if t.is_empty() {
            t.push((*JUNK.choose(rng).unwrap()).to_owned());
            continue;
        }
        let i = rng.random_range(0..t.len());
        match rng.random_range(0..6) {
            0 => {
                t.remove(i);
            }
            1 => {
                let dup = t[i].clone();
                t.insert(i, dup);
            }
            2 => {
                let j = rng.random_range(0..t.len());
                t.swap(i, j);
            }
            3 => t[i] = (*JUNK.choose(rng).unwrap()).to_owned(),
            4 => t.insert(i, (*JUNK.choose(rng).unwrap()).to_owned()),
            _ => {
                // Cut the document short.
                t.truncate(i);
            }
        }
    }
    t.join(" ")
}

fn random_doc(rng: &mut StdRng) -> String {
    let n = rng.random_range(0..40);
    (0..n)
        .map(|_| *JUNK.choose(rng).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e300),
        4 => json!(JUNK.choose(rng).unwrap()),
        5 => json!("2026-13-45T99:99:99Z"),
        6 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "sellerId",
                "region",
                "marketplaceIds",
                "lwaClientId",
                "x",
                "input",
            ];
            Value::Object(
                (0..rng.random_range(0..4))
                    .map(|_| {
                        (
                            (*keys.choose(rng).unwrap()).to_owned(),
                            random_json(rng, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

fn random_variables(rng: &mut StdRng) -> Value {
    if rng.random_bool(0.3) {
        return random_json(rng, 0);
    }
    let names = ["n", "a", "id", "i", "skip", "e", "p"];
    let mut vars = serde_json::Map::new();
    for n in names {
        if rng.random_bool(0.5) {
            vars.insert(n.to_owned(), random_json(rng, 0));
        }
    }
    Value::Object(vars)
}

/// One request to send: body bytes, content type, with the owner's token or not.
struct Case {
    body: Vec<u8>,
    content_type: Option<&'static str>,
    auth: bool,
    what: String,
}

fn json_case(query: &str, variables: Value, auth: bool, what: &str) -> Case {
    Case {
        body: serde_json::to_vec(&json!({ "query": query, "variables": variables })).unwrap(),
        content_type: Some("application/json"),
        auth,
        what: what.to_owned(),
    }
}

fn generate(rng: &mut StdRng) -> Case {
    let auth = rng.random_bool(0.7);
    match rng.random_range(0..100) {
        0..55 => {
            let seed = SEEDS.choose(rng).unwrap();
            json_case(&mutate(rng, seed), random_variables(rng), auth, "mutated")
        }
        55..70 => {
            let seed = SEEDS.choose(rng).unwrap();
            json_case(seed, random_variables(rng), auth, "wrong variables")
        }
        70..80 => json_case(&random_doc(rng), Value::Null, auth, "random"),
        80..85 => {
            // Random bytes as a body.
            let n = rng.random_range(0..200);
            Case {
                body: (0..n).map(|_| rng.random::<u8>()).collect(),
                content_type: Some("application/json"),
                auth,
                what: "random bytes".into(),
            }
        }
        85..90 => {
            // Valid-looking JSON of the wrong shape, and batches.
            let body = match rng.random_range(0..5) {
                0 => {
                    json!([{ "query": "{ me { email } }" }, { "query": "{ marketplaces { name } }" }])
                }
                1 => json!({ "query": 42 }),
                2 => json!({ "query": "{ me { email } }", "variables": "not an object" }),
                3 => json!({ "operationName": "Nope", "query": "query A { me { email } }" }),
                _ => random_json(rng, 0),
            };
            Case {
                body: serde_json::to_vec(&body).unwrap(),
                content_type: Some("application/json"),
                auth,
                what: "wrong shape".into(),
            }
        }
        90..95 => {
            let types = [
                None,
                Some("text/plain"),
                Some("application/graphql"),
                Some("application/x-www-form-urlencoded"),
                Some("multipart/form-data; boundary=x"),
                Some("application/json; charset=latin1"),
            ];
            let seed = SEEDS.choose(rng).unwrap();
            let body = if rng.random_bool(0.5) {
                (*seed).as_bytes().to_vec()
            } else {
                serde_json::to_vec(&json!({ "query": seed })).unwrap()
            };
            Case {
                body,
                content_type: *types.choose(rng).unwrap(),
                auth,
                what: "content type".into(),
            }
        }
        _ => {
            // Truncated JSON.
            let seed = SEEDS.choose(rng).unwrap();
            let full = serde_json::to_vec(&json!({ "query": seed })).unwrap();
            let cut = rng.random_range(0..full.len());
            Case {
                body: full[..cut].to_vec(),
                content_type: Some("application/json"),
                auth,
                what: "invalid JSON".into(),
            }
        }
    }
}

/// Sends a case and checks the answer; returns a description of what was wrong.
async fn check(app: &App, case: &Case) -> Result<u16, String> {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .body(case.body.clone());
    if let Some(ct) = case.content_type {
        req = req.header("content-type", ct);
    }
    if case.auth {
        req = req.bearer_auth(&app.token);
    }
    let res = req
        .send()
        .await
        .map_err(|e| format!("{}: no answer: {e}", case.what))?;
    let status = res.status().as_u16();
    let text = res
        .text()
        .await
        .map_err(|e| format!("{}: body: {e}", case.what))?;
    let text_head: String = text.chars().take(300).collect();
    if status >= 500 {
        return Err(format!("{}: {status} {text_head}", case.what));
    }
    let json = case
        .content_type
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !json && status != 415 {
        return Err(format!(
            "{}: a body that is not declared JSON got {status}, not 415: {text_head}",
            case.what
        ));
    }
    if !matches!(status, 200 | 400 | 413 | 415) {
        return Err(format!(
            "{}: unexpected status {status}: {text_head}",
            case.what
        ));
    }
    // Every answer, refusals included, is GraphQL-shaped JSON; every error has a code.
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: {status} but not JSON ({e}): {text_head}", case.what))?;
    if v.get("data").is_none() && v.get("errors").is_none() {
        return Err(format!(
            "{}: neither data nor errors: {text_head}",
            case.what
        ));
    }
    if status != 200 && v["errors"].as_array().is_none_or(Vec::is_empty) {
        return Err(format!(
            "{}: {status} without errors: {text_head}",
            case.what
        ));
    }
    if let Some(errors) = v["errors"].as_array() {
        for e in errors {
            if e["extensions"]["code"].as_str().is_none_or(str::is_empty) {
                return Err(format!(
                    "{}: an error without extensions.code: {} (request {})",
                    case.what,
                    e.to_string().chars().take(300).collect::<String>(),
                    String::from_utf8_lossy(&case.body)
                        .chars()
                        .take(300)
                        .collect::<String>()
                ));
            }
        }
    }
    Ok(status)
}

async fn assert_still_serving(app: &App) {
    let r: Value = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["me"]["email"], OWNER_EMAIL, "{r}");
}

#[tokio::test]
async fn thousands_of_random_and_mutated_documents_get_coded_errors_and_never_a_5xx() {
    let app = Arc::new(App::start().await);
    let cases: u64 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_122);
    let mut rng = StdRng::seed_from_u64(seed);
    let generated: Vec<Case> = (0..cases).map(|_| generate(&mut rng)).collect();
    let by_status: Arc<std::sync::Mutex<std::collections::BTreeMap<u16, u64>>> = Arc::default();
    let sent = AtomicU64::new(0);
    let failures: Vec<String> = futures_util::stream::iter(generated.iter())
        .map(|case| {
            let app = Arc::clone(&app);
            let by_status = Arc::clone(&by_status);
            let sent = &sent;
            async move {
                sent.fetch_add(1, Ordering::Relaxed);
                let r = check(&app, case).await;
                if let Ok(status) = r {
                    *by_status.lock().unwrap().entry(status).or_default() += 1;
                }
                r.err()
            }
        })
        .buffer_unordered(8)
        .filter_map(|f| async move { f })
        .collect()
        .await;

    println!(
        "graphql fuzz: {} cases (seed {seed}), answers by status {:?}",
        sent.load(Ordering::Relaxed),
        by_status.lock().unwrap()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed, e.g.:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn huge_deep_and_oversized_requests_are_refused_with_a_code_or_a_4xx_and_the_server_stays_up()
{
    let app = App::start().await;
    let mut cases = Vec::new();

    // 1 MB and 10 MB bodies: over the 64 KiB body limit.
    let one_mb = format!("{{ me {{ email }} }} #{}", "x".repeat(1 << 20));
    cases.push(json_case(&one_mb, Value::Null, true, "1 MB document"));
    let ten_mb = format!("{{ me {{ email }} }} #{}", "x".repeat(10 << 20));
    cases.push(json_case(&ten_mb, Value::Null, true, "10 MB document"));
    // 10,000 aliases: over the body limit; 3,000 fit in it and hit the complexity limit.
    for n in [10_000, 3_000] {
        let doc = format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        cases.push(json_case(&doc, Value::Null, true, &format!("{n} aliases")));
    }
    // 3,000 aliases of a real field.
    let doc = format!(
        "{{ {} }}",
        (0..3_000)
            .map(|i| format!("m{i}: me {{ email }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    cases.push(json_case(&doc, Value::Null, true, "3000 aliases of me"));
    // Nesting 1,000 deep: selections, lists in an argument, objects in an argument,
    // and a JSON body nested as deep.
    let depth = 1_000;
    cases.push(json_case(
        &format!("{}{}", "{ me ".repeat(depth), "}".repeat(depth)),
        Value::Null,
        true,
        "selections 1000 deep",
    ));
    cases.push(json_case(
        &format!(
            "{{ amazonOrder(amazonOrderId: {}\"x\"{}) {{ amazonOrderId }} }}",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
        Value::Null,
        true,
        "list argument 1000 deep",
    ));
    cases.push(json_case(
        &format!(
            "{{ amazonOrders(filter: {}{}) {{ totalCount }} }}",
            "{sku: ".repeat(depth),
            "}".repeat(depth)
        ),
        Value::Null,
        true,
        "object argument 1000 deep",
    ));
    cases.push(json_case(
        "query($i: AmazonConnectionInput!) { upsertAmazonConnection(input: $i) { sellerId } }",
        serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).unwrap(),
        true,
        "variables 100 deep",
    ));
    cases.push(Case {
        body: format!(
            "{{\"query\": \"{{ me {{ email }} }}\", \"variables\": {}{}}}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        )
        .into_bytes(),
        content_type: Some("application/json"),
        auth: true,
        what: "JSON body 1000 deep".into(),
    });
    // Fragments that spread each other: a cycle, and a chain 1,000 long.
    cases.push(json_case(
        "query { me { ...A } } fragment A on User { ...B } fragment B on User { ...A }",
        Value::Null,
        true,
        "fragment cycle",
    ));
    let chain: String = (0..depth)
        .map(|i| format!("fragment F{i} on User {{ ...F{} }} ", i + 1))
        .collect();
    cases.push(json_case(
        &format!("query {{ me {{ ...F0 }} }} {chain} fragment F{depth} on User {{ email }}"),
        Value::Null,
        true,
        "fragment chain 1000 long",
    ));
    // A batch of many operations.
    cases.push(Case {
        body: serde_json::to_vec(&vec![json!({ "query": "{ me { email } }" }); 1000]).unwrap(),
        content_type: Some("application/json"),
        auth: true,
        what: "batch of 1000".into(),
    });

    let mut failures = Vec::new();
    for case in &cases {
        match check(&app, case).await {
            Ok(status) => println!("{}: {status}", case.what),
            // A 10 MB upload may be cut off by the server's early 413: the server
            // refused it, which is the point; it must still be serving (checked below).
            Err(e) if case.what == "10 MB document" && e.contains("no answer") => {
                println!(
                    "{}: connection closed by the server before the upload ended",
                    case.what
                );
            }
            Err(e) => failures.push(e),
        }
        assert_still_serving(&app).await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn refusals_and_limit_errors_carry_the_documented_codes() {
    let app = App::start().await;
    let post = |body: Vec<u8>| {
        app.client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let q = |query: &str| serde_json::to_vec(&json!({ "query": query })).unwrap();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (q("{ me { email "), 200, "GRAPHQL_PARSE_FAILED"),
        (
            q(&format!("{}{}", "{ me ".repeat(1000), "}".repeat(1000))),
            200,
            "GRAPHQL_PARSE_FAILED",
        ),
        (q("{ nope }"), 200, "GRAPHQL_VALIDATION_FAILED"),
        (
            q(&format!(
                "{{ {} }}",
                (0..600)
                    .map(|i| format!("m{i}: me {{ email }}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            serde_json::to_vec(&json!({ "query": "query($n: Int!) { amazonOrders(first: $n) { totalCount } }", "variables": { "n": "ten" } })).unwrap(),
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (b"{not json".to_vec(), 400, "BAD_REQUEST"),
        (b"[{\"query\": \"{ me { email } }\"}]".to_vec(), 400, "BAD_REQUEST"),
        (q(&"x".repeat(api::MAX_BODY_BYTES)), 413, "PAYLOAD_TOO_LARGE"),
    ];
    for (body, status, code) in cases {
        let head: String = String::from_utf8_lossy(&body).chars().take(60).collect();
        let res = post(body).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{head}");
        let v: Value = res.json().await.unwrap();
        // A variable of the wrong type is reported by the type check and again by
        // the cost of the field that takes it (`first`): one code, maybe twice.
        let mut codes = e2e::error_codes(&v);
        codes.dedup();
        assert_eq!(codes, [code], "{head}: {v}");
    }
}
