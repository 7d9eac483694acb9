//! Listings Items 2021-08-01: search, get and patch over the catalog's listings, the delayed
//! application of accepted patches, previews, invalid submissions with their issue codes,
//! outside reprices, and the usage plans.

use serde_json::{Value, json};
use spapi_sim::{
    FaultKind, Faults, ScheduledFault, SimConfig, SimListing, listing_issue_codes as codes,
};

use crate::common::*;

const LISTINGS: &str = "listingsItems_2021-08-01.json";
const LISTING_OPS: [&str; 3] = [
    "searchListingsItems",
    "getListingsItem",
    "patchListingsItem",
];

/// The functional config, with generous buckets for the listings operations too.
fn listings_config() -> SimConfig {
    let mut c = config();
    for op in LISTING_OPS {
        c.rate_overrides.insert(op.to_string(), (1000.0, 1000));
    }
    c
}

/// Percent-encodes a path segment (a SKU may hold spaces, `/`, `+`…).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn search_path(env: &Env) -> String {
    format!("/listings/2021-08-01/items/{}", env.sim.config().seller_id)
}

fn item_path(env: &Env, sku: &str) -> String {
    format!("{}/{}", search_path(env), segment(sku))
}

async fn patch(env: &Env, sku: &str, query: &[(&str, &str)], body: &Value) -> Reply {
    let resp = env
        .http
        .patch(format!("{}{}", env.sim.base_url(), item_path(env, sku)))
        .query(query)
        .header("x-amz-access-token", &env.token)
        .json(body)
        .send()
        .await
        .unwrap();
    reply(resp).await
}

fn listing(env: &Env, mp: &str, pick: impl Fn(&SimListing) -> bool) -> SimListing {
    env.sim
        .listings_ground_truth()
        .into_iter()
        .find(|l| l.marketplace_id == mp && pick(l))
        .unwrap()
}

fn find(env: &Env, mp: &str, sku: &str) -> SimListing {
    listing(env, mp, |l| l.sku == sku)
}

fn price_patch(mp: &str, currency: &str, price: Value) -> Value {
    json!({
        "op": "replace",
        "path": "/attributes/purchasable_offer",
        "value": [{
            "marketplace_id": mp,
            "currency": currency,
            "our_price": [{"schedule": [{"value_with_tax": price}]}],
        }],
    })
}

fn body(product_type: &str, patches: Vec<Value>) -> Value {
    json!({"productType": product_type, "patches": patches})
}

/// Every page of a search, following nextToken with the first page's parameters.
async fn all_items(env: &Env, params: &[(&str, &str)]) -> Vec<Value> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q: Vec<(&str, &str)> = params.to_vec();
        if let Some(t) = &token {
            q.push(("pageToken", t));
        }
        let r = env.get(&search_path(env), &q).await;
        assert_eq!(r.status, 200, "{}", r.body);
        items.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["pagination"]["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
        assert!(items.len() < 2000, "paging does not end");
    }
    items
}

#[tokio::test]
async fn search_pages_through_the_whole_catalog_and_matches_the_ground_truth() {
    let env = start(listings_config()).await;
    let truth = env.sim.listings_ground_truth();
    assert_eq!(
        truth.len(),
        60 * 3,
        "every catalog SKU in every marketplace"
    );
    for mp in [US, UK, JP] {
        let items = all_items(
            &env,
            &[
                ("marketplaceIds", mp),
                (
                    "includedData",
                    "summaries,offers,fulfillmentAvailability,attributes",
                ),
                ("pageSize", "20"),
                ("sortBy", "sku"),
                ("sortOrder", "ASC"),
            ],
        )
        .await;
        let expected: Vec<&SimListing> = truth.iter().filter(|l| l.marketplace_id == mp).collect();
        assert_eq!(items.len(), expected.len(), "{mp}");
        for (item, l) in items.iter().zip(&expected) {
            assert_eq!(item["sku"], l.sku.as_str());
            let s = &item["summaries"][0];
            assert_eq!(s["marketplaceId"], mp);
            assert_eq!(s["asin"], l.asin.as_str());
            assert_eq!(s["productType"], l.product_type.as_str());
            assert_eq!(s["itemName"], l.item_name.as_str());
            assert_eq!(s["status"], json!(l.status));
            assert_eq!(s["lastUpdatedDate"], iso(l.last_updated_date).as_str());
            assert_eq!(s["createdDate"], iso(l.created_date).as_str());
            let price = l.price.as_ref().unwrap();
            assert_eq!(item["offers"][0]["price"]["amount"], price.amount.as_str());
            assert_eq!(
                item["offers"][0]["price"]["currencyCode"],
                price.currency_code.as_str()
            );
            let attr_price = &item["attributes"]["purchasable_offer"][0]["our_price"][0]["schedule"]
                [0]["value_with_tax"];
            assert!(attr_price.is_number(), "{attr_price}");
            let attr_text = attr_price.to_string();
            assert_eq!(
                attr_text.parse::<f64>().unwrap(),
                price.amount.parse::<f64>().unwrap(),
                "value_with_tax is the offer's price"
            );
            let fa = &item["fulfillmentAvailability"][0];
            match l.fulfillment_channel.as_str() {
                "MFN" => {
                    assert_eq!(fa["fulfillmentChannelCode"], "DEFAULT");
                    assert_eq!(fa["quantity"], json!(l.quantity.unwrap()));
                    assert_eq!(
                        item["attributes"]["fulfillment_availability"][0]["quantity"],
                        json!(l.quantity.unwrap())
                    );
                }
                _ => {
                    assert!(l.quantity.is_none());
                    assert!(
                        fa["fulfillmentChannelCode"]
                            .as_str()
                            .unwrap()
                            .starts_with("AMAZON_")
                    );
                    assert!(
                        item["attributes"]["fulfillment_availability"][0]
                            .get("quantity")
                            .is_none()
                    );
                }
            }
        }
    }
    // JPY has no decimals.
    let jp = truth.iter().find(|l| l.marketplace_id == JP).unwrap();
    assert!(!jp.price.as_ref().unwrap().amount.contains('.'));
    let us = truth.iter().find(|l| l.marketplace_id == US).unwrap();
    assert_eq!(
        us.price
            .as_ref()
            .unwrap()
            .amount
            .split('.')
            .nth(1)
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn search_sorts_by_last_updated_date_descending_by_default() {
    let env = start(listings_config()).await;
    let items = all_items(&env, &[("marketplaceIds", US)]).await;
    let dates: Vec<String> = items
        .iter()
        .map(|i| {
            i["summaries"][0]["lastUpdatedDate"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    assert_eq!(items.len(), 60);
    let first = env.get(&search_path(&env), &[("marketplaceIds", US)]).await;
    assert_eq!(
        first.body["items"].as_array().unwrap().len(),
        10,
        "pageSize 10 by default"
    );
    assert_eq!(first.body["numberOfResults"], 60);
    assert!(
        first.body["items"][0].get("offers").is_none(),
        "summaries only by default"
    );
}

#[tokio::test]
async fn afn_listings_are_the_skus_with_fba_inventory_and_without_fba_all_are_mfn() {
    let env = start(listings_config()).await;
    let fba: std::collections::BTreeSet<(String, String)> = env
        .sim
        .inventory_ground_truth()
        .into_iter()
        .map(|i| (i.marketplace_id, i.seller_sku))
        .collect();
    let listings = env.sim.listings_ground_truth();
    for l in &listings {
        let afn = fba.contains(&(l.marketplace_id.clone(), l.sku.clone()));
        assert_eq!(
            l.fulfillment_channel,
            if afn { "AFN" } else { "MFN" },
            "{l:?}"
        );
    }
    assert!(listings.iter().any(|l| l.fulfillment_channel == "AFN"));
    assert!(listings.iter().any(|l| l.status == ["DISCOVERABLE"]));
    let env = start(SimConfig {
        fba_inventory: false,
        ..listings_config()
    })
    .await;
    assert!(
        env.sim
            .listings_ground_truth()
            .iter()
            .all(|l| l.fulfillment_channel == "MFN" && l.quantity.is_some())
    );
}

#[tokio::test]
async fn identifiers_filter_the_skus_and_more_than_20_are_refused() {
    let env = start(listings_config()).await;
    let skus: Vec<String> = env
        .sim
        .listings_ground_truth()
        .into_iter()
        .filter(|l| l.marketplace_id == UK)
        .map(|l| l.sku)
        .take(3)
        .collect();
    let ids = skus.join(",");
    let r = env
        .get(
            &search_path(&env),
            &[
                ("marketplaceIds", UK),
                ("identifiers", &ids),
                ("identifiersType", "SKU"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut got: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, skus.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.body["numberOfResults"], 3);

    let many: Vec<String> = (0..21).map(|n| format!("SKU-{n}")).collect();
    let many = many.join(",");
    let r = env
        .get(
            &search_path(&env),
            &[
                ("marketplaceIds", UK),
                ("identifiers", &many),
                ("identifiersType", "SKU"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "BAD_REQUEST");
    assert!(r.error_message().contains("at most 20"), "{}", r.body);

    let r = env
        .get(
            &search_path(&env),
            &[("marketplaceIds", UK), ("identifiers", &ids)],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("identifiersType"), "{}", r.body);
}

#[tokio::test]
async fn search_parameters_are_validated() {
    let env = start(listings_config()).await;
    let path = search_path(&env);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "marketplaceIds"),
        (
            vec![("marketplaceIds", "A2EUQ1WTGCTBG2")],
            "does not participate",
        ),
        (
            vec![("marketplaceIds", US), ("includedData", "summaries,prices")],
            "includedData",
        ),
        (vec![("marketplaceIds", US), ("pageSize", "21")], "pageSize"),
        (vec![("marketplaceIds", US), ("sortBy", "price")], "sortBy"),
        (
            vec![("marketplaceIds", US), ("sortOrder", "UP")],
            "sortOrder",
        ),
        (
            vec![("marketplaceIds", US), ("lastUpdatedAfter", "yesterday")],
            "lastUpdatedAfter",
        ),
        (
            vec![("marketplaceIds", US), ("withStatus", "ACTIVE")],
            "withStatus",
        ),
        (
            vec![("marketplaceIds", US), ("pageToken", "abc")],
            "pageToken",
        ),
    ];
    for (params, needle) in cases {
        let r = env.get(&path, &params).await;
        assert_eq!(r.status, 400, "{params:?}: {}", r.body);
        assert_eq!(r.error_code(), "BAD_REQUEST");
        assert!(r.error_message().contains(needle), "{params:?}: {}", r.body);
    }
    // A token is bound to its query.
    let first = env
        .get(&path, &[("marketplaceIds", US), ("pageSize", "5")])
        .await;
    let token = first.body["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();
    let r = env
        .get(
            &path,
            &[
                ("marketplaceIds", US),
                ("pageSize", "6"),
                ("pageToken", &token),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("other parameters"), "{}", r.body);
}

#[tokio::test]
async fn another_seller_id_is_refused_with_403() {
    let env = start(listings_config()).await;
    let r = env
        .get(
            "/listings/2021-08-01/items/A3OTHERSELLER",
            &[("marketplaceIds", US)],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.error_code(), "Unauthorized");
    assert_eq!(
        env.sim.stats().operations["searchListingsItems"].unauthorized,
        1
    );
}

#[tokio::test]
async fn last_updated_after_returns_only_the_listings_updated_since() {
    let env = start(listings_config()).await;
    let truth: Vec<SimListing> = env
        .sim
        .listings_ground_truth()
        .into_iter()
        .filter(|l| l.marketplace_id == US)
        .collect();
    let mut dates: Vec<_> = truth.iter().map(|l| l.last_updated_date).collect();
    dates.sort_unstable();
    let since = dates[dates.len() / 2];
    let expected = truth
        .iter()
        .filter(|l| l.last_updated_date >= since)
        .count();
    let items = all_items(
        &env,
        &[
            ("marketplaceIds", US),
            ("lastUpdatedAfter", &iso(since)),
            ("pageSize", "7"),
        ],
    )
    .await;
    assert_eq!(items.len(), expected);
    assert!(expected > 0 && expected < truth.len());

    // A reprice moves one listing into a window that starts now.
    let now = env.sim.now();
    let l = &truth[0];
    env.sim.reprice(US, &l.sku, "12.34").unwrap();
    let items = all_items(
        &env,
        &[("marketplaceIds", US), ("lastUpdatedAfter", &iso(now))],
    )
    .await;
    let skus: Vec<&str> = items.iter().map(|i| i["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, [l.sku.as_str()]);
}

#[tokio::test]
async fn get_answers_one_listing_and_an_unknown_sku_is_404() {
    let env = start(listings_config()).await;
    let l = listing(&env, JP, |_| true);
    let r = env
        .get(
            &item_path(&env, &l.sku),
            &[("marketplaceIds", JP), ("includedData", "offers")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["sku"], l.sku.as_str());
    assert_eq!(r.body["offers"][0]["price"]["currencyCode"], "JPY");
    assert_eq!(
        r.body["offers"][0]["price"]["amount"],
        l.price.unwrap().amount.as_str()
    );
    assert_eq!(r.header("x-amzn-ratelimit-limit"), Some("1000"));

    let r = env
        .get(&item_path(&env, "NO SUCH/SKU+1"), &[("marketplaceIds", JP)])
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.error_code(), "NOT_FOUND");
    assert!(
        r.error_message().contains("\"NO SUCH/SKU+1\""),
        "{}",
        r.body
    );
    assert!(r.header("x-amzn-requestid").is_some());
}

#[tokio::test]
async fn an_accepted_price_patch_is_not_live_at_once_and_is_live_after_the_delay() {
    let env = start(listings_config()).await;
    let l = listing(&env, US, |l| l.fulfillment_channel == "MFN");
    let old = l.price.clone().unwrap().amount;
    let r = patch(
        &env,
        &l.sku,
        &[("marketplaceIds", US)],
        &body(&l.product_type, vec![price_patch(US, "USD", json!(7.25))]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "ACCEPTED");
    assert_eq!(r.body["issues"], json!([]));
    let id = r.body["submissionId"].as_str().unwrap().to_string();

    assert_eq!(find(&env, US, &l.sku), l, "nothing changes at once");
    let r = env
        .get(
            &item_path(&env, &l.sku),
            &[("marketplaceIds", US), ("includedData", "offers")],
        )
        .await;
    assert_eq!(r.body["offers"][0]["price"]["amount"], old.as_str());

    env.sim.advance_clock(chrono::Duration::seconds(301));
    let now = find(&env, US, &l.sku);
    assert_eq!(now.price.unwrap().amount, "7.25");
    let subs = env.sim.listing_submissions();
    assert_eq!(subs.len(), 1);
    let sub = &subs[0];
    assert_eq!(sub.submission_id, id);
    assert_eq!((sub.status.as_str(), sub.preview), ("ACCEPTED", false));
    assert_eq!(sub.price.as_deref(), Some("7.25"));
    let applied = sub.applied_at.unwrap();
    assert_eq!(applied, sub.received_at + chrono::Duration::seconds(300));
    assert_eq!(iso(now.last_updated_date), iso(applied));
    let r = env
        .get(
            &item_path(&env, &l.sku),
            &[
                ("marketplaceIds", US),
                ("includedData", "offers,attributes"),
            ],
        )
        .await;
    assert_eq!(r.body["offers"][0]["price"]["amount"], "7.25");
    assert_eq!(
        r.body["attributes"]["purchasable_offer"][0]["our_price"][0]["schedule"][0]["value_with_tax"]
            .to_string(),
        "7.25"
    );
}

#[tokio::test]
async fn a_quantity_patch_sets_the_mfn_quantity_and_the_buyable_status() {
    let env = start(listings_config()).await;
    let l = listing(&env, UK, |l| {
        l.fulfillment_channel == "MFN" && l.quantity > Some(0)
    });
    let r = patch(
        &env,
        &l.sku,
        &[("marketplaceIds", UK)],
        &body(
            &l.product_type,
            vec![json!({
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}],
            })],
        ),
    )
    .await;
    assert_eq!(r.body["status"], "ACCEPTED", "{}", r.body);
    env.sim.advance_clock(chrono::Duration::seconds(300));
    let now = find(&env, UK, &l.sku);
    assert_eq!(now.quantity, Some(0));
    assert_eq!(now.status, ["DISCOVERABLE"]);
    assert_eq!(env.sim.listing_submissions()[0].quantity, Some(0));
}

#[tokio::test]
async fn a_validation_preview_changes_nothing() {
    let env = start(listings_config()).await;
    let l = listing(&env, US, |l| l.fulfillment_channel == "MFN");
    let before = env.sim.listings_ground_truth();
    let r = patch(
        &env,
        &l.sku,
        &[
            ("marketplaceIds", US),
            ("mode", "VALIDATION_PREVIEW"),
            ("includedData", "identifiers,issues"),
        ],
        &body(&l.product_type, vec![price_patch(US, "USD", json!(3.5))]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "VALID");
    assert_eq!(r.body["identifiers"][0]["asin"], l.asin.as_str());
    env.sim.advance_clock(chrono::Duration::hours(2));
    assert_eq!(env.sim.listings_ground_truth(), before);
    let subs = env.sim.listing_submissions();
    assert_eq!(subs.len(), 1);
    assert!(subs[0].preview && subs[0].status == "VALID" && subs[0].applied_at.is_none());
    assert_eq!(subs[0].price.as_deref(), Some("3.50"));
}

#[tokio::test]
async fn invalid_patches_answer_invalid_with_their_documented_codes_and_change_nothing() {
    let env = start(listings_config()).await;
    let mfn = listing(&env, US, |l| l.fulfillment_channel == "MFN");
    let afn = listing(&env, US, |l| l.fulfillment_channel == "AFN");
    let jp = listing(&env, JP, |_| true);
    let before = env.sim.listings_ground_truth();
    let cases: Vec<(&SimListing, &str, Value, &str)> = vec![
        (
            &mfn,
            US,
            body(
                &mfn.product_type,
                vec![json!({
                    "op": "replace",
                    "path": "/attributes/purchaseable_offer",
                    "value": [{"marketplace_id": US, "currency": "USD", "our_price": [{"schedule": [{"value_with_tax": 9.99}]}]}],
                })],
            ),
            codes::UNKNOWN_ATTRIBUTE,
        ),
        (
            &mfn,
            US,
            body(
                &mfn.product_type,
                vec![json!({
                    "op": "replace",
                    "path": "/attributes/purchasable_offer",
                    "value": [{"marketplace_id": US, "currency": "USD", "our_price": [{"schedule": {"value_with_tax": 9.99}}]}],
                })],
            ),
            codes::INVALID_VALUE,
        ),
        (
            &mfn,
            US,
            body(
                &mfn.product_type,
                vec![json!({
                    "op": "replace",
                    "path": "/attributes/purchasable_offer/0/our_price",
                    "value": [{"schedule": [{"value_with_tax": 9.99}]}],
                })],
            ),
            codes::NESTED_PATH,
        ),
        (
            &mfn,
            US,
            body(&mfn.product_type, vec![price_patch(US, "EUR", json!(9.99))]),
            codes::WRONG_CURRENCY,
        ),
        (
            &afn,
            US,
            body(
                &afn.product_type,
                vec![json!({
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 5}],
                })],
            ),
            codes::QUANTITY_ON_FBA,
        ),
        (
            &jp,
            JP,
            body(
                &jp.product_type,
                vec![price_patch(JP, "JPY", json!(1999.5))],
            ),
            codes::TOO_PRECISE,
        ),
        (
            &mfn,
            US,
            body(
                &mfn.product_type,
                vec![price_patch(US, "USD", json!(9.999))],
            ),
            codes::TOO_PRECISE,
        ),
        (
            &mfn,
            US,
            body("LUGGAGE", vec![price_patch(US, "USD", json!(9.99))]),
            codes::PRODUCT_TYPE,
        ),
        (
            &mfn,
            US,
            json!({"patches": [price_patch(US, "USD", json!(9.99))]}),
            codes::PRODUCT_TYPE,
        ),
        (
            &mfn,
            US,
            body(&mfn.product_type, vec![price_patch(UK, "USD", json!(9.99))]),
            codes::WRONG_MARKETPLACE,
        ),
        (
            &mfn,
            US,
            body(
                &mfn.product_type,
                vec![json!({
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": -1}],
                })],
            ),
            codes::INVALID_VALUE,
        ),
        (
            &mfn,
            US,
            body(
                &mfn.product_type,
                vec![json!({"op": "delete", "path": "/attributes/purchasable_offer"})],
            ),
            codes::MISSING_VALUE,
        ),
    ];
    let v = validator(LISTINGS, "ListingsItemSubmissionResponse", true);
    for (l, mp, request, code) in &cases {
        for mode in [None, Some("VALIDATION_PREVIEW")] {
            let mut q = vec![("marketplaceIds", *mp)];
            if let Some(m) = mode {
                q.push(("mode", m));
            }
            let r = patch(&env, &l.sku, &q, request).await;
            assert_eq!(r.status, 200, "{request}: {}", r.body);
            assert_valid(&v, &r.body, "patch INVALID");
            assert_eq!(r.body["status"], "INVALID", "{request}: {}", r.body);
            let codes: Vec<&str> = r.body["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["code"].as_str().unwrap())
                .collect();
            assert!(
                codes.contains(code),
                "{request}: wanted {code}, got {}",
                r.body
            );
            assert!(
                r.body["issues"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|i| i["severity"] == "ERROR")
            );
        }
    }
    env.sim.advance_clock(chrono::Duration::hours(1));
    assert_eq!(env.sim.listings_ground_truth(), before);
    let subs = env.sim.listing_submissions();
    assert_eq!(subs.len(), cases.len() * 2);
    assert!(
        subs.iter()
            .all(|s| s.status == "INVALID" && s.applied_at.is_none())
    );
}

#[tokio::test]
async fn malformed_patch_bodies_and_unknown_skus_are_errors_not_submissions() {
    let env = start(listings_config()).await;
    let l = listing(&env, US, |_| true);
    let r = patch(
        &env,
        "NO-SUCH-SKU",
        &[("marketplaceIds", US)],
        &body(&l.product_type, vec![price_patch(US, "USD", json!(1))]),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.error_code(), "NOT_FOUND");
    let r = patch(
        &env,
        &l.sku,
        &[("marketplaceIds", US)],
        &json!({"productType": l.product_type}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.error_message().contains("patches"));
    let r = patch(&env, &l.sku, &[("marketplaceIds", US)], &json!({"productType": l.product_type, "patches": [{"op": "move", "path": "/attributes/item_name"}]})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = patch(
        &env,
        &l.sku,
        &[],
        &body(&l.product_type, vec![price_patch(US, "USD", json!(1))]),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.error_message().contains("marketplaceIds"));
    assert!(env.sim.listing_submissions().is_empty());
    assert_eq!(env.sim.stats().operations["patchListingsItem"].calls, 4);
}

#[tokio::test]
async fn never_apply_keeps_the_old_price_forever() {
    let env = start(listings_config()).await;
    let l = listing(&env, UK, |_| true);
    env.sim.never_apply(UK, &l.sku, true).unwrap();
    let r = patch(
        &env,
        &l.sku,
        &[("marketplaceIds", UK)],
        &body(
            &l.product_type,
            vec![price_patch(
                UK,
                "GBP",
                json!("4.99".parse::<f64>().unwrap()),
            )],
        ),
    )
    .await;
    assert_eq!(r.body["status"], "ACCEPTED", "{}", r.body);
    for _ in 0..3 {
        env.sim.advance_clock(chrono::Duration::days(3));
        assert_eq!(find(&env, UK, &l.sku), l);
    }
    assert!(env.sim.listing_submissions()[0].applied_at.is_none());
    assert!(env.sim.never_apply(UK, "NO-SUCH-SKU", true).is_err());
}

#[tokio::test]
async fn a_share_of_accepted_patches_fails_afterwards_with_an_issue_on_the_listing() {
    let env = start(SimConfig {
        listings_accept_then_fail_share: 1.0,
        ..listings_config()
    })
    .await;
    let l = listing(&env, US, |_| true);
    let request = body(&l.product_type, vec![price_patch(US, "USD", json!(5))]);
    let preview = patch(
        &env,
        &l.sku,
        &[("marketplaceIds", US), ("mode", "VALIDATION_PREVIEW")],
        &request,
    )
    .await;
    assert_eq!(preview.body["status"], "VALID");
    let r = patch(&env, &l.sku, &[("marketplaceIds", US)], &request).await;
    assert_eq!(r.body["status"], "ACCEPTED");
    env.sim.advance_clock(chrono::Duration::seconds(600));
    let now = find(&env, US, &l.sku);
    assert_eq!(now.price, l.price);
    assert_eq!(now.issues, [codes::NOT_APPLIED]);
    let r = env
        .get(
            &item_path(&env, &l.sku),
            &[("marketplaceIds", US), ("includedData", "issues")],
        )
        .await;
    assert_eq!(r.body["issues"][0]["code"], codes::NOT_APPLIED);
    let found = env
        .get(
            &search_path(&env),
            &[("marketplaceIds", US), ("withIssueSeverity", "ERROR")],
        )
        .await;
    assert_eq!(found.body["numberOfResults"], 1);
}

#[tokio::test]
async fn reprice_changes_the_price_and_the_last_updated_date() {
    let env = start(listings_config()).await;
    let l = listing(&env, JP, |_| true);
    env.sim.advance_clock(chrono::Duration::seconds(5));
    env.sim.reprice(JP, &l.sku, "4480").unwrap();
    let now = find(&env, JP, &l.sku);
    assert_eq!(now.price.unwrap().amount, "4480");
    assert!(now.last_updated_date > l.last_updated_date);
    assert_eq!(iso(now.last_updated_date), iso(env.sim.now()));
    assert!(
        env.sim.reprice(JP, &l.sku, "4480.5").is_err(),
        "yen have no decimals"
    );
    assert!(env.sim.reprice(JP, "NO-SUCH-SKU", "100").is_err());

    // The same through the control API.
    let http = reqwest::Client::new();
    let base = env.sim.base_url();
    let r = http
        .post(format!("{base}/_sim/listings/reprice"))
        .json(&json!({"marketplaceId": JP, "sku": l.sku, "amount": "3980"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let all: Vec<SimListing> = http
        .get(format!("{base}/_sim/listings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got = all
        .iter()
        .find(|x| x.marketplace_id == JP && x.sku == l.sku)
        .unwrap();
    assert_eq!(got.price.as_ref().unwrap().amount, "3980");
    let r = http
        .post(format!("{base}/_sim/listings/reprice"))
        .json(&json!({"marketplaceId": JP, "sku": "NOPE", "amount": "3980"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let subs: Value = http
        .get(format!("{base}/_sim/listings/submissions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subs, json!([]));
}

#[tokio::test]
async fn live_mode_reprices_listings_now_and_then() {
    let env = start(SimConfig {
        time_scale: 3600.0,
        reprices_per_hour: 3600.0,
        live: Some(spapi_sim::LiveConfig {
            orders_per_hour: 0.0,
            updates_per_hour: 0.0,
            tick: std::time::Duration::from_millis(50),
        }),
        ..listings_config()
    })
    .await;
    let before = env.sim.listings_ground_truth();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let after = env.sim.listings_ground_truth();
    let changed = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b.price != a.price)
        .count();
    assert!(changed > 0, "no listing was repriced");
    for (b, a) in before.iter().zip(&after) {
        if b.price != a.price {
            assert!(a.last_updated_date > b.last_updated_date);
        }
    }
}

#[tokio::test]
async fn the_bucket_gives_429_after_the_burst() {
    let env = start(SimConfig {
        rate_overrides: Default::default(),
        ..config()
    })
    .await;
    let path = search_path(&env);
    for n in 0..5 {
        let r = env.get(&path, &[("marketplaceIds", US)]).await;
        assert_eq!(r.status, 200, "call {n}: {}", r.body);
        assert_eq!(r.header("x-amzn-ratelimit-limit"), Some("5"));
    }
    let r = env.get(&path, &[("marketplaceIds", US)]).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), "QuotaExceeded");
    // getListingsItem has a bucket of its own, burst 10.
    let sku = env.sim.listings_ground_truth()[0].sku.clone();
    for _ in 0..10 {
        let r = env
            .get(&item_path(&env, &sku), &[("marketplaceIds", US)])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(
        env.get(&item_path(&env, &sku), &[("marketplaceIds", US)])
            .await
            .status,
        429
    );
    let stats = env.sim.stats();
    assert_eq!(stats.operations["searchListingsItems"].throttled, 1);
    assert_eq!(stats.operations["searchListingsItems"].ok, 5);
    assert_eq!(
        (
            stats.operations["patchListingsItem"].rate,
            stats.operations["patchListingsItem"].burst
        ),
        (5.0, 5)
    );
}

#[tokio::test]
async fn every_listings_response_matches_the_model() {
    let env = start(SimConfig {
        listings_accept_then_fail_share: 1.0,
        ..listings_config()
    })
    .await;
    let all = "summaries,attributes,issues,offers,fulfillmentAvailability,procurement,relationships,productTypes";
    // An issue on one listing, so that issues are rendered too.
    let l = listing(&env, US, |_| true);
    let r = patch(
        &env,
        &l.sku,
        &[
            ("marketplaceIds", US),
            ("includedData", "identifiers,issues"),
        ],
        &body(&l.product_type, vec![price_patch(US, "USD", json!(5))]),
    )
    .await;
    let submission = validator(LISTINGS, "ListingsItemSubmissionResponse", true);
    assert_valid(&submission, &r.body, "patch ACCEPTED");
    env.sim.advance_clock(chrono::Duration::seconds(300));

    let search = response_validator(LISTINGS, "/listings/2021-08-01/items/{sellerId}", 200, true);
    let item = response_validator(
        LISTINGS,
        "/listings/2021-08-01/items/{sellerId}/{sku}",
        200,
        true,
    );
    for mp in [US, UK, JP] {
        let r = env
            .get(
                &search_path(&env),
                &[
                    ("marketplaceIds", mp),
                    ("includedData", all),
                    ("pageSize", "20"),
                ],
            )
            .await;
        assert_valid(&search, &r.body, "searchListingsItems 200");
        assert!(r.body["pagination"]["nextToken"].is_string());
        for it in r.body["items"].as_array().unwrap().iter().take(3) {
            let sku = it["sku"].as_str().unwrap();
            let r = env
                .get(
                    &item_path(&env, sku),
                    &[("marketplaceIds", mp), ("includedData", all)],
                )
                .await;
            assert_valid(&item, &r.body, "getListingsItem 200");
        }
    }
    let preview = patch(
        &env,
        &l.sku,
        &[
            ("marketplaceIds", US),
            ("mode", "VALIDATION_PREVIEW"),
            ("includedData", "identifiers,issues"),
        ],
        &body(&l.product_type, vec![price_patch(US, "USD", json!(5))]),
    )
    .await;
    assert_valid(&submission, &preview.body, "patch VALID");

    let errors = validator(LISTINGS, "ErrorList", true);
    let r = env.get(&search_path(&env), &[]).await;
    assert_eq!(r.status, 400);
    assert_valid(&errors, &r.body, "search 400");
    let r = env
        .get(&item_path(&env, "NOPE"), &[("marketplaceIds", US)])
        .await;
    assert_eq!(r.status, 404);
    assert_valid(&errors, &r.body, "get 404");
    let r = env
        .get(
            "/listings/2021-08-01/items/OTHER/X",
            &[("marketplaceIds", US)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_valid(&errors, &r.body, "get 403");
}

#[tokio::test]
async fn reset_regenerates_the_listings_and_forgets_the_submissions() {
    let env = start(listings_config()).await;
    let before = env.sim.listings_ground_truth();
    let l = &before[0];
    env.sim.reprice(&l.marketplace_id, &l.sku, "1.00").unwrap();
    let r = patch(
        &env,
        &l.sku,
        &[("marketplaceIds", &l.marketplace_id)],
        &body(
            &l.product_type,
            vec![price_patch(
                &l.marketplace_id,
                &l.price.as_ref().unwrap().currency_code,
                json!(2),
            )],
        ),
    )
    .await;
    assert_eq!(r.body["status"], "ACCEPTED", "{}", r.body);
    env.sim.reset();
    assert!(env.sim.listing_submissions().is_empty());
    let after = env.sim.listings_ground_truth();
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(
            (&a.sku, &a.price, &a.status, &a.quantity),
            (&b.sku, &b.price, &b.status, &b.quantity)
        );
    }
}

#[tokio::test]
async fn the_same_seed_lists_the_same_catalog() {
    let a = start(listings_config()).await;
    let b = start(listings_config()).await;
    let strip = |v: Vec<SimListing>| -> Vec<_> {
        v.into_iter()
            .map(|l| {
                (
                    l.marketplace_id,
                    l.sku,
                    l.asin,
                    l.price,
                    l.quantity,
                    l.status,
                    l.fulfillment_channel,
                )
            })
            .collect()
    };
    assert_eq!(
        strip(a.sim.listings_ground_truth()),
        strip(b.sim.listings_ground_truth())
    );
    let c = start(SimConfig {
        seed: 12,
        ..listings_config()
    })
    .await;
    assert_ne!(
        strip(a.sim.listings_ground_truth()),
        strip(c.sim.listings_ground_truth())
    );
}

#[tokio::test]
async fn faults_are_keyed_by_the_listings_operation_names() {
    let env = start(listings_config()).await;
    let l = listing(&env, US, |_| true);
    env.sim.set_faults(Faults {
        schedule: vec![
            ScheduledFault {
                operation: "patchListingsItem".into(),
                fault: FaultKind::InternalError,
                count: 1,
            },
            ScheduledFault {
                operation: "searchListingsItems".into(),
                fault: FaultKind::MalformedPage,
                count: 1,
            },
        ],
        ..Faults::default()
    });
    let request = body(&l.product_type, vec![price_patch(US, "USD", json!(5))]);
    let r = patch(&env, &l.sku, &[("marketplaceIds", US)], &request).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.error_code(), "InternalFailure");
    assert!(
        env.sim.listing_submissions().is_empty(),
        "a 500 is no submission"
    );
    let r = patch(&env, &l.sku, &[("marketplaceIds", US)], &request).await;
    assert_eq!(r.body["status"], "ACCEPTED");

    let r = env.get(&search_path(&env), &[("marketplaceIds", US)]).await;
    assert_eq!(r.status, 200);
    let search = response_validator(LISTINGS, "/listings/2021-08-01/items/{sellerId}", 200, true);
    assert!(
        !search.is_valid(&r.body),
        "a malformed page breaks the model"
    );
    assert!(r.body["items"].as_array().unwrap().last().unwrap()["sku"].is_number());
    let stats = env.sim.stats();
    assert_eq!(stats.operations["patchListingsItem"].server_errors, 1);
    assert_eq!(stats.operations["patchListingsItem"].ok, 1);
    assert_eq!(stats.faults_by_kind["malformed_page"], 1);
}

#[tokio::test]
async fn the_transactions_name_the_seller_the_listings_answer_to() {
    let env = start(SimConfig {
        seller_id: "A2HANDMADE".into(),
        ..listings_config()
    })
    .await;
    let tx = &env.sim.transactions_ground_truth()[0];
    assert_eq!(
        tx.raw["sellingPartnerMetadata"]["sellingPartnerId"],
        "A2HANDMADE"
    );
    let r = env
        .get(
            "/listings/2021-08-01/items/A2HANDMADE",
            &[("marketplaceIds", US)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = env
        .get(
            &format!(
                "/listings/2021-08-01/items/{}",
                spapi_sim::DEFAULT_SELLER_ID
            ),
            &[("marketplaceIds", US)],
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn shares_outside_0_to_1_are_refused_at_start() {
    let err = spapi_sim::Simulator::start(SimConfig {
        listings_never_applied_share: f64::NAN,
        ..listings_config()
    })
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("listings_never_applied_share"),
        "{err}"
    );
}
