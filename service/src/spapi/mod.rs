//! The Selling Partner API, as the sync sees it.
//!
//! [`OrdersApi`] is what the sync needs from Amazon; [`client::SpApiClient`] speaks
//! it over HTTP (LWA token exchange, rate limits before the call, retries, clock
//! skew), and tests can put anything else behind the trait. Payloads of both Orders
//! API versions are decoded into one shape, [`RemoteOrder`], in [`model`].

pub mod client;
pub mod feeds;
pub mod finances;
pub mod inventory;
pub mod limits;
pub mod listings;
pub mod lwa;
pub mod model;

use chrono::{DateTime, Utc};
use entity::Amount;
use entity::enums::OrdersApiVersion;
use serde_json::Value;
use std::collections::BTreeMap;

pub use client::{ClientConfig, EndpointPolicy, RetryPolicy, SpApiClient};
pub use finances::{
    RemoteBreakdown, RemoteTransaction, TransactionsApi, TransactionsPage, TransactionsQuery,
};
pub use inventory::{InventoryApi, InventoryPage, InventoryQuery, RemoteInventory};
pub use listings::{
    ListingPatch, ListingsApi, ListingsPage, ListingsQuery, RemoteListing, Submission,
    SubmissionStatus,
};

/// The operations this product calls. What each one is (its model's operationId,
/// method, path, API family and usage plan) is one row of [`OPERATIONS`]; adding an
/// operation is a row here and its typed payload, not client code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Orders v0 `getOrders`.
    GetOrders,
    /// Orders v0 `getOrderItems`.
    GetOrderItems,
    /// Orders 2026-01-01 `searchOrders`.
    SearchOrders,
    /// Sellers `getMarketplaceParticipations` (the ping).
    GetMarketplaceParticipations,
    /// FBA Inventory v1 `getInventorySummaries`.
    GetInventorySummaries,
    /// Finances 2024-06-19 `listTransactions`.
    ListTransactions,
    /// Listings Items 2021-08-01 `searchListingsItems`.
    SearchListingsItems,
    /// Listings Items 2021-08-01 `getListingsItem`.
    GetListingsItem,
    /// Listings Items 2021-08-01 `patchListingsItem`.
    PatchListingsItem,
    /// Feeds 2021-06-30 `createFeedDocument`.
    CreateFeedDocument,
    /// Feeds 2021-06-30 `createFeed`.
    CreateFeed,
    /// Feeds 2021-06-30 `getFeed`.
    GetFeed,
    /// Feeds 2021-06-30 `cancelFeed`.
    CancelFeed,
    /// Feeds 2021-06-30 `getFeedDocument`.
    GetFeedDocument,
}

/// One operation as its API model describes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperationSpec {
    /// The operation.
    pub operation: Operation,
    /// The model's operationId.
    pub name: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The path, with `{name}` for path parameters.
    pub path: &'static str,
    /// The API and version it belongs to.
    pub family: &'static str,
    /// The model's default usage plan: (requests per second, burst).
    pub plan: (f64, u32),
}

/// Every operation this product calls, from the models in `spapi-sim/models`.
pub const OPERATIONS: [OperationSpec; 14] = [
    OperationSpec {
        operation: Operation::GetOrders,
        name: "getOrders",
        method: "GET",
        path: "/orders/v0/orders",
        family: "Orders v0",
        plan: (0.0167, 20),
    },
    OperationSpec {
        operation: Operation::GetOrderItems,
        name: "getOrderItems",
        method: "GET",
        path: "/orders/v0/orders/{orderId}/orderItems",
        family: "Orders v0",
        plan: (0.5, 30),
    },
    OperationSpec {
        operation: Operation::SearchOrders,
        name: "searchOrders",
        method: "GET",
        path: "/orders/2026-01-01/orders",
        family: "Orders 2026-01-01",
        plan: (0.0056, 20),
    },
    OperationSpec {
        operation: Operation::GetMarketplaceParticipations,
        name: "getMarketplaceParticipations",
        method: "GET",
        path: "/sellers/v1/marketplaceParticipations",
        family: "Sellers v1",
        plan: (0.016, 15),
    },
    OperationSpec {
        operation: Operation::GetInventorySummaries,
        name: "getInventorySummaries",
        method: "GET",
        path: "/fba/inventory/v1/summaries",
        family: "FBA Inventory v1",
        plan: (2.0, 2),
    },
    OperationSpec {
        operation: Operation::ListTransactions,
        name: "listTransactions",
        method: "GET",
        path: "/finances/2024-06-19/transactions",
        family: "Finances 2024-06-19",
        plan: (0.5, 10),
    },
    OperationSpec {
        operation: Operation::SearchListingsItems,
        name: "searchListingsItems",
        method: "GET",
        path: "/listings/2021-08-01/items/{sellerId}",
        family: "Listings Items 2021-08-01",
        plan: (5.0, 5),
    },
    OperationSpec {
        operation: Operation::GetListingsItem,
        name: "getListingsItem",
        method: "GET",
        path: "/listings/2021-08-01/items/{sellerId}/{sku}",
        family: "Listings Items 2021-08-01",
        plan: (5.0, 10),
    },
    OperationSpec {
        operation: Operation::PatchListingsItem,
        name: "patchListingsItem",
        method: "PATCH",
        path: "/listings/2021-08-01/items/{sellerId}/{sku}",
        family: "Listings Items 2021-08-01",
        plan: (5.0, 5),
    },
    OperationSpec {
        operation: Operation::CreateFeedDocument,
        name: "createFeedDocument",
        method: "POST",
        path: "/feeds/2021-06-30/documents",
        family: "Feeds 2021-06-30",
        plan: (0.5, 15),
    },
    OperationSpec {
        operation: Operation::CreateFeed,
        name: "createFeed",
        method: "POST",
        path: "/feeds/2021-06-30/feeds",
        family: "Feeds 2021-06-30",
        plan: (0.0083, 15),
    },
    OperationSpec {
        operation: Operation::GetFeed,
        name: "getFeed",
        method: "GET",
        path: "/feeds/2021-06-30/feeds/{feedId}",
        family: "Feeds 2021-06-30",
        plan: (2.0, 15),
    },
    OperationSpec {
        operation: Operation::CancelFeed,
        name: "cancelFeed",
        method: "DELETE",
        path: "/feeds/2021-06-30/feeds/{feedId}",
        family: "Feeds 2021-06-30",
        plan: (2.0, 15),
    },
    OperationSpec {
        operation: Operation::GetFeedDocument,
        name: "getFeedDocument",
        method: "GET",
        path: "/feeds/2021-06-30/documents/{feedDocumentId}",
        family: "Feeds 2021-06-30",
        plan: (0.0222, 10),
    },
];

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 14] = [
        Self::GetOrders,
        Self::GetOrderItems,
        Self::SearchOrders,
        Self::GetMarketplaceParticipations,
        Self::GetInventorySummaries,
        Self::ListTransactions,
        Self::SearchListingsItems,
        Self::GetListingsItem,
        Self::PatchListingsItem,
        Self::CreateFeedDocument,
        Self::CreateFeed,
        Self::GetFeed,
        Self::CancelFeed,
        Self::GetFeedDocument,
    ];

    /// Its row of [`OPERATIONS`].
    #[must_use]
    pub fn spec(self) -> &'static OperationSpec {
        // The table lists the variants in declaration order (a test checks it).
        &OPERATIONS[self as usize]
    }

    /// The model's operationId.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The default usage plan from the API models: (requests per second, burst).
    #[must_use]
    pub fn usage_plan(self) -> (f64, u32) {
        self.spec().plan
    }

    /// The path with its `{name}` parameters filled in, each percent-encoded as
    /// one path segment (a value from Amazon cannot add segments or a query).
    #[must_use]
    pub fn path(self, params: &[(&str, &str)]) -> String {
        let mut path = self.spec().path.to_owned();
        for (name, value) in params {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            path = path.replace(&format!("{{{name}}}"), &encoded.replace('+', "%20"));
        }
        path
    }
}

#[cfg(test)]
mod operation_tests {
    use super::{OPERATIONS, Operation};

    #[test]
    fn the_table_has_one_row_per_operation_in_declaration_order() {
        for (i, op) in Operation::ALL.into_iter().enumerate() {
            assert_eq!(OPERATIONS[i].operation, op);
            assert_eq!(op.spec().operation, op);
        }
    }

    #[test]
    fn a_path_parameter_stays_one_segment() {
        assert_eq!(
            Operation::GetOrderItems.path(&[("orderId", "902-3159896-1390916")]),
            "/orders/v0/orders/902-3159896-1390916/orderItems"
        );
        assert_eq!(
            Operation::GetOrderItems.path(&[("orderId", "../x?y=1 z")]),
            "/orders/v0/orders/..%2Fx%3Fy%3D1%20z/orderItems"
        );
    }
}

/// An amount in a currency, exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// ISO 4217 code.
    pub currency: String,
    /// The exact amount.
    pub amount: Amount,
}

/// An order as Amazon reports it, whichever API version delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOrder {
    /// Amazon's order id, e.g. `902-3159896-1390916`.
    pub amazon_order_id: String,
    /// The marketplace it was placed in.
    pub marketplace_id: String,
    /// When it was placed.
    pub purchase_date: DateTime<Utc>,
    /// When Amazon last changed it.
    pub last_update_date: DateTime<Utc>,
    /// Where it stands, whichever API's spelling it came in.
    pub order_status: entity::enums::OrderStatus,
    /// `AFN` or `MFN`.
    pub fulfillment_channel: Option<String>,
    /// None while Pending.
    pub order_total: Option<Money>,
    /// Units shipped.
    pub number_of_items_shipped: Option<i32>,
    /// Units not yet shipped.
    pub number_of_items_unshipped: Option<i32>,
    /// A Prime order.
    pub is_prime: bool,
    /// An Amazon Business order.
    pub is_business_order: bool,
    /// The order exactly as received (without its items for 2026-01-01).
    pub raw: Value,
    /// The items, when the API returns them inline (2026-01-01); None for v0.
    pub items: Option<Vec<RemoteItem>>,
}

/// An order item as Amazon reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteItem {
    /// Amazon's order item id.
    pub order_item_id: String,
    /// The seller's SKU.
    pub seller_sku: Option<String>,
    /// The ASIN.
    pub asin: Option<String>,
    /// The product title.
    pub title: Option<String>,
    /// Units ordered.
    pub quantity_ordered: i32,
    /// Units shipped.
    pub quantity_shipped: i32,
    /// The line price (unit price times quantity); None while the order is Pending.
    pub item_price: Option<Money>,
    /// The item exactly as received.
    pub raw: Value,
}

/// One page of orders.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersPage {
    /// The orders, in Amazon's order (by last update).
    pub orders: Vec<RemoteOrder>,
    /// The token of the next page, if any.
    pub next_token: Option<String>,
}

/// Which orders to list: those updated within `[updated_after, updated_before]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersQuery {
    /// Marketplaces to list (at most 50).
    pub marketplace_ids: Vec<String>,
    /// Inclusive lower bound of the last update.
    pub updated_after: DateTime<Utc>,
    /// Upper bound; at least two minutes before Amazon's now.
    pub updated_before: DateTime<Utc>,
    /// Orders per page (1..=100).
    pub page_size: u32,
}

/// A marketplace the seller participates in (the ping's answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    /// Marketplace id.
    pub marketplace_id: String,
    /// Marketplace name.
    pub name: String,
    /// Whether the seller can sell there now.
    pub is_participating: bool,
}

/// What the client did, for `sync_runs` and metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientStats {
    /// HTTP requests sent to SP-API, by operation name (retries included).
    pub calls: BTreeMap<&'static str, u64>,
    /// 429 answers, by operation name.
    pub throttled: BTreeMap<&'static str, u64>,
    /// Requests repeated after a 429, 5xx, timeout or broken response.
    pub retries: u64,
    /// Milliseconds spent waiting for a rate-limit token before sending.
    pub limiter_wait_ms: u64,
    /// Milliseconds spent in back-off after failures.
    pub backoff_wait_ms: u64,
    /// LWA token exchanges.
    pub token_refreshes: u64,
    /// Requests per second the client assumed at the end, by operation called: the
    /// models' usage plan as corrected by Amazon's `x-amzn-RateLimit-Limit`.
    pub rates: BTreeMap<&'static str, f64>,
}

impl ClientStats {
    /// All SP-API requests.
    #[must_use]
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    /// All 429 answers.
    #[must_use]
    pub fn total_throttled(&self) -> u64 {
        self.throttled.values().sum()
    }

    /// What happened between `earlier` and `self`.
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        let diff = |now: &BTreeMap<&'static str, u64>, then: &BTreeMap<&'static str, u64>| {
            now.iter()
                .map(|(k, v)| (*k, v.saturating_sub(then.get(k).copied().unwrap_or(0))))
                .filter(|(_, v)| *v > 0)
                .collect()
        };
        Self {
            calls: diff(&self.calls, &earlier.calls),
            throttled: diff(&self.throttled, &earlier.throttled),
            retries: self.retries.saturating_sub(earlier.retries),
            limiter_wait_ms: self.limiter_wait_ms.saturating_sub(earlier.limiter_wait_ms),
            backoff_wait_ms: self.backoff_wait_ms.saturating_sub(earlier.backoff_wait_ms),
            token_refreshes: self.token_refreshes.saturating_sub(earlier.token_refreshes),
            rates: self.rates.clone(),
        }
    }
}

/// A failure talking to Amazon, saying what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SpApiError {
    /// LWA refused the client id, secret or refresh token. LWA's own description
    /// goes to the server log, not into this message (it is shown to users).
    #[error(
        "LWA rejected the credentials ({}) — re-authorize the app in Seller Central and store the new refresh token",
        safe_code(code)
    )]
    LwaRejected {
        /// `invalid_grant`, `invalid_client`, …
        code: String,
        /// LWA's description.
        description: String,
    },
    /// SP-API refused access (403) for a reason other than an expired token.
    #[error(
        "SP-API denied {operation} (403 {}) — check the app's roles in Seller Central (request {})",
        safe_code(code),
        safe_code(request_id)
    )]
    Forbidden {
        /// The operation.
        operation: &'static str,
        /// Amazon's error code.
        code: String,
        /// Amazon's message.
        message: String,
        /// `x-amzn-RequestId`.
        request_id: String,
    },
    /// Amazon refused the request's parameters (400).
    #[error(
        "SP-API rejected {operation} as invalid input (request {}); the server log has Amazon's message",
        safe_code(request_id)
    )]
    InvalidInput {
        /// The operation.
        operation: &'static str,
        /// Amazon's message.
        message: String,
        /// `x-amzn-RequestId`.
        request_id: String,
    },
    /// The resource does not exist (404).
    #[error(
        "SP-API {operation}: not found (request {}); the server log has Amazon's message",
        safe_code(request_id)
    )]
    NotFound {
        /// The operation.
        operation: &'static str,
        /// Amazon's message.
        message: String,
        /// `x-amzn-RequestId`.
        request_id: String,
    },
    /// Still throttled after the bounded retries.
    #[error(
        "SP-API kept throttling {operation} (429) after {attempts} attempts: the quota is used by another app or sync; try again later"
    )]
    Throttled {
        /// The operation.
        operation: &'static str,
        /// Attempts made.
        attempts: u32,
    },
    /// 5xx, timeouts or broken connections outlasted the retries.
    #[error(
        "SP-API {operation} failed after {attempts} attempts: {last} — Amazon or the network is having trouble; the next sync resumes"
    )]
    Upstream {
        /// The operation (or `lwa`).
        operation: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// A 2xx answer whose body is not what the model says.
    #[error(
        "SP-API {operation} answered a payload that does not decode (request {}); the server log has the details",
        safe_code(request_id)
    )]
    Decode {
        /// The operation.
        operation: &'static str,
        /// What did not fit.
        reason: String,
        /// `x-amzn-RequestId`.
        request_id: String,
        /// The first bytes of the body.
        excerpt: String,
    },
    /// The endpoint configuration is unusable.
    #[error("SP-API endpoint configuration: {0}")]
    Config(String),
}

/// A code or request id from an answer, shown only if it looks like one (letters,
/// digits, `_.-`, at most 64): anything else from the far side stays in the log.
fn safe_code(code: &str) -> &str {
    let plain = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if plain { code } else { "?" }
}

impl SpApiError {
    /// Whether Amazon rejected the credentials themselves (alerting, connection status).
    #[must_use]
    pub fn is_credentials_rejected(&self) -> bool {
        matches!(self, Self::LwaRejected { .. })
    }
}

/// What every sync needs of its Amazon client, whatever the dataset.
#[async_trait::async_trait]
pub trait SpApi: Send + Sync {
    /// The marketplaces the seller participates in (a cheap call that proves the credentials).
    async fn marketplace_participations(&self) -> Result<Vec<Participation>, SpApiError>;

    /// Amazon's clock as last seen in its `Date` headers (the local clock until then).
    fn amazon_now(&self) -> DateTime<Utc>;

    /// Whether Amazon's clock has been seen yet (else [`Self::amazon_now`] is a guess).
    fn clock_known(&self) -> bool;

    /// Counters since the client was made.
    fn stats(&self) -> ClientStats;
}

/// What the orders sync needs from Amazon.
#[async_trait::async_trait]
pub trait OrdersApi: SpApi {
    /// One page of orders updated within the query's window, or the page `token` names.
    async fn orders_page(
        &self,
        version: OrdersApiVersion,
        query: &OrdersQuery,
        token: Option<&str>,
    ) -> Result<OrdersPage, SpApiError>;

    /// Every item of a v0 order (following `getOrderItems` pages).
    async fn order_items(&self, amazon_order_id: &str) -> Result<Vec<RemoteItem>, SpApiError>;
}
