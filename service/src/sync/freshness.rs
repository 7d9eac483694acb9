//! The freshness loop's decisions: when the worker polls orders, so that an order
//! reaches our database as soon after Amazon lists it as the quota allows, while a
//! reserve of the bucket stays for everyone else (comprehensive, manual, CLI runs).
//!
//! Amazon lists an order two minutes after its last update, and refills the search
//! operation's bucket one request every `1 / rate` seconds (`searchOrders` about
//! 179 s, v0 `getOrders` 60 s). Polling once per refill interval puts an order in
//! our database two minutes plus, on average, half an interval after it changed:
//! the floor. Polling faster only spends the burst other runs need; polling slower
//! only waits.
//!
//! The decisions are pure functions of what the loop observes (the bucket
//! [`budget`](super::budget) replays from the recorded runs, who holds the orders
//! lease, when it last polled) and the time, so they are tested with a fake clock;
//! [`observe`] reads the observation from the database. The lease stays the only
//! guard against two runs at once: the loop backs off while someone holds it, and
//! a manual sync that finds the loop's run holding it waits for that run to end
//! and runs next, with what the loop left (at least the reserve).

use super::budget::{self, Budget};
use crate::lease;
use crate::spapi::Operation;
use chrono::{DateTime, Utc};
use entity::enums::{OrdersApiVersion, SyncTrigger};
use entity::{sync_lease, sync_runs};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use std::time::Duration;

/// How the loop spends the search operation's bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Fraction of the burst the loop leaves to other runs (`FRESHNESS_RESERVE`,
    /// default a quarter): it polls only while the bucket holds more than that.
    pub reserve: f64,
    /// How soon the loop looks again while another run holds the orders lease.
    pub recheck: Duration,
    /// How long a manual sync waits for a scheduled run holding the lease before
    /// it is refused as already running.
    pub join_wait: Duration,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            reserve: 0.25,
            recheck: Duration::from_secs(2),
            join_wait: Duration::from_secs(30),
        }
    }
}

impl Plan {
    /// Tokens the loop never spends: the reserve, in whole requests.
    #[must_use]
    pub fn reserve_tokens(&self, burst: u32) -> f64 {
        (f64::from(burst) * self.reserve.clamp(0.0, 1.0)).ceil()
    }
}

/// The operation whose bucket paces the orders search of an API version.
#[must_use]
pub fn search_operation(version: OrdersApiVersion) -> Operation {
    match version {
        OrdersApiVersion::V2026_01_01 => Operation::SearchOrders,
        OrdersApiVersion::V0 => Operation::GetOrders,
    }
}

/// Seconds between two tokens at `rate` requests per second.
#[must_use]
pub fn refill_interval(rate: f64) -> Duration {
    if rate.is_finite() && rate > 0.0 {
        Duration::from_secs_f64(1.0 / rate)
    } else {
        Duration::from_secs(3600)
    }
}

/// Who holds the orders lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Nobody (or a holder whose lease expired).
    Free,
    /// A run of the worker's schedule: the loop's, or a comprehensive one.
    Schedule {
        /// Its `sync_runs` row, once recorded.
        run_id: Option<i64>,
    },
    /// A run somebody asked for: the api, `worker sync`, the demo.
    Requested {
        /// Its `sync_runs` row, once recorded.
        run_id: Option<i64>,
    },
}

/// What the loop sees before deciding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Now, on the clock the runs are recorded with.
    pub now: DateTime<Utc>,
    /// The search operation's bucket, replayed from the recorded runs.
    pub budget: Budget,
    /// Who holds the orders lease.
    pub holder: Holder,
}

/// Why the loop waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// No token came due since its last poll.
    NotDue,
    /// The bucket holds no more than the reserve.
    Reserve,
    /// Another run holds the orders lease (and the bucket).
    Busy,
}

/// The loop's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Run an incremental orders sync now.
    Poll,
    /// Look again at `until`.
    Wait {
        /// When to decide again.
        until: DateTime<Utc>,
        /// Why not now.
        why: Why,
    },
}

fn after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// Whether the loop polls now, given what it observes and when its last poll
/// started. It polls once per refill interval (a token came due since), never
/// while another run holds the lease, and never with the bucket at the reserve.
#[must_use]
pub fn decide(plan: &Plan, obs: &Observation, last_poll: Option<DateTime<Utc>>) -> Decision {
    let now = obs.now;
    if obs.holder != Holder::Free {
        return Decision::Wait {
            until: after(now, plan.recheck),
            why: Why::Busy,
        };
    }
    if let Some(last) = last_poll {
        let due = after(last, refill_interval(obs.budget.rate));
        if due > now {
            return Decision::Wait {
                until: due,
                why: Why::NotDue,
            };
        }
    }
    let needed = plan.reserve_tokens(obs.budget.burst) + 1.0;
    if !obs.budget.allows(needed) {
        // At least a second, so rounding never spins the loop.
        let wait = obs.budget.time_until(needed).max(Duration::from_secs(1));
        return Decision::Wait {
            until: after(now, wait),
            why: Why::Reserve,
        };
    }
    Decision::Poll
}

/// What a requested (manual, CLI) orders sync does about the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manual {
    /// Nobody holds it: run now.
    Run,
    /// The schedule's run holds it: wait for that run to end (up to
    /// [`Plan::join_wait`]), then run with what it left, at least the reserve.
    AfterScheduled,
    /// Another requested run holds it: refused as already running.
    Refuse,
}

/// What a requested orders sync does, given who holds the lease.
#[must_use]
pub fn manual(holder: Holder) -> Manual {
    match holder {
        Holder::Free => Manual::Run,
        Holder::Schedule { .. } => Manual::AfterScheduled,
        Holder::Requested { .. } => Manual::Refuse,
    }
}

/// Who holds the orders lease at `now`.
///
/// # Errors
/// When the database cannot be read.
pub async fn holder(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Holder, DbErr> {
    let Some(row) = sync_lease::Entity::find_by_id(lease::ORDERS_SYNC.to_owned())
        .one(db)
        .await?
        .filter(|l| l.expires_at > now)
    else {
        return Ok(Holder::Free);
    };
    let trigger = match row.run_id {
        Some(id) => sync_runs::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|r| r.trigger),
        None => None,
    };
    Ok(match trigger {
        // Not recorded yet: the holder just took it; a scheduled run is the
        // common case and waiting for it is what a request would do anyway.
        Some(SyncTrigger::Schedule) | None => Holder::Schedule { run_id: row.run_id },
        Some(_) => Holder::Requested { run_id: row.run_id },
    })
}

/// What the loop sees at `now` for the search operation of `version`.
///
/// # Errors
/// When the database cannot be read.
pub async fn observe(
    db: &DatabaseConnection,
    version: OrdersApiVersion,
    now: DateTime<Utc>,
) -> Result<Observation, DbErr> {
    Ok(Observation {
        now,
        budget: budget::estimate(db, search_operation(version), now).await?,
        holder: holder(db, now).await?,
    })
}

#[cfg(test)]
mod tests {
    //! A fake clock drives a small world: Amazon's true bucket (calls taken when a
    //! run starts), the lease, the loop deciding from the bucket replayed from
    //! finished runs (what [`observe`] reads), and requested runs arriving on their
    //! own schedule. Every instant is whole seconds from an origin.

    use super::*;
    use crate::sync::budget::{Spent, replay};

    const RATE: f64 = 0.0056;
    const BURST: u32 = 20;

    fn t(secs: f64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
            + chrono::Duration::milliseconds((secs * 1000.0) as i64)
    }

    fn secs(at: DateTime<Utc>) -> f64 {
        (at - t(0.0)).num_milliseconds() as f64 / 1000.0
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Who {
        Loop,
        Requested,
    }

    #[derive(Debug, Clone, Copy)]
    struct Run {
        who: Who,
        start: f64,
        end: f64,
        calls: f64,
        /// Amazon's bucket just before the run's calls.
        tokens_before: f64,
    }

    /// A requested run: when it is asked for, how long it lasts, what it costs.
    #[derive(Debug, Clone, Copy)]
    struct Request {
        at: f64,
        lasts: f64,
        calls: f64,
    }

    struct World {
        plan: Plan,
        /// Amazon's bucket: tokens at `bucket_at`.
        tokens: f64,
        bucket_at: f64,
        /// The lease: who holds it until when (the run's end).
        lease: Option<(Who, f64)>,
        /// Finished runs as the database records them.
        recorded: Vec<Spent>,
        runs: Vec<Run>,
        refused: Vec<Request>,
        /// Requests that found the loop's run holding the lease.
        joined: u32,
        loop_collisions: u32,
    }

    impl World {
        /// A world whose bucket holds `tokens` at 0, and whose records say so.
        fn new(plan: Plan, tokens: f64) -> Self {
            let spent = f64::from(BURST) - tokens;
            Self {
                plan,
                tokens,
                bucket_at: 0.0,
                lease: None,
                recorded: if spent > 0.0 {
                    vec![Spent {
                        at: t(0.0),
                        calls: spent,
                    }]
                } else {
                    Vec::new()
                },
                runs: Vec::new(),
                refused: Vec::new(),
                joined: 0,
                loop_collisions: 0,
            }
        }

        fn amazon_tokens(&mut self, now: f64) -> f64 {
            self.tokens = (self.tokens + RATE * (now - self.bucket_at)).min(f64::from(BURST));
            self.bucket_at = now;
            self.tokens
        }

        fn holder(&self, now: f64) -> Holder {
            match self.lease {
                Some((Who::Loop, until)) if until > now => Holder::Schedule { run_id: None },
                Some((Who::Requested, until)) if until > now => Holder::Requested { run_id: None },
                _ => Holder::Free,
            }
        }

        fn observe(&self, now: f64) -> Observation {
            Observation {
                now: t(now),
                budget: Budget {
                    operation: Operation::SearchOrders,
                    tokens: replay(BURST, RATE, t(-10_000.0), &self.recorded, t(now)),
                    burst: BURST,
                    rate: RATE,
                },
                holder: self.holder(now),
            }
        }

        /// Takes the lease and runs: false when it is held (the real lease refuses).
        fn start(&mut self, who: Who, now: f64, lasts: f64, calls: f64) -> bool {
            if self.holder(now) != Holder::Free {
                return false;
            }
            let tokens_before = self.amazon_tokens(now);
            // The client's limiter never sends a call without a token: a run
            // that needs more waits for them (a debt the refill pays), and lasts
            // that much longer.
            let short = (calls - tokens_before).max(0.0);
            let end = now + lasts + short / RATE;
            self.tokens = tokens_before - calls;
            self.lease = Some((who, end));
            self.recorded.push(Spent { at: t(end), calls });
            self.recorded.sort_by_key(|s| s.at);
            self.runs.push(Run {
                who,
                start: now,
                end,
                calls,
                tokens_before,
            });
            true
        }

        /// Runs the loop for `hours` beside `requests` (each served, or refused,
        /// as [`manual`] says); a loop run lasts 2 s and makes one call.
        fn simulate(&mut self, hours: f64, requests: &[Request]) {
            let end = hours * 3600.0;
            let mut pending: Vec<Request> = requests.to_vec();
            pending.sort_by(|a, b| a.at.total_cmp(&b.at));
            let mut waiting: Vec<(Request, f64)> = Vec::new();
            let mut next_decision = 0.0;
            let mut last_poll: Option<DateTime<Utc>> = None;
            let mut now = 0.0;
            while now < end {
                // Requests arriving now decide at once.
                while pending.first().is_some_and(|r| r.at <= now) {
                    let r = pending.remove(0);
                    match manual(self.holder(now)) {
                        Manual::Run => assert!(self.start(Who::Requested, now, r.lasts, r.calls)),
                        Manual::AfterScheduled => {
                            self.joined += 1;
                            waiting.push((r, now));
                        }
                        Manual::Refuse => self.refused.push(r),
                    }
                }
                // Requests waiting for a scheduled run start when it ends.
                let mut still = Vec::new();
                for (r, since) in waiting.drain(..) {
                    if self.holder(now) == Holder::Free {
                        assert!(self.start(Who::Requested, now, r.lasts, r.calls));
                    } else if now - since > self.plan.join_wait.as_secs_f64() {
                        self.refused.push(r);
                    } else {
                        still.push((r, since));
                    }
                }
                waiting = still;
                if now >= next_decision {
                    match decide(&self.plan, &self.observe(now), last_poll) {
                        Decision::Poll => {
                            if self.start(Who::Loop, now, 2.0, 1.0) {
                                last_poll = Some(t(now));
                            } else {
                                self.loop_collisions += 1;
                            }
                            next_decision = now + 1.0;
                        }
                        Decision::Wait { until, .. } => next_decision = secs(until),
                    }
                }
                now += 1.0;
            }
        }

        fn of(&self, who: Who) -> impl Iterator<Item = &Run> {
            self.runs.iter().filter(move |r| r.who == who)
        }
    }

    /// A manual sync every 7 min 13 s, 20 s long, one call.
    fn steady_requests(hours: f64) -> Vec<Request> {
        (1..)
            .map(|i| f64::from(i) * 433.0)
            .take_while(|at| *at < hours * 3600.0)
            .map(|at| Request {
                at,
                lasts: 20.0,
                calls: 1.0,
            })
            .collect()
    }

    #[test]
    fn the_loop_never_runs_a_sync_while_the_api_runs_one() {
        let mut w = World::new(Plan::default(), f64::from(BURST));
        w.simulate(6.0, &steady_requests(6.0));

        let mut runs = w.runs.clone();
        runs.sort_by(|a, b| a.start.total_cmp(&b.start));
        for pair in runs.windows(2) {
            assert!(
                pair[1].start >= pair[0].end,
                "two runs at once: {:?} and {:?}",
                pair[0],
                pair[1]
            );
        }
        // The loop backed off instead of running into the lease.
        assert_eq!(w.loop_collisions, 0);
        // The requests spend more than the refill leaves beside the loop: once the
        // burst is down to the reserve, the loop polls with what is left.
        let polls = w.of(Who::Loop).count();
        assert!(polls > 60, "the loop kept polling: {polls}");
    }

    #[test]
    fn a_manual_sync_during_the_loop_is_served() {
        // The loop polls every 179 s from 0 (the refill interval, on a clock of
        // whole seconds): half the requests land one second into its runs, the
        // others while the lease is free.
        let requests: Vec<Request> = (1..=10)
            .map(|i| Request {
                at: f64::from(i) * 716.0 + if i % 2 == 0 { 1.0 } else { 60.0 },
                lasts: 5.0,
                calls: 1.0,
            })
            .collect();
        let mut w = World::new(Plan::default(), f64::from(BURST));
        w.simulate(4.0, &requests);

        assert!(w.refused.is_empty(), "refused: {:?}", w.refused);
        assert_eq!(w.joined, 5, "half the requests met the loop's run");
        let served: Vec<&Run> = w.of(Who::Requested).collect();
        assert_eq!(served.len(), requests.len());
        for (r, run) in requests.iter().zip(&served) {
            // Served after it was asked for (so it reads up to then), within seconds.
            assert!(
                run.start >= r.at && run.start - r.at <= 5.0,
                "{r:?} ran {run:?}"
            );
            // With the bucket the loop left: no call waited, no 429.
            assert!(run.tokens_before >= r.calls, "{run:?}");
        }
        // A request meeting another requested run is still refused, as before.
        assert_eq!(
            manual(Holder::Requested { run_id: Some(7) }),
            Manual::Refuse
        );
    }

    #[test]
    fn the_reserve_is_kept() {
        let plan = Plan::default();
        let reserve = plan.reserve_tokens(BURST);
        assert!((reserve - 5.0).abs() < 1e-9);
        // A bucket left at 7 tokens, and a comprehensive run at 1 h taking 12.
        let mut w = World::new(plan, 7.0);
        w.simulate(
            6.0,
            &[Request {
                at: 3600.0,
                lasts: 120.0,
                calls: 12.0,
            }],
        );
        for run in w.of(Who::Loop) {
            assert!(
                run.tokens_before >= reserve + 1.0 - 1e-9,
                "the loop polled into the reserve: {run:?}"
            );
            assert!(run.tokens_before - run.calls >= reserve - 1e-9);
        }
        // The requested run found at least the reserve.
        let comprehensive = w.of(Who::Requested).next().copied();
        assert!(comprehensive.is_some_and(|r| r.tokens_before >= reserve));
    }

    #[test]
    fn the_loop_polls_once_per_refill_interval_and_not_faster_with_a_full_bucket() {
        let mut w = World::new(Plan::default(), f64::from(BURST));
        w.simulate(2.0, &[]);
        let starts: Vec<f64> = w.of(Who::Loop).map(|r| r.start).collect();
        assert_eq!(
            starts.first().copied(),
            Some(0.0),
            "the first poll is at once"
        );
        let interval = 1.0 / RATE;
        for pair in starts.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= interval - 1e-6 && gap <= interval + 1.0,
                "polls {gap} s apart"
            );
        }
        // The bucket stays full for everyone else.
        assert!(w.amazon_tokens(7200.0) >= f64::from(BURST) - 1.0);
    }

    #[test]
    fn the_loop_waits_while_another_run_holds_the_lease() {
        let obs = Observation {
            now: t(0.0),
            budget: Budget {
                operation: Operation::GetOrders,
                tokens: 20.0,
                burst: 20,
                rate: 0.0167,
            },
            holder: Holder::Requested { run_id: Some(3) },
        };
        let plan = Plan::default();
        assert_eq!(
            decide(&plan, &obs, None),
            Decision::Wait {
                until: t(2.0),
                why: Why::Busy
            }
        );
        assert_eq!(manual(obs.holder), Manual::Refuse);
        assert_eq!(manual(Holder::Free), Manual::Run);
        assert_eq!(
            manual(Holder::Schedule { run_id: None }),
            Manual::AfterScheduled
        );
    }
}
