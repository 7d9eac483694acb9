//! Token buckets, one per operation, refilled on the simulated clock.

/// A usage-plan bucket: `rate` tokens per simulated second up to `burst`.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub rate: f64,
    pub burst: u32,
    level: f64,
    at: f64,
}

impl Bucket {
    pub fn new(rate: f64, burst: u32, now: f64) -> Self {
        Self {
            rate,
            burst,
            level: f64::from(burst),
            at: now,
        }
    }

    fn refill(&mut self, now: f64) {
        if now > self.at {
            self.level = (self.level + (now - self.at) * self.rate).min(f64::from(self.burst));
            self.at = now;
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: f64) -> bool {
        self.refill(now);
        if self.level >= 1.0 {
            self.level -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn level(&mut self, now: f64) -> f64 {
        self.refill(now);
        self.level
    }
}

/// `x-amzn-RateLimit-Limit` value: the rate as Amazon writes it (`0.0167`), in requests per
/// real second (the simulated rate times the time scale).
pub fn header_value(rate: f64) -> String {
    let s = format!("{rate:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_starts_full_and_refills_at_its_rate() {
        let mut b = Bucket::new(0.5, 2, 0.0);
        assert!(b.take(0.0));
        assert!(b.take(0.0));
        assert!(!b.take(0.0));
        assert!(!b.take(1.0));
        assert!(b.take(2.0));
    }

    #[test]
    fn rate_header_looks_like_amazons() {
        assert_eq!(header_value(0.0167), "0.0167");
        assert_eq!(header_value(0.0167 * 60.0), "1.002");
        assert_eq!(header_value(2.0), "2");
    }
}
