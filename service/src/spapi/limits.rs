//! Rate limiting before the call: one token bucket per operation, seeded from the
//! usage plan in the API models and corrected from `x-amzn-RateLimit-Limit`.
//!
//! The buckets are governor's GCRA limiters. When Amazon reports a different rate,
//! the bucket is rebuilt at the new rate keeping the tokens it had, so a correction
//! neither grants a fresh burst nor throws one away.

use super::Operation;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Fraction of Amazon's reported rate left unused, so that jitter between its
/// bucket's clock and ours never costs a 429.
const SAFETY_MARGIN: f64 = 0.01;

struct Bucket {
    rate: f64,
    burst: u32,
    limiter: Arc<DefaultDirectRateLimiter>,
}

/// The buckets of every operation.
pub struct Limits {
    buckets: HashMap<Operation, Mutex<Bucket>>,
}

fn quota(rate: f64, burst: u32) -> Quota {
    let period = Duration::from_secs_f64(1.0 / rate.max(1e-6));
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Limits {
    /// Buckets at the models' usage plans, with per-operation overrides (rate, burst),
    /// full unless `start_tokens` says how many tokens an operation's bucket has left.
    #[must_use]
    pub fn new(
        overrides: &HashMap<Operation, (f64, u32)>,
        start_tokens: &HashMap<Operation, f64>,
    ) -> Self {
        let buckets = Operation::ALL
            .iter()
            .map(|op| {
                let (rate, burst) = overrides
                    .get(op)
                    .copied()
                    .unwrap_or_else(|| op.usage_plan());
                let limiter = Arc::new(RateLimiter::direct(quota(rate, burst)));
                if let Some(tokens) = start_tokens.get(op) {
                    let left = tokens.clamp(0.0, f64::from(burst)).floor() as u32;
                    if let Some(spent) = NonZeroU32::new(burst.saturating_sub(left)) {
                        let _ = limiter.check_n(spent);
                    }
                }
                (
                    *op,
                    Mutex::new(Bucket {
                        rate,
                        burst,
                        limiter,
                    }),
                )
            })
            .collect();
        Self { buckets }
    }

    fn limiter(&self, op: Operation) -> Option<Arc<DefaultDirectRateLimiter>> {
        self.buckets
            .get(&op)
            .map(|b| Arc::clone(&b.lock().unwrap_or_else(PoisonError::into_inner).limiter))
    }

    /// Waits until the operation's bucket has a token and takes it; returns the wait.
    pub async fn acquire(&self, op: Operation) -> Duration {
        let started = Instant::now();
        if let Some(limiter) = self.limiter(op) {
            limiter.until_ready().await;
        }
        started.elapsed()
    }

    /// The rate currently assumed for an operation (requests per second).
    #[must_use]
    pub fn rate(&self, op: Operation) -> f64 {
        self.buckets.get(&op).map_or(0.0, |b| {
            b.lock().unwrap_or_else(PoisonError::into_inner).rate
        })
    }

    /// Adopts the rate Amazon reported for the operation (less a 1 % safety margin
    /// for clock jitter between its bucket and ours), if it differs by more than 1 %.
    pub fn correct_rate(&self, op: Operation, reported: f64) {
        if !(reported.is_finite() && reported > 0.0) {
            return;
        }
        let reported = reported * (1.0 - SAFETY_MARGIN);
        let Some(bucket) = self.buckets.get(&op) else {
            return;
        };
        let mut b = bucket.lock().unwrap_or_else(PoisonError::into_inner);
        if ((reported - b.rate) / b.rate).abs() <= 0.01 {
            return;
        }
        // How many tokens the old bucket holds: the largest n it would grant now.
        // (Probing consumes from the old bucket only, which is discarded.)
        let available = (1..=b.burst)
            .rev()
            .find(|n| {
                NonZeroU32::new(*n).is_some_and(|n| matches!(b.limiter.check_n(n), Ok(Ok(()))))
            })
            .unwrap_or(0);
        let fresh = RateLimiter::direct(quota(reported, b.burst));
        if let Some(spent) = NonZeroU32::new(b.burst - available) {
            let _ = fresh.check_n(spent);
        }
        tracing::debug!(
            operation = op.name(),
            from = b.rate,
            to = reported,
            "SP-API rate corrected"
        );
        b.rate = reported;
        b.limiter = Arc::new(fresh);
    }

    /// Lowers the operation's bucket to at most `tokens`, at `rate` when one is given
    /// (else its own): a long-lived client learns this way what other processes'
    /// runs spent of Amazon's bucket, and the rate they were told, since it last
    /// called. A bucket already lower is left as low.
    pub fn align(&self, op: Operation, rate: Option<f64>, tokens: f64) {
        let Some(bucket) = self.buckets.get(&op) else {
            return;
        };
        let mut b = bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let target = tokens.clamp(0.0, f64::from(b.burst)).floor() as u32;
        // Probing consumes from the old bucket only, which is then replaced.
        let available = (1..=b.burst)
            .rev()
            .find(|n| {
                NonZeroU32::new(*n).is_some_and(|n| matches!(b.limiter.check_n(n), Ok(Ok(()))))
            })
            .unwrap_or(0);
        if let Some(rate) = rate.filter(|r| r.is_finite() && *r > 0.0) {
            b.rate = rate;
        }
        let fresh = RateLimiter::direct(quota(b.rate, b.burst));
        if let Some(spent) = NonZeroU32::new(b.burst - available.min(target)) {
            let _ = fresh.check_n(spent);
        }
        b.limiter = Arc::new(fresh);
    }

    /// Marks the bucket empty after a 429: Amazon's bucket is evidently drier than ours.
    pub fn drain(&self, op: Operation) {
        if let Some(limiter) = self.limiter(op) {
            while matches!(limiter.check(), Ok(())) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_is_free_and_the_next_call_waits_for_the_rate() {
        let mut o = HashMap::new();
        o.insert(Operation::GetOrders, (20.0, 3));
        let limits = Limits::new(&o, &HashMap::new());
        for _ in 0..3 {
            assert!(limits.acquire(Operation::GetOrders).await < Duration::from_millis(20));
        }
        let waited = limits.acquire(Operation::GetOrders).await;
        assert!(waited >= Duration::from_millis(30), "waited {waited:?}");
    }

    #[tokio::test]
    async fn a_rate_correction_keeps_the_tokens_left() {
        let mut o = HashMap::new();
        o.insert(Operation::SearchOrders, (0.001, 5));
        let limits = Limits::new(&o, &HashMap::new());
        for _ in 0..3 {
            limits.acquire(Operation::SearchOrders).await;
        }
        limits.correct_rate(Operation::SearchOrders, 0.002);
        assert!((limits.rate(Operation::SearchOrders) - 0.002 * 0.99).abs() < 1e-9);
        // Two tokens were left: two free calls, and the third would wait ~500 s.
        for _ in 0..2 {
            assert!(limits.acquire(Operation::SearchOrders).await < Duration::from_millis(20));
        }
        let third = tokio::time::timeout(
            Duration::from_millis(100),
            limits.acquire(Operation::SearchOrders),
        )
        .await;
        assert!(third.is_err(), "a correction must not grant a fresh burst");
    }

    #[tokio::test]
    async fn draining_after_a_429_makes_the_next_call_wait() {
        let mut o = HashMap::new();
        o.insert(Operation::GetOrderItems, (0.001, 30));
        let limits = Limits::new(&o, &HashMap::new());
        limits.drain(Operation::GetOrderItems);
        let next = tokio::time::timeout(
            Duration::from_millis(100),
            limits.acquire(Operation::GetOrderItems),
        )
        .await;
        assert!(next.is_err());
    }

    #[tokio::test]
    async fn a_bucket_lowered_to_what_others_left_never_rises() {
        let mut o = HashMap::new();
        o.insert(Operation::SearchOrders, (0.001, 20));
        let limits = Limits::new(&o, &HashMap::new());
        limits.align(Operation::SearchOrders, None, 2.5);
        // Raising it again changes nothing: only a refill adds tokens.
        limits.align(Operation::SearchOrders, Some(0.0005), 20.0);
        assert!((limits.rate(Operation::SearchOrders) - 0.0005).abs() < 1e-12);
        for _ in 0..2 {
            assert!(limits.acquire(Operation::SearchOrders).await < Duration::from_millis(20));
        }
        let third = tokio::time::timeout(
            Duration::from_millis(100),
            limits.acquire(Operation::SearchOrders),
        )
        .await;
        assert!(third.is_err());
    }

    #[tokio::test]
    async fn a_bucket_can_start_with_what_earlier_runs_left() {
        let mut o = HashMap::new();
        o.insert(Operation::SearchOrders, (20.0, 5));
        let left = HashMap::from([(Operation::SearchOrders, 2.7)]);
        let limits = Limits::new(&o, &left);
        for _ in 0..2 {
            assert!(limits.acquire(Operation::SearchOrders).await < Duration::from_millis(20));
        }
        // The third call waits for the rate (1/20 s), as Amazon's bucket would make it.
        assert!(limits.acquire(Operation::SearchOrders).await >= Duration::from_millis(30));
    }
}
