//! Feeds 2021-06-30 for JSON_LISTINGS_FEED: documents behind presigned URLs, feeds queued and
//! processed on the simulated clock, their messages checked with the listings' rules and applied
//! like accepted patches, the processing report, cancel, paging, limits and refusals.

use std::io::Read;

use chrono::Duration;
use serde_json::{Value, json};
use spapi_sim::{
    FaultKind, Faults, ScheduledFault, SimConfig, SimListing, feed_issue_codes,
    listing_issue_codes as codes,
};

use crate::common::*;

const FEEDS: &str = "feeds_2021-06-30.json";
const REPORT_SCHEMA: &str = "listings-feed-processing-report-schema-v2.json";
const FEED_OPS: [&str; 6] = [
    "createFeedDocument",
    "createFeed",
    "getFeed",
    "getFeeds",
    "cancelFeed",
    "getFeedDocument",
];

/// The functional config with generous buckets for the feeds operations (the submission limit
/// of createFeed still holds), and slow processing so each status can be seen.
fn feeds_config() -> SimConfig {
    let mut c = config();
    for op in FEED_OPS {
        c.rate_overrides.insert(op.to_string(), (1000.0, 1000));
    }
    // 2 messages take 200 simulated seconds.
    c.feed_processing_secs_per_1000_messages = 100_000;
    c
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

impl Env {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.base_url()))
            .header("x-amz-access-token", &self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        reply(req.send().await.unwrap()).await
    }
}

async fn create_document(env: &Env) -> (String, String) {
    let r = env
        .send(
            reqwest::Method::POST,
            "/feeds/2021-06-30/documents",
            Some(&json!({"contentType": "application/json; charset=UTF-8"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    (
        r.body["feedDocumentId"].as_str().unwrap().to_string(),
        r.body["url"].as_str().unwrap().to_string(),
    )
}

async fn upload(env: &Env, url: &str, content: &[u8]) -> reqwest::Response {
    env.http
        .put(url)
        .header("content-type", "application/json; charset=UTF-8")
        .body(content.to_vec())
        .send()
        .await
        .unwrap()
}

async fn create_feed_of(env: &Env, document: &str, feed_type: &str) -> Reply {
    env.send(
        reqwest::Method::POST,
        "/feeds/2021-06-30/feeds",
        Some(&json!({
            "feedType": feed_type,
            "marketplaceIds": [US],
            "inputFeedDocumentId": document,
        })),
    )
    .await
}

/// Uploads `content` and creates a JSON_LISTINGS_FEED of it; the feedId.
async fn submit(env: &Env, content: &[u8]) -> String {
    let (doc, url) = create_document(env).await;
    assert_eq!(upload(env, &url, content).await.status(), 200);
    let r = create_feed_of(env, &doc, "JSON_LISTINGS_FEED").await;
    assert_eq!(r.status, 202, "{}", r.body);
    r.body["feedId"].as_str().unwrap().to_string()
}

fn feed_document(env: &Env, messages: Vec<Value>) -> Vec<u8> {
    json!({
        "header": {"sellerId": env.sim.config().seller_id, "version": "2.0", "issueLocale": "en_US"},
        "messages": messages,
    })
    .to_string()
    .into_bytes()
}

fn price_value(mp: &str, currency: &str, price: Value) -> Value {
    json!([{
        "marketplace_id": mp,
        "currency": currency,
        "our_price": [{"schedule": [{"value_with_tax": price}]}],
    }])
}

fn price_message(id: u64, l: &SimListing, price: Value) -> Value {
    json!({
        "messageId": id,
        "sku": l.sku,
        "operationType": "PATCH",
        "productType": l.product_type,
        "patches": [{
            "op": "replace",
            "path": "/attributes/purchasable_offer",
            "value": price_value(US, "USD", price),
        }],
    })
}

async fn get_feed(env: &Env, feed_id: &str) -> Reply {
    env.get(&format!("/feeds/2021-06-30/feeds/{feed_id}"), &[])
        .await
}

async fn status(env: &Env, feed_id: &str) -> String {
    let r = get_feed(env, feed_id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["processingStatus"].as_str().unwrap().to_string()
}

/// The raw bytes of a document and its getFeedDocument answer.
async fn download(env: &Env, document: &str) -> (Reply, Vec<u8>) {
    let r = env
        .get(&format!("/feeds/2021-06-30/documents/{document}"), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let resp = env
        .http
        .get(r.body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    (r, bytes)
}

async fn report(env: &Env, feed_id: &str) -> Value {
    let r = get_feed(env, feed_id).await;
    let doc = r.body["resultFeedDocumentId"]
        .as_str()
        .unwrap_or_else(|| panic!("no report: {}", r.body))
        .to_string();
    let (_, bytes) = download(env, &doc).await;
    let report: Value = serde_json::from_slice(&bytes).unwrap();
    assert_report_valid(&report);
    report
}

fn assert_report_valid(report: &Value) {
    let text = std::fs::read_to_string(format!("{MODELS}/{REPORT_SCHEMA}")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let v = jsonschema::draft7::new(&schema).unwrap();
    assert_valid(&v, report, "the processing report");
}

fn listing(env: &Env, pick: impl Fn(&SimListing) -> bool) -> SimListing {
    env.sim
        .listings_ground_truth()
        .into_iter()
        .find(|l| l.marketplace_id == US && pick(l))
        .unwrap()
}

fn price_of(env: &Env, sku: &str) -> String {
    listing(env, |l| l.sku == sku).price.unwrap().amount
}

#[tokio::test]
async fn a_valid_feed_of_patch_messages_is_queued_processed_reported_and_applied_after_the_delay() {
    let env = start(feeds_config()).await;
    let a = listing(&env, |l| l.fulfillment_channel == "MFN");
    let b = listing(&env, |l| l.fulfillment_channel == "AFN");
    let (old_a, old_b) = (price_of(&env, &a.sku), price_of(&env, &b.sku));
    let doc = feed_document(
        &env,
        vec![
            price_message(1, &a, json!(12.34)),
            price_message(2, &b, json!(23.45)),
        ],
    );
    let feed_id = submit(&env, &doc).await;
    assert_eq!(status(&env, &feed_id).await, "IN_QUEUE");

    env.sim.advance_clock(secs(30));
    assert_eq!(status(&env, &feed_id).await, "IN_QUEUE");
    env.sim.advance_clock(secs(40));
    assert_eq!(status(&env, &feed_id).await, "IN_PROGRESS");
    let r = get_feed(&env, &feed_id).await;
    assert!(r.body.get("processingStartTime").is_some());
    assert!(r.body.get("resultFeedDocumentId").is_none());
    env.sim.advance_clock(secs(200));
    assert_eq!(status(&env, &feed_id).await, "DONE");

    let report = report(&env, &feed_id).await;
    assert_eq!(report["header"]["feedId"], feed_id.as_str());
    assert_eq!(report["header"]["version"], "2.0");
    assert_eq!(report["issues"], json!([]));
    assert_eq!(
        report["summary"],
        json!({"errors": 0, "warnings": 0, "messagesProcessed": 2, "messagesAccepted": 2, "messagesInvalid": 0})
    );
    let feed = env.sim.feeds().pop().unwrap();
    assert_eq!(
        (
            feed.status.as_str(),
            feed.messages,
            feed.accepted,
            feed.invalid
        ),
        ("DONE", 2, 2, 0)
    );
    let end = feed.processing_end_time.unwrap();

    assert_eq!(price_of(&env, &a.sku), old_a, "not live at once");
    assert_eq!(price_of(&env, &b.sku), old_b);
    let subs = env.sim.listing_submissions();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].submission_id, format!("feed:{feed_id}:1"));
    assert_eq!(
        (subs[0].status.as_str(), subs[0].preview),
        ("ACCEPTED", false)
    );
    assert_eq!(subs[0].price.as_deref(), Some("12.34"));
    assert_eq!(subs[0].received_at, end);
    assert!(subs[0].applied_at.is_none());

    env.sim.advance_clock(secs(301));
    assert_eq!(price_of(&env, &a.sku), "12.34");
    assert_eq!(price_of(&env, &b.sku), "23.45");
    let subs = env.sim.listing_submissions();
    assert_eq!(subs[1].submission_id, format!("feed:{feed_id}:2"));
    assert_eq!(subs[1].applied_at, Some(end + secs(300)));
}

#[tokio::test]
async fn invalid_messages_come_back_per_message_with_their_codes_while_the_valid_ones_apply() {
    let env = start(feeds_config()).await;
    let mfn = listing(&env, |l| l.fulfillment_channel == "MFN");
    let afn = listing(&env, |l| l.fulfillment_channel == "AFN");
    let patch = |id: u64, l: &SimListing, path: &str, value: Value| {
        json!({"messageId": id, "sku": l.sku, "operationType": "PATCH", "productType": l.product_type,
               "patches": [{"op": "replace", "path": path, "value": value}]})
    };
    let messages = vec![
        price_message(1, &mfn, json!(9.5)),
        patch(
            2,
            &mfn,
            "/attributes/purchaseable_offer",
            price_value(US, "USD", json!(9.5)),
        ),
        patch(
            3,
            &mfn,
            "/attributes/purchasable_offer/0/our_price",
            json!([{"schedule": [{"value_with_tax": 9.5}]}]),
        ),
        price_message(4, &mfn, json!(9.999)),
        patch(
            5,
            &afn,
            "/attributes/fulfillment_availability",
            json!([{"fulfillment_channel_code": "AMAZON_NA", "quantity": 3}]),
        ),
        json!({"messageId": 6, "sku": "NO-SUCH-SKU", "operationType": "PATCH", "productType": "HOME",
               "patches": [{"op": "replace", "path": "/attributes/item_name", "value": [{"value": "x"}]}]}),
        json!({"messageId": 7, "sku": mfn.sku, "operationType": "PATCH", "productType": "NOT_ITS_TYPE",
               "patches": [{"op": "replace", "path": "/attributes/purchasable_offer", "value": price_value(US, "USD", json!(9.5))}]}),
        json!({"messageId": 8, "sku": mfn.sku, "operationType": "DELETE"}),
        patch(
            9,
            &mfn,
            "/attributes/purchasable_offer",
            price_value(US, "EUR", json!(9.5)),
        ),
        patch(
            10,
            &mfn,
            "/attributes/purchasable_offer",
            json!([{"marketplace_id": US, "currency": "USD", "our_price": [{"schedule": {"value_with_tax": 9.5}}]}]),
        ),
        json!({"messageId": 11, "sku": mfn.sku, "operationType": "PATCH", "productType": mfn.product_type}),
    ];
    let feed_id = submit(&env, &feed_document(&env, messages)).await;
    env.sim.advance_clock(secs(60 + 1100 + 5));
    assert_eq!(status(&env, &feed_id).await, "DONE");
    let report = report(&env, &feed_id).await;
    let code_of = |id: u64| -> Vec<String> {
        report["issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["messageId"] == id)
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(code_of(1).is_empty(), "{report}");
    assert_eq!(code_of(2), [codes::UNKNOWN_ATTRIBUTE]);
    assert_eq!(code_of(3), [codes::NESTED_PATH]);
    assert_eq!(code_of(4), [codes::TOO_PRECISE]);
    assert_eq!(code_of(5), [codes::QUANTITY_ON_FBA]);
    assert_eq!(code_of(6), [feed_issue_codes::NOT_LISTED]);
    assert_eq!(code_of(7), [codes::PRODUCT_TYPE]);
    assert_eq!(code_of(8), [feed_issue_codes::UNSUPPORTED_OPERATION]);
    assert_eq!(code_of(9), [codes::WRONG_CURRENCY]);
    assert_eq!(code_of(10), [codes::INVALID_VALUE]);
    assert_eq!(code_of(11), [feed_issue_codes::INVALID_MESSAGE]);
    let issue2 = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["messageId"] == 2)
        .unwrap();
    assert_eq!(issue2["sku"], mfn.sku.as_str());
    assert_eq!(issue2["severity"], "ERROR");
    assert_eq!(issue2["attributeName"], "purchaseable_offer");
    assert_eq!(report["summary"]["messagesProcessed"], 11);
    assert_eq!(report["summary"]["messagesAccepted"], 1);
    assert_eq!(report["summary"]["messagesInvalid"], 10);
    assert_eq!(report["summary"]["errors"], 10);

    let subs = env.sim.listing_submissions();
    assert_eq!(subs.len(), 1, "only the valid message is a submission");
    assert_eq!(subs[0].submission_id, format!("feed:{feed_id}:1"));
    env.sim.advance_clock(secs(301));
    assert_eq!(price_of(&env, &mfn.sku), "9.50");
    let feed = env.sim.feeds().pop().unwrap();
    assert_eq!((feed.accepted, feed.invalid), (1, 10));
}

#[tokio::test]
async fn a_feed_whose_listing_never_applies_is_accepted_but_never_live() {
    let env = start(feeds_config()).await;
    let l = listing(&env, |l| l.fulfillment_channel == "MFN");
    let old = price_of(&env, &l.sku);
    env.sim.never_apply(US, &l.sku, true).unwrap();
    let feed_id = submit(
        &env,
        &feed_document(&env, vec![price_message(1, &l, json!(4.44))]),
    )
    .await;
    env.sim.advance_clock(secs(60 + 100 + 301));
    assert_eq!(status(&env, &feed_id).await, "DONE");
    assert_eq!(price_of(&env, &l.sku), old);
    let subs = env.sim.listing_submissions();
    assert_eq!(subs[0].status, "ACCEPTED");
    assert!(subs[0].applied_at.is_none());
}

#[tokio::test]
async fn a_document_that_is_not_a_feed_ends_fatal_with_a_report_that_says_why() {
    let env = start(feeds_config()).await;
    let not_json = submit(&env, b"sku,price\nABC,1.00\n").await;
    let other_seller = submit(
        &env,
        json!({"header": {"sellerId": "A0THERSELLER", "version": "2.0"}, "messages": [{"messageId": 1, "sku": "X", "operationType": "DELETE"}]})
            .to_string()
            .as_bytes(),
    )
    .await;
    let no_messages = submit(
        &env,
        json!({"header": {"sellerId": env.sim.config().seller_id, "version": "1.0"}})
            .to_string()
            .as_bytes(),
    )
    .await;
    env.sim.advance_clock(secs(70));
    for (feed_id, code) in [
        (&not_json, feed_issue_codes::INVALID_DOCUMENT),
        (&other_seller, feed_issue_codes::WRONG_SELLER),
        (&no_messages, feed_issue_codes::INVALID_DOCUMENT),
    ] {
        assert_eq!(status(&env, feed_id).await, "FATAL");
        let report = report(&env, feed_id).await;
        assert_eq!(report["issues"].as_array().unwrap().len(), 1, "{report}");
        assert_eq!(report["issues"][0]["code"], code);
        assert!(report["issues"][0].get("messageId").is_none());
        assert_eq!(report["summary"]["messagesProcessed"], 0);
        assert_eq!(report["summary"]["errors"], 1);
    }
    assert!(
        report(&env, &not_json).await["issues"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    assert!(env.sim.feeds().iter().all(|f| f.status == "FATAL"));
    assert!(env.sim.listing_submissions().is_empty());
}

#[tokio::test]
async fn an_expired_or_tampered_upload_url_is_refused() {
    let env = start(feeds_config()).await;
    let (doc, url) = create_document(&env).await;
    env.sim.advance_clock(secs(301));
    let resp = upload(&env, &url, b"{}").await;
    assert_eq!(resp.status(), 403);
    let text = resp.text().await.unwrap();
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
    assert!(text.contains("Request has expired"));
    let r = create_feed_of(&env, &doc, "JSON_LISTINGS_FEED").await;
    assert_eq!(r.status, 400);
    assert!(
        r.error_message().contains("upload"),
        "{}",
        r.error_message()
    );

    let (_, url) = create_document(&env).await;
    env.sim.expire_feed_documents();
    assert_eq!(upload(&env, &url, b"{}").await.status(), 403);

    let (_, url) = create_document(&env).await;
    let tampered = url.replace("signature=", "signature=0");
    let resp = upload(&env, &tampered, b"{}").await;
    assert_eq!(resp.status(), 403);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("<Code>SignatureDoesNotMatch</Code>")
    );
    assert_eq!(upload(&env, &url, b"{}").await.status(), 200);

    let r = create_feed_of(&env, "amzn1.tortuga.4.na.unknown", "JSON_LISTINGS_FEED").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "InvalidInput");
}

#[tokio::test]
async fn a_gzip_report_decodes() {
    let mut config = feeds_config();
    config.feed_report_gzip = true;
    let env = start(config).await;
    let l = listing(&env, |_| true);
    let feed_id = submit(
        &env,
        &feed_document(&env, vec![price_message(1, &l, json!(3.21))]),
    )
    .await;
    env.sim.advance_clock(secs(60 + 100 + 1));
    let r = get_feed(&env, &feed_id).await;
    assert_eq!(r.body["processingStatus"], "DONE");
    let (answer, bytes) = download(&env, r.body["resultFeedDocumentId"].as_str().unwrap()).await;
    assert_eq!(answer.body["compressionAlgorithm"], "GZIP");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_report_valid(&report);
    assert_eq!(report["summary"]["messagesAccepted"], 1);

    // The input document is not compressed.
    let env2 = start(feeds_config()).await;
    let (doc, url) = create_document(&env2).await;
    upload(&env2, &url, b"{}").await;
    let (answer, bytes) = download(&env2, &doc).await;
    assert!(answer.body.get("compressionAlgorithm").is_none());
    assert_eq!(bytes, b"{}");
}

#[tokio::test]
async fn cancel_feed_works_only_while_in_queue() {
    let env = start(feeds_config()).await;
    let l = listing(&env, |_| true);
    let doc = feed_document(&env, vec![price_message(1, &l, json!(6.66))]);
    let first = submit(&env, &doc).await;
    let second = submit(&env, &doc).await;
    let r = env
        .send(
            reqwest::Method::DELETE,
            &format!("/feeds/2021-06-30/feeds/{first}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("x-amzn-RateLimit-Limit").is_some());
    let r = get_feed(&env, &first).await;
    assert_eq!(r.body["processingStatus"], "CANCELLED");
    assert!(r.body.get("resultFeedDocumentId").is_none());

    env.sim.advance_clock(secs(61));
    assert_eq!(status(&env, &second).await, "IN_PROGRESS");
    let r = env
        .send(
            reqwest::Method::DELETE,
            &format!("/feeds/2021-06-30/feeds/{second}"),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "InvalidInput");
    assert!(r.error_message().contains("IN_QUEUE"));
    let r = env
        .send(
            reqwest::Method::DELETE,
            "/feeds/2021-06-30/feeds/99999999999",
            None,
        )
        .await;
    assert_eq!(r.status, 404);

    env.sim.advance_clock(secs(200));
    assert_eq!(status(&env, &first).await, "CANCELLED");
    assert_eq!(status(&env, &second).await, "DONE");
    let subs = env.sim.listing_submissions();
    assert_eq!(subs.len(), 1, "the cancelled feed is never processed");
    assert_eq!(subs[0].submission_id, format!("feed:{second}:1"));
}

#[tokio::test]
async fn feeds_are_processed_one_at_a_time_in_creation_order() {
    let env = start(feeds_config()).await;
    let l = listing(&env, |_| true);
    let doc = feed_document(&env, vec![price_message(1, &l, json!(6.66))]);
    let first = submit(&env, &doc).await;
    let second = submit(&env, &doc).await;
    env.sim.advance_clock(secs(61));
    assert_eq!(status(&env, &first).await, "IN_PROGRESS");
    assert_eq!(
        status(&env, &second).await,
        "IN_QUEUE",
        "waits for the first"
    );
    env.sim.advance_clock(secs(100));
    assert_eq!(status(&env, &first).await, "DONE");
    assert_eq!(status(&env, &second).await, "IN_PROGRESS");
    let feeds = env.sim.feeds();
    let r = get_feed(&env, &second).await;
    assert_eq!(
        r.body["processingStartTime"].as_str().unwrap(),
        iso(feeds[0].processing_end_time.unwrap())
    );
}

#[tokio::test]
async fn the_create_feed_submission_limit_answers_429() {
    let env = start(feeds_config()).await;
    let doc = feed_document(
        &env,
        vec![json!({"messageId": 1, "sku": "X", "operationType": "DELETE"})],
    );
    for _ in 0..5 {
        submit(&env, &doc).await;
    }
    let (id, url) = create_document(&env).await;
    upload(&env, &url, &doc).await;
    let r = create_feed_of(&env, &id, "JSON_LISTINGS_FEED").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.error_code(), "QuotaExceeded");
    assert_eq!(env.sim.stats().operations["createFeed"].throttled, 1);
    assert_eq!(env.sim.feeds().len(), 5);

    env.sim.advance_clock(Duration::minutes(5));
    let r = create_feed_of(&env, &id, "JSON_LISTINGS_FEED").await;
    assert_eq!(r.status, 202, "{}", r.body);
}

#[tokio::test]
async fn xml_and_flat_file_price_feed_types_are_refused() {
    let env = start(feeds_config()).await;
    let (doc, url) = create_document(&env).await;
    upload(&env, &url, b"<AmazonEnvelope/>").await;
    for feed_type in [
        "POST_PRODUCT_PRICING_DATA",
        "POST_INVENTORY_AVAILABILITY_DATA",
        "POST_FLAT_FILE_LISTINGS_DATA",
        "POST_FLAT_FILE_PRICEANDQUANTITYONLY_UPDATE_DATA",
    ] {
        let r = create_feed_of(&env, &doc, feed_type).await;
        assert_eq!(r.status, 400, "{feed_type}");
        assert_eq!(r.error_code(), "InvalidInput");
        let m = r.error_message();
        assert!(m.contains("no longer accepted"), "{m}");
        assert!(m.contains("JSON_LISTINGS_FEED"), "{m}");
    }
    let r = create_feed_of(&env, &doc, "POST_ORDER_FULFILLMENT_DATA").await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("only JSON_LISTINGS_FEED"));
    assert!(env.sim.feeds().is_empty());
}

#[tokio::test]
async fn get_feeds_pages_with_next_token_alone() {
    let env = start(feeds_config()).await;
    let doc = feed_document(
        &env,
        vec![json!({"messageId": 1, "sku": "X", "operationType": "DELETE"})],
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(submit(&env, &doc).await);
    }
    let r = env
        .get(
            "/feeds/2021-06-30/feeds",
            &[("feedTypes", "JSON_LISTINGS_FEED"), ("pageSize", "2")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page1: Vec<&str> = r.body["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["feedId"].as_str().unwrap())
        .collect();
    assert_eq!(page1, [ids[2].as_str(), ids[1].as_str()], "newest first");
    let token = r.body["nextToken"].as_str().unwrap().to_string();

    let r = env
        .get(
            "/feeds/2021-06-30/feeds",
            &[("nextToken", &token), ("feedTypes", "JSON_LISTINGS_FEED")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("only parameter"));

    let r = env
        .get("/feeds/2021-06-30/feeds", &[("nextToken", &token)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["feeds"][0]["feedId"], ids[0].as_str());
    assert_eq!(r.body["feeds"].as_array().unwrap().len(), 1);
    assert!(r.body.get("nextToken").is_none());

    for bad in [
        vec![],
        vec![("feedTypes", "JSON_LISTINGS_FEED"), ("pageSize", "101")],
        vec![
            ("feedTypes", "JSON_LISTINGS_FEED"),
            ("processingStatuses", "SOMETIMES"),
        ],
        vec![("nextToken", "not-a-token")],
    ] {
        let r = env.get("/feeds/2021-06-30/feeds", &bad).await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
    }
    let r = env
        .get(
            "/feeds/2021-06-30/feeds",
            &[
                ("feedTypes", "JSON_LISTINGS_FEED"),
                ("processingStatuses", "DONE"),
            ],
        )
        .await;
    assert_eq!(r.body["feeds"], json!([]));
}

#[tokio::test]
async fn every_feeds_response_matches_the_model() {
    let env = start(feeds_config()).await;
    let v = |d: &str| validator(FEEDS, d, true);
    let errors = v("ErrorList");
    let r = env
        .send(
            reqwest::Method::POST,
            "/feeds/2021-06-30/documents",
            Some(&json!({"contentType": "text/plain"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_valid(
        &v("CreateFeedDocumentResponse"),
        &r.body,
        "createFeedDocument",
    );
    assert!(r.header("x-amzn-RateLimit-Limit").is_some());
    assert!(r.header("x-amzn-RequestId").is_some());
    let r = env
        .send(
            reqwest::Method::POST,
            "/feeds/2021-06-30/documents",
            Some(&json!({})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_valid(&errors, &r.body, "createFeedDocument 400");

    let l = listing(&env, |_| true);
    let feed_id = submit(
        &env,
        &feed_document(&env, vec![price_message(1, &l, json!(8.88))]),
    )
    .await;
    let (doc, url) = create_document(&env).await;
    upload(&env, &url, b"{}").await;
    let r = create_feed_of(&env, &doc, "JSON_LISTINGS_FEED").await;
    assert_eq!(r.status, 202);
    assert_valid(&v("CreateFeedResponse"), &r.body, "createFeed");
    assert!(r.header("x-amzn-RateLimit-Limit").is_some());

    let feed = v("Feed");
    for advance in [0, 61, 200] {
        env.sim.advance_clock(secs(advance));
        let r = get_feed(&env, &feed_id).await;
        assert_valid(&feed, &r.body, "getFeed");
    }
    let r = get_feed(&env, &feed_id).await;
    assert_eq!(r.body["processingStatus"], "DONE");
    let r = env
        .get(
            "/feeds/2021-06-30/feeds",
            &[("feedTypes", "JSON_LISTINGS_FEED"), ("pageSize", "1")],
        )
        .await;
    assert_valid(&v("GetFeedsResponse"), &r.body, "getFeeds");
    let r = env
        .get(
            &format!(
                "/feeds/2021-06-30/documents/{}",
                get_feed(&env, &feed_id).await.body["resultFeedDocumentId"]
                    .as_str()
                    .unwrap()
            ),
            &[],
        )
        .await;
    assert_valid(&v("FeedDocument"), &r.body, "getFeedDocument");
    for r in [
        get_feed(&env, "99999999999").await,
        env.get("/feeds/2021-06-30/documents/nope", &[]).await,
        env.get("/feeds/2021-06-30/feeds", &[]).await,
        create_feed_of(&env, &doc, "POST_PRODUCT_PRICING_DATA").await,
    ] {
        assert!(r.status == 400 || r.status == 404, "{}", r.body);
        assert_valid(&errors, &r.body, "a feeds error");
    }
}

#[tokio::test]
async fn feeds_usage_plans_come_from_the_model_and_faults_use_the_operation_names() {
    let env = start(config()).await;
    let stats = env.sim.stats();
    for (op, rate, burst) in [
        ("createFeedDocument", 0.5, 15),
        ("createFeed", 0.0083, 15),
        ("getFeed", 2.0, 15),
        ("getFeeds", 0.0222, 10),
        ("cancelFeed", 2.0, 15),
        ("getFeedDocument", 0.0222, 10),
    ] {
        assert_eq!(
            (stats.operations[op].rate, stats.operations[op].burst),
            (rate, burst),
            "{op}"
        );
    }
    env.sim.set_faults(Faults {
        schedule: vec![ScheduledFault {
            operation: "createFeedDocument".into(),
            fault: FaultKind::InternalError,
            count: 1,
        }],
        ..Faults::default()
    });
    let r = env
        .send(
            reqwest::Method::POST,
            "/feeds/2021-06-30/documents",
            Some(&json!({"contentType": "text/plain"})),
        )
        .await;
    assert_eq!(r.status, 500);
    // getFeeds: burst 10, then 429.
    for _ in 0..10 {
        let r = env
            .get(
                "/feeds/2021-06-30/feeds",
                &[("feedTypes", "JSON_LISTINGS_FEED")],
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let r = env
        .get(
            "/feeds/2021-06-30/feeds",
            &[("feedTypes", "JSON_LISTINGS_FEED")],
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), "QuotaExceeded");
}

#[tokio::test]
async fn reset_forgets_feeds_and_documents_and_the_control_route_lists_feeds() {
    let env = start(feeds_config()).await;
    let feed_id = submit(
        &env,
        &feed_document(
            &env,
            vec![json!({"messageId": 1, "sku": "X", "operationType": "DELETE"})],
        ),
    )
    .await;
    let listed: Value = env
        .http
        .get(format!("{}/_sim/feeds", env.sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["feed_id"], feed_id.as_str());
    assert_eq!(listed[0]["status"], "IN_QUEUE");
    env.sim.reset();
    assert!(env.sim.feeds().is_empty());
    let token = lwa_token(&env.http, &env.sim).await;
    let resp = env
        .http
        .get(format!(
            "{}/feeds/2021-06-30/feeds/{feed_id}",
            env.sim.base_url()
        ))
        .header("x-amz-access-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn partial_update_sets_the_quantity_and_duplicate_message_ids_are_refused() {
    let env = start(feeds_config()).await;
    let mfn = listing(&env, |l| l.fulfillment_channel == "MFN");
    let messages = vec![
        json!({"messageId": 1, "sku": mfn.sku, "operationType": "PARTIAL_UPDATE", "productType": mfn.product_type,
               "attributes": {"fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}]}}),
        price_message(1, &mfn, json!(2.5)),
    ];
    let feed_id = submit(&env, &feed_document(&env, messages)).await;
    env.sim.advance_clock(secs(60 + 200 + 301));
    let report = report(&env, &feed_id).await;
    assert_eq!(report["issues"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        report["issues"][0]["code"],
        feed_issue_codes::DUPLICATE_MESSAGE_ID
    );
    let now = listing(&env, |l| l.sku == mfn.sku);
    assert_eq!(now.quantity, Some(0));
    assert_eq!(now.status, ["DISCOVERABLE"]);
    assert_eq!(now.price, mfn.price, "the duplicate is not applied");
}

#[tokio::test]
async fn more_than_25000_messages_end_fatal() {
    let mut config = feeds_config();
    config.feed_processing_secs_per_1000_messages = 120;
    let env = start(config).await;
    let messages: Vec<Value> = (1..=25_001)
        .map(|n| json!({"messageId": n, "sku": "X", "operationType": "DELETE"}))
        .collect();
    let feed_id = submit(&env, &feed_document(&env, messages)).await;
    env.sim.advance_clock(secs(62));
    assert_eq!(status(&env, &feed_id).await, "FATAL");
    let report = report(&env, &feed_id).await;
    assert_eq!(
        report["issues"][0]["code"],
        feed_issue_codes::TOO_MANY_MESSAGES
    );
}

#[tokio::test]
async fn a_malformed_get_feeds_page_breaks_the_model() {
    let env = start(feeds_config()).await;
    submit(
        &env,
        &feed_document(
            &env,
            vec![json!({"messageId": 1, "sku": "X", "operationType": "DELETE"})],
        ),
    )
    .await;
    env.sim.set_faults(Faults {
        schedule: vec![ScheduledFault {
            operation: "getFeeds".into(),
            fault: FaultKind::MalformedPage,
            count: 1,
        }],
        ..Faults::default()
    });
    let r = env
        .get(
            "/feeds/2021-06-30/feeds",
            &[("feedTypes", "JSON_LISTINGS_FEED")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(!validator(FEEDS, "GetFeedsResponse", true).is_valid(&r.body));
    assert!(r.body["feeds"][0]["feedId"].is_number());
}
