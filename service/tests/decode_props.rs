//! Property tests of the SP-API payload decoding: any bytes, and valid pages of
//! both Orders API versions mutated anywhere (values replaced by any JSON, fields
//! removed, bytes flipped, cut or inserted), decode to a value or a `DecodeError`,
//! never a panic.
//!
//! `PROPTEST_CASES` changes the number of cases (default 2000 per property here).

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use proptest::prelude::*;
use serde_json::Value;
use service::spapi::model;

const V0_ORDERS: &str = r#"{"payload":{"NextToken":"a+b/c=","Orders":[
 {"AmazonOrderId":"902-1","PurchaseDate":"2026-11-01T10:00:00Z","LastUpdateDate":"2026-11-01T11:00:00Z",
  "OrderStatus":"Unshipped","FulfillmentChannel":"MFN","OrderTotal":{"CurrencyCode":"USD","Amount":"19.99"},
  "MarketplaceId":"ATVPDKIKX0DER","IsPrime":true,"IsBusinessOrder":false,"NumberOfItemsShipped":0,"NumberOfItemsUnshipped":2},
 {"AmazonOrderId":"902-2","PurchaseDate":"2026-11-01T10:00:00Z","LastUpdateDate":"2026-11-01T11:00:00Z","OrderStatus":"Pending"}]}}"#;

const V0_ITEMS: &str = r#"{"payload":{"AmazonOrderId":"902-1","NextToken":"t1","OrderItems":[
 {"ASIN":"B000000001","SellerSKU":"SKU-1","OrderItemId":"111","Title":"A thing","QuantityOrdered":2,"QuantityShipped":1,
  "ItemPrice":{"CurrencyCode":"USD","Amount":"19.98"}},
 {"OrderItemId":"112","QuantityOrdered":1}]}}"#;

const SEARCH_ORDERS: &str = r#"{"orders":[{"orderId":"9","createdTime":"2026-11-01T10:00:00Z","lastUpdatedTime":"2026-11-01T12:00:00Z",
 "programs":["PRIME","AMAZON_BUSINESS"],"salesChannel":{"channelName":"AMAZON","marketplaceId":"A1VC38T7YXB528"},
 "fulfillment":{"fulfillmentStatus":"PARTIALLY_SHIPPED","fulfilledBy":"AMAZON"},
 "proceeds":{"grandTotal":{"amount":"3000","currencyCode":"JPY"}},
 "orderItems":[
  {"orderItemId":"1","quantityOrdered":3,"product":{"asin":"B1","title":"T","sellerSku":"S","price":{"unitPrice":{"amount":"1000","currencyCode":"JPY"}}},
   "fulfillment":{"quantityFulfilled":1,"quantityUnfulfilled":2}},
  {"orderItemId":"2","quantityOrdered":1,"proceeds":{"proceedsTotal":{"amount":"12.5","currencyCode":"JPY"}}}]}],
 "pagination":{"nextToken":"n1"}}"#;

const PARTICIPATIONS: &str = r#"{"payload":[{"marketplace":{"id":"ATVPDKIKX0DER","name":"Amazon.com"},"participation":{"isParticipating":true}}]}"#;

const ERRORS: &str =
    r#"{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota","details":""}]}"#;

/// Every decoder, on one body. The results are dropped: only a panic fails.
fn decode_all(body: &[u8]) {
    let _ = model::v0_orders_page(body, "ATVPDKIKX0DER");
    let _ = model::v0_items_page(body);
    let _ = model::search_orders_page(body, "ATVPDKIKX0DER");
    let _ = model::participations(body);
    let _ = model::error_summary(body);
    let _ = model::excerpt(body);
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("79228162514264337593543950335")),
        Just(Value::from("-79228162514264337593543950335")),
        Just(Value::from(2_147_483_647)),
        Just(Value::from("2026-02-30T25:61:61Z")),
        Just(Value::from("1e400")),
        Just(Value::from("")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer in a document.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(Value),
    Remove,
    Duplicate,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => any_json().prop_map(Edit::Replace),
        2 => Just(Edit::Remove),
        1 => Just(Edit::Duplicate),
    ]
}

/// Applies `edits` at nodes picked by the indices (modulo the node count).
fn mutate(doc: &str, edits: &[(usize, Edit)]) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(doc).unwrap();
    for (pick, e) in edits {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let at = &all[pick % all.len()];
        match e {
            Edit::Replace(new) => {
                if at.is_empty() {
                    v = new.clone();
                } else if let Some(node) = v.pointer_mut(at) {
                    *node = new.clone();
                }
            }
            Edit::Remove | Edit::Duplicate => {
                let Some((parent, key)) = at.rsplit_once('/') else {
                    continue;
                };
                let key = key.replace("~1", "/").replace("~0", "~");
                match (v.pointer_mut(parent), e) {
                    (Some(Value::Object(m)), Edit::Remove) => {
                        m.remove(&key);
                    }
                    (Some(Value::Array(a)), Edit::Remove) => {
                        if let Ok(i) = key.parse::<usize>() {
                            a.remove(i);
                        }
                    }
                    (Some(Value::Array(a)), Edit::Duplicate) => {
                        if let Ok(i) = key.parse::<usize>() {
                            let copy = a[i].clone();
                            a.insert(i, copy);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    serde_json::to_vec(&v).unwrap()
}

fn pages() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(V0_ORDERS),
        Just(V0_ITEMS),
        Just(SEARCH_ORDERS),
        Just(PARTICIPATIONS),
        Just(ERRORS),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_bytes_decode_to_a_value_or_an_error(body in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&body);
    }

    #[test]
    fn any_json_decodes_to_a_value_or_an_error(v in any_json()) {
        decode_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn valid_pages_mutated_anywhere_decode_to_a_value_or_an_error(
        page in pages(),
        edits in prop::collection::vec((any::<usize>(), edit()), 1..5),
    ) {
        decode_all(&mutate(page, &edits));
    }

    #[test]
    fn valid_pages_with_bytes_flipped_cut_or_inserted_decode_to_a_value_or_an_error(
        page in pages(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut body = page.as_bytes().to_vec();
        for (at, byte, how) in flips {
            if body.is_empty() {
                break;
            }
            let i = at % body.len();
            match how {
                0 => body[i] = byte,
                1 => body.truncate(i),
                _ => body.insert(i, byte),
            }
        }
        decode_all(&body);
    }
}

#[test]
fn the_valid_pages_decode() {
    assert_eq!(
        model::v0_orders_page(V0_ORDERS.as_bytes(), "X")
            .unwrap()
            .orders
            .len(),
        2
    );
    assert_eq!(
        model::v0_items_page(V0_ITEMS.as_bytes()).unwrap().0.len(),
        2
    );
    assert_eq!(
        model::search_orders_page(SEARCH_ORDERS.as_bytes(), "X")
            .unwrap()
            .orders
            .len(),
        1
    );
    assert_eq!(
        model::participations(PARTICIPATIONS.as_bytes())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_unit_price_times_quantity_beyond_the_decimal_range_is_an_error_not_a_panic() {
    let body = SEARCH_ORDERS.replace(
        "\"amount\":\"1000\"",
        "\"amount\":\"79228162514264337593543950335\"",
    );
    let result = model::search_orders_page(body.as_bytes(), "X");
    assert!(result.is_err(), "{result:?}");
}

#[test]
fn fulfilled_quantities_summing_beyond_i32_are_an_error_or_a_value_not_a_panic() {
    let body = SEARCH_ORDERS
        .replace(
            "\"quantityFulfilled\":1",
            "\"quantityFulfilled\":2147483647",
        )
        .replace(
            "\"proceeds\":{\"proceedsTotal\"",
            "\"fulfillment\":{\"quantityFulfilled\":2147483647},\"proceeds\":{\"proceedsTotal\"",
        );
    let _ = model::search_orders_page(body.as_bytes(), "X");
}
