//! A seller's account in spapi-sim wired to a fresh database, for sync tests.

#![allow(dead_code, reason = "each test binary uses a part of the harness")]
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::Utc;
use e2e::TestDb;
use entity::amazon_connection;
use entity::enums::{OrdersApiVersion, Region};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use secrecy::SecretString;
use serde_json::json;
use service::spapi::lwa::LwaCredentials;
use service::spapi::{ClientConfig, OrdersApi, RetryPolicy, SpApiClient};
use service::sync::{SyncConfig, SyncError, SyncOptions, SyncOutcome, run_orders_sync_with};
use spapi_sim::{SimConfig, SimHandle, Simulator};
use std::collections::BTreeMap;
use std::time::Duration;

pub const US: &str = "ATVPDKIKX0DER";
const JP: &str = "A1VC38T7YXB528";

pub struct Harness {
    pub t: TestDb,
    pub sim: std::sync::Arc<SimHandle>,
    pub conn: amazon_connection::Model,
}

pub fn sim_config(orders: usize) -> SimConfig {
    SimConfig {
        orders,
        seed: 11,
        days: 10,
        marketplaces: vec![US.to_owned(), JP.to_owned()],
        time_scale: 100.0,
        ..SimConfig::default()
    }
}

pub fn sync_config() -> SyncConfig {
    SyncConfig {
        first_lookback: Duration::from_secs(12 * 24 * 3600),
        max_window: Duration::from_secs(4 * 24 * 3600),
        lease_ttl: Duration::from_secs(30),
        ..SyncConfig::default()
    }
}

impl Harness {
    pub async fn start(config: SimConfig, version: OrdersApiVersion) -> Self {
        let sim = std::sync::Arc::new(Simulator::start(config).await.unwrap());
        let t = TestDb::migrated().await;
        let conn = amazon_connection::ActiveModel {
            id: Set(amazon_connection::SINGLETON_ID),
            seller_id: Set(spapi_sim::DEFAULT_SELLER_ID.into()),
            region: Set(Region::Na),
            sandbox: Set(false),
            marketplace_ids: Set(json!(sim.config().marketplaces)),
            orders_api_version: Set(version),
            endpoint: Set(Some(sim.base_url())),
            token_url: Set(Some(sim.token_url())),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&t.db)
        .await
        .unwrap();
        let h = Self { t, sim, conn };
        h.settle().await;
        h
    }

    /// Waits until every order's last update is older than Amazon's two-minute
    /// listing lag (plus the sync's margin), so a sync can see all of them.
    pub async fn settle(&self) {
        let lag = chrono::Duration::seconds(200);
        // A clock that stands (almost) still is jumped, not waited for.
        if self.sim.config().time_scale < 1.0
            && let Some(newest) = self
                .sim
                .ground_truth()
                .iter()
                .map(|o| o.last_update_date)
                .max()
        {
            self.sim.advance_clock(lag - (self.sim.now() - newest));
        }
        self.sim.settle(lag).await;
    }

    pub fn client_with(&self, refresh_token: &str) -> SpApiClient {
        let mut config = ClientConfig::for_connection(
            &self.conn,
            LwaCredentials {
                client_id: spapi_sim::DEFAULT_CLIENT_ID.to_owned(),
                client_secret: SecretString::from(spapi_sim::DEFAULT_CLIENT_SECRET.to_owned()),
                refresh_token: SecretString::from(refresh_token.to_owned()),
            },
            service::spapi::EndpointPolicy::AllowCustom,
        )
        .unwrap();
        config.retry = RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_throttle_retries: 8,
            max_throttle_wait: Duration::from_millis(500),
        };
        config.request_timeout = Duration::from_secs(1);
        SpApiClient::new(config).unwrap()
    }

    pub fn client(&self) -> SpApiClient {
        self.client_with(spapi_sim::DEFAULT_REFRESH_TOKEN)
    }

    pub async fn sync_with(
        &self,
        api: &dyn OrdersApi,
        options: SyncOptions,
    ) -> Result<SyncOutcome, SyncError> {
        run_orders_sync_with(&self.t.db, api, &self.conn, &sync_config(), options).await
    }

    pub async fn sync(&self, options: SyncOptions) -> SyncOutcome {
        let client = self.client();
        self.sync_with(&client, options).await.unwrap()
    }

    /// Our orders and items, in the simulator's terms, keyed by order id.
    pub async fn ours(&self) -> BTreeMap<String, String> {
        e2e::truth::ours(&self.t.db)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, view)| (id, view.line()))
            .collect()
    }

    /// The simulator's ground truth in the same terms.
    pub fn truth(&self) -> BTreeMap<String, String> {
        e2e::truth::truth(self.sim.ground_truth())
            .into_iter()
            .map(|(id, view)| (id, view.line()))
            .collect()
    }

    pub async fn assert_equal_to_truth(&self) {
        let ours = self.ours().await;
        let truth = self.truth();
        let missing: Vec<_> = truth
            .keys()
            .filter(|k| !ours.contains_key(*k))
            .take(3)
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} orders missing, e.g. {missing:?}",
            truth.len() - ours.len(),
            truth.len()
        );
        for (id, line) in &truth {
            assert_eq!(ours.get(id), Some(line), "order {id}");
        }
        assert_eq!(
            ours.len(),
            truth.len(),
            "orders we have that Amazon does not"
        );
        // The unified orders / order_items too, and no duplicates anywhere.
        let c = e2e::truth::compare(&self.t.db, self.sim.ground_truth())
            .await
            .unwrap();
        assert!(c.is_equal(), "{c:?}");
    }

    pub fn orders_calls(&self) -> u64 {
        let stats = self.sim.stats();
        ["getOrders", "searchOrders"]
            .iter()
            .map(|op| stats.operations.get(*op).map_or(0, |s| s.calls))
            .sum()
    }
}

pub fn both_versions() -> [OrdersApiVersion; 2] {
    [OrdersApiVersion::V2026_01_01, OrdersApiVersion::V0]
}
