//! The simulated Amazon clock: it starts at the local clock plus an offset and runs
//! `time_scale` times faster than real time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::{DateTime, SubsecRound, Utc};

/// Maps real (monotonic) time onto the simulated Amazon clock.
#[derive(Debug, Clone)]
pub struct SimClock {
    started: Instant,
    sim_start: DateTime<Utc>,
    scale: f64,
    /// Simulated milliseconds jumped forward ([`SimClock::advance`]), shared by clones.
    jumped_ms: Arc<AtomicI64>,
}

impl SimClock {
    pub fn new(offset: chrono::Duration, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Self {
            started: Instant::now(),
            sim_start: Utc::now() + offset,
            scale,
            jumped_ms: Arc::new(AtomicI64::new(0)),
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Simulated time now, with millisecond precision.
    pub fn now(&self) -> DateTime<Utc> {
        let real = self.started.elapsed().as_secs_f64();
        let sim_ms = (real * self.scale * 1000.0) as i64 + self.jumped_ms.load(Ordering::Relaxed);
        (self.sim_start + chrono::Duration::milliseconds(sim_ms)).trunc_subsecs(3)
    }

    /// Simulated seconds elapsed since the clock started (for token buckets).
    pub fn sim_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * self.scale
            + self.jumped_ms.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Jumps the clock forward by `by` (never back): as if that much time had passed at
    /// once, for tests of what happens days later.
    pub fn advance(&self, by: chrono::Duration) {
        let ms = by.num_milliseconds().max(0);
        self.jumped_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// Amazon's wire format for date-times: ISO 8601 at second precision in UTC (`2017-01-20T19:49:35Z`).
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 7231 `Date` header value.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
