//! Listing changes submitted as `JSON_LISTINGS_FEED` against spapi-sim, on SQLite
//! and PostgreSQL: a thousand changes go as one feed and each ends with Amazon's
//! result for its message; a FATAL feed fails every change with the reason; an
//! expired upload URL is answered with a new document; two-phase by feed sends a
//! price feed, then a quantity feed; a feed is resumed by a new process, whether
//! it was still being uploaded or Amazon was processing it; a queued feed can be
//! cancelled with its changes.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use chrono::Duration;
use common::{Harness, US, sim_config, sync_config};
use entity::enums::{
    ListingChangeState as State, ListingFeedItemResult as ItemResult, ListingFeedState,
    OrdersApiVersion, SubmitVia, SyncStatus,
};
use entity::{listing_change, listing_feed, listing_feed_item};
use sea_orm::{EntityTrait, QueryOrder};
use service::listings::{self, ChangeRequest, PushConfig, PushMode, PushReport};
use service::sync::{ListingsScan, SyncOptions, run_listings_sync_with};
use spapi_sim::{SimConfig, SimListing};
use std::collections::{BTreeSet, HashMap};

/// A seller whose clock stands almost still (the test moves it), with the
/// listings' and feeds' buckets generous in real time.
fn still_sim(catalog: usize, gzip: bool) -> SimConfig {
    let rates = [
        "searchListingsItems",
        "getListingsItem",
        "patchListingsItem",
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
        catalog_size: catalog,
        feed_report_gzip: gzip,
        ..sim_config(20)
    }
}

async fn start(catalog: usize, gzip: bool) -> Harness {
    start_with(still_sim(catalog, gzip)).await
}

async fn start_with(config: SimConfig) -> Harness {
    let h = Harness::start(config, OrdersApiVersion::V2026_01_01).await;
    let outcome = run_listings_sync_with(
        &h.t.db,
        &h.client(),
        &h.conn,
        &sync_config(),
        ListingsScan::Full,
        SyncOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    h
}

/// One push pass, as a fresh process would run it (a new client each time).
async fn push(h: &Harness) -> PushReport {
    listings::push_once_with(
        &h.t.db,
        &h.client(),
        &h.conn,
        &PushConfig::default(),
        PushMode::Submit,
    )
    .await
    .unwrap()
}

fn priced(h: &Harness, mfn: bool) -> Vec<SimListing> {
    h.sim
        .listings_ground_truth()
        .into_iter()
        .filter(|l| {
            l.marketplace_id == US && l.price.is_some() && (!mfn || l.fulfillment_channel == "MFN")
        })
        .collect()
}

fn price_of(l: &SimListing) -> rust_decimal::Decimal {
    l.price.as_ref().unwrap().amount.parse().unwrap()
}

/// Queues a price change (one cent less, or `raise` more) and optionally a quantity
/// for each listing, and asks for them to be submitted `via`.
async fn submit(
    h: &Harness,
    listings: &[SimListing],
    raise: Option<rust_decimal::Decimal>,
    quantity: Option<i64>,
    via: SubmitVia,
) -> Vec<listing_change::Model> {
    let changes = listings
        .iter()
        .map(|l| ChangeRequest {
            marketplace_id: l.marketplace_id.clone(),
            seller_sku: l.sku.clone(),
            price: Some(
                match raise {
                    Some(r) => price_of(l) + r,
                    None => price_of(l) - rust_decimal::Decimal::new(1, 2),
                }
                .to_string(),
            ),
            quantity,
        })
        .collect::<Vec<_>>();
    let mut queued = Vec::new();
    for chunk in changes.chunks(listings::MAX_CHANGES_PER_CALL) {
        queued.extend(
            listings::queue_changes(&h.t.db, chunk.to_vec(), "owner@example.com")
                .await
                .unwrap(),
        );
    }
    listings::request_submit(&h.t.db, None, true, via)
        .await
        .unwrap();
    queued
}

async fn feeds(h: &Harness) -> Vec<listing_feed::Model> {
    listing_feed::Entity::find()
        .order_by_asc(listing_feed::Column::Id)
        .all(&h.t.db)
        .await
        .unwrap()
}

async fn items(h: &Harness) -> Vec<listing_feed_item::Model> {
    listing_feed_item::Entity::find()
        .order_by_asc(listing_feed_item::Column::Id)
        .all(&h.t.db)
        .await
        .unwrap()
}

async fn changes(h: &Harness) -> Vec<listing_change::Model> {
    listing_change::Entity::find()
        .order_by_asc(listing_change::Column::Id)
        .all(&h.t.db)
        .await
        .unwrap()
}

/// Lets Amazon take the queued feed and process it (60 s in its queue, 120 s per
/// 1,000 messages).
fn let_amazon_process(h: &Harness) {
    h.sim.advance_clock(Duration::seconds(200));
}

/// Lets the simulator apply what it accepted (300 simulated seconds).
fn let_amazon_apply(h: &Harness) {
    h.sim.advance_clock(Duration::seconds(301));
}

fn patches(h: &Harness) -> usize {
    h.sim
        .listing_submissions()
        .iter()
        .filter(|s| !s.submission_id.starts_with("feed:"))
        .count()
}

#[tokio::test]
async fn a_thousand_price_changes_go_as_one_feed_and_each_item_ends_with_amazons_result() {
    let h = start(1_000, false).await;
    let listings = priced(&h, false);
    assert!(listings.len() >= 1_000, "{}", listings.len());
    let listings = &listings[..1_000];
    submit(&h, listings, None, None, SubmitVia::Auto).await;

    let first = push(&h).await;
    assert_eq!(first.feeds_sent, 1, "{first:?}");
    assert_eq!(
        patches(&h),
        0,
        "a large submission goes by feed, not by patch"
    );
    let sim_feeds = h.sim.feeds();
    assert_eq!(sim_feeds.len(), 1);
    assert_eq!(sim_feeds[0].messages, 1_000);
    // Amazon reclassifies three listings before it processes the feed: their
    // messages name the old product type and are refused.
    let refused: BTreeSet<String> = listings[..3].iter().map(|l| l.sku.clone()).collect();
    for sku in &refused {
        h.sim.reclassify_listing(US, sku).unwrap();
    }
    assert!(
        changes(&h).await.iter().all(|c| c.state == State::Submitted
            && c.submit_via == SubmitVia::Feed
            && c.price_submission_id.as_deref()
                == Some(format!("feed:{}", sim_feeds[0].feed_id).as_str())),
        "each change knows its feed"
    );

    let_amazon_process(&h);
    let second = push(&h).await;
    assert_eq!(second.feeds_finished, 1, "{second:?}");
    let feed = &feeds(&h).await[0];
    assert_eq!(feed.state, ListingFeedState::Done);
    assert_eq!(
        (
            feed.messages,
            feed.messages_processed,
            feed.messages_accepted,
            feed.messages_invalid
        ),
        (1_000, Some(1_000), Some(997), Some(3))
    );
    // Each item's result is the simulator's: the accepted messages are exactly
    // those it recorded as accepted, the refused ones carry its code.
    let accepted_by_amazon: BTreeSet<i64> = h
        .sim
        .listing_submissions()
        .iter()
        .filter_map(|s| {
            s.submission_id
                .strip_prefix(&format!("feed:{}:", feed.feed_id.as_deref().unwrap()))
        })
        .map(|m| m.parse().unwrap())
        .collect();
    let items = items(&h).await;
    assert_eq!(items.len(), 1_000);
    let accepted_by_us: BTreeSet<i64> = items
        .iter()
        .filter(|i| i.result == ItemResult::Accepted)
        .map(|i| i.message_id)
        .collect();
    assert_eq!(accepted_by_us, accepted_by_amazon);
    for i in items.iter().filter(|i| i.result == ItemResult::Invalid) {
        assert!(refused.contains(&i.seller_sku), "{i:?}");
        assert_eq!(
            i.issue_list()[0].code,
            spapi_sim::listing_issue_codes::PRODUCT_TYPE
        );
    }

    let_amazon_apply(&h);
    push(&h).await;
    let changes = changes(&h).await;
    for c in &changes {
        if refused.contains(&c.seller_sku) {
            assert_eq!(c.state, State::Failed, "{c:?}");
            assert_eq!(
                c.issue_list()[0].code,
                spapi_sim::listing_issue_codes::PRODUCT_TYPE
            );
        } else {
            assert_eq!(c.state, State::Done, "{c:?}");
        }
    }
    let truth: HashMap<String, String> = h
        .sim
        .listings_ground_truth()
        .into_iter()
        .filter(|l| l.marketplace_id == US)
        .map(|l| (l.sku.clone(), l.price.unwrap().amount))
        .collect();
    for c in changes.iter().filter(|c| c.state == State::Done) {
        assert_eq!(truth[&c.seller_sku], c.desired_price.unwrap().to_string());
    }
    assert_eq!(patches(&h), 0);
}

#[tokio::test]
async fn a_fatal_feed_fails_every_change_with_the_reason() {
    let h = start(60, false).await;
    let listings = priced(&h, false);
    submit(&h, &listings[..5], None, None, SubmitVia::Feed).await;
    h.sim.abort_next_feeds(1);

    push(&h).await;
    let_amazon_process(&h);
    let report = push(&h).await;

    assert_eq!(report.failed, 5, "{report:?}");
    let feed = &feeds(&h).await[0];
    assert_eq!(feed.state, ListingFeedState::Fatal);
    assert!(
        feed.note
            .as_deref()
            .unwrap()
            .contains(spapi_sim::feed_issue_codes::PROCESSING_FAILED),
        "{feed:?}"
    );
    for c in changes(&h).await {
        assert_eq!(c.state, State::Failed);
        let issue = &c.issue_list()[0];
        assert_eq!(issue.code, "FEED_FATAL");
        assert!(issue.message.contains("internal failure"), "{issue:?}");
    }
    assert!(
        items(&h)
            .await
            .iter()
            .all(|i| i.result == ItemResult::NotProcessed)
    );
}

#[tokio::test]
async fn an_expired_upload_url_is_retried_with_a_new_document() {
    let h = start(60, false).await;
    let listings = priced(&h, false);
    submit(&h, &listings[..4], None, None, SubmitVia::Feed).await;
    h.sim.expire_next_feed_uploads(1);

    let report = push(&h).await;

    assert_eq!(report.feeds_sent, 1, "{report:?}");
    assert!(
        report.notes.iter().any(|n| n.contains("new document")),
        "{report:?}"
    );
    let feed = &feeds(&h).await[0];
    assert_eq!(feed.state, ListingFeedState::InQueue);
    assert_eq!(h.sim.feeds().len(), 1);
    let_amazon_process(&h);
    push(&h).await;
    let_amazon_apply(&h);
    push(&h).await;
    assert!(changes(&h).await.iter().all(|c| c.state == State::Done));
}

async fn two_phase_by_feed(gzip: bool) {
    let h = start(60, gzip).await;
    let listings = priced(&h, true);
    let listings = &listings[..3];
    submit(
        &h,
        listings,
        Some(rust_decimal::Decimal::new(250, 2)),
        Some(41),
        SubmitVia::Feed,
    )
    .await;

    push(&h).await;
    let_amazon_process(&h);
    push(&h).await;
    assert!(
        changes(&h)
            .await
            .iter()
            .all(|c| c.state == State::Submitted)
    );
    let_amazon_apply(&h);
    let report = push(&h).await;
    assert_eq!(report.price_live, 3, "{report:?}");
    assert_eq!(report.feeds_sent, 1, "the quantity feed: {report:?}");
    let_amazon_process(&h);
    push(&h).await;
    let_amazon_apply(&h);
    push(&h).await;

    let sim_feeds = h.sim.feeds();
    assert_eq!(sim_feeds.len(), 2);
    let sent = h.sim.listing_submissions();
    let of = |feed: &str| -> Vec<(Option<String>, Option<i64>)> {
        sent.iter()
            .filter(|s| s.submission_id.starts_with(&format!("feed:{feed}:")))
            .map(|s| (s.price.clone(), s.quantity))
            .collect()
    };
    assert!(
        of(&sim_feeds[0].feed_id)
            .iter()
            .all(|(p, q)| p.is_some() && q.is_none()),
        "the first feed carries only prices"
    );
    assert!(
        of(&sim_feeds[1].feed_id)
            .iter()
            .all(|(p, q)| p.is_none() && *q == Some(41)),
        "the second only quantities"
    );
    let quantity_sent = sim_feeds[1].created_time;
    assert!(
        sent.iter()
            .filter(|s| s
                .submission_id
                .starts_with(&format!("feed:{}:", sim_feeds[0].feed_id)))
            .all(|s| s.applied_at.is_some_and(|a| a <= quantity_sent)),
        "every price was live before the quantity feed was sent"
    );
    for c in changes(&h).await {
        assert_eq!(c.state, State::Done, "{c:?}");
        let live = h
            .sim
            .listings_ground_truth()
            .into_iter()
            .find(|l| l.marketplace_id == US && l.sku == c.seller_sku)
            .unwrap();
        assert_eq!(live.quantity, Some(41));
        assert_eq!(
            live.price.unwrap().amount,
            c.desired_price.unwrap().to_string()
        );
    }
    let states: Vec<State> = listings::histories(&h.t.db, &[changes(&h).await[0].id])
        .await
        .unwrap()
        .into_values()
        .next()
        .unwrap()
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(
        states,
        [
            State::Queued,
            State::Submitted,
            State::PriceLive,
            State::Done
        ]
    );
}

#[tokio::test]
async fn two_phase_by_feed_sends_the_quantities_only_once_their_prices_are_live() {
    two_phase_by_feed(false).await;
}

#[tokio::test]
async fn two_phase_by_feed_reads_gzip_reports() {
    two_phase_by_feed(true).await;
}

#[tokio::test]
async fn a_feed_is_resumed_by_a_new_process_while_uploading_and_while_amazon_processes_it() {
    // A slow Amazon: 100 simulated seconds per message.
    let h = start_with(SimConfig {
        feed_processing_secs_per_1000_messages: 100_000,
        ..still_sim(60, false)
    })
    .await;
    let listings = priced(&h, false);
    submit(&h, &listings[..6], None, None, SubmitVia::Feed).await;
    // Every upload of the first pass fails: the feed stays PREPARING.
    h.sim.expire_next_feed_uploads(3);
    let first = push(&h).await;
    assert_eq!(first.feeds_sent, 0, "{first:?}");
    assert_eq!(feeds(&h).await[0].state, ListingFeedState::Preparing);
    assert!(h.sim.feeds().is_empty());

    // A new process (a new client) uploads it again.
    let second = push(&h).await;
    assert_eq!(second.feeds_sent, 1, "{second:?}");
    assert_eq!(feeds(&h).await.len(), 1, "the same feed, not a second one");
    h.sim.advance_clock(Duration::seconds(70));
    push(&h).await;
    assert_eq!(feeds(&h).await[0].state, ListingFeedState::InProgress);

    // Killed while Amazon processes it: another process finishes it.
    h.sim.advance_clock(Duration::seconds(600));
    let third = push(&h).await;
    assert_eq!(third.feeds_finished, 1, "{third:?}");
    let_amazon_apply(&h);
    push(&h).await;
    assert!(changes(&h).await.iter().all(|c| c.state == State::Done));
    assert_eq!(h.sim.feeds().len(), 1, "nothing was sent twice");
}

#[tokio::test]
async fn a_queued_feed_is_cancelled_with_its_changes() {
    let h = start(60, false).await;
    let listings = priced(&h, false);
    submit(&h, &listings[..2], None, None, SubmitVia::Feed).await;
    push(&h).await;
    let feed_id = feeds(&h).await[0].feed_id.clone().unwrap();

    let feed = listings::cancel_feed(&h.t.db, &h.client(), &feed_id, "owner@example.com")
        .await
        .unwrap();

    assert_eq!(feed.state, ListingFeedState::Cancelled);
    assert_eq!(h.sim.feeds()[0].status, "CANCELLED");
    assert!(changes(&h).await.iter().all(|c| c.state == State::Canceled));
    let_amazon_process(&h);
    let_amazon_apply(&h);
    push(&h).await;
    let before: HashMap<String, String> = listings[..2]
        .iter()
        .map(|l| (l.sku.clone(), l.price.clone().unwrap().amount))
        .collect();
    for l in h.sim.listings_ground_truth() {
        if let Some(p) = before.get(&l.sku).filter(|_| l.marketplace_id == US) {
            assert_eq!(&l.price.unwrap().amount, p, "nothing of it applied");
        }
    }
    let again = listings::cancel_feed(&h.t.db, &h.client(), &feed_id, "owner@example.com").await;
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("only a feed still IN_QUEUE"),
        "a finished feed cannot be cancelled"
    );
}
