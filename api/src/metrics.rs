//! `GET /metrics`: Prometheus text for the operator, behind a bearer token.
//!
//! The scraper sends `Authorization: Bearer <METRICS_TOKEN>`; without the token the
//! answer is 401, and with no `METRICS_TOKEN` configured `/metrics` is off (404).
//!
//! Request counters live in this process. Sync figures come from `sync_runs`, which
//! the worker (another process) writes too, so they cannot be in-process counters
//! of this one; instead this process folds each finished run into running totals
//! once: at its first scrape the whole history in pages of [`RUNS_PAGE`], then at
//! each scrape only the runs after the oldest one it has not folded (new runs, and
//! any still running), an indexed range on the primary key. A scrape no longer
//! reads, and parses the metadata of, every row. The totals restart with the
//! process, as Prometheus counters may.

use crate::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use entity::enums::{SyncKind, SyncStatus};
use entity::sync_runs;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use secrecy::{ExposeSecret as _, SecretString};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many runs one query of a refresh reads.
pub const RUNS_PAGE: u64 = 500;

/// Counters of this process.
#[derive(Default)]
pub struct Counters {
    requests: AtomicU64,
    server_errors: AtomicU64,
    client_errors: AtomicU64,
    /// Scrapes wait for each other: one refresh at a time.
    sync: tokio::sync::Mutex<SyncTotals>,
    /// The token `/metrics` requires (`METRICS_TOKEN`); none: `/metrics` is off.
    token: Option<SecretString>,
}

impl Counters {
    /// Counters for a process whose `/metrics` requires `token`.
    #[must_use]
    pub fn new(token: Option<SecretString>) -> Self {
        Self {
            token,
            ..Self::default()
        }
    }
}

/// The finished, non-dry runs folded so far.
#[derive(Default)]
struct SyncTotals {
    /// Every run up to this id is folded (or is a dry run).
    folded_through: i64,
    /// Runs above `folded_through` folded already (an older one was still running).
    folded_above: BTreeSet<i64>,
    by_status: BTreeMap<&'static str, f64>,
    upserted: f64,
    calls: BTreeMap<String, f64>,
    throttled: BTreeMap<String, f64>,
    last_success: Option<DateTime<Utc>>,
}

impl SyncTotals {
    fn fold(&mut self, r: &sync_runs::Model) {
        // The `orders_*` series are the orders sync's; every run's calls count.
        if r.kind == SyncKind::Orders {
            *self.by_status.entry(r.status.as_str()).or_default() += 1.0;
            self.upserted += (r.inserted + r.updated) as f64;
            if r.status == SyncStatus::Succeeded {
                self.last_success = r.finished_at.max(self.last_success);
            }
        }
        if let Some(meta) = service::sync::RunMetadata::of(r) {
            for (from, into) in [
                (meta.calls_by_operation, &mut self.calls),
                (meta.throttled_by_operation, &mut self.throttled),
            ] {
                for (op, n) in from {
                    *into.entry(op).or_default() += n as f64;
                }
            }
        }
    }

    /// Folds the runs that finished since the last refresh; returns how many runs
    /// are running now.
    async fn refresh(&mut self, db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
        let mut after = self.folded_through;
        let mut contiguous = true;
        let mut running = 0;
        loop {
            let rows = sync_runs::Entity::find()
                .filter(sync_runs::Column::DryRun.eq(false))
                .filter(sync_runs::Column::Id.gt(after))
                .order_by_asc(sync_runs::Column::Id)
                .limit(RUNS_PAGE)
                .all(db)
                .await?;
            let full = rows.len() as u64 == RUNS_PAGE;
            for r in &rows {
                after = r.id;
                if r.status == SyncStatus::Running {
                    running += 1;
                    contiguous = false;
                    continue;
                }
                if !self.folded_above.contains(&r.id) {
                    self.fold(r);
                    self.folded_above.insert(r.id);
                }
                if contiguous {
                    self.folded_through = r.id;
                    self.folded_above.remove(&r.id);
                }
            }
            if !full {
                return Ok(running);
            }
        }
    }
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

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.counters.token else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are off: set METRICS_TOKEN and scrape with `Authorization: Bearer <METRICS_TOKEN>`\n",
        )
            .into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if !given.is_some_and(|t| same_secret(t.as_bytes(), token.expose_secret().as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "send `Authorization: Bearer <METRICS_TOKEN>`\n",
        )
            .into_response();
    }
    match render(&state).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot read sync_runs");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// Compares in time independent of where the inputs differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn render(state: &AppState) -> Result<String, sea_orm::DbErr> {
    let c = &state.counters;
    let mut totals = c.sync.lock().await;
    let running = totals.refresh(&state.db).await?;
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

    let mut by_status: BTreeMap<&str, f64> = ["running", "succeeded", "failed", "interrupted"]
        .into_iter()
        .map(|s| (s, 0.0))
        .collect();
    by_status.extend(totals.by_status.iter().map(|(k, v)| (*k, *v)));
    by_status.insert("running", running as f64);
    let labelled = |m: &BTreeMap<String, f64>, key: &str| -> Vec<(String, f64)> {
        m.iter()
            .map(|(k, v)| (format!("{{{key}=\"{k}\"}}"), *v))
            .collect()
    };
    metric(
        "orders_sync_runs_total",
        "counter",
        "Orders sync runs (dry runs excluded) by how they ended; `running`: running now.",
        &by_status
            .into_iter()
            .map(|(k, v)| (format!("{{status=\"{k}\"}}"), v))
            .collect::<Vec<_>>(),
    );
    metric(
        "orders_upserted_total",
        "counter",
        "Orders inserted or updated by finished syncs.",
        &[(String::new(), totals.upserted)],
    );
    metric(
        "spapi_calls_total",
        "counter",
        "SP-API requests of finished syncs by operation (retries included).",
        &labelled(&totals.calls, "operation"),
    );
    metric(
        "spapi_throttled_total",
        "counter",
        "SP-API 429 answers of finished syncs by operation.",
        &labelled(&totals.throttled, "operation"),
    );
    if let Some(t) = totals.last_success {
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

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn only_the_same_bytes_are_the_same_secret() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
