//! Listings against spapi-sim, on SQLite and PostgreSQL: the catalog sync equals
//! Amazon's catalog; queued prices and quantities go live through the push (two
//! phases when a raised price comes with a quantity), conflicts stop a change
//! before anything is sent, a dry run changes nothing on Amazon, a change that
//! never shows ends `NOT_APPLIED`, and a push killed between its intent and
//! Amazon's answer resumes.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use chrono::Duration;
use common::{Harness, US, sim_config, sync_config};
use entity::enums::{ListingChangeState as State, OrdersApiVersion, SubmitVia, SyncStatus};
use entity::{amazon_listing, listing_change};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
use service::listings::{
    self, ChangeRequest, ConflictAction, ListingsError, PushConfig, PushMode, PushReport,
};
use service::sync::{ListingsScan, SyncOptions, SyncOutcome, run_listings_sync_with};
use spapi_sim::{SimConfig, SimListing};
use std::collections::HashMap;

const JP: &str = "A1VC38T7YXB528";

/// A seller whose simulated clock stands almost still (changes show when the test
/// jumps it), with the listings buckets at Amazon's rate in real time.
fn still_sim() -> SimConfig {
    let rates = [
        "searchListingsItems",
        "getListingsItem",
        "patchListingsItem",
    ]
    .into_iter()
    .map(|op| (op.to_owned(), (5_000.0, 20)))
    .collect::<HashMap<_, _>>();
    SimConfig {
        time_scale: 0.001,
        rate_overrides: rates,
        ..sim_config(40)
    }
}

async fn start() -> Harness {
    let h = Harness::start(still_sim(), OrdersApiVersion::V2026_01_01).await;
    sync(&h, ListingsScan::Full, SyncOptions::default()).await;
    h
}

async fn sync(h: &Harness, scan: ListingsScan, options: SyncOptions) -> SyncOutcome {
    let outcome =
        run_listings_sync_with(&h.t.db, &h.client(), &h.conn, &sync_config(), scan, options)
            .await
            .unwrap();
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    outcome
}

async fn push(h: &Harness, mode: PushMode) -> PushReport {
    listings::push_once_with(&h.t.db, &h.client(), &h.conn, &PushConfig::default(), mode)
        .await
        .unwrap()
}

/// Our listings in the simulator's terms, one line each.
async fn ours(h: &Harness) -> Vec<String> {
    amazon_listing::Entity::find()
        .order_by_asc(amazon_listing::Column::MarketplaceId)
        .order_by_asc(amazon_listing::Column::SellerSku)
        .all(&h.t.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.gone_at.is_none())
        .map(|l| {
            format!(
                "{} {} asin={} type={} {} price={} {} qty={:?} buyable={} at={}",
                l.marketplace_id,
                l.seller_sku,
                l.asin.unwrap_or_default(),
                l.product_type.unwrap_or_default(),
                l.fulfillment_channel.unwrap_or_default(),
                l.price_amount.map(|p| p.to_string()).unwrap_or_default(),
                l.price_currency.unwrap_or_default(),
                l.quantity,
                l.buyable,
                l.last_updated_time
                    .map(|t| t.timestamp())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn truth_line(l: &SimListing) -> String {
    format!(
        "{} {} asin={} type={} {} price={} {} qty={:?} buyable={} at={}",
        l.marketplace_id,
        l.sku,
        l.asin,
        l.product_type,
        l.fulfillment_channel,
        l.price
            .as_ref()
            .map(|p| p.amount.clone())
            .unwrap_or_default(),
        l.price
            .as_ref()
            .map(|p| p.currency_code.clone())
            .unwrap_or_default(),
        l.quantity,
        l.status.iter().any(|s| s == "BUYABLE"),
        l.last_updated_date.timestamp(),
    )
}

fn truth(h: &Harness) -> Vec<String> {
    h.sim
        .listings_ground_truth()
        .iter()
        .map(truth_line)
        .collect()
}

/// A listing of the simulator's: MFN or not, in a marketplace.
fn listing(h: &Harness, mp: &str, mfn: bool) -> SimListing {
    h.sim
        .listings_ground_truth()
        .into_iter()
        .find(|l| {
            l.marketplace_id == mp && (l.fulfillment_channel == "MFN") == mfn && l.price.is_some()
        })
        .unwrap()
}

fn price_of(l: &SimListing) -> rust_decimal::Decimal {
    l.price.as_ref().unwrap().amount.parse().unwrap()
}

fn change(mp: &str, sku: &str, price: Option<String>, quantity: Option<i64>) -> ChangeRequest {
    ChangeRequest {
        marketplace_id: mp.to_owned(),
        seller_sku: sku.to_owned(),
        price,
        quantity,
    }
}

async fn queue(h: &Harness, changes: Vec<ChangeRequest>) -> Vec<listing_change::Model> {
    listings::queue_changes(&h.t.db, changes, "owner@example.com")
        .await
        .unwrap()
}

async fn state_of(h: &Harness, id: i64) -> listing_change::Model {
    listing_change::Entity::find_by_id(id)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap()
}

async fn states(h: &Harness, id: i64) -> Vec<State> {
    listings::histories(&h.t.db, &[id])
        .await
        .unwrap()
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.state)
        .collect()
}

/// Lets the simulator apply what it accepted (its delay is 300 simulated seconds).
fn let_amazon_apply(h: &Harness) {
    h.sim.advance_clock(Duration::seconds(301));
}

#[tokio::test]
async fn a_full_sync_equals_amazons_catalog_and_an_incremental_one_reads_only_what_changed() {
    let h = start().await;
    assert_eq!(ours(&h).await, truth(&h));
    assert!(
        truth(&h).iter().any(|l| l.contains(" AFN ")),
        "FBA listings too"
    );
    assert!(
        truth(&h).iter().any(|l| l.contains(" JPY ")),
        "two marketplaces"
    );

    let mfn = listing(&h, US, true);
    h.sim.advance_clock(Duration::seconds(10));
    h.sim.reprice(US, &mfn.sku, "12.34").unwrap();
    h.sim.advance_clock(Duration::seconds(200));
    let dry = sync(
        &h,
        ListingsScan::Incremental,
        SyncOptions {
            dry_run: true,
            ..SyncOptions::default()
        },
    )
    .await;
    assert_eq!(dry.progress.updated, 1, "{:?}", dry.progress);
    assert_ne!(ours(&h).await, truth(&h), "a dry run writes nothing");

    let outcome = sync(&h, ListingsScan::Incremental, SyncOptions::default()).await;

    assert_eq!(ours(&h).await, truth(&h));
    assert_eq!(outcome.progress.updated, 1, "{:?}", outcome.progress);
    assert!(
        outcome.progress.found < 5,
        "an incremental sync reads what changed, not the catalog: {:?}",
        outcome.progress
    );
}

#[tokio::test]
async fn a_queued_price_goes_live_and_the_change_ends_done() {
    let h = start().await;
    let mfn = listing(&h, US, true);
    let new_price = (price_of(&mfn) - rust_decimal::Decimal::ONE).to_string();
    let queued = queue(
        &h,
        vec![change(US, &mfn.sku, Some(new_price.clone()), None)],
    )
    .await;
    let id = queued[0].id;
    assert_eq!(queued[0].price_when_queued.unwrap().0, price_of(&mfn));

    listings::request_submit(&h.t.db, None, true, SubmitVia::Auto)
        .await
        .unwrap();
    let first = push(&h, PushMode::Submit).await;
    assert_eq!(first.patches, 1, "{first:?}");
    assert_eq!(state_of(&h, id).await.state, State::Submitted);
    let_amazon_apply(&h);
    let second = push(&h, PushMode::Submit).await;

    assert_eq!(second.done, 1, "{second:?}");
    assert_eq!(state_of(&h, id).await.state, State::Done);
    assert_eq!(
        states(&h, id).await,
        vec![State::Queued, State::Submitted, State::Done]
    );
    let live = listing_by_sku(&h, US, &mfn.sku);
    assert_eq!(live.price.unwrap().amount, new_price);
    assert_eq!(
        ours(&h).await,
        truth(&h),
        "the push keeps our listings fresh"
    );
}

fn listing_by_sku(h: &Harness, mp: &str, sku: &str) -> SimListing {
    h.sim
        .listings_ground_truth()
        .into_iter()
        .find(|l| l.marketplace_id == mp && l.sku == sku)
        .unwrap()
}

#[tokio::test]
async fn a_raised_price_with_a_quantity_never_sends_the_quantity_before_the_price_is_live() {
    let h = start().await;
    let mfn = listing(&h, US, true);
    let raised = (price_of(&mfn) + rust_decimal::Decimal::new(250, 2)).to_string();
    let id = queue(
        &h,
        vec![change(US, &mfn.sku, Some(raised.clone()), Some(37))],
    )
    .await[0]
        .id;
    listings::request_submit(&h.t.db, Some(&[id]), true, SubmitVia::Auto)
        .await
        .unwrap();

    push(&h, PushMode::Submit).await;
    let sent = h.sim.listing_submissions();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].price.as_deref(), Some(raised.as_str()));
    assert_eq!(sent[0].quantity, None, "the quantity waits for the price");
    // Not live yet: a pass sends nothing more.
    push(&h, PushMode::Submit).await;
    assert_eq!(h.sim.listing_submissions().len(), 1);

    let_amazon_apply(&h);
    let report = push(&h, PushMode::Submit).await;
    assert_eq!(report.price_live, 1, "{report:?}");
    assert_eq!(state_of(&h, id).await.state, State::PriceLive);
    let sent = h.sim.listing_submissions();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].quantity, Some(37));
    assert_eq!(sent[1].price, None);
    let price_live_at = sent[0].applied_at.unwrap();
    assert!(sent[1].received_at >= price_live_at, "{sent:?}");

    let_amazon_apply(&h);
    push(&h, PushMode::Submit).await;
    assert_eq!(state_of(&h, id).await.state, State::Done);
    assert_eq!(
        states(&h, id).await,
        vec![
            State::Queued,
            State::Submitted,
            State::PriceLive,
            State::Done
        ]
    );
    let live = listing_by_sku(&h, US, &mfn.sku);
    assert_eq!(live.price.unwrap().amount, raised);
    assert_eq!(live.quantity, Some(37));
}

#[tokio::test]
async fn a_price_that_never_goes_live_ends_not_applied_and_never_gets_its_quantity() {
    let h = start().await;
    let mfn = listing(&h, US, true);
    h.sim.never_apply(US, &mfn.sku, true).unwrap();
    let raised = (price_of(&mfn) + rust_decimal::Decimal::ONE).to_string();
    let id = queue(&h, vec![change(US, &mfn.sku, Some(raised), Some(5))]).await[0].id;
    listings::request_submit(&h.t.db, None, true, SubmitVia::Auto)
        .await
        .unwrap();

    push(&h, PushMode::Submit).await;
    h.sim.advance_clock(Duration::minutes(29));
    push(&h, PushMode::Submit).await;
    assert_eq!(state_of(&h, id).await.state, State::Submitted, "not yet");
    h.sim.advance_clock(Duration::minutes(2));
    let report = push(&h, PushMode::Submit).await;

    assert_eq!(report.not_applied, 1, "{report:?}");
    assert_eq!(state_of(&h, id).await.state, State::NotApplied);
    let sent = h.sim.listing_submissions();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent.iter().all(|s| s.quantity.is_none()));
    assert_eq!(listing_by_sku(&h, US, &mfn.sku).quantity, mfn.quantity);
}

#[tokio::test]
async fn a_repricers_change_after_queueing_ends_in_conflict_and_nothing_is_pushed_until_overridden()
{
    let h = start().await;
    let mfn = listing(&h, US, true);
    let id = queue(&h, vec![change(US, &mfn.sku, Some("15.00".into()), None)]).await[0].id;
    h.sim.reprice(US, &mfn.sku, "16.49").unwrap();
    listings::request_submit(&h.t.db, None, true, SubmitVia::Auto)
        .await
        .unwrap();

    let report = push(&h, PushMode::Submit).await;

    assert_eq!(report.conflicts, 1, "{report:?}");
    let c = state_of(&h, id).await;
    assert_eq!(c.state, State::Conflict);
    assert_eq!(c.live_price.unwrap().to_string(), "16.49");
    assert_eq!(c.price_when_queued.unwrap().0, price_of(&mfn));
    assert!(h.sim.listing_submissions().is_empty(), "nothing was sent");
    assert_eq!(
        listing_by_sku(&h, US, &mfn.sku).price.unwrap().amount,
        "16.49"
    );

    let overridden = listings::resolve_conflict(&h.t.db, id, ConflictAction::Override, "owner")
        .await
        .unwrap();
    assert_eq!(overridden.state, State::Queued);
    push(&h, PushMode::Submit).await;
    let_amazon_apply(&h);
    push(&h, PushMode::Submit).await;
    assert_eq!(state_of(&h, id).await.state, State::Done);
    assert_eq!(
        listing_by_sku(&h, US, &mfn.sku).price.unwrap().amount,
        "15.00"
    );
}

#[tokio::test]
async fn a_dry_run_changes_nothing_on_amazon_and_reports_what_would_fail() {
    let h = start().await;
    let mfn = listing(&h, US, true);
    let fba = listing(&h, US, false);
    let jp = listing(&h, JP, true);
    let before = h.sim.listings_ground_truth();
    let queued = queue(
        &h,
        vec![
            change(US, &mfn.sku, Some("21.00".into()), Some(3)),
            change(US, &fba.sku, None, Some(8)),
            change(JP, &jp.sku, Some("2980".into()), None),
        ],
    )
    .await;

    let report = push(&h, PushMode::Preview(None)).await;
    let_amazon_apply(&h);

    assert_eq!(report.validated, 2, "{report:?}");
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(state_of(&h, queued[0].id).await.state, State::Validated);
    let fba_change = state_of(&h, queued[1].id).await;
    assert_eq!(fba_change.state, State::Failed);
    assert!(
        fba_change.issue_list()[0]
            .message
            .contains("fulfilled by Amazon"),
        "{:?}",
        fba_change.issue_list()
    );
    assert_eq!(state_of(&h, queued[2].id).await.state, State::Validated);
    let sent = h.sim.listing_submissions();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s.preview), "{sent:?}");
    let after = h.sim.listings_ground_truth();
    assert_eq!(
        before.iter().map(truth_line).collect::<Vec<_>>(),
        after.iter().map(truth_line).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn bad_csv_rows_are_reported_with_their_line_and_nothing_is_queued() {
    let h = start().await;
    let mfn = listing(&h, US, true);
    let csv = format!(
        "sku,marketplace_id,price,quantity\n{sku},{US},19.99,\n{sku},{US},-1,\nX,{JP},12.5,\n,{US},1,\nY,NOPE,1,\nZ,{US},,\n",
        sku = mfn.sku
    );

    let e = listings::queue_csv(&h.t.db, &csv, "owner")
        .await
        .unwrap_err();

    let ListingsError::Rows { problems } = e else {
        panic!("{e:?}")
    };
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7], "{problems:?}");
    assert!(problems[0].message.contains("more than 0"), "{problems:?}");
    assert!(
        problems[1].message.contains("decimals"),
        "JPY has none: {problems:?}"
    );
    assert!(
        listing_change::Entity::find()
            .all(&h.t.db)
            .await
            .unwrap()
            .is_empty()
    );

    let good = format!(
        "sku,marketplace_id,price,quantity\n{},{US},19.99,4\n",
        mfn.sku
    );
    let queued = listings::queue_csv(&h.t.db, &good, "owner").await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].desired_quantity, Some(4));
}

#[tokio::test]
async fn a_push_killed_between_its_intent_and_amazons_answer_sends_again_and_finishes() {
    let h = start().await;
    let mfn = listing(&h, US, true);
    let new_price = (price_of(&mfn) + rust_decimal::Decimal::ONE).to_string();
    let id = queue(
        &h,
        vec![change(US, &mfn.sku, Some(new_price.clone()), None)],
    )
    .await[0]
        .id;
    // What a kill -9 right after the intent was committed leaves behind.
    let c = state_of(&h, id).await;
    let mut row: listing_change::ActiveModel = c.into();
    row.state = Set(State::Submitted);
    row.phase = Set(Some("BOTH".into()));
    row.submit_requested_at = Set(Some(chrono::Utc::now()));
    row.sent_at = Set(Some(h.sim.now() - Duration::minutes(5)));
    row.deadline_at = Set(Some(h.sim.now() + Duration::minutes(25)));
    row.attempts = Set(1);
    row.update(&h.t.db).await.unwrap();

    push(&h, PushMode::Submit).await;
    assert_eq!(h.sim.listing_submissions().len(), 1, "sent again");
    let_amazon_apply(&h);
    push(&h, PushMode::Submit).await;

    let c = state_of(&h, id).await;
    assert_eq!(c.state, State::Done);
    assert_eq!(c.attempts, 2);
    assert_eq!(
        listing_by_sku(&h, US, &mfn.sku).price.unwrap().amount,
        new_price
    );
}

#[tokio::test]
async fn a_second_change_of_a_queued_sku_replaces_the_first_and_one_in_flight_is_kept() {
    let h = start().await;
    let mfn = listing(&h, US, true);
    let first = queue(&h, vec![change(US, &mfn.sku, Some("30.00".into()), None)]).await[0].id;
    let second = queue(&h, vec![change(US, &mfn.sku, Some("31.00".into()), None)]).await[0].id;
    assert_eq!(state_of(&h, first).await.state, State::Canceled);

    listings::request_submit(&h.t.db, None, true, SubmitVia::Auto)
        .await
        .unwrap();
    push(&h, PushMode::Submit).await;
    assert_eq!(state_of(&h, second).await.state, State::Submitted);
    let e = listings::queue_changes(
        &h.t.db,
        vec![change(US, &mfn.sku, Some("32.00".into()), None)],
        "owner",
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("being pushed"), "{e}");
    let e = listings::resolve_conflict(&h.t.db, second, ConflictAction::Cancel, "owner")
        .await
        .unwrap_err();
    assert!(matches!(e, ListingsError::WrongState { .. }), "{e}");
}
