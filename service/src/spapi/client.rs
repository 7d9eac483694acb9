//! [`SpApiClient`]: the HTTP implementation of [`OrdersApi`].
//!
//! Every call waits for its operation's token bucket, carries a cached LWA access
//! token and the `User-Agent` Amazon asks for, and has a connect and a total
//! timeout. A 429 gets a bounded, jittered wait; 5xx answers, timeouts, cut-off
//! bodies and dropped connections get bounded exponential retries with jitter; a
//! 403 for an expired token refreshes the token once and retries. Amazon's clock is
//! read from each `Date` header so windows are computed on Amazon's time.

use super::limits::Limits;
use super::lwa::{LwaCredentials, TokenCache};
use super::model::{self, DecodeError};
use super::{
    ClientStats, Operation, OrdersApi, OrdersPage, OrdersQuery, Participation, RemoteItem, SpApi,
    SpApiError,
};
use chrono::{DateTime, SecondsFormat, Utc};
use entity::amazon_connection;
use entity::enums::{OrdersApiVersion, Region};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How hard to try before giving up on a call.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts for 5xx, timeouts and broken responses (the first included).
    pub max_attempts: u32,
    /// First back-off; doubles each time, with jitter.
    pub base_delay: Duration,
    /// Longest back-off.
    pub max_delay: Duration,
    /// 429 answers tolerated for one call before giving up.
    pub max_throttle_retries: u32,
    /// Longest wait after a 429.
    pub max_throttle_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_throttle_retries: 5,
            max_throttle_wait: Duration::from_secs(120),
        }
    }
}

/// Everything the client needs to reach one seller account.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// SP-API base URL, e.g. `https://sellingpartnerapi-na.amazon.com`.
    pub endpoint: String,
    /// LWA token URL.
    pub token_url: String,
    /// LWA client id, secret and refresh token.
    pub credentials: LwaCredentials,
    /// Marketplace to assume for orders that do not name one.
    pub default_marketplace: String,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// Usage plans to assume instead of the models' (rate per second, burst).
    pub rate_overrides: HashMap<Operation, (f64, u32)>,
    /// Tokens a bucket starts with when earlier runs left it less than full (see
    /// [`crate::sync::budget::seed`]); full otherwise.
    pub start_tokens: HashMap<Operation, f64>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
}

/// Amazon's LWA token endpoint.
pub const LWA_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";

/// Whether a base URL is one of Amazon's SP-API hosts.
#[must_use]
pub fn is_amazon_endpoint(endpoint: &str) -> bool {
    url::Url::parse(endpoint).is_ok_and(|u| {
        u.scheme() == "https"
            && u.host_str().is_some_and(|h| {
                h.starts_with("sellingpartnerapi-") || h.starts_with("sandbox.sellingpartnerapi-")
            })
            && u.host_str().is_some_and(|h| h.ends_with(".amazon.com"))
    })
}

/// The SP-API base URL of a region, production or sandbox.
#[must_use]
pub fn regional_endpoint(region: Region, sandbox: bool) -> String {
    let r = match region {
        Region::Na => "na",
        Region::Eu => "eu",
        Region::Fe => "fe",
    };
    if sandbox {
        format!("https://sandbox.sellingpartnerapi-{r}.amazon.com")
    } else {
        format!("https://sellingpartnerapi-{r}.amazon.com")
    }
}

/// Where the seller's credentials and access tokens may be sent.
///
/// The SP-API and LWA URLs come from the connection's region (and sandbox flag).
/// A connection may name its own `endpoint` and `tokenUrl` (a local simulator, a
/// test double) only under [`EndpointPolicy::AllowCustom`], which is
/// `SPAPI_ALLOW_CUSTOM_ENDPOINTS=true` and refused in production: otherwise an
/// owner's session (or whoever stole it) could point the stored secrets anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointPolicy {
    /// Amazon's regional hosts and LWA only (the default).
    #[default]
    AmazonOnly,
    /// A connection's own endpoint and token URL are used too (tests, benchmarks,
    /// `--demo`).
    AllowCustom,
}

impl EndpointPolicy {
    /// Whether custom endpoints are allowed.
    #[must_use]
    pub fn allows_custom(self) -> bool {
        self == Self::AllowCustom
    }
}

impl ClientConfig {
    /// The configuration for the stored connection: its region's endpoints, or the
    /// connection's own when `policy` allows them.
    ///
    /// # Errors
    /// [`SpApiError::Config`] when the connection names its own endpoint or token
    /// URL and `policy` does not allow it.
    pub fn for_connection(
        conn: &amazon_connection::Model,
        credentials: LwaCredentials,
        policy: EndpointPolicy,
    ) -> Result<Self, SpApiError> {
        if !policy.allows_custom() && (conn.endpoint.is_some() || conn.token_url.is_some()) {
            return Err(SpApiError::Config(
                "the connection names its own endpoint or token URL, and custom endpoints are off: \
                 save the connection again without them (the region decides), or set \
                 SPAPI_ALLOW_CUSTOM_ENDPOINTS=true for a simulator outside production"
                    .to_owned(),
            ));
        }
        Ok(Self {
            endpoint: conn
                .endpoint
                .clone()
                .unwrap_or_else(|| regional_endpoint(conn.region, conn.sandbox)),
            token_url: conn
                .token_url
                .clone()
                .unwrap_or_else(|| LWA_TOKEN_URL.to_owned()),
            credentials,
            default_marketplace: conn
                .marketplace_id_list()
                .into_iter()
                .next()
                .unwrap_or_default(),
            retry: RetryPolicy::default(),
            rate_overrides: HashMap::new(),
            start_tokens: HashMap::new(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        })
    }
}

/// Amazon's error code and message of a refused call, logged here once: the
/// message is Amazon's text, so it goes to the server log and never into an error
/// message users read (see [`SpApiError`]'s `Display`).
fn amazon_error(
    op: Operation,
    status: reqwest::StatusCode,
    request_id: &str,
    body: &[u8],
) -> (String, String) {
    let (code, message) = model::error_summary(body);
    tracing::warn!(
        operation = op.name(),
        status = status.as_u16(),
        request_id,
        amazon_code = %code,
        amazon_message = %message,
        "SP-API refused a call"
    );
    (code, message)
}

/// The User-Agent Amazon asks for: `AppName/Version (Language=…; Platform=…)`.
fn user_agent() -> String {
    format!(
        "amazon-orders-backend/{} (Language=Rust; Platform={})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}

/// The SP-API over HTTP.
pub struct SpApiClient {
    http: reqwest::Client,
    config: ClientConfig,
    limits: Limits,
    tokens: TokenCache,
    stats: Mutex<ClientStats>,
    /// Amazon's clock minus ours, in milliseconds, from the last `Date` header.
    skew_ms: AtomicI64,
    clock_seen: AtomicBool,
}

impl std::fmt::Debug for SpApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpApiClient")
            .field("endpoint", &self.config.endpoint)
            .finish_non_exhaustive()
    }
}

pub(super) struct Answer {
    pub(super) body: bytes::Bytes,
    pub(super) request_id: String,
}

pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl SpApiClient {
    /// A client for one seller account.
    ///
    /// # Errors
    /// [`SpApiError::Config`] when the endpoint is not a URL or the HTTP client cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, SpApiError> {
        url::Url::parse(&config.endpoint).map_err(|e| {
            SpApiError::Config(format!("endpoint {:?} is not a URL: {e}", config.endpoint))
        })?;
        url::Url::parse(&config.token_url).map_err(|e| {
            SpApiError::Config(format!(
                "token URL {:?} is not a URL: {e}",
                config.token_url
            ))
        })?;
        // No redirects: a redirect would carry the access token (or, from the
        // token URL, the LWA form) to wherever the answer points.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| SpApiError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            limits: Limits::new(&config.rate_overrides, &config.start_tokens),
            config,
            tokens: TokenCache::new(),
            stats: Mutex::new(ClientStats::default()),
            skew_ms: AtomicI64::new(0),
            clock_seen: AtomicBool::new(false),
        })
    }

    /// The SP-API base URL it calls.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.config.endpoint
    }

    /// `PUT`s a document to a presigned URL (no credentials go with it), retrying
    /// 5xx answers and broken connections like the SP-API calls.
    pub(super) async fn put_document(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), SpApiError> {
        self.document("upload", || {
            self.http
                .put(url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.to_vec())
        })
        .await
        .map(|_| ())
    }

    /// `GET`s a document from a presigned URL (no credentials go with it).
    pub(super) async fn get_document(&self, url: &str) -> Result<bytes::Bytes, SpApiError> {
        self.document("download", || self.http.get(url)).await
    }

    async fn document(
        &self,
        what: &'static str,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<bytes::Bytes, SpApiError> {
        let mut failures = 0u32;
        loop {
            let last = match request().send().await {
                Ok(r) if r.status().is_success() => match r.bytes().await {
                    Ok(b) => return Ok(b),
                    Err(_) => "body cut off".to_owned(),
                },
                Ok(r) if r.status().is_server_error() => format!("HTTP {}", r.status().as_u16()),
                Ok(r) => {
                    // 403: the presigned URL expired or was refused; the caller asks
                    // for a new one.
                    return Err(SpApiError::Upstream {
                        operation: what,
                        attempts: failures + 1,
                        last: format!("the document store answered HTTP {}", r.status().as_u16()),
                    });
                }
                Err(e) if e.is_timeout() => "timed out".to_owned(),
                Err(_) => "connection failed".to_owned(),
            };
            failures += 1;
            if failures >= self.config.retry.max_attempts {
                return Err(SpApiError::Upstream {
                    operation: what,
                    attempts: failures,
                    last,
                });
            }
            tokio::time::sleep(self.backoff(failures)).await;
        }
    }

    /// The rate the client currently assumes for an operation.
    #[must_use]
    pub fn assumed_rate(&self, op: Operation) -> f64 {
        self.limits.rate(op)
    }

    /// Lowers the client's bucket for `op` to at most `tokens` (what the recorded
    /// runs of every process left of Amazon's), at the rate they recorded when one
    /// is given, so a client that lives across runs does not spend tokens another
    /// process already spent.
    pub fn align_bucket(&self, op: Operation, rate: Option<f64>, tokens: f64) {
        self.limits.align(op, rate, tokens);
    }

    fn count(&self, f: impl FnOnce(&mut ClientStats)) {
        f(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let p = &self.config.retry;
        let exp = p
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(p.max_delay);
        // Full jitter between half and all of the delay.
        capped.mul_f64(rand::random_range(0.5..=1.0))
    }

    fn note_headers(&self, op: Operation, headers: &reqwest::header::HeaderMap) {
        if let Some(date) = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        {
            let amazon: DateTime<Utc> = date.into();
            let skew = (amazon - Utc::now()).num_milliseconds();
            self.skew_ms.store(skew, Ordering::Relaxed);
            self.clock_seen.store(true, Ordering::Relaxed);
        }
        if let Some(rate) = headers
            .get("x-amzn-RateLimit-Limit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
        {
            self.limits.correct_rate(op, rate);
        }
    }

    pub(super) async fn call(
        &self,
        op: Operation,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Answer, SpApiError> {
        self.send(op, path, query, None).await
    }

    /// One operation, with a JSON body when `body` is given. A retried request is
    /// sent again as it was: the operations with a body set absolute values
    /// (a price, a quantity), so a second copy changes nothing more.
    #[tracing::instrument(skip(self, query, body), fields(operation = op.name()))]
    pub(super) async fn send(
        &self,
        op: Operation,
        path: &str,
        query: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Answer, SpApiError> {
        let url = format!("{}{path}", self.config.endpoint.trim_end_matches('/'));
        let method = reqwest::Method::from_bytes(op.spec().method.as_bytes())
            .map_err(|_| SpApiError::Config(format!("{}: bad method", op.name())))?;
        let retry = self.config.retry.clone();
        let mut failures = 0u32;
        let mut throttles = 0u32;
        let mut refreshed_after_expiry = false;
        loop {
            let waited = self.limits.acquire(op).await;
            let token = self
                .tokens
                .get(
                    &self.http,
                    &self.config.token_url,
                    &self.config.credentials,
                    || {
                        self.count(|s| s.token_refreshes += 1);
                    },
                )
                .await?;
            self.count(|s| {
                *s.calls.entry(op.name()).or_default() += 1;
                s.limiter_wait_ms += u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
            });
            let mut request = self
                .http
                .request(method.clone(), &url)
                .query(query)
                .header("x-amz-access-token", token.expose_secret());
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            }
            let sent = request.send().await;
            let failure = match sent {
                Err(e) => {
                    if e.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        format!(
                            "connection failed ({})",
                            if e.is_connect() { "connect" } else { "dropped" }
                        )
                    }
                }
                Ok(response) => {
                    let status = response.status();
                    self.note_headers(op, response.headers());
                    let request_id = response
                        .headers()
                        .get("x-amzn-RequestId")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    match response.bytes().await {
                        Err(_) => format!("response body cut off (HTTP {})", status.as_u16()),
                        Ok(body) if status.is_success() => return Ok(Answer { body, request_id }),
                        Ok(body) => match status.as_u16() {
                            429 => {
                                self.count(|s| *s.throttled.entry(op.name()).or_default() += 1);
                                throttles += 1;
                                if throttles > retry.max_throttle_retries {
                                    return Err(SpApiError::Throttled {
                                        operation: op.name(),
                                        attempts: failures + throttles,
                                    });
                                }
                                self.limits.drain(op);
                                let per_token =
                                    Duration::from_secs_f64(1.0 / self.limits.rate(op).max(1e-6));
                                let wait = per_token
                                    .min(retry.max_throttle_wait)
                                    .mul_f64(rand::random_range(0.1..=0.5));
                                tracing::warn!(
                                    wait_ms = wait.as_millis() as u64,
                                    "throttled (429); waiting"
                                );
                                self.count(|s| {
                                    s.retries += 1;
                                    s.backoff_wait_ms +=
                                        u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                                });
                                tokio::time::sleep(wait).await;
                                continue;
                            }
                            403 => {
                                let (code, message) = amazon_error(op, status, &request_id, &body);
                                if code == "Unauthorized"
                                    && message.to_ascii_lowercase().contains("expired")
                                    && !refreshed_after_expiry
                                {
                                    tracing::info!("access token expired early; refreshing once");
                                    refreshed_after_expiry = true;
                                    self.tokens.invalidate(&token).await;
                                    self.count(|s| s.retries += 1);
                                    continue;
                                }
                                return Err(SpApiError::Forbidden {
                                    operation: op.name(),
                                    code,
                                    message,
                                    request_id,
                                });
                            }
                            400 => {
                                let (_, message) = amazon_error(op, status, &request_id, &body);
                                return Err(SpApiError::InvalidInput {
                                    operation: op.name(),
                                    message,
                                    request_id,
                                });
                            }
                            404 => {
                                let (_, message) = amazon_error(op, status, &request_id, &body);
                                return Err(SpApiError::NotFound {
                                    operation: op.name(),
                                    message,
                                    request_id,
                                });
                            }
                            code if status.is_server_error() => {
                                amazon_error(op, status, &request_id, &body);
                                format!("HTTP {code}")
                            }
                            code => {
                                amazon_error(op, status, &request_id, &body);
                                return Err(SpApiError::Upstream {
                                    operation: op.name(),
                                    attempts: failures + throttles + 1,
                                    last: format!(
                                        "unexpected HTTP {code}; the server log has Amazon's answer"
                                    ),
                                });
                            }
                        },
                    }
                }
            };
            failures += 1;
            let last = failure;
            if failures >= retry.max_attempts {
                return Err(SpApiError::Upstream {
                    operation: op.name(),
                    attempts: failures + throttles,
                    last,
                });
            }
            let wait = self.backoff(failures);
            tracing::warn!(failure = %last, attempt = failures, wait_ms = wait.as_millis() as u64, "SP-API call failed; retrying");
            self.count(|s| {
                s.retries += 1;
                s.backoff_wait_ms += u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
            });
            tokio::time::sleep(wait).await;
        }
    }

    pub(super) fn decode<T>(
        op: Operation,
        answer: &Answer,
        r: Result<T, DecodeError>,
    ) -> Result<T, SpApiError> {
        r.map_err(|e| {
            let excerpt = model::excerpt(&answer.body);
            tracing::warn!(
                operation = op.name(),
                request_id = %answer.request_id,
                reason = %e.0,
                excerpt = %excerpt,
                "SP-API answer does not decode"
            );
            SpApiError::Decode {
                operation: op.name(),
                reason: e.0,
                request_id: answer.request_id.clone(),
                excerpt,
            }
        })
    }
}

#[async_trait::async_trait]
impl OrdersApi for SpApiClient {
    async fn orders_page(
        &self,
        version: OrdersApiVersion,
        query: &OrdersQuery,
        token: Option<&str>,
    ) -> Result<OrdersPage, SpApiError> {
        let default_mp = self.config.default_marketplace.as_str();
        match version {
            OrdersApiVersion::V0 => {
                let op = Operation::GetOrders;
                let mut q = vec![
                    ("MarketplaceIds", query.marketplace_ids.join(",")),
                    ("LastUpdatedAfter", iso(query.updated_after)),
                    ("LastUpdatedBefore", iso(query.updated_before)),
                    ("MaxResultsPerPage", query.page_size.to_string()),
                ];
                if let Some(t) = token {
                    q.push(("NextToken", t.to_owned()));
                }
                let answer = self.call(op, &op.path(&[]), &q).await?;
                Self::decode(op, &answer, model::v0_orders_page(&answer.body, default_mp))
            }
            OrdersApiVersion::V2026_01_01 => {
                let op = Operation::SearchOrders;
                let mut q = vec![
                    ("marketplaceIds", query.marketplace_ids.join(",")),
                    ("lastUpdatedAfter", iso(query.updated_after)),
                    ("lastUpdatedBefore", iso(query.updated_before)),
                    ("maxResultsPerPage", query.page_size.to_string()),
                    ("includedData", "FULFILLMENT,PROCEEDS".to_owned()),
                ];
                if let Some(t) = token {
                    q.push(("paginationToken", t.to_owned()));
                }
                let answer = self.call(op, &op.path(&[]), &q).await?;
                Self::decode(
                    op,
                    &answer,
                    model::search_orders_page(&answer.body, default_mp),
                )
            }
        }
    }

    async fn order_items(&self, amazon_order_id: &str) -> Result<Vec<RemoteItem>, SpApiError> {
        let op = Operation::GetOrderItems;
        let path = op.path(&[("orderId", amazon_order_id)]);
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let q: Vec<(&str, String)> = token.iter().map(|t| ("NextToken", t.clone())).collect();
            let answer = self.call(op, &path, &q).await?;
            let (page, next) = Self::decode(op, &answer, model::v0_items_page(&answer.body))?;
            items.extend(page);
            match next {
                Some(t) if !seen.insert(t.clone()) => {
                    return Err(SpApiError::Decode {
                        operation: op.name(),
                        reason: "the same NextToken came back twice".to_owned(),
                        request_id: answer.request_id,
                        excerpt: String::new(),
                    });
                }
                Some(t) => token = Some(t),
                None => return Ok(items),
            }
        }
    }
}

#[async_trait::async_trait]
impl SpApi for SpApiClient {
    async fn marketplace_participations(&self) -> Result<Vec<Participation>, SpApiError> {
        let op = Operation::GetMarketplaceParticipations;
        let answer = self.call(op, &op.path(&[]), &[]).await?;
        Self::decode(op, &answer, model::participations(&answer.body))
    }

    fn amazon_now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.skew_ms.load(Ordering::Relaxed))
    }

    fn clock_known(&self) -> bool {
        self.clock_seen.load(Ordering::Relaxed)
    }

    fn stats(&self) -> ClientStats {
        let mut stats = self
            .stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        stats.rates = Operation::ALL
            .into_iter()
            .filter(|op| stats.calls.contains_key(op.name()))
            .map(|op| (op.name(), self.limits.rate(op)))
            .collect();
        stats
    }
}
