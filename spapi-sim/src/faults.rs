//! Fault injection: probabilities drawn from a seeded RNG (deterministic for a seed and a
//! request sequence) and schedules that make the next N responses of an operation a given fault.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 500 `InternalFailure`.
    InternalError,
    /// 503 `ServiceUnavailable`.
    ServiceUnavailable,
    /// 429 `QuotaExceeded` although the bucket has tokens (no token is taken).
    Throttle,
    /// The response is delayed by [`Faults::latency_ms`] (real milliseconds).
    Latency,
    /// Headers and part of the body are sent, then the connection is closed.
    CutBody,
    /// The connection is closed without any response.
    DropConnection,
    /// The caller's access token expires now (403 with the expiry message, and it stays expired).
    ExpireToken,
    /// A 200 answer of well-formed JSON that breaks the model: in an orders page the last
    /// order loses its last-update time and its order id becomes a number (a payload a
    /// client must refuse, not half-write).
    MalformedPage,
}

impl FaultKind {
    /// The name used in [`crate::SimStats::faults_by_kind`].
    pub fn name(self) -> &'static str {
        match self {
            Self::InternalError => "error_500",
            Self::ServiceUnavailable => "error_503",
            Self::Throttle => "throttle_429",
            Self::Latency => "latency",
            Self::CutBody => "cut_body",
            Self::DropConnection => "drop_connection",
            Self::ExpireToken => "expire_token",
            Self::MalformedPage => "malformed_page",
        }
    }
}

/// Make the next `count` responses of `operation` be `fault`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledFault {
    /// operationId (`getOrders`, `getOrderItems`, `searchOrders`, `getOrder2026`, …) or `*`.
    pub operation: String,
    pub fault: FaultKind,
    pub count: u32,
}

/// Fault settings. Probabilities are in 0..=1 and drawn per SP-API request, in this order:
/// expire token, throttle, 500, 503, latency, cut body, drop connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Seed of the fault RNG; `None` uses the simulator's seed.
    pub seed: Option<u64>,
    pub error_500: f64,
    pub error_503: f64,
    /// Probability of added latency, and how much (real milliseconds).
    pub latency: f64,
    pub latency_ms: u64,
    pub cut_body: f64,
    pub drop_connection: f64,
    /// 429 even when the bucket still has tokens.
    pub throttle: f64,
    /// An access token expires early (at the request that draws it).
    pub early_token_expiry: f64,
    /// Only these operations get probabilistic faults; empty means all.
    pub operations: Vec<String>,
    /// Deterministic faults, consumed before any probability is drawn.
    pub schedule: Vec<ScheduledFault>,
    /// Test hook: `getOrders`, `searchOrders` and `getOrderItems` answer the token they were given again
    /// (instead of a fresh one) whenever there is a next page, so a client's repeating-token
    /// guard can be tested.
    pub repeat_next_token: bool,
}

impl Faults {
    pub fn none() -> Self {
        Self::default()
    }
}

/// The faults picked for one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Picked {
    pub expire_token: bool,
    pub throttle: bool,
    pub error: Option<u16>,
    pub latency_ms: u64,
    pub cut_body: bool,
    pub drop_connection: bool,
    pub malformed: bool,
}

impl Picked {
    pub fn any(&self) -> bool {
        self.expire_token
            || self.throttle
            || self.error.is_some()
            || self.latency_ms > 0
            || self.cut_body
            || self.drop_connection
            || self.malformed
    }

    /// The kinds that take effect, as [`FaultKind`] names: an expired token answers
    /// before anything else, a 429 before an error.
    pub fn kinds(&self) -> Vec<FaultKind> {
        let mut kinds = Vec::new();
        if self.expire_token {
            kinds.push(FaultKind::ExpireToken);
        } else if self.throttle {
            kinds.push(FaultKind::Throttle);
        } else if let Some(code) = self.error {
            kinds.push(if code == 500 {
                FaultKind::InternalError
            } else {
                FaultKind::ServiceUnavailable
            });
        } else if self.malformed {
            kinds.push(FaultKind::MalformedPage);
        }
        if self.latency_ms > 0 {
            kinds.push(FaultKind::Latency);
        }
        if self.drop_connection {
            kinds.push(FaultKind::DropConnection);
        } else if self.cut_body {
            kinds.push(FaultKind::CutBody);
        }
        kinds
    }
}

pub(crate) struct FaultState {
    pub faults: Faults,
    rng: ChaCha8Rng,
}

impl FaultState {
    pub fn new(faults: Faults, default_seed: u64) -> Self {
        let seed = faults.seed.unwrap_or(default_seed) ^ 0xFA17_5EED;
        Self {
            faults,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub fn pick(&mut self, op: &str) -> Picked {
        let mut p = Picked::default();
        let latency_ms = self.faults.latency_ms;
        if let Some(entry) = self
            .faults
            .schedule
            .iter_mut()
            .find(|s| s.count > 0 && (s.operation == op || s.operation == "*"))
        {
            entry.count -= 1;
            match entry.fault {
                FaultKind::InternalError => p.error = Some(500),
                FaultKind::ServiceUnavailable => p.error = Some(503),
                FaultKind::Throttle => p.throttle = true,
                FaultKind::Latency => p.latency_ms = latency_ms.max(1),
                FaultKind::CutBody => p.cut_body = true,
                FaultKind::DropConnection => p.drop_connection = true,
                FaultKind::ExpireToken => p.expire_token = true,
                FaultKind::MalformedPage => p.malformed = true,
            }
            return p;
        }
        let f = &self.faults;
        if !f.operations.is_empty() && !f.operations.iter().any(|o| o == op) {
            return p;
        }
        let probs = [
            f.early_token_expiry,
            f.throttle,
            f.error_500,
            f.error_503,
            f.latency,
            f.cut_body,
            f.drop_connection,
        ];
        if probs.iter().all(|&x| x <= 0.0) {
            return p;
        }
        let mut hit = [false; 7];
        for (h, prob) in hit.iter_mut().zip(probs) {
            *h = self.rng.random::<f64>() < prob;
        }
        p.expire_token = hit[0];
        p.throttle = hit[1];
        p.error = if hit[2] {
            Some(500)
        } else if hit[3] {
            Some(503)
        } else {
            None
        };
        p.latency_ms = if hit[4] { latency_ms } else { 0 };
        p.cut_body = hit[5];
        p.drop_connection = hit[6];
        p
    }
}
