//! How much of Amazon's quota an operation has left, estimated from the calls our own
//! runs recorded in `sync_runs.metadata`. The worker checks it before a scheduled
//! run, so it skips a run Amazon would throttle instead of queueing behind the bucket.
//!
//! Amazon's bucket is per seller and application, so every run counts, whoever
//! started it (the worker, the api, `worker sync`). The estimate is conservative: a
//! run's calls are counted at its end, when the bucket had the least time to refill.

use crate::spapi::Operation;
use chrono::{DateTime, Utc};
use entity::sync_runs;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use std::time::Duration;

/// The estimated state of one operation's token bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// The operation.
    pub operation: Operation,
    /// Tokens (requests) available now, between 0 and `burst`.
    pub tokens: f64,
    /// The bucket's size.
    pub burst: u32,
    /// Tokens added per second: the last rate Amazon reported, else the usage plan.
    pub rate: f64,
}

impl Budget {
    /// Whether `calls` requests can be sent now without waiting for Amazon's bucket.
    #[must_use]
    pub fn allows(&self, calls: f64) -> bool {
        self.tokens + 1e-9 >= calls
    }

    /// How long until `calls` requests can be sent without waiting.
    #[must_use]
    pub fn time_until(&self, calls: f64) -> Duration {
        let missing = (calls - self.tokens).max(0.0);
        if self.rate <= 0.0 {
            return Duration::MAX;
        }
        Duration::from_secs_f64(missing / self.rate)
    }
}

/// A finished run's calls of one operation, for [`replay`].
#[derive(Debug, Clone, Copy)]
pub struct Spent {
    /// When the run ended.
    pub at: DateTime<Utc>,
    /// Requests it sent (retries included).
    pub calls: f64,
}

/// The bucket after `spent` (in time order), starting full at `from`.
#[must_use]
pub fn replay(
    burst: u32,
    rate: f64,
    from: DateTime<Utc>,
    spent: &[Spent],
    now: DateTime<Utc>,
) -> f64 {
    let full = f64::from(burst);
    let refill = |tokens: f64, a: DateTime<Utc>, b: DateTime<Utc>| {
        let secs = (b - a).num_milliseconds().max(0) as f64 / 1000.0;
        (tokens + rate * secs).min(full)
    };
    let mut tokens = full;
    let mut t = from;
    for s in spent.iter().filter(|s| s.at > from && s.at <= now) {
        tokens = (refill(tokens, t, s.at) - s.calls).max(0.0);
        t = s.at;
    }
    refill(tokens, t, now)
}

/// How far back runs matter to `op`: its bucket refills completely in `burst / rate`.
fn horizon(op: Operation) -> chrono::Duration {
    let (plan_rate, burst) = op.usage_plan();
    chrono::Duration::milliseconds((f64::from(burst) / plan_rate * 1000.0) as i64)
}

/// Estimates `op`'s bucket at `now` from the runs that ended recently enough to matter.
///
/// # Errors
/// When the database cannot be read.
pub async fn estimate(
    db: &DatabaseConnection,
    op: Operation,
    now: DateTime<Utc>,
) -> Result<Budget, DbErr> {
    let mut all = estimate_all(db, &[op], now).await?;
    Ok(all.remove(0))
}

/// [`estimate`] for several operations, reading the recent runs once.
///
/// # Errors
/// When the database cannot be read.
pub async fn estimate_all(
    db: &DatabaseConnection,
    ops: &[Operation],
    now: DateTime<Utc>,
) -> Result<Vec<Budget>, DbErr> {
    let Some(longest) = ops.iter().copied().map(horizon).max() else {
        return Ok(Vec::new());
    };
    let runs = sync_runs::Entity::find()
        .filter(sync_runs::Column::FinishedAt.gt(now - longest))
        .order_by_asc(sync_runs::Column::FinishedAt)
        .all(db)
        .await?;
    Ok(ops.iter().map(|op| from_runs(*op, &runs, now)).collect())
}

/// `op`'s bucket at `now` after `runs` (in order of their end).
fn from_runs(op: Operation, runs: &[sync_runs::Model], now: DateTime<Utc>) -> Budget {
    let (plan_rate, burst) = op.usage_plan();
    let from = now - horizon(op);
    let mut rate = plan_rate;
    let mut spent = Vec::with_capacity(runs.len());
    for run in runs {
        let (Some(at), Some(meta)) = (run.finished_at, super::RunMetadata::of(run)) else {
            continue;
        };
        if at <= from {
            continue;
        }
        #[expect(
            clippy::cast_precision_loss,
            reason = "a run makes far fewer than 2^52 calls"
        )]
        let calls = meta.calls(op.name()) as f64;
        if let Some(r) = meta
            .rates_by_operation
            .get(op.name())
            .copied()
            .filter(|r| r.is_finite() && *r > 0.0)
        {
            rate = r;
        }
        if calls > 0.0 {
            spent.push(Spent { at, calls });
        }
    }
    Budget {
        operation: op,
        tokens: replay(burst, rate, from, &spent, now),
        burst,
        rate,
    }
}

/// Starts a new client where the last runs left Amazon's buckets: at the rates Amazon
/// reported to them, and with the tokens they left, so its first calls are not 429s a
/// fresh full bucket would have provoked.
///
/// # Errors
/// When the database cannot be read.
pub async fn seed(
    db: &DatabaseConnection,
    config: &mut crate::spapi::ClientConfig,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    // The listings search too: the push reads the listings right after a sync did.
    let ops = [
        Operation::SearchOrders,
        Operation::GetOrders,
        Operation::GetOrderItems,
        Operation::SearchListingsItems,
    ];
    for b in estimate_all(db, &ops, now).await? {
        let (plan_rate, _) = b.operation.usage_plan();
        if (b.rate - plan_rate).abs() > f64::EPSILON {
            config
                .rate_overrides
                .entry(b.operation)
                .or_insert((b.rate, b.burst));
        }
        if b.tokens < f64::from(b.burst) {
            config.start_tokens.insert(b.operation, b.tokens);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap_or_default()
    }

    #[test]
    fn a_quiet_bucket_is_full() {
        assert!((replay(20, 0.0056, t(0), &[], t(10)) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn calls_empty_the_bucket_and_time_refills_it_at_the_rate() {
        let spent = [Spent {
            at: t(100),
            calls: 20.0,
        }];
        assert!(replay(20, 0.01, t(0), &spent, t(100)) < 1e-9);
        // 50 s at 0.01/s is half a token.
        assert!((replay(20, 0.01, t(0), &spent, t(150)) - 0.5).abs() < 1e-9);
        // Never more than the burst.
        assert!((replay(20, 0.01, t(0), &spent, t(100_000)) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_bucket_never_goes_below_empty() {
        let spent = [
            Spent {
                at: t(10),
                calls: 35.0,
            },
            Spent {
                at: t(20),
                calls: 1.0,
            },
        ];
        assert!((replay(20, 0.1, t(0), &spent, t(30)) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_budget_says_how_long_until_a_call_fits() {
        let b = Budget {
            operation: Operation::SearchOrders,
            tokens: 0.5,
            burst: 20,
            rate: 0.01,
        };
        assert!(!b.allows(1.0));
        assert_eq!(b.time_until(1.0), Duration::from_secs(50));
        assert!(b.allows(0.5));
    }
}
