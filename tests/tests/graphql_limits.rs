//! The limits a request meets before anything runs: its cost weighs pages by
//! `first` and reports by their days, so a flood of aliased year-long reports is
//! refused while every request the admin page sends is accepted; introspection
//! follows `GRAPHQL_INTROSPECTION`.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{TestApi, error_codes};
use serde_json::{Value, json};

#[tokio::test]
async fn four_hundred_fifty_aliased_year_long_reports_are_refused_for_a_viewer() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    // One field each: 900 under the old count of fields (limit 1,000), which let
    // a viewer keep the database busy for 9.7 s.
    let reports: String = (0..450)
        .map(|i| {
            format!("r{i}: salesDaily(from: \"2025-01-01\", to: \"2025-12-31\") {{ revenue }} ")
        })
        .collect();

    let started = std::time::Instant::now();
    let r = api
        .run(Some(&viewer), &format!("{{ {reports} }}"), Value::Null)
        .await;

    assert_eq!(error_codes(&r), ["GRAPHQL_VALIDATION_FAILED"], "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too complex"),
        "{r}"
    );
    assert!(r["data"].is_null(), "{r}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refused before running: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_page_costs_its_selection_once_per_row_asked_for() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let fields = "amazonOrderId marketplaceId purchaseDate lastUpdateDate orderStatus fulfillmentChannel \
        orderTotal { amount currencyCode } numberOfItemsShipped numberOfItemsUnshipped isPrime isBusinessOrder \
        items { orderItemId sellerSku asin title quantityOrdered quantityShipped itemPrice { amount currencyCode } unitPrice { amount currencyCode } }";
    let page = |first: u32| {
        format!(
            "{{ amazonOrders(first: {first}) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {fields} }} }} }} }}"
        )
    };
    let three_pages: String = (0..3)
        .map(|i| format!("p{i}: amazonOrders(first: 200) {{ edges {{ node {{ {fields} }} }} }} "))
        .collect();

    let largest = api.run(Some(&owner), &page(200), Value::Null).await;
    let three = api
        .run(Some(&owner), &format!("{{ {three_pages} }}"), Value::Null)
        .await;

    assert!(
        largest["errors"].is_null(),
        "the largest page is allowed: {largest}"
    );
    assert_eq!(
        error_codes(&three),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{three}"
    );
}

/// The admin page's JavaScript modules, every `api/admin/*.js`, one after another.
fn admin_page_script() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/admin");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .collect();
    files.sort();
    assert!(files.len() > 1, "the admin page's modules in {dir}");
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The string literals passed to `gql(…)` (and `subscribe(…)`) in
/// the admin page's script, with the `${NAME}` constants of the script filled in.
fn admin_page_queries() -> Vec<String> {
    let script = admin_page_script();
    let app_js: &str = &script;
    fn literal_at(js: &str, start: usize) -> Option<&str> {
        let quote = js[start..].chars().next()?;
        if !matches!(quote, '\'' | '`' | '"') {
            return None;
        }
        let body = &js[start + 1..];
        body.find(quote).map(|end| &body[..end])
    }
    fn constant(js: &str, name: &str) -> String {
        let at = js
            .find(&format!("const {name} = "))
            .unwrap_or_else(|| panic!("the admin page has no const {name}"))
            + "const  = ".len()
            + name.len();
        match literal_at(js, at) {
            Some(text) => text.to_owned(),
            None => js[at..js[at..].find(';').unwrap() + at].trim().to_owned(),
        }
    }
    let mut queries = Vec::new();
    for marker in ["gql(", "subscribe("] {
        for (at, _) in app_js.match_indices(marker) {
            let start = at + marker.len();
            let skipped = app_js[start..].len() - app_js[start..].trim_start().len();
            let Some(text) = literal_at(app_js, start + skipped) else {
                continue;
            };
            let mut query = text.to_owned();
            while let Some(open) = query.find("${") {
                let close = query[open..].find('}').unwrap() + open;
                let value = constant(app_js, &query[open + 2..close]);
                query.replace_range(open..=close, &value);
            }
            queries.push(query);
        }
    }
    queries
}

#[tokio::test]
async fn every_request_the_admin_page_sends_is_within_the_limits() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let queries = admin_page_queries();
    let variables = json!({
        "e": "someone@example.com", "p": "not-the-password", "d": true, "i": false,
        "id": "1", "after": null, "filter": null, "from": "2026-11-01", "to": "2026-11-30",
    });
    assert!(queries.len() >= 12, "found only {queries:?}");
    for field in [
        "amazonListings(",
        "listingChanges(",
        "syncAmazonListings(",
        "queueListingChanges(",
        "queueListingChangesCsv(",
        "submitListingChanges(",
        "resolveListingConflict(",
    ] {
        assert!(
            queries.iter().any(|q| q.contains(field)),
            "the admin page's {field} request was not found in app.js"
        );
    }

    for query in &queries {
        let response = if query.trim_start().starts_with("subscription") {
            use futures_util::StreamExt as _;
            let request = async_graphql::Request::new(query.as_str())
                .variables(async_graphql::Variables::from_json(variables.clone()))
                .data(api::schema::RequestAuth::bearer(owner.clone()));
            // A refused subscription answers at once; an accepted one may wait for
            // its first event (ordersChanged): accepted is all this checks.
            let mut stream = api.schema.execute_stream(request);
            match tokio::time::timeout(std::time::Duration::from_secs(2), stream.next()).await {
                Ok(first) => serde_json::to_value(first.unwrap()).unwrap(),
                Err(_) => json!({ "data": null }),
            }
        } else if [
            "syncAmazonOrders",
            "createUser",
            "syncAmazonListings",
            "queueListingChanges",
            "submitListingChanges",
            "resolveListingConflict",
        ]
        .iter()
        .any(|m| query.contains(m))
        {
            // Validated only: run anonymously, they stop at their guard.
            api.run(None, query, variables.clone()).await
        } else {
            api.run(Some(&owner), query, variables.clone()).await
        };

        let codes = error_codes(&response);
        assert!(
            !codes
                .iter()
                .any(|c| c == "GRAPHQL_VALIDATION_FAILED" || c == "GRAPHQL_PARSE_FAILED"),
            "the admin page's request was refused:\n{query}\n{response}"
        );
    }
}

#[tokio::test]
async fn introspection_is_answered_only_where_it_is_enabled() {
    let api = TestApi::new().await;
    let mut settings = e2e::settings(&api.t.url, tempfile::tempdir().unwrap().path(), false);
    settings.api.graphql_introspection = false;
    let closed = api::schema::schema(api.t.db.clone(), &settings);
    let query = r#"{ __schema { queryType { name } } __type(name: "AmazonOrder") { name } }"#;

    let open = api.run(None, query, Value::Null).await;
    let refused = serde_json::to_value(closed.execute(query).await).unwrap();

    assert_eq!(
        open["data"]["__schema"]["queryType"]["name"], "Query",
        "{open}"
    );
    assert_eq!(open["data"]["__type"]["name"], "AmazonOrder", "{open}");
    // async-graphql answers null, as for a field that is not there.
    assert!(refused["data"]["__schema"].is_null(), "{refused}");
    assert!(refused["data"]["__type"].is_null(), "{refused}");
}
