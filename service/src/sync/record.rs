//! What a finished run records about itself in `sync_runs.metadata`: one serde type,
//! written by the runner and read back by every reader (the quota estimate, the
//! monitor's alerts, `/metrics`), so renaming a field is a compile error rather than
//! an alert that silently stops firing.
//!
//! Every field has a default: rows written by older versions, and rows without
//! metadata (runs that never finished), read as far as they go.

use chrono::{DateTime, Utc};
use entity::sync_runs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What ended a failed run, in the terms a caller acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Amazon refused the credentials or the app's access: re-authorize.
    AmazonAuth,
    /// Amazon was unavailable, kept throttling or answered nonsense: try later.
    AmazonUnavailable,
    /// Anything else (database, lease, a guard against looping).
    Other,
}

/// The metadata of a run: its calls to Amazon, how it waited, and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunMetadata {
    /// SP-API requests by operation name (retries included).
    pub calls_by_operation: BTreeMap<String, u64>,
    /// 429 answers by operation name.
    pub throttled_by_operation: BTreeMap<String, u64>,
    /// Requests repeated after a 429, 5xx, timeout or broken response.
    pub retries: u64,
    /// Milliseconds spent waiting for a rate-limit token.
    pub limiter_wait_ms: u64,
    /// Milliseconds spent in back-off after failures.
    pub backoff_wait_ms: u64,
    /// LWA token exchanges.
    pub token_refreshes: u64,
    /// Requests per second the client assumed at the end, by operation.
    pub rates_by_operation: BTreeMap<String, f64>,
    /// Windows in the run.
    pub windows: u64,
    /// Windows committed.
    pub windows_committed: u64,
    /// What ended it, if it failed.
    pub failure: Option<Failure>,
    /// Where it started instead of the watermark, if asked to.
    pub since: Option<DateTime<Utc>>,
    /// How an inventory run read Amazon: `full`, `incremental` or `skus`.
    pub scan: Option<String>,
    /// Rows a full scan no longer found and marked gone.
    pub marked_gone: u64,
    /// Scans started again because a page token expired.
    pub restarts: u64,
    /// What a person should know about the run (e.g. no FBA inventory).
    pub notes: Vec<String>,
}

impl RunMetadata {
    /// The metadata a run recorded, or `None` when it recorded none (it has not
    /// ended) or none this version can read (logged).
    #[must_use]
    pub fn of(run: &sync_runs::Model) -> Option<Self> {
        let value = run.metadata.as_ref()?;
        match serde_json::from_value(value.clone()) {
            Ok(meta) => Some(meta),
            Err(e) => {
                tracing::warn!(run_id = run.id, error = %e, "sync run metadata cannot be read; ignoring it");
                None
            }
        }
    }

    /// As stored in `sync_runs.metadata`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Calls made to `operation`.
    #[must_use]
    pub fn calls(&self, operation: &str) -> u64 {
        self.calls_by_operation.get(operation).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_reads_back_what_it_wrote_and_old_rows_read_as_far_as_they_go() {
        let meta = RunMetadata {
            calls_by_operation: BTreeMap::from([("searchOrders".to_owned(), 3)]),
            failure: Some(Failure::AmazonAuth),
            since: DateTime::from_timestamp(1_800_000_000, 0),
            ..RunMetadata::default()
        };
        let json = meta.to_json();
        assert_eq!(json["calls_by_operation"]["searchOrders"], 3);
        assert_eq!(
            serde_json::from_value::<RunMetadata>(json).unwrap_or_default(),
            meta
        );

        let old: RunMetadata =
            serde_json::from_value(serde_json::json!({ "retries": 2, "waits_ms": [100, 200] }))
                .unwrap_or_default();
        assert_eq!(old.retries, 2);
        assert_eq!(old.failure, None);
    }
}
