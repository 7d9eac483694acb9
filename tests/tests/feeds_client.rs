//! The feeds client against spapi-sim: a listings feed uploaded, created and
//! followed to `DONE`, its report (plain or GZIP) naming the refused message
//! while the accepted ones show on the listings; a feed cancelled while queued.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use chrono::Duration;
use common::{Harness, US, sim_config};
use entity::enums::OrdersApiVersion;
use service::spapi::feeds::{FeedMessage, FeedStatus, FeedsApi, JSON_LISTINGS_FEED, listings_feed};
use service::spapi::{ListingPatch, Money};
use spapi_sim::{SimConfig, SimListing};
use std::collections::HashMap;

/// A seller whose clock stands almost still, with the feeds' buckets at real time.
fn still_sim(gzip: bool) -> SimConfig {
    let rates = [
        "createFeedDocument",
        "createFeed",
        "getFeed",
        "cancelFeed",
        "getFeedDocument",
    ]
    .into_iter()
    .map(|op| (op.to_owned(), (5_000.0, 20)))
    .collect::<HashMap<_, _>>();
    SimConfig {
        time_scale: 0.001,
        rate_overrides: rates,
        feed_report_gzip: gzip,
        ..sim_config(20)
    }
}

fn mfn_and_fba(h: &Harness) -> (SimListing, SimListing) {
    let all = h.sim.listings_ground_truth();
    let pick = |channel: &str| {
        all.iter()
            .find(|l| {
                l.marketplace_id == US && l.fulfillment_channel == channel && l.price.is_some()
            })
            .cloned()
            .unwrap()
    };
    (pick("MFN"), pick("AFN"))
}

fn message(id: u64, l: &SimListing, price: &str, quantity: Option<i64>) -> FeedMessage {
    FeedMessage {
        message_id: id,
        sku: l.sku.clone(),
        patch: ListingPatch {
            product_type: l.product_type.clone(),
            price: Some(Money {
                currency: "USD".to_owned(),
                amount: price.parse().unwrap(),
            }),
            quantity,
        },
    }
}

async fn feed_of(h: &Harness, messages: &[FeedMessage]) -> String {
    let client = h.client();
    let feed = listings_feed(&h.conn.seller_id, US, messages).unwrap();
    let document = client
        .upload_feed_document(&serde_json::to_vec(&feed).unwrap())
        .await
        .unwrap();
    client
        .create_feed(JSON_LISTINGS_FEED, &[US.to_owned()], &document)
        .await
        .unwrap()
}

async fn a_feed_is_followed_to_done_and_its_report_names_the_refused_message(gzip: bool) {
    let h = Harness::start(still_sim(gzip), OrdersApiVersion::V2026_01_01).await;
    let (mfn, fba) = mfn_and_fba(&h);
    let feed_id = feed_of(
        &h,
        &[
            message(1, &mfn, "23.45", Some(6)),
            message(2, &fba, "31.00", None),
            // A quantity for an FBA listing: Amazon's to set, refused.
            message(3, &fba, "31.00", Some(4)),
        ],
    )
    .await;
    let client = h.client();
    assert_eq!(
        client.feed(&feed_id).await.unwrap().status,
        FeedStatus::InQueue
    );

    h.sim.advance_clock(Duration::hours(2));
    let feed = client.feed(&feed_id).await.unwrap();
    assert_eq!(feed.status, FeedStatus::Done, "{feed:?}");
    let report = client
        .processing_report(feed.result_document_id.as_deref().unwrap())
        .await
        .unwrap();

    assert!(report.refused(3), "{report:?}");
    assert!(!report.refused(1) && !report.refused(2), "{report:?}");
    assert_eq!(report.summary.messages_processed, 3);
    assert_eq!(report.summary.messages_accepted, 2);
    h.sim.advance_clock(Duration::minutes(10));
    let live: HashMap<String, SimListing> = h
        .sim
        .listings_ground_truth()
        .into_iter()
        .filter(|l| l.marketplace_id == US)
        .map(|l| (l.sku.clone(), l))
        .collect();
    assert_eq!(live[&mfn.sku].price.as_ref().unwrap().amount, "23.45");
    assert_eq!(live[&mfn.sku].quantity, Some(6));
    assert_eq!(live[&fba.sku].price.as_ref().unwrap().amount, "31.00");
}

#[tokio::test]
async fn a_feed_is_followed_to_done_and_its_report_names_the_refused_message_plain() {
    a_feed_is_followed_to_done_and_its_report_names_the_refused_message(false).await;
}

#[tokio::test]
async fn a_feed_is_followed_to_done_and_its_gzip_report_decodes() {
    a_feed_is_followed_to_done_and_its_report_names_the_refused_message(true).await;
}

#[tokio::test]
async fn a_queued_feed_can_be_cancelled_and_nothing_of_it_applies() {
    let h = Harness::start(still_sim(false), OrdersApiVersion::V2026_01_01).await;
    let (mfn, _) = mfn_and_fba(&h);
    let before = mfn.price.clone().unwrap().amount;
    let feed_id = feed_of(&h, &[message(1, &mfn, "99.99", None)]).await;
    let client = h.client();

    client.cancel_feed(&feed_id).await.unwrap();
    h.sim.advance_clock(Duration::hours(2));

    assert_eq!(
        client.feed(&feed_id).await.unwrap().status,
        FeedStatus::Cancelled
    );
    let now = h
        .sim
        .listings_ground_truth()
        .into_iter()
        .find(|l| l.marketplace_id == US && l.sku == mfn.sku)
        .unwrap();
    assert_eq!(now.price.unwrap().amount, before);
}
