//! The control API under `/_sim/` (never on SP-API paths): ground truth, order changes,
//! faults, stats and reset. No access token needed.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::clock::iso;
use crate::data::OrderStatus;
use crate::faults::Faults;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/ground-truth", get(ground_truth))
        .route("/now", get(now))
        .route("/orders", post(add))
        .route("/orders/{id}/advance", post(advance))
        .route("/orders/{id}/status", post(set_status))
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
            inner.orders.insert(id.clone(), o);
            id
        })
        .collect()
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
    let Some(order) = inner.orders.get_mut(&id) else {
        return unknown(&id);
    };
    let advanced = order.advance(now);
    Json(json!({"advanced": advanced, "order": order.to_public()})).into_response()
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
    let Some(order) = inner.orders.get_mut(&id) else {
        return unknown(&id);
    };
    order.set_status(status, now);
    Json(json!({"order": order.to_public()})).into_response()
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
