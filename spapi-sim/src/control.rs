//! The control API under `/_sim/` (never on SP-API paths): ground truth, order and inventory
//! changes, faults, stats and reset. No access token needed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::SimError;
use crate::clock::iso;
use crate::data::OrderStatus;
use crate::faults::Faults;
use crate::inventory::{SimInventory, StockError};
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
        .route("/inventory/receive", post(receive))
        .route("/inventory/damage", post(damage))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/reset", post(reset))
}

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
