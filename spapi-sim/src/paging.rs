//! Opaque NextTokens. A token is standard base64 (so it contains `+`, `/` and `=`) of a serial
//! number masked by a nonce, and an HMAC tag; the cursor it stands for lives in a server-side table with
//! an expiry on the simulated clock. A tampered, unknown or expired token is rejected.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::query::ApiError;

/// Three bytes that encode to `+/+/` in base64: every token contains both characters, and its
/// length (43 bytes) makes the base64 end in `==`.
const MAGIC: [u8; 3] = [0xFB, 0xFF, 0xBF];
const NONCE: usize = 16;
const TAG: usize = 16;
const LEN: usize = 8 + NONCE + MAGIC.len() + TAG;

pub const UNDECODABLE: &str = "We could not decode your NextToken. Possible reasons include: a transmission error, improper quoting or a truncation problem.";

#[derive(Debug, Clone)]
pub struct PageEntry<Q> {
    pub query: Q,
    /// Sort key of the last element returned.
    pub cursor: (DateTime<Utc>, String),
    pub expires_at: DateTime<Utc>,
}

pub struct PageTable<Q> {
    key: [u8; 32],
    next_serial: u64,
    entries: HashMap<u64, PageEntry<Q>>,
}

impl<Q: Clone> PageTable<Q> {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key,
            next_serial: 1,
            entries: HashMap::new(),
        }
    }

    fn tag(&self, data: &[u8]) -> [u8; TAG] {
        let mut out = [0u8; TAG];
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) {
            mac.update(data);
            let full = mac.finalize().into_bytes();
            out.copy_from_slice(&full[..TAG]);
        }
        out
    }

    pub fn issue(&mut self, rng: &mut impl Rng, entry: PageEntry<Q>) -> String {
        let serial = self.next_serial;
        self.next_serial += 1;
        let mut nonce = [0u8; NONCE];
        rng.fill_bytes(&mut nonce);
        let mut bytes = Vec::with_capacity(LEN);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&self.mask(&nonce, serial).to_be_bytes());
        bytes.extend_from_slice(&MAGIC);
        let tag = self.tag(&bytes);
        bytes.extend_from_slice(&tag);
        self.entries.insert(serial, entry);
        STANDARD.encode(bytes)
    }

    /// Hides the serial behind the nonce so tokens look opaque (and differ every time).
    fn mask(&self, nonce: &[u8], serial: u64) -> u64 {
        let mut m = [0u8; 8];
        m.copy_from_slice(&self.tag(nonce)[..8]);
        serial ^ u64::from_be_bytes(m)
    }

    /// Looks a token up; `label` names the parameter in error messages.
    pub fn redeem(
        &self,
        token: &str,
        now: DateTime<Utc>,
        label: &str,
    ) -> Result<PageEntry<Q>, ApiError> {
        let undecodable = || ApiError::invalid(UNDECODABLE.replace("NextToken", label));
        let bytes = STANDARD.decode(token).map_err(|_| undecodable())?;
        if bytes.len() != LEN || bytes[NONCE + 8..NONCE + 8 + MAGIC.len()] != MAGIC {
            return Err(undecodable());
        }
        let (data, tag) = bytes.split_at(LEN - TAG);
        if self.tag(data) != tag {
            return Err(undecodable());
        }
        let mut masked = [0u8; 8];
        masked.copy_from_slice(&data[NONCE..NONCE + 8]);
        let serial = self.mask(&data[..NONCE], u64::from_be_bytes(masked));
        let entry = self.entries.get(&serial).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid {label}: this token was not issued by this service (unknown token)."
            ))
        })?;
        if entry.expires_at <= now {
            return Err(ApiError::invalid(format!(
                "The {label} has expired; start a new request without {label}."
            )));
        }
        Ok(entry.clone())
    }
}
