//! Why guessing passwords does not pay: the sign-in throttle.
//!
//! An attempt passes three rate limits first (governor's GCRA buckets): one per
//! client address, one per email and one for the whole server, so neither a
//! parallel burst, nor one password sprayed across many emails, nor many
//! addresses get more than their share. It then takes the email's turn (one
//! password check per email at a time) and is counted as a failure *before* the
//! password is checked: a caller who drops the request mid-check has still
//! spent the attempt, and success gives it back. After [`LoginLimits::free_attempts`]
//! failures each attempt waits longer (doubling up to the maximum), and after
//! [`LoginLimits::lockout_after`] the email is locked for [`LoginLimits::lockout`]:
//! every attempt, right or wrong, is refused without checking the password until
//! it ends. Unknown emails are throttled exactly like known ones, so the answers
//! say nothing about who has an account.
//!
//! Memory is bounded: at most [`LoginLimits::capacity`] emails are remembered,
//! and a new one evicts the single oldest record that is neither locked nor in
//! use, so flooding the table with fresh emails does not clear a lockout.

use chrono::{DateTime, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The knobs of the sign-in throttle (`LOGIN_*` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures of one email answered without delay (`LOGIN_FREE_ATTEMPTS`, 3).
    pub free_attempts: u32,
    /// Wait before the first slowed attempt, doubling per further failure
    /// (`LOGIN_DELAY_MS`, 500 ms).
    pub base_delay: Duration,
    /// Longest wait before an attempt (`LOGIN_MAX_DELAY_MS`, 8 s).
    pub max_delay: Duration,
    /// Failures in a row that lock the email (`LOGIN_LOCKOUT_AFTER`, 10).
    pub lockout_after: u32,
    /// How long a lockout lasts (`LOGIN_LOCKOUT_SECS`, 15 min).
    pub lockout: Duration,
    /// Attempts per minute for one email (`LOGIN_PER_EMAIL_PER_MINUTE`, 10).
    pub per_email_per_minute: u32,
    /// Attempts per minute from one client address (`LOGIN_PER_ADDRESS_PER_MINUTE`, 30).
    pub per_address_per_minute: u32,
    /// Attempts per minute on the whole server (`LOGIN_PER_MINUTE`, 60).
    pub global_per_minute: u32,
    /// Emails remembered at most.
    pub capacity: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            free_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            lockout_after: 10,
            lockout: Duration::from_secs(15 * 60),
            per_email_per_minute: 10,
            per_address_per_minute: 30,
            global_per_minute: 60,
            capacity: 10_000,
        }
    }
}

/// Failures are forgotten this long after the last one.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Longest email kept as a key (longer ones are cut; no real address is longer).
const MAX_KEY_CHARS: usize = 254;

/// Which limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The email is locked after too many failures.
    Account,
    /// Too many attempts from this client address.
    Address,
    /// Too many attempts on the whole server.
    Server,
}

/// An attempt refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Which limit.
    pub limit: Limit,
    /// When the caller may try again.
    pub retry_after: Duration,
}

/// A lockout in force, for the owner to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    /// The email as typed (lower-cased); it may belong to no one.
    pub email: String,
    /// Failures in a row.
    pub failures: u32,
    /// When the lockout ends.
    pub until: DateTime<Utc>,
}

#[derive(Debug)]
struct Record {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
    /// Held while one attempt for this email runs.
    turn: Arc<tokio::sync::Mutex<()>>,
    touched: Instant,
}

impl Record {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            last_failure: now,
            locked_until: None,
            turn: Arc::new(tokio::sync::Mutex::new(())),
            touched: now,
        }
    }

    fn in_use(&self) -> bool {
        Arc::strong_count(&self.turn) > 1
    }

    fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// Slows down, limits and locks out repeated sign-in attempts.
pub struct LoginThrottle {
    limits: LoginLimits,
    per_email: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    global: DefaultDirectRateLimiter,
    records: Mutex<HashMap<String, Record>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

/// The normalised key of an email: trimmed, lower-cased, bounded.
fn key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(MAX_KEY_CHARS)
        .collect::<String>()
        .to_lowercase()
}

/// One attempt that has its email's turn and is counted as a failure until
/// [`Attempt::succeeded`] says otherwise. Dropping it keeps the failure.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    key: String,
    delay: Duration,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Attempt<'_> {
    /// How long to wait before checking the password.
    #[must_use]
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// The password was right: the email's failures are forgiven.
    pub fn succeeded(self) {
        let mut records = self.throttle.lock();
        if let Some(record) = records.get_mut(&self.key) {
            record.failures = 0;
            record.locked_until = None;
        }
    }
}

impl LoginThrottle {
    /// A throttle with these limits.
    #[must_use]
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            per_email: RateLimiter::keyed(per_minute(limits.per_email_per_minute)),
            per_address: RateLimiter::keyed(per_minute(limits.per_address_per_minute)),
            global: RateLimiter::direct(per_minute(limits.global_per_minute)),
            records: Mutex::new(HashMap::new()),
            limits,
        }
    }

    /// The configured limits.
    #[must_use]
    pub fn limits(&self) -> &LoginLimits {
        &self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        // Every change to a record is a few plain assignments: whole after a panic.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The wait before an attempt that follows `failures` failures.
    #[must_use]
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.limits.free_attempts {
            return Duration::ZERO;
        }
        let doublings = (failures - self.limits.free_attempts).min(16);
        self.limits
            .base_delay
            .saturating_mul(1 << doublings)
            .min(self.limits.max_delay)
    }

    /// Starts an attempt for `email` from `client` (when known): checks the rate
    /// limits, waits for the email's turn, refuses a locked email, and counts the
    /// attempt as a failure (locking the email when it is one too many).
    ///
    /// # Errors
    /// [`Refused`] when a limit or a lockout stops the attempt.
    pub async fn begin(&self, email: &str, client: Option<IpAddr>) -> Result<Attempt<'_>, Refused> {
        let key = key(email);
        let clock = DefaultClock::default();
        if let Some(addr) = client {
            self.per_address.check_key(&addr).map_err(|e| Refused {
                limit: Limit::Address,
                retry_after: e.wait_time_from(clock.now()),
            })?;
        }
        self.per_email.check_key(&key).map_err(|e| Refused {
            limit: Limit::Account,
            retry_after: e.wait_time_from(clock.now()),
        })?;
        self.global.check().map_err(|e| Refused {
            limit: Limit::Server,
            retry_after: e.wait_time_from(clock.now()),
        })?;
        self.forget_idle_limiters();

        let turn = {
            let mut records = self.lock();
            let now = Instant::now();
            if !records.contains_key(&key) {
                self.evict_one_if_full(&mut records, now);
            }
            let record = records
                .entry(key.clone())
                .or_insert_with(|| Record::new(now));
            record.touched = now;
            Arc::clone(&record.turn)
        };
        let turn = turn.lock_owned().await;

        let mut records = self.lock();
        let now = Instant::now();
        let record = records
            .entry(key.clone())
            .or_insert_with(|| Record::new(now));
        record.touched = now;
        if let Some(until) = record.locked_until.filter(|until| *until > now) {
            return Err(Refused {
                limit: Limit::Account,
                retry_after: until - now,
            });
        }
        if now.duration_since(record.last_failure) > WINDOW {
            record.failures = 0;
        }
        let delay = self.delay_after(record.failures);
        record.failures = record.failures.saturating_add(1);
        record.last_failure = now;
        if record.failures >= self.limits.lockout_after {
            record.locked_until = Some(now + delay + self.limits.lockout);
            tracing::warn!(
                email = %key,
                failures = record.failures,
                lockout_secs = self.limits.lockout.as_secs(),
                "sign-in lockout: too many failed attempts for one email"
            );
        }
        drop(records);
        Ok(Attempt {
            throttle: self,
            key,
            delay,
            _turn: turn,
        })
    }

    /// Drops one record when the table is full: the oldest that is neither in use
    /// nor locked, else the oldest not in use. (With every record in use the table
    /// grows by the attempts in flight, which the rate limits bound.)
    fn evict_one_if_full(&self, records: &mut HashMap<String, Record>, now: Instant) {
        if records.len() < self.limits.capacity {
            return;
        }
        let oldest = |locked_ok: bool| {
            records
                .iter()
                .filter(|(_, r)| !r.in_use() && (locked_ok || !r.locked(now)))
                .min_by_key(|(_, r)| r.touched)
                .map(|(k, _)| k.clone())
        };
        if let Some(victim) = oldest(false).or_else(|| oldest(true)) {
            records.remove(&victim);
        }
    }

    /// Keeps the keyed limiters' tables small: keys whose bucket is full again
    /// carry no information.
    fn forget_idle_limiters(&self) {
        if self.per_email.len() > self.limits.capacity {
            self.per_email.retain_recent();
        }
        if self.per_address.len() > self.limits.capacity {
            self.per_address.retain_recent();
        }
    }

    /// The lockouts in force now, longest first.
    #[must_use]
    pub fn lockouts(&self) -> Vec<Lockout> {
        let now = Instant::now();
        let wall = Utc::now();
        let mut lockouts: Vec<Lockout> = self
            .lock()
            .iter()
            .filter_map(|(email, r)| {
                let until = r.locked_until.filter(|u| *u > now)?;
                let left = chrono::TimeDelta::from_std(until - now).ok()?;
                Some(Lockout {
                    email: email.clone(),
                    failures: r.failures,
                    until: wall + left,
                })
            })
            .collect();
        lockouts.sort_by(|a, b| b.until.cmp(&a.until).then_with(|| a.email.cmp(&b.email)));
        lockouts
    }

    /// How many emails are remembered.
    #[must_use]
    pub fn remembered(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LoginLimits {
        LoginLimits {
            free_attempts: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
            lockout_after: 5,
            lockout: Duration::from_secs(60),
            per_email_per_minute: 1000,
            per_address_per_minute: 1000,
            global_per_minute: 1000,
            capacity: 10_000,
        }
    }

    async fn fail(t: &LoginThrottle, email: &str) -> Result<Duration, Refused> {
        t.begin(email, None).await.map(|a| a.delay())
    }

    #[tokio::test]
    async fn failures_beyond_the_free_attempts_wait_longer_and_success_forgives_them() {
        let t = LoginThrottle::new(limits());
        let ms = Duration::from_millis;
        assert_eq!(fail(&t, "Owner@Example.com").await, Ok(ms(0)));
        assert_eq!(fail(&t, " owner@example.com").await, Ok(ms(0)));
        assert_eq!(fail(&t, "owner@example.com").await, Ok(ms(100)));
        assert_eq!(fail(&t, "owner@example.com").await, Ok(ms(200)));
        assert_eq!(fail(&t, "someone@else.com").await, Ok(ms(0)));
        t.begin("owner@example.com", None)
            .await
            .unwrap()
            .succeeded();
        assert_eq!(fail(&t, "owner@example.com").await, Ok(ms(0)));
    }

    #[tokio::test]
    async fn too_many_failures_lock_the_email_and_the_owner_can_see_it() {
        let t = LoginThrottle::new(limits());
        for _ in 0..5 {
            fail(&t, "owner@example.com").await.unwrap();
        }
        let refused = fail(&t, "owner@example.com").await.unwrap_err();
        assert_eq!(refused.limit, Limit::Account);
        assert!(refused.retry_after > Duration::from_secs(59));
        let lockouts = t.lockouts();
        assert_eq!(lockouts.len(), 1);
        assert_eq!(lockouts[0].email, "owner@example.com");
        assert_eq!(lockouts[0].failures, 5);
        assert!(fail(&t, "other@example.com").await.is_ok());
    }

    #[tokio::test]
    async fn filling_the_table_with_new_emails_evicts_one_at_a_time_and_keeps_a_lockout() {
        let t = LoginThrottle::new(LoginLimits {
            capacity: 3,
            ..limits()
        });
        for _ in 0..5 {
            fail(&t, "owner@example.com").await.unwrap();
        }
        for i in 0..50 {
            fail(&t, &format!("flood{i}@example.com")).await.unwrap();
            assert!(t.remembered() <= 3);
        }
        assert_eq!(t.remembered(), 3);
        assert_eq!(
            fail(&t, "owner@example.com").await.unwrap_err().limit,
            Limit::Account
        );
        // The two newest flood records survived: one was evicted per newcomer.
        assert!(t.lock().contains_key("flood49@example.com"));
        assert!(t.lock().contains_key("flood48@example.com"));
    }

    #[tokio::test]
    async fn one_address_spraying_many_emails_is_refused_past_its_rate() {
        let t = LoginThrottle::new(LoginLimits {
            per_address_per_minute: 5,
            ..limits()
        });
        let addr: IpAddr = [192, 0, 2, 1].into();
        for i in 0..5 {
            assert!(
                t.begin(&format!("u{i}@example.com"), Some(addr))
                    .await
                    .is_ok()
            );
        }
        let refused = t.begin("u5@example.com", Some(addr)).await.err().unwrap();
        assert_eq!(refused.limit, Limit::Address);
        assert!(refused.retry_after > Duration::ZERO);
        assert!(
            t.begin("u5@example.com", Some([192, 0, 2, 2].into()))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_server_wide_limit_stops_many_addresses() {
        let t = LoginThrottle::new(LoginLimits {
            global_per_minute: 3,
            ..limits()
        });
        for i in 0..3u8 {
            assert!(
                t.begin("a@example.com", Some([192, 0, 2, i].into()))
                    .await
                    .is_ok()
            );
        }
        let refused = t
            .begin("b@example.com", Some([192, 0, 2, 9].into()))
            .await
            .err()
            .unwrap();
        assert_eq!(refused.limit, Limit::Server);
    }

    #[tokio::test]
    async fn one_email_gets_one_turn_at_a_time() {
        let t = Arc::new(LoginThrottle::new(limits()));
        let first = t.begin("owner@example.com", None).await.unwrap();
        let t2 = Arc::clone(&t);
        let second =
            tokio::spawn(
                async move { t2.begin("owner@example.com", None).await.map(|a| a.delay()) },
            );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !second.is_finished(),
            "the second attempt waits for the first"
        );
        drop(first);
        assert_eq!(second.await.unwrap(), Ok(Duration::ZERO));
    }
}
