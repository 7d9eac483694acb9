//! The HTTP server: routes, the pipeline every SP-API call goes through (auth, faults, usage
//! plan, handler, headers) and an accept loop that can cut a body or drop a connection.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rand::Rng;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::auth::{self, Denied};
use crate::clock::http_date;
use crate::faults::Picked;
use crate::limits;
use crate::models::Op;
use crate::ops;
use crate::query::{Query, error_body};
use crate::state::{Inner, Shared};

use crate::ops::Outcome;

/// Marks a response for the connection layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultMark {
    Drop,
    Cut,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/auth/o2/token", post(auth::token))
        .route("/orders/v0/orders", get(get_orders))
        .route("/orders/v0/orders/{orderId}", get(get_order))
        .route(
            "/orders/v0/orders/{orderId}/orderItems",
            get(get_order_items),
        )
        .route("/orders/2026-01-01/orders", get(search_orders))
        .route("/orders/2026-01-01/orders/{orderId}", get(get_order_2026))
        .route(
            "/sellers/v1/marketplaceParticipations",
            get(get_marketplace_participations),
        )
        .route("/fba/inventory/v1/summaries", get(get_inventory_summaries))
        .route("/finances/2024-06-19/transactions", get(list_transactions))
        .route(
            "/listings/2021-08-01/items/{sellerId}",
            get(search_listings_items),
        )
        .route(
            "/listings/2021-08-01/items/{sellerId}/{sku}",
            get(get_listings_item).patch(patch_listings_item),
        )
        .route("/feeds/2021-06-30/documents", post(create_feed_document))
        .route(
            "/feeds/2021-06-30/documents/{feedDocumentId}",
            get(get_feed_document),
        )
        .route("/feeds/2021-06-30/feeds", get(get_feeds).post(create_feed))
        .route(
            "/feeds/2021-06-30/feeds/{feedId}",
            get(get_feed).delete(cancel_feed),
        )
        .nest("/_sim", crate::control::routes())
        .fallback(not_found)
        .with_state(shared)
}

async fn get_orders(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetOrders, &headers, |sh, inner, now| {
        ops::v0::get_orders(sh, inner, now, &query)
    })
    .await
}

async fn get_order(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetOrder, &headers, |sh, inner, _| {
        ops::v0::get_order(sh, inner, &order_id, &query)
    })
    .await
}

async fn get_order_items(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetOrderItems, &headers, |sh, inner, now| {
        ops::v0::get_order_items(sh, inner, now, &order_id, &query)
    })
    .await
}

async fn search_orders(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::SearchOrders, &headers, |sh, inner, now| {
        ops::v2026::search_orders(sh, inner, now, &query)
    })
    .await
}

async fn get_order_2026(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetOrder2026, &headers, |sh, inner, _| {
        ops::v2026::get_order(sh, inner, &order_id, &query)
    })
    .await
}

async fn get_marketplace_participations(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(
        &s,
        Op::GetMarketplaceParticipations,
        &headers,
        |sh, _, _| ops::sellers::get_marketplace_participations(sh, &query),
    )
    .await
}

async fn get_inventory_summaries(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetInventorySummaries, &headers, |sh, inner, now| {
        ops::inventory::get_inventory_summaries(sh, inner, now, &query)
    })
    .await
}

async fn list_transactions(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::ListTransactions, &headers, |sh, inner, now| {
        ops::finances::list_transactions(sh, inner, now, &query)
    })
    .await
}

async fn search_listings_items(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(seller_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::SearchListingsItems, &headers, |sh, inner, now| {
        ops::listings::search_listings_items(sh, inner, now, &seller_id, &query)
    })
    .await
}

/// The SKU arrives percent-decoded (`%2F` is a `/` of the SKU, `%20` a space).
async fn get_listings_item(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((seller_id, sku)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetListingsItem, &headers, |sh, inner, now| {
        ops::listings::get_listings_item(sh, inner, now, &seller_id, &sku, &query)
    })
    .await
}

async fn patch_listings_item(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((seller_id, sku)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::PatchListingsItem, &headers, |sh, inner, now| {
        ops::listings::patch_listings_item(sh, inner, now, &seller_id, &sku, &query, &body)
    })
    .await
}

/// The host the client called, for presigned URLs on the simulator's own host.
fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string()
}

async fn create_feed_document(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = host(&headers);
    sp_call(&s, Op::CreateFeedDocument, &headers, |sh, inner, now| {
        ops::feeds::create_feed_document(sh, inner, now, &host, &body)
    })
    .await
}

async fn create_feed(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    sp_call(&s, Op::CreateFeed, &headers, |sh, inner, now| {
        ops::feeds::create_feed(sh, inner, now, &body)
    })
    .await
}

async fn get_feed(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(feed_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetFeed, &headers, |sh, inner, now| {
        ops::feeds::get_feed(sh, inner, now, &feed_id, &query)
    })
    .await
}

async fn cancel_feed(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(feed_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::CancelFeed, &headers, |sh, inner, now| {
        ops::feeds::cancel_feed(sh, inner, now, &feed_id, &query)
    })
    .await
}

async fn get_feeds(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetFeeds, &headers, |sh, inner, now| {
        ops::feeds::get_feeds(sh, inner, now, &query)
    })
    .await
}

async fn get_feed_document(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(document_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let host = host(&headers);
    let query = Query::parse(q.as_deref());
    sp_call(&s, Op::GetFeedDocument, &headers, |sh, inner, now| {
        ops::feeds::get_feed_document(sh, inner, now, &host, &document_id, &query)
    })
    .await
}

async fn not_found(State(s): State<Arc<Shared>>) -> Response {
    let now = s.clock.now();
    let request_id = request_id(&mut s.lock().rng);
    json_response(
        404,
        &error_body("NotFound", "The requested resource was not found.", ""),
        &request_id,
        now,
        None,
    )
}

pub(crate) fn request_id(rng: &mut impl Rng) -> String {
    let b: [u8; 16] = rng.random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}

fn json_response(
    status: u16,
    body: &Value,
    request_id: &str,
    now: DateTime<Utc>,
    rate_limit: Option<String>,
) -> Response {
    // A `null` body is an answer without content (cancelFeed's 200 has no schema).
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        text,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(now)) {
        h.insert(header::DATE, v);
    }
    if let Some(rate) = rate_limit.and_then(|r| HeaderValue::from_str(&r).ok()) {
        h.insert("x-amzn-RateLimit-Limit", rate);
    }
    resp
}

/// The pipeline of every SP-API operation: access token, injected faults, usage plan, handler.
async fn sp_call<F>(shared: &Arc<Shared>, op: Op, headers: &HeaderMap, handler: F) -> Response
where
    F: FnOnce(&Shared, &mut Inner, DateTime<Utc>) -> Outcome,
{
    let (mut resp, picked) = answer(shared, op, headers, handler);
    if let Some(p) = picked {
        if p.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(p.latency_ms)).await;
        }
        if p.drop_connection {
            resp.extensions_mut().insert(FaultMark::Drop);
        } else if p.cut_body {
            resp.extensions_mut().insert(FaultMark::Cut);
        }
    }
    resp
}

fn answer<F>(shared: &Shared, op: Op, headers: &HeaderMap, handler: F) -> (Response, Option<Picked>)
where
    F: FnOnce(&Shared, &mut Inner, DateTime<Utc>) -> Outcome,
{
    let now = shared.clock.now();
    let sim_secs = shared.clock.sim_secs();
    let mut inner = shared.lock();
    let request_id = request_id(&mut inner.rng);
    inner.stats.entry(op).or_default().calls += 1;

    let (status, body, picked) = 'answer: {
        let token = match auth::check(&inner, headers, now) {
            Ok(token) => token,
            Err(denied) => {
                let message = match denied {
                    Denied::Expired => "The access token you provided has expired.",
                    Denied::Missing | Denied::Unknown => "Access to requested resource is denied.",
                };
                break 'answer (403, error_body("Unauthorized", message, ""), None);
            }
        };
        let picked = inner.faults.pick(op.name());
        if picked.any() {
            inner.stats.entry(op).or_default().faults_injected += 1;
            for kind in picked.kinds() {
                *inner
                    .fault_counts
                    .entry(kind.name().to_owned())
                    .or_default() += 1;
            }
        }
        if picked.expire_token {
            if let Some(t) = inner.access_tokens.get_mut(&token) {
                t.revoked = true;
            }
            let body = error_body(
                "Unauthorized",
                "The access token you provided has expired.",
                "",
            );
            break 'answer (403, body, Some(picked));
        }
        let took = !picked.throttle && inner.buckets.get_mut(&op).is_some_and(|b| b.take(sim_secs));
        if !took {
            let body = error_body(
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
                "",
            );
            break 'answer (429, body, Some(picked));
        }
        match picked.error {
            Some(500) => {
                let body = error_body(
                    "InternalFailure",
                    "We encountered an internal error. Please try again.",
                    "",
                );
                break 'answer (500, body, Some(picked));
            }
            Some(_) => {
                let body = error_body(
                    "ServiceUnavailable",
                    "Service temporarily unavailable. Please try again.",
                    "",
                );
                break 'answer (503, body, Some(picked));
            }
            None => {}
        }
        match handler(shared, &mut inner, now) {
            Ok((status, mut body)) => {
                if picked.malformed {
                    malform(&mut body);
                }
                (status, body, Some(picked))
            }
            Err(e) => (e.status, e.body(), Some(picked)),
        }
    };

    let stats = inner.stats.entry(op).or_default();
    match status {
        200..=299 => stats.ok += 1,
        403 => stats.unauthorized += 1,
        429 => stats.throttled += 1,
        400..=499 => stats.client_errors += 1,
        _ => stats.server_errors += 1,
    }
    let rate = inner.buckets.get(&op).map(|b| b.rate).unwrap_or_default();
    drop(inner);

    let rate_limit = shared
        .models
        .ops
        .get(&op)
        .is_some_and(|m| m.rate_limit_codes.contains(&status))
        .then(|| limits::header_value(rate * shared.clock.scale()));
    (
        json_response(status, &body, &request_id, now, rate_limit),
        picked,
    )
}

/// Breaks the model in a well-formed listing page: the last order (inventory summary,
/// transaction, listings item, feed of a getFeeds page) loses its last-update (posted,
/// created) time and its id (seller SKU, feedId) becomes a number. Other bodies get a number where an object was (a listings item or a
/// submission: its `sku`).
fn malform(body: &mut Value) {
    let path = [
        "/payload/Orders",
        "/payload/inventorySummaries",
        "/payload/transactions",
        "/items",
        "/feeds",
    ]
    .into_iter()
    .find(|p| body.pointer(p).is_some())
    .unwrap_or("/orders");
    let orders = body.pointer_mut(path).and_then(Value::as_array_mut);
    if let Some(last) = orders
        .and_then(|o| o.last_mut())
        .and_then(Value::as_object_mut)
    {
        for field in [
            "LastUpdateDate",
            "lastUpdatedTime",
            "postedDate",
            "createdTime",
        ] {
            last.remove(field);
        }
        if let Some(summary) = last
            .get_mut("summaries")
            .and_then(Value::as_array_mut)
            .and_then(|s| s.first_mut())
            .and_then(Value::as_object_mut)
        {
            summary.remove("lastUpdatedDate");
        }
        for field in [
            "AmazonOrderId",
            "orderId",
            "sellerSku",
            "transactionId",
            "sku",
            "feedId",
        ] {
            if last.contains_key(field) {
                last.insert(field.to_owned(), Value::from(12345));
            }
        }
        return;
    }
    if let Some(payload) = body.get_mut("payload") {
        *payload = Value::from(42);
    } else if let Some(sku) = body.get_mut("sku") {
        // A listings item or a submission response.
        *sku = Value::from(12345);
    }
}

/// A body that sends the first half of its bytes, waits so they reach the wire, then fails
/// (which makes hyper close the connection mid-body).
struct CutBody {
    first: Option<Bytes>,
    wait: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for CutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        match self.wait.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "spapi-sim fault: body cut off",
            )))),
        }
    }
}

#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("spapi-sim fault: connection dropped")
    }
}

impl std::error::Error for DroppedConnection {}

async fn cut(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, v);
    }
    let body = CutBody {
        first: Some(half),
        wait: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50))),
    };
    Response::from_parts(parts, Body::new(body))
}

/// Accepts connections until `shutdown`; each connection is served by hyper so a handler can
/// ask for it to be dropped without a response.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let app = router(shared);
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let app = app.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let app = app.clone();
                async move {
                    let resp = match app.oneshot(req.map(Body::new)).await {
                        Ok(resp) => resp,
                        Err(never) => match never {},
                    };
                    match resp.extensions().get::<FaultMark>() {
                        Some(FaultMark::Drop) => Err(DroppedConnection),
                        Some(FaultMark::Cut) => Ok(cut(resp).await),
                        None => Ok(resp),
                    }
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
}
