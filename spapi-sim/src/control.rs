//! The control API under `/_sim/` (never on SP-API paths): ground truth, order, inventory,
//! settlement and listing changes, faults, stats and reset. No access token needed.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::SimError;
use crate::clock::iso;
use crate::data::OrderStatus;
use crate::faults::Faults;
use crate::feeds::{SimFeed, UrlError};
use crate::inventory::{SimInventory, StockError};
use crate::listings::{ListingError, SimListing, SimSubmission};
use crate::state::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/ground-truth", get(ground_truth))
        .route("/now", get(now))
        .route("/orders", post(add))
        .route("/orders/{id}/advance", post(advance))
        .route("/orders/{id}/status", post(set_status))
        .route("/inventory", get(inventory))
        .route("/transactions", get(transactions))
        .route("/settlement-anomalies", get(anomalies))
        .route("/orders/{id}/withhold-settlement", post(withhold))
        .route("/orders/{id}/misprice-settlement", post(misprice))
        .route("/inventory/receive", post(receive))
        .route("/inventory/damage", post(damage))
        .route("/listings", get(listings))
        .route("/listings/submissions", get(submissions))
        .route("/listings/reprice", post(reprice_route))
        .route("/listings/never-apply", post(never_apply_route))
        .route("/feeds", get(feeds_route))
        .route(
            "/documents/{id}",
            // S3 takes large documents: a feed of 25,000 messages is about 8 MB, over
            // axum's 2 MB default.
            get(download_document)
                .put(upload_document)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_DOCUMENT_BYTES)),
        )
        .route("/documents/expire", post(expire_documents))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/reset", post(reset))
}

/// Largest document the simulated document store takes.
const MAX_DOCUMENT_BYTES: usize = 100 * 1024 * 1024;

pub(crate) fn add_orders(shared: &Shared, n: usize) -> Vec<String> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    (0..n)
        .map(|_| {
            let o = inner.generator.order_at(now);
            let id = o.id.clone();
            inner.insert_order(o, now);
            id
        })
        .collect()
}

pub(crate) fn transactions_ground_truth(shared: &Shared) -> Vec<crate::SimTransaction> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.ledger.tick(now);
    let seller = inner.ledger.seller_id.clone();
    inner
        .ledger
        .records()
        .map(|tx| tx.to_public(&seller, now))
        .collect()
}

async fn transactions(State(s): State<Arc<Shared>>) -> Response {
    Json(transactions_ground_truth(&s)).into_response()
}

pub(crate) fn withhold_settlement(shared: &Shared, order_id: &str) -> Result<(), SimError> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    if !inner.orders.contains_key(order_id) {
        return Err(SimError::UnknownOrder(order_id.to_string()));
    }
    inner.ledger.tick(now);
    inner.ledger.withhold(order_id);
    Ok(())
}

pub(crate) fn misprice_settlement(
    shared: &Shared,
    order_id: &str,
    delta_minor: i64,
) -> Result<(), SimError> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    if !inner.orders.contains_key(order_id) {
        return Err(SimError::UnknownOrder(order_id.to_string()));
    }
    let refuse = |reason: &str| {
        Err(SimError::InvalidSettlementChange {
            order_id: order_id.to_string(),
            reason: reason.to_string(),
        })
    };
    if delta_minor == 0 {
        return refuse(
            "a delta of 0 changes nothing; give a non-zero amount in the currency's minor units",
        );
    }
    if inner.ledger.is_withheld(order_id) {
        return refuse(
            "its settlement is withheld, so no Shipment will carry a principal to misprice",
        );
    }
    inner.ledger.tick(now);
    inner.ledger.misprice(order_id, delta_minor);
    Ok(())
}

pub(crate) fn settlement_anomalies(shared: &Shared) -> Vec<crate::SettlementAnomaly> {
    let inner = shared.lock();
    inner.ledger.anomalies(&inner.orders)
}

async fn anomalies(State(s): State<Arc<Shared>>) -> Response {
    Json(settlement_anomalies(&s)).into_response()
}

fn settlement_answer(result: Result<(), SimError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(SimError::UnknownOrder(id)) => unknown(&id),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn withhold(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    settlement_answer(withhold_settlement(&s, &id))
}

/// `{"delta_minor": -50}` (also `deltaMinor`).
#[derive(Deserialize)]
struct MispriceBody {
    #[serde(alias = "deltaMinor")]
    delta_minor: i64,
}

async fn misprice(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(body): Json<MispriceBody>,
) -> Response {
    settlement_answer(misprice_settlement(&s, &id, body.delta_minor))
}

pub(crate) fn inventory_ground_truth(shared: &Shared) -> Vec<SimInventory> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.inventory.tick(now);
    inner
        .inventory
        .records()
        .map(crate::inventory::StockRec::to_public)
        .collect()
}

fn stock_error(e: StockError, marketplace_id: &str, seller_sku: &str) -> SimError {
    match e {
        StockError::Unknown => SimError::UnknownInventory {
            marketplace_id: marketplace_id.to_string(),
            seller_sku: seller_sku.to_string(),
        },
        StockError::Units(message) => SimError::InvalidUnits(message),
    }
}

pub(crate) fn receive_inbound(
    shared: &Shared,
    marketplace_id: &str,
    seller_sku: &str,
    units: i64,
) -> Result<SimInventory, SimError> {
    let now = shared.clock.now();
    shared
        .lock()
        .inventory
        .receive(marketplace_id, seller_sku, units, now)
        .map_err(|e| stock_error(e, marketplace_id, seller_sku))
}

pub(crate) fn damage_units(
    shared: &Shared,
    marketplace_id: &str,
    seller_sku: &str,
    units: i64,
) -> Result<SimInventory, SimError> {
    let now = shared.clock.now();
    shared
        .lock()
        .inventory
        .damage(marketplace_id, seller_sku, units, now)
        .map_err(|e| stock_error(e, marketplace_id, seller_sku))
}

async fn ground_truth(State(s): State<Arc<Shared>>) -> Response {
    let orders: Vec<_> = s
        .lock()
        .orders
        .values()
        .map(crate::data::OrderRec::to_public)
        .collect();
    Json(orders).into_response()
}

async fn now(State(s): State<Arc<Shared>>) -> Response {
    Json(json!({"now": iso(s.clock.now()), "time_scale": s.clock.scale()})).into_response()
}

#[derive(Deserialize)]
struct AddBody {
    count: usize,
}

async fn add(State(s): State<Arc<Shared>>, Json(body): Json<AddBody>) -> Response {
    Json(json!({"added": add_orders(&s, body.count)})).into_response()
}

fn unknown(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("no order {id:?} in the simulator")})),
    )
        .into_response()
}

async fn advance(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = s.clock.now();
    let mut inner = s.lock();
    let Some(advanced) = inner.advance_order(&id, now) else {
        return unknown(&id);
    };
    let order = inner.orders.get(&id).map(crate::data::OrderRec::to_public);
    Json(json!({"advanced": advanced, "order": order})).into_response()
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn set_status(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(body): Json<StatusBody>,
) -> Response {
    let status: OrderStatus = match body.status.parse() {
        Ok(st) => st,
        Err(e) => return (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
    };
    let now = s.clock.now();
    let mut inner = s.lock();
    let Some(order) = inner.set_order_status(&id, status, now) else {
        return unknown(&id);
    };
    Json(json!({"order": order.to_public()})).into_response()
}

async fn inventory(State(s): State<Arc<Shared>>) -> Response {
    Json(inventory_ground_truth(&s)).into_response()
}

/// `{"marketplaceId": "ATVPDKIKX0DER", "sellerSku": "BTL-BLK-001", "units": 24}`
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnitsBody {
    marketplace_id: String,
    seller_sku: String,
    units: i64,
}

fn inventory_answer(result: Result<SimInventory, SimError>) -> Response {
    match result {
        Ok(summary) => Json(json!({"inventory": summary})).into_response(),
        Err(e @ SimError::UnknownInventory { .. }) => {
            (StatusCode::NOT_FOUND, Json(json!({"error": e.to_string()}))).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn receive(State(s): State<Arc<Shared>>, Json(body): Json<UnitsBody>) -> Response {
    inventory_answer(receive_inbound(
        &s,
        &body.marketplace_id,
        &body.seller_sku,
        body.units,
    ))
}

async fn damage(State(s): State<Arc<Shared>>, Json(body): Json<UnitsBody>) -> Response {
    inventory_answer(damage_units(
        &s,
        &body.marketplace_id,
        &body.seller_sku,
        body.units,
    ))
}

pub(crate) fn listings_ground_truth(shared: &Shared) -> Vec<SimListing> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.tick_listings(now);
    inner
        .listings
        .records()
        .map(crate::listings::ListingRec::to_public)
        .collect()
}

pub(crate) fn listing_submissions(shared: &Shared) -> Vec<SimSubmission> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.tick_listings(now);
    inner.listings.submissions()
}

fn listing_error(e: ListingError, marketplace_id: &str, sku: &str) -> SimError {
    match e {
        ListingError::Unknown => SimError::UnknownListing {
            marketplace_id: marketplace_id.to_string(),
            sku: sku.to_string(),
        },
        ListingError::Price(message) => SimError::InvalidPrice(message),
    }
}

pub(crate) fn reprice(
    shared: &Shared,
    marketplace_id: &str,
    sku: &str,
    amount: &str,
) -> Result<SimListing, SimError> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.tick_listings(now);
    inner
        .listings
        .reprice(marketplace_id, sku, amount, now)
        .map_err(|e| listing_error(e, marketplace_id, sku))
}

pub(crate) fn never_apply(
    shared: &Shared,
    marketplace_id: &str,
    sku: &str,
    on: bool,
) -> Result<(), SimError> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    // What fell due before now is applied first: "from now on" starts now.
    inner.tick_listings(now);
    inner
        .listings
        .set_never_apply(marketplace_id, sku, on)
        .map_err(|e| listing_error(e, marketplace_id, sku))
}

pub(crate) fn reclassify(shared: &Shared, marketplace_id: &str, sku: &str) -> Result<(), SimError> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.tick_listings(now);
    inner
        .listings
        .reclassify(marketplace_id, sku, now)
        .map_err(|e| listing_error(e, marketplace_id, sku))
}

async fn listings(State(s): State<Arc<Shared>>) -> Response {
    Json(listings_ground_truth(&s)).into_response()
}

async fn submissions(State(s): State<Arc<Shared>>) -> Response {
    Json(listing_submissions(&s)).into_response()
}

fn listing_answer<T: serde::Serialize>(result: Result<T, SimError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e @ SimError::UnknownListing { .. }) => {
            (StatusCode::NOT_FOUND, Json(json!({"error": e.to_string()}))).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

/// `{"marketplaceId": "ATVPDKIKX0DER", "sku": "BTL-BLK-001", "amount": "17.49"}`
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepriceBody {
    marketplace_id: String,
    sku: String,
    amount: String,
}

async fn reprice_route(State(s): State<Arc<Shared>>, Json(body): Json<RepriceBody>) -> Response {
    listing_answer(
        reprice(&s, &body.marketplace_id, &body.sku, &body.amount)
            .map(|listing| json!({"listing": listing})),
    )
}

/// `{"marketplaceId": "ATVPDKIKX0DER", "sku": "BTL-BLK-001", "on": true}`
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NeverApplyBody {
    marketplace_id: String,
    sku: String,
    on: bool,
}

async fn never_apply_route(
    State(s): State<Arc<Shared>>,
    Json(body): Json<NeverApplyBody>,
) -> Response {
    match never_apply(&s, &body.marketplace_id, &body.sku, body.on) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => listing_answer::<()>(Err(e)),
    }
}

async fn get_faults(State(s): State<Arc<Shared>>) -> Response {
    Json(s.lock().faults.faults.clone()).into_response()
}

async fn put_faults(State(s): State<Arc<Shared>>, Json(faults): Json<Faults>) -> Response {
    s.set_faults(faults.clone());
    Json(faults).into_response()
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    Json(s.stats()).into_response()
}

async fn reset_stats(State(s): State<Arc<Shared>>) -> Response {
    s.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

async fn reset(State(s): State<Arc<Shared>>) -> Response {
    s.reset_all();
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) fn feeds(shared: &Shared) -> Vec<SimFeed> {
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.tick_listings(now);
    inner.feeds.public()
}

async fn feeds_route(State(s): State<Arc<Shared>>) -> Response {
    Json(feeds(&s)).into_response()
}

async fn expire_documents(State(s): State<Arc<Shared>>) -> Response {
    s.lock().feeds.expire_urls();
    StatusCode::NO_CONTENT.into_response()
}

/// An S3-like XML error, as a presigned URL answers.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp
}

/// Checks a presigned URL; the error response when it is refused.
fn check_document_url(
    shared: &Shared,
    method: &str,
    id: &str,
    raw: Option<&str>,
) -> Option<Response> {
    let query = crate::query::Query::parse(raw);
    let now = shared.clock.now();
    let checked = shared.lock().feeds.check_url(
        method,
        id,
        query.get("expires"),
        query.get("gen"),
        query.get("signature"),
        now,
    );
    match checked {
        Ok(()) => None,
        Err(UrlError::Expired) => Some(s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired",
        )),
        Err(UrlError::BadSignature) => Some(s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )),
    }
}

async fn upload_document(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(resp) = check_document_url(&s, "PUT", &id, q.as_deref()) {
        return resp;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if s.lock().feeds.upload(&id, body.to_vec(), content_type) {
        StatusCode::OK.into_response()
    } else {
        s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
    }
}

async fn download_document(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(resp) = check_document_url(&s, "GET", &id, q.as_deref()) {
        return resp;
    }
    let Some((content_type, bytes)) = s.lock().feeds.download(&id) else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let mut resp = (StatusCode::OK, bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}
