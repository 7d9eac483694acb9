//! The financial transactions sync against spapi-sim, on SQLite and PostgreSQL:
//! every transaction, status and breakdown equal to Amazon's after the first sync,
//! after late (48 h) arrivals and after DEFERRED→RELEASED changes; no request for a
//! window over 180 days; a dry run writes nothing; and the money views sum exactly
//! (cents and yen) on hand-computed transactions.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::{Harness, US, sim_config, sync_config};
use e2e::TestDb;
use entity::enums::{OrdersApiVersion, Region, SyncKind, SyncStatus};
use entity::{amazon_connection, amazon_transaction, amazon_transaction_breakdown, sync_runs};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{Value, json};
use service::finances::views::{self, CurrencyAmount};
use service::spapi::{
    ClientStats, Participation, SpApi, SpApiError, TransactionsApi, TransactionsPage,
    TransactionsQuery, finances::decode_page,
};
use service::sync::{RunMetadata, SyncOptions, SyncOutcome, run_transactions_sync_with};
use spapi_sim::SimConfig;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A seller whose simulated clock stands almost still: statuses and visibility
/// change only when the test jumps the clock.
fn still_sim() -> SimConfig {
    SimConfig {
        time_scale: 0.001,
        ..sim_config(300)
    }
}

async fn transactions_sync(
    h: &Harness,
    api: &dyn TransactionsApi,
    options: SyncOptions,
) -> SyncOutcome {
    let outcome = run_transactions_sync_with(&h.t.db, api, &h.conn, &sync_config(), options)
        .await
        .unwrap();
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.error);
    outcome
}

/// A breakdown node: (position, parent position, type, currency, amount).
type Node = (i32, Option<i32>, String, String, Decimal);

/// A breakdown tree as one line: `Sales(20.1)[Principal(20.1)] Expenses(-3)[…]`.
fn tree_line(nodes: &[Node], parent: Option<i32>) -> String {
    nodes
        .iter()
        .filter(|n| n.1 == parent)
        .map(|(pos, _, kind, currency, amount)| {
            let children = tree_line(nodes, Some(*pos));
            let amount = amount.normalize();
            if children.is_empty() {
                format!("{kind}({amount} {currency})")
            } else {
                format!("{kind}({amount} {currency})[{children}]")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn raw_tree(v: &Value, out: &mut Vec<Node>, parent: Option<i32>) {
    for b in v.as_array().into_iter().flatten() {
        let pos = i32::try_from(out.len()).unwrap();
        let amount = &b["breakdownAmount"];
        out.push((
            pos,
            parent,
            b["breakdownType"].as_str().unwrap().to_owned(),
            amount["currencyCode"].as_str().unwrap().to_owned(),
            amount["currencyAmount"].to_string().parse().unwrap(),
        ));
        raw_tree(&b["breakdowns"], out, Some(pos));
    }
}

/// Our transactions in the simulator's terms, by id.
async fn ours(db: &sea_orm::DatabaseConnection) -> BTreeMap<String, String> {
    let mut trees: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    for n in amazon_transaction_breakdown::Entity::find()
        .order_by_asc(amazon_transaction_breakdown::Column::Position)
        .all(db)
        .await
        .unwrap()
    {
        trees.entry(n.transaction_id).or_default().push((
            n.position,
            n.parent_position,
            n.breakdown_type,
            n.currency,
            n.amount.decimal(),
        ));
    }
    let mut orders: BTreeMap<String, String> = BTreeMap::new();
    for r in entity::amazon_transaction_related::Entity::find()
        .all(db)
        .await
        .unwrap()
    {
        if r.name == "ORDER_ID" {
            orders.insert(r.transaction_id, r.value);
        }
    }
    amazon_transaction::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            let line = format!(
                "{} {} {} {} {} {} order={} {}",
                t.transaction_type,
                t.transaction_status,
                t.posted_date.timestamp(),
                t.marketplace_id.unwrap_or_default(),
                t.total_amount.decimal().normalize(),
                t.total_currency,
                orders.get(&t.transaction_id).cloned().unwrap_or_default(),
                tree_line(trees.get(&t.transaction_id).map_or(&[][..], |v| v), None),
            );
            (t.transaction_id, line)
        })
        .collect()
}

/// The simulator's transactions that a sync starting at `at` can see (visible by
/// then, posted more than Amazon's lag and our margin before it), in our terms.
fn truth(h: &Harness, at: DateTime<Utc>) -> BTreeMap<String, String> {
    let end = at - Duration::seconds(150);
    h.sim
        .transactions_ground_truth()
        .into_iter()
        .filter(|t| t.visible_at <= at && t.posted_date < end)
        .map(|t| {
            let mut nodes = Vec::new();
            raw_tree(&t.raw["breakdowns"], &mut nodes, None);
            let line = format!(
                "{} {} {} {} {} {} order={} {}",
                t.transaction_type,
                t.status,
                t.posted_date.timestamp(),
                t.marketplace_id.clone().unwrap_or_default(),
                t.total.parse::<Decimal>().unwrap().normalize(),
                t.currency,
                t.amazon_order_id.clone().unwrap_or_default(),
                tree_line(&nodes, None),
            );
            (t.transaction_id, line)
        })
        .collect()
}

fn assert_same(ours: &BTreeMap<String, String>, truth: &BTreeMap<String, String>) {
    let differing: Vec<_> = truth
        .iter()
        .filter(|(id, line)| ours.get(*id) != Some(*line))
        .take(3)
        .map(|(id, line)| format!("{id}: amazon {line} / ours {:?}", ours.get(id)))
        .collect();
    assert!(
        differing.is_empty(),
        "{} of {} transactions differ or are missing, e.g. {differing:#?}",
        truth
            .iter()
            .filter(|(id, line)| ours.get(*id) != Some(*line))
            .count(),
        truth.len()
    );
    let extra: Vec<_> = ours
        .keys()
        .filter(|k| !truth.contains_key(*k))
        .take(3)
        .collect();
    assert!(
        extra.is_empty(),
        "transactions Amazon does not list: {extra:?}"
    );
}

fn calls(h: &Harness) -> u64 {
    h.sim
        .stats()
        .operations
        .get("listTransactions")
        .map_or(0, |s| s.calls)
}

#[tokio::test]
async fn the_first_sync_brings_every_transaction_with_its_status_and_breakdown_in_the_fewest_calls()
{
    let h = Harness::start(still_sim(), OrdersApiVersion::V2026_01_01).await;
    let at = h.sim.now();
    let expected = truth(&h, at);
    assert!(
        expected.len() > 100,
        "the simulator has a ledger: {}",
        expected.len()
    );

    let outcome = transactions_sync(&h, &h.client(), SyncOptions::default()).await;

    assert_same(&ours(&h.t.db).await, &expected);
    assert_eq!(outcome.progress.found as usize, expected.len());
    assert_eq!(outcome.progress.inserted as usize, expected.len());
    // 12 days of look-back are one window: one call per page of 100, plus at most
    // the empty pages Amazon interleaves.
    let floor = expected.len().div_ceil(100) as u64;
    assert!(
        calls(&h) >= floor && calls(&h) <= floor + 3,
        "{} calls, floor {floor}",
        calls(&h)
    );
    assert_eq!(outcome.throttled, 0);
    let run = sync_runs::Entity::find_by_id(outcome.run_id)
        .one(&h.t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.kind, SyncKind::Transactions);
    assert_eq!(
        RunMetadata::of(&run).unwrap().scan.as_deref(),
        Some("first")
    );

    let again = transactions_sync(&h, &h.client(), SyncOptions::default()).await;
    assert_eq!(
        again.progress.inserted + again.progress.updated,
        0,
        "a second read changes nothing"
    );
    assert_same(&ours(&h.t.db).await, &expected);
}

#[tokio::test]
async fn late_arrivals_come_with_the_overlap_and_releases_with_the_weekly_re_pull() {
    let h = Harness::start(still_sim(), OrdersApiVersion::V2026_01_01).await;
    transactions_sync(&h, &h.client(), SyncOptions::default()).await;

    // Two days later, what Amazon posted late is listed, and new orders have shipped.
    h.sim.add_orders(30);
    h.sim.advance_clock(Duration::hours(49));
    let at = h.sim.now();
    let second = transactions_sync(&h, &h.client(), SyncOptions::default()).await;
    assert!(
        second.progress.inserted > 0,
        "late and new transactions arrive"
    );
    let late = truth(&h, at);
    let ours_now = ours(&h.t.db).await;
    // Statuses of transactions older than the overlap are not read again by an
    // incremental run; every transaction is there.
    assert_eq!(
        ours_now.keys().collect::<Vec<_>>(),
        late.keys().collect::<Vec<_>>(),
        "every transaction, late ones included"
    );

    // Two weeks on, every shipment of the first sync has been released: the
    // incremental run does not see it, the re-pull of the last 30 days does.
    h.sim.advance_clock(Duration::days(15));
    let at = h.sim.now();
    transactions_sync(&h, &h.client(), SyncOptions::default()).await;
    assert_ne!(
        ours(&h.t.db).await,
        truth(&h, at),
        "statuses older than the overlap are stale"
    );
    let repull = transactions_sync(
        &h,
        &h.client(),
        SyncOptions {
            since: Some(at - Duration::days(30)),
            ..SyncOptions::default()
        },
    )
    .await;
    assert!(repull.progress.updated > 0, "released statuses are updated");
    assert_same(&ours(&h.t.db).await, &truth(&h, at));
}

/// The real client, recording every window it asks for.
struct Recording<'a> {
    inner: &'a service::spapi::SpApiClient,
    windows: Mutex<Vec<(DateTime<Utc>, DateTime<Utc>)>>,
}

#[async_trait::async_trait]
impl SpApi for Recording<'_> {
    async fn marketplace_participations(&self) -> Result<Vec<Participation>, SpApiError> {
        self.inner.marketplace_participations().await
    }
    fn amazon_now(&self) -> DateTime<Utc> {
        self.inner.amazon_now()
    }
    fn clock_known(&self) -> bool {
        self.inner.clock_known()
    }
    fn stats(&self) -> ClientStats {
        self.inner.stats()
    }
}

#[async_trait::async_trait]
impl TransactionsApi for Recording<'_> {
    async fn transactions_page(
        &self,
        query: &TransactionsQuery,
        token: Option<&str>,
    ) -> Result<TransactionsPage, SpApiError> {
        if token.is_none() {
            self.windows
                .lock()
                .unwrap()
                .push((query.posted_after, query.posted_before));
        }
        self.inner.transactions_page(query, token).await
    }
}

#[tokio::test]
async fn a_back_fill_of_400_days_never_asks_for_more_than_180_days_at_once() {
    // A bucket deep enough for a window a month (the still clock never refills it).
    let h = Harness::start(
        SimConfig {
            rate_overrides: [("listTransactions".to_owned(), (500.0, 100))].into(),
            ..still_sim()
        },
        OrdersApiVersion::V2026_01_01,
    )
    .await;
    let client = h.client();
    let api = Recording {
        inner: &client,
        windows: Mutex::new(Vec::new()),
    };
    let at = h.sim.now();
    let since = at - Duration::days(400);

    transactions_sync(
        &h,
        &api,
        SyncOptions {
            since: Some(since),
            ..SyncOptions::default()
        },
    )
    .await;

    let windows = api.windows.into_inner().unwrap();
    assert!(windows.len() >= 3, "{windows:?}");
    assert_eq!(windows[0].0, since);
    for w in windows.windows(2) {
        assert_eq!(w[0].1, w[1].0, "windows are contiguous");
    }
    for (from, to) in &windows {
        assert!(*to - *from <= Duration::days(180), "{from}..{to}");
        assert!(*to <= at - Duration::minutes(2), "the two-minute rule");
    }
    assert_same(&ours(&h.t.db).await, &truth(&h, at));
}

#[tokio::test]
async fn a_dry_run_reads_amazon_and_writes_nothing_but_its_run() {
    let h = Harness::start(still_sim(), OrdersApiVersion::V2026_01_01).await;
    let outcome = transactions_sync(
        &h,
        &h.client(),
        SyncOptions {
            dry_run: true,
            ..SyncOptions::default()
        },
    )
    .await;
    assert!(
        outcome.progress.inserted > 100,
        "it counts what it would write"
    );
    assert_eq!(
        amazon_transaction::Entity::find()
            .count(&h.t.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        amazon_transaction_breakdown::Entity::find()
            .count(&h.t.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        entity::sync_cursor::Entity::find()
            .count(&h.t.db)
            .await
            .unwrap(),
        0,
        "no watermark"
    );
}

/// Amazon with a fixed list of transactions, for sums computed by hand.
struct Fixed {
    body: Value,
    now: DateTime<Utc>,
}

#[async_trait::async_trait]
impl SpApi for Fixed {
    async fn marketplace_participations(&self) -> Result<Vec<Participation>, SpApiError> {
        Ok(Vec::new())
    }
    fn amazon_now(&self) -> DateTime<Utc> {
        self.now
    }
    fn clock_known(&self) -> bool {
        true
    }
    fn stats(&self) -> ClientStats {
        ClientStats::default()
    }
}

#[async_trait::async_trait]
impl TransactionsApi for Fixed {
    async fn transactions_page(
        &self,
        query: &TransactionsQuery,
        _token: Option<&str>,
    ) -> Result<TransactionsPage, SpApiError> {
        let mut page = decode_page(self.body.to_string().as_bytes()).unwrap();
        page.transactions
            .retain(|t| t.posted_date >= query.posted_after && t.posted_date < query.posted_before);
        Ok(page)
    }
}

fn money(currency: &str, amount: Value) -> Value {
    json!({"currencyCode": currency, "currencyAmount": amount})
}

fn node(kind: &str, currency: &str, amount: Value, children: Vec<Value>) -> Value {
    json!({"breakdownType": kind, "breakdownAmount": money(currency, amount), "breakdowns": children})
}

#[allow(clippy::too_many_arguments, reason = "one transaction per line")]
fn tx(
    id: &str,
    kind: &str,
    status: &str,
    posted: &str,
    mp: &str,
    order: Option<&str>,
    currency: &str,
    total: Value,
    tree: Vec<Value>,
) -> Value {
    let mut related = vec![
        json!({"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID", "relatedIdentifierValue": "G1"}),
    ];
    if let Some(o) = order {
        related.insert(
            0,
            json!({"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": o}),
        );
    }
    json!({
        "transactionId": id, "transactionType": kind, "transactionStatus": status,
        "postedDate": posted, "totalAmount": money(currency, total),
        "relatedIdentifiers": related,
        "marketplaceDetails": {"marketplaceId": mp},
        "breakdowns": tree,
    })
}

const JP: &str = "A1VC38T7YXB528";

/// Two US orders and one Japanese order, by hand:
/// - US order A: shipped 19.99 + 0.01 tax, promotion −1.00, commission −3.00,
///   FBA fee −3.22, released; refunded 5.00 principal with commission +0.75 and
///   refund commission −0.15, still deferred.
/// - US order B: shipped 10.10, commission −1.52, deferred.
/// - JP order C: shipped ¥2980, commission ¥−447, released.
/// - a US subscription fee −39.99, a fee of −5.00 without a breakdown and a
///   transfer −100.00.
fn hand_made() -> Value {
    json!({"payload": {"transactions": [
        tx("A-ship", "Shipment", "DEFERRED_RELEASED", "2026-11-02T18:00:00Z", US, Some("A"), "USD", json!(12.78), vec![
            node("Sales", "USD", json!(19.00), vec![
                node("ProductCharges", "USD", json!(20.00), vec![
                    node("Principal", "USD", json!(19.99), vec![]),
                    node("Tax", "USD", json!(0.01), vec![]),
                ]),
                node("Promotion", "USD", json!(-1.00), vec![]),
            ]),
            node("Expenses", "USD", json!(-6.22), vec![
                node("AmazonFees", "USD", json!(-6.22), vec![
                    node("Commission", "USD", json!(-3.00), vec![]),
                    node("FBAPerUnitFulfillmentFee", "USD", json!(-3.22), vec![]),
                ]),
            ]),
        ]),
        tx("A-refund", "Refund", "DEFERRED", "2026-11-03T09:00:00Z", US, Some("A"), "USD", json!(-4.40), vec![
            node("Sales", "USD", json!(-5.00), vec![node("Principal", "USD", json!(-5.00), vec![])]),
            node("Expenses", "USD", json!(0.60), vec![
                node("Commission", "USD", json!(0.75), vec![]),
                node("RefundCommission", "USD", json!(-0.15), vec![]),
            ]),
        ]),
        tx("B-ship", "Shipment", "DEFERRED", "2026-11-03T07:30:00Z", US, Some("B"), "USD", json!(8.58), vec![
            node("Sales", "USD", json!(10.10), vec![node("Principal", "USD", json!(10.10), vec![])]),
            node("Expenses", "USD", json!(-1.52), vec![node("Commission", "USD", json!(-1.52), vec![])]),
        ]),
        tx("C-ship", "Shipment", "RELEASED", "2026-11-02T20:00:00Z", JP, Some("C"), "JPY", json!(2533), vec![
            node("Sales", "JPY", json!(2980), vec![node("Principal", "JPY", json!(2980), vec![])]),
            node("Expenses", "JPY", json!(-447), vec![node("Commission", "JPY", json!(-447), vec![])]),
        ]),
        tx("fee", "ServiceFee", "RELEASED", "2026-11-03T12:00:00Z", US, None, "USD", json!(-39.99), vec![
            node("Expenses", "USD", json!(-39.99), vec![node("Subscription", "USD", json!(-39.99), vec![])]),
        ]),
        // A fee Amazon sent without a breakdown: it counts by its total.
        tx("bare", "ServiceFee", "RELEASED", "2026-11-03T12:30:00Z", US, None, "USD", json!(-5.00), vec![]),
        tx("payout", "Transfer", "RELEASED", "2026-11-03T13:00:00Z", US, None, "USD", json!(-100.00), vec![
            node("Transfer", "USD", json!(-100.00), vec![]),
        ]),
    ]}})
}

fn usd(a: &str) -> CurrencyAmount {
    CurrencyAmount {
        currency: "USD".into(),
        amount: a.parse().unwrap(),
    }
}

#[tokio::test]
async fn per_order_and_per_day_sums_are_exact_in_cents_and_yen() {
    let t = TestDb::migrated().await;
    let conn = amazon_connection::ActiveModel {
        id: Set(amazon_connection::SINGLETON_ID),
        seller_id: Set("A2HANDMADE".into()),
        region: Set(Region::Na),
        sandbox: Set(false),
        marketplace_ids: Set(json!([US, JP])),
        orders_api_version: Set(OrdersApiVersion::V2026_01_01),
        // Days in Los Angeles: 2026-11-02T18:00Z and 20:00Z are Nov 2, the rest Nov 3
        // (PST, UTC−8: 2026-11-03T07:30Z is still Nov 2 there).
        timezone: Set(Some("America/Los_Angeles".into())),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&t.db)
    .await
    .unwrap();
    let api = Fixed {
        body: hand_made(),
        now: Utc.with_ymd_and_hms(2026, 11, 10, 0, 0, 0).unwrap(),
    };
    let outcome = run_transactions_sync_with(
        &t.db,
        &api,
        &conn,
        &sync_config(),
        SyncOptions {
            since: Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()),
            ..SyncOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(outcome.progress.inserted, 7);

    let ids = ["A", "B", "C", "Z"].map(str::to_owned);
    let f = views::order_financials(&t.db, &ids).await.unwrap();
    let a = &f["A"];
    assert_eq!(a.sales.amounts(), vec![usd("19.99")]);
    assert_eq!(a.tax.amounts(), vec![usd("0.01")]);
    assert_eq!(a.promotions.amounts(), vec![usd("-1.00")]);
    assert_eq!(a.fees.amounts(), vec![usd("-5.62")]);
    assert_eq!(a.refunds.amounts(), vec![usd("-5.00")]);
    assert_eq!(a.net_proceeds.amounts(), vec![usd("8.38")], "12.78 − 4.40");
    let by_type: Vec<(String, String)> = a
        .fees_by_type
        .iter()
        .map(|f| (f.breakdown_type.clone(), f.amount.amount.to_string()))
        .collect();
    assert_eq!(
        by_type,
        vec![
            ("Commission".into(), "-2.25".into()),
            ("FBAPerUnitFulfillmentFee".into(), "-3.22".into()),
            ("RefundCommission".into(), "-0.15".into()),
        ]
    );
    assert!(!a.released, "its refund is still deferred");
    assert_eq!(a.transactions, 2);
    assert_eq!(f["B"].net_proceeds.amounts(), vec![usd("8.58")]);
    assert!(!f["B"].released);
    let c = &f["C"];
    assert_eq!(c.net_proceeds.amounts()[0].currency, "JPY");
    assert_eq!(c.net_proceeds.amounts()[0].amount, Decimal::from(2533));
    assert_eq!(c.fees.amounts()[0].amount, Decimal::from(-447));
    assert!(c.released);
    assert!(
        !f.contains_key("Z"),
        "an order without transactions has no financials"
    );

    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let report = views::profit_daily(&t.db, d("2026-11-02"), d("2026-11-03"), None)
        .await
        .unwrap();
    let rows: Vec<String> = report
        .days
        .iter()
        .map(|r| {
            format!(
                "{} {} revenue={} fees={} refunds={} net={}",
                r.date,
                r.currency_code,
                r.revenue.normalize(),
                r.fees.normalize(),
                r.refunds.normalize(),
                r.net_proceeds.normalize()
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            // Nov 2 (LA): A-ship (10:00), C-ship (12:00), B-ship (23:30).
            "2026-11-02 JPY revenue=2980 fees=-447 refunds=0 net=2533",
            "2026-11-02 USD revenue=30.09 fees=-7.74 refunds=0 net=21.36",
            // Nov 3 (LA): A-refund (01:00), the fees (04:00, 04:30); the transfer is not profit.
            "2026-11-03 JPY revenue=0 fees=0 refunds=0 net=0",
            "2026-11-03 USD revenue=0 fees=-44.39 refunds=-5 net=-49.39",
        ]
    );
    let us_only = views::profit_daily(&t.db, d("2026-11-02"), d("2026-11-02"), Some(US))
        .await
        .unwrap();
    assert_eq!(us_only.days.len(), 1, "{:?}", us_only.days);
    assert_eq!(us_only.days[0].currency_code, "USD");
}
