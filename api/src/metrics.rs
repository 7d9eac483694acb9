//! `GET /metrics`: Prometheus text for the operator.
//!
//! Request counters live in this process; sync figures are read from `sync_runs`
//! at scrape time, so they include runs of the worker and survive restarts.

use crate::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use entity::enums::SyncStatus;
use entity::sync_runs;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of this process.
#[derive(Default)]
pub struct Counters {
    requests: AtomicU64,
    server_errors: AtomicU64,
    client_errors: AtomicU64,
}

/// Shared counters.
pub type SharedCounters = Arc<Counters>;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Counts every request and its outcome.
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    state.counters.requests.fetch_add(1, Ordering::Relaxed);
    if response.status().is_server_error() {
        state.counters.server_errors.fetch_add(1, Ordering::Relaxed);
    } else if response.status().is_client_error() {
        state.counters.client_errors.fetch_add(1, Ordering::Relaxed);
    }
    response
}

async fn metrics(State(state): State<AppState>) -> Response {
    match render(&state).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot read sync_runs");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn render(state: &AppState) -> Result<String, sea_orm::DbErr> {
    let c = &state.counters;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
    metric(
        "http_requests_total",
        "counter",
        "HTTP requests served by this process.",
        &[(String::new(), load(&c.requests))],
    );
    metric(
        "http_responses_errors_total",
        "counter",
        "HTTP responses with a 4xx or 5xx status.",
        &[
            ("{class=\"4xx\"}".to_owned(), load(&c.client_errors)),
            ("{class=\"5xx\"}".to_owned(), load(&c.server_errors)),
        ],
    );

    let runs = sync_runs::Entity::find()
        .filter(sync_runs::Column::DryRun.eq(false))
        .order_by_asc(sync_runs::Column::Id)
        .all(&state.db)
        .await?;
    let mut by_status: BTreeMap<&str, f64> = ["running", "succeeded", "failed", "interrupted"]
        .into_iter()
        .map(|s| (s, 0.0))
        .collect();
    let mut calls: BTreeMap<String, f64> = BTreeMap::new();
    let mut throttled: BTreeMap<String, f64> = BTreeMap::new();
    let mut upserted = 0.0;
    let mut last_success = None;
    for r in &runs {
        *by_status.entry(r.status.as_str()).or_default() += 1.0;
        upserted += (r.orders_inserted + r.orders_updated) as f64;
        if r.status == SyncStatus::Succeeded {
            last_success = r.finished_at.max(last_success);
        }
        if let Some(meta) = service::sync::RunMetadata::of(r) {
            for (from, into) in [
                (meta.calls_by_operation, &mut calls),
                (meta.throttled_by_operation, &mut throttled),
            ] {
                for (op, n) in from {
                    *into.entry(op).or_default() += n as f64;
                }
            }
        }
    }
    let labelled = |m: BTreeMap<String, f64>, key: &str| -> Vec<(String, f64)> {
        m.into_iter()
            .map(|(k, v)| (format!("{{{key}=\"{k}\"}}"), v))
            .collect()
    };
    metric(
        "orders_sync_runs_total",
        "counter",
        "Orders sync runs (dry runs excluded) by how they ended.",
        &by_status
            .into_iter()
            .map(|(k, v)| (format!("{{status=\"{k}\"}}"), v))
            .collect::<Vec<_>>(),
    );
    metric(
        "orders_upserted_total",
        "counter",
        "Orders inserted or updated by syncs.",
        &[(String::new(), upserted)],
    );
    metric(
        "spapi_calls_total",
        "counter",
        "SP-API requests by operation (retries included).",
        &labelled(calls, "operation"),
    );
    metric(
        "spapi_throttled_total",
        "counter",
        "SP-API 429 answers by operation.",
        &labelled(throttled, "operation"),
    );
    if let Some(t) = last_success {
        metric(
            "orders_sync_seconds_since_success",
            "gauge",
            "Seconds since the last successful orders sync ended.",
            &[(
                String::new(),
                (Utc::now() - t).num_milliseconds() as f64 / 1000.0,
            )],
        );
    }
    Ok(out)
}
