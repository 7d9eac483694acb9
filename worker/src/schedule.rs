//! When the scheduler runs what. The default plan: the freshness loop (an incremental
//! orders sync each time a token of the search operation's bucket comes due, see
//! `service::sync::freshness`), and a daily comprehensive re-sync of the last 48
//! hours at a fixed hour of the seller's day. `interval` polls every
//! `SYNC_INTERVAL_MINUTES` instead, `seed-000` is that document's plan, and any cron
//! entries can be given instead (`SYNC_SCHEDULE` or `worker run --schedule`), all in
//! the seller's time zone.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// The kinds of scheduled sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Orders from the watermark (minus the overlap) to now.
    Incremental,
    /// Orders of the last 48 hours again, whatever the watermark says.
    Comprehensive,
    /// FBA inventory changed since its watermark (a full scan the first time).
    Inventory,
    /// Every FBA inventory summary; SKUs Amazon no longer lists are marked gone.
    InventoryFull,
    /// Financial transactions posted since the watermark (less 48 hours).
    Transactions,
    /// Financial transactions of the last `TRANSACTIONS_REPULL_DAYS` again, for
    /// their status changes.
    TransactionsRepull,
    /// Listings Amazon changed since the watermark (all of them the first time).
    Listings,
    /// Every listing; those Amazon no longer returns are marked gone.
    ListingsFull,
}

impl Job {
    fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "incremental" => Some(Self::Incremental),
            "comprehensive" => Some(Self::Comprehensive),
            "inventory" => Some(Self::Inventory),
            "inventory-full" => Some(Self::InventoryFull),
            "transactions" => Some(Self::Transactions),
            "transactions-repull" => Some(Self::TransactionsRepull),
            "listings" => Some(Self::Listings),
            "listings-full" => Some(Self::ListingsFull),
            _ => None,
        }
    }

    /// The word used in schedules and logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Incremental => "incremental",
            Self::Comprehensive => "comprehensive",
            Self::Inventory => "inventory",
            Self::InventoryFull => "inventory-full",
            Self::Transactions => "transactions",
            Self::TransactionsRepull => "transactions-repull",
            Self::Listings => "listings",
            Self::ListingsFull => "listings-full",
        }
    }

    /// Whether the job syncs orders (else FBA inventory or transactions).
    #[must_use]
    pub fn is_orders(self) -> bool {
        matches!(self, Self::Incremental | Self::Comprehensive)
    }

    /// Whether a run of `self` also covers a due run of `other`: an orders run
    /// covers due incremental ones, and a broader run of a dataset the narrower.
    #[must_use]
    pub fn covers(self, other: Self) -> bool {
        self == other
            || (self == Self::Comprehensive && other == Self::Incremental)
            || (self == Self::InventoryFull && other == Self::Inventory)
            || (self == Self::TransactionsRepull && other == Self::Transactions)
            || (self == Self::ListingsFull && other == Self::Listings)
    }
}

/// How far back the daily comprehensive sync reaches.
pub const COMPREHENSIVE_SPAN: Duration = Duration::hours(48);

/// Seed 000's recommended plan: every 2 hours in business hours (09:00-19:00), every
/// 4 hours at night (21:00, 01:00, 05:00) and the comprehensive sync at 03:00. Each
/// incremental run starts from the watermark, so it covers whatever the gap was.
pub const SEED_000: &str =
    "0 9,11,13,15,17,19 * * * incremental; 0 21,1,5 * * * incremental; 0 3 * * * comprehensive";

/// When an entry fires.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// At start, then whenever the freshness loop decides (a token came due, the
    /// reserve is kept, nobody else holds the lease).
    Fresh,
    /// At start, then this long after each run.
    Every(Duration),
    /// At each match of a cron expression in the seller's time zone.
    Cron(Box<Cron>),
}

/// One line of the plan.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What runs.
    pub job: Job,
    /// When.
    pub trigger: Trigger,
}

/// A schedule that cannot be used, saying which entry and why.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// An entry does not end with the job to run.
    #[error(
        "entry {n} ({entry:?}) must end with the job to run, `incremental`, `comprehensive`, `inventory`, `inventory-full`, `transactions`, `transactions-repull`, `listings` or `listings-full`, e.g. \"0 */2 * * * incremental\""
    )]
    MissingJob {
        /// 1-based position.
        n: usize,
        /// The text.
        entry: String,
    },
    /// The cron expression does not parse or never matches.
    #[error("entry {n} ({entry:?}): {reason}")]
    BadCron {
        /// 1-based position.
        n: usize,
        /// The text.
        entry: String,
        /// Why.
        reason: String,
    },
    /// Nothing to run.
    #[error("the schedule has no entries; use `default`, `interval`, `seed-000` or cron entries")]
    Empty,
}

/// The schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// What runs when.
    pub entries: Vec<Entry>,
    /// The seller's time zone, for cron entries.
    pub tz: Tz,
    /// The longest back-off after failures.
    pub retry_cap: Duration,
}

impl Schedule {
    /// The default plan: the freshness loop (the first poll at once), and the
    /// comprehensive sync daily at `comprehensive_hour` in `tz`. Failures are retried
    /// after at most `retry_cap`.
    #[must_use]
    pub fn fresh(retry_cap: Duration, comprehensive_hour: u32, tz: Tz) -> Self {
        let mut plan = Self::interval(retry_cap, comprehensive_hour, tz);
        plan.entries[0].trigger = Trigger::Fresh;
        plan
    }

    /// The plan with its freshness loop replaced by an incremental sync every
    /// `interval` (the first at once): `SYNC_SCHEDULE=interval`.
    #[must_use]
    pub fn every(mut self, interval: Duration) -> Self {
        for e in &mut self.entries {
            if matches!(e.trigger, Trigger::Fresh) {
                e.trigger = Trigger::Every(interval);
            }
        }
        self.retry_cap = interval;
        self
    }

    /// Whether an entry is the freshness loop.
    #[must_use]
    pub fn is_fresh(&self, i: usize) -> bool {
        self.entries
            .get(i)
            .is_some_and(|e| matches!(e.trigger, Trigger::Fresh))
    }

    /// The interval plan: incremental every `interval` (the first at once), and the
    /// comprehensive sync daily at `comprehensive_hour` in `tz`.
    #[must_use]
    pub fn interval(interval: Duration, comprehensive_hour: u32, tz: Tz) -> Self {
        let mut entries = vec![Entry {
            job: Job::Incremental,
            trigger: Trigger::Every(interval),
        }];
        if let Ok(cron) = format!("0 {} * * *", comprehensive_hour.min(23)).parse::<Cron>() {
            entries.push(Entry {
                job: Job::Comprehensive,
                trigger: Trigger::Cron(Box::new(cron)),
            });
        }
        Self {
            entries,
            tz,
            retry_cap: interval,
        }
    }

    /// The plan plus an incremental inventory sync every `interval` (the first at
    /// once) and a full inventory scan daily at `full_hour` in the plan's time zone.
    #[must_use]
    pub fn with_inventory(mut self, interval: Duration, full_hour: u32) -> Self {
        self.entries.push(Entry {
            job: Job::Inventory,
            trigger: Trigger::Every(interval),
        });
        if let Ok(cron) = format!("0 {} * * *", full_hour.min(23)).parse::<Cron>() {
            self.entries.push(Entry {
                job: Job::InventoryFull,
                trigger: Trigger::Cron(Box::new(cron)),
            });
        }
        self
    }

    /// The plan plus an incremental listings sync every `interval` (the first at
    /// once) and a full one daily at `full_hour` in the plan's time zone.
    #[must_use]
    pub fn with_listings(mut self, interval: Duration, full_hour: u32) -> Self {
        self.entries.push(Entry {
            job: Job::Listings,
            trigger: Trigger::Every(interval),
        });
        if let Ok(cron) = format!("30 {} * * *", full_hour.min(23)).parse::<Cron>() {
            self.entries.push(Entry {
                job: Job::ListingsFull,
                trigger: Trigger::Cron(Box::new(cron)),
            });
        }
        self
    }

    /// The plan plus a transactions sync every `interval` (the first at once) and
    /// the re-pull at each match of `repull` (a cron expression, five fields or six
    /// with seconds first) in the plan's time zone.
    ///
    /// # Errors
    /// The reason `repull` is not a cron expression.
    pub fn with_transactions(mut self, interval: Duration, repull: &str) -> Result<Self, String> {
        let cron: Cron = repull
            .trim()
            .parse()
            .map_err(|e: croner::errors::CronError| e.to_string())?;
        self.entries.push(Entry {
            job: Job::Transactions,
            trigger: Trigger::Every(interval),
        });
        self.entries.push(Entry {
            job: Job::TransactionsRepull,
            trigger: Trigger::Cron(Box::new(cron)),
        });
        Ok(self)
    }

    /// Reads a plan: `default` (or `fresh`: the plan from configuration), `interval`
    /// (that plan polling orders every `interval` instead of the freshness loop),
    /// `seed-000`, or entries `<cron expression> <incremental|comprehensive>`
    /// separated by `;` or new lines. Cron has five fields (minute hour day month
    /// weekday) or six with seconds first; times are in `tz`.
    ///
    /// # Errors
    /// [`ScheduleError`] naming the entry that cannot be used.
    pub fn parse(spec: &str, default: Self, interval: Duration) -> Result<Self, ScheduleError> {
        let spec = spec.trim();
        match spec.to_ascii_lowercase().as_str() {
            "default" | "fresh" | "freshness" => return Ok(default),
            "interval" => return Ok(default.every(interval)),
            "seed-000" | "seed000" => return Self::parse(SEED_000, default, interval),
            _ => {}
        }
        let mut entries = Vec::new();
        for (i, text) in spec
            .split([';', '\n'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .enumerate()
        {
            let n = i + 1;
            let (expr, job) = text
                .rsplit_once(char::is_whitespace)
                .and_then(|(expr, word)| Job::parse(word).map(|job| (expr.trim(), job)))
                .ok_or_else(|| ScheduleError::MissingJob {
                    n,
                    entry: text.to_owned(),
                })?;
            let bad = |reason: String| ScheduleError::BadCron {
                n,
                entry: text.to_owned(),
                reason,
            };
            let cron: Cron = expr
                .parse()
                .map_err(|e: croner::errors::CronError| bad(e.to_string()))?;
            let probe = Utc::now().with_timezone(&default.tz);
            cron.find_next_occurrence(&probe, false)
                .map_err(|_| bad("it never matches".to_owned()))?;
            entries.push(Entry {
                job,
                trigger: Trigger::Cron(Box::new(cron)),
            });
        }
        if entries.is_empty() {
            return Err(ScheduleError::Empty);
        }
        Ok(Self {
            entries,
            tz: default.tz,
            retry_cap: default.retry_cap,
        })
    }

    /// When entry `i` first runs, for a scheduler started at `now`: an interval entry at
    /// once (a restart resumes from the watermark), a cron entry at its next match.
    #[must_use]
    pub fn first(&self, i: usize, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.entries.get(i).map(|e| &e.trigger) {
            Some(Trigger::Every(_) | Trigger::Fresh) => now,
            _ => self.next(i, now),
        }
    }

    /// When entry `i` runs next after a run (or a skip) at `after`; the freshness
    /// loop decides again at once (its decision says how long it waits).
    #[must_use]
    pub fn next(&self, i: usize, after: DateTime<Utc>) -> DateTime<Utc> {
        match self.entries.get(i).map(|e| &e.trigger) {
            Some(Trigger::Fresh) => after,
            Some(Trigger::Every(d)) => after + *d,
            Some(Trigger::Cron(cron)) => cron
                .find_next_occurrence(&after.with_timezone(&self.tz), false)
                .map_or(after + Duration::days(1), |t| t.with_timezone(&Utc)),
            None => after + Duration::days(1),
        }
    }

    /// The entry due first among `due` (one instant per entry); a tie goes to a
    /// comprehensive entry, which covers an incremental one.
    #[must_use]
    pub fn pick(&self, due: &[DateTime<Utc>]) -> Option<usize> {
        (0..due.len().min(self.entries.len())).min_by_key(|&i| {
            let comprehensive_first = u8::from(self.entries[i].job != Job::Comprehensive);
            (due[i], comprehensive_first)
        })
    }

    /// When to try again after `failures` failures in a row: 1 minute doubling, never
    /// later than the retry cap.
    #[must_use]
    pub fn retry_after(&self, failures: u32) -> Duration {
        let backoff =
            Duration::minutes(1) * 2_i32.saturating_pow(failures.saturating_sub(1).min(20));
        backoff.min(self.retry_cap)
    }

    /// One line per entry, for the log.
    #[must_use]
    pub fn describe(&self) -> String {
        self.entries
            .iter()
            .map(|e| match &e.trigger {
                Trigger::Fresh => format!("{} as each token of the quota comes due", e.job.name()),
                Trigger::Every(d) if d.num_seconds() % 60 == 0 => {
                    format!("{} every {} min", e.job.name(), d.num_minutes())
                }
                Trigger::Every(d) => format!("{} every {} s", e.job.name(), d.num_seconds()),
                Trigger::Cron(c) => format!("{} at \"{}\" ({})", e.job.name(), c.as_str(), self.tz),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const FIFTEEN: Duration = Duration::minutes(15);

    fn default_plan(tz: Tz) -> Schedule {
        Schedule::interval(FIFTEEN, 3, tz)
    }

    /// Every run of the plan strictly after `from` up to `to`, in order, as (UTC, job).
    fn runs(s: &Schedule, from: &str, to: &str) -> Vec<(DateTime<Utc>, Job)> {
        let (from, to) = (at(from), at(to));
        let mut due: Vec<_> = (0..s.entries.len()).map(|i| s.next(i, from)).collect();
        let mut out = Vec::new();
        while let Some(i) = s.pick(&due) {
            if due[i] > to {
                break;
            }
            out.push((due[i], s.entries[i].job));
            due[i] = s.next(i, due[i]);
        }
        out
    }

    fn comprehensive(s: &Schedule) -> usize {
        s.entries
            .iter()
            .position(|e| e.job == Job::Comprehensive)
            .unwrap()
    }

    #[test]
    fn the_comprehensive_sync_is_at_three_in_the_morning_of_the_sellers_day() {
        let s = default_plan(chrono_tz::America::Los_Angeles);
        let c = comprehensive(&s);
        // 2026-11-21 10:00 UTC is 02:00 in Los Angeles (PST, UTC-8): 03:00 PST is 11:00 UTC.
        assert_eq!(
            s.next(c, at("2026-11-21T10:00:00Z")),
            at("2026-11-21T11:00:00Z")
        );
        // Just after it, the next one is the following day.
        assert_eq!(
            s.next(c, at("2026-11-21T11:00:00Z")),
            at("2026-11-22T11:00:00Z")
        );
        // In summer (PDT, UTC-7) 03:00 is 10:00 UTC.
        assert_eq!(
            s.next(c, at("2026-07-01T00:00:00Z")),
            at("2026-07-01T10:00:00Z")
        );
    }

    #[test]
    fn a_comprehensive_hour_skipped_by_daylight_saving_still_runs_that_day() {
        let s = Schedule::interval(Duration::minutes(15), 2, chrono_tz::America::Los_Angeles);
        let c = comprehensive(&s);
        // 2026-03-08: clocks jump from 02:00 to 03:00 in Los Angeles; 03:00 PDT is 10:00 UTC.
        assert_eq!(
            s.next(c, at("2026-03-08T08:00:00Z")),
            at("2026-03-08T10:00:00Z")
        );
        // The next day is back at 02:00 local (09:00 UTC).
        assert_eq!(
            s.next(c, at("2026-03-08T10:00:00Z")),
            at("2026-03-09T09:00:00Z")
        );
    }

    #[test]
    fn a_comprehensive_hour_repeated_by_daylight_saving_runs_once() {
        let s = Schedule::interval(Duration::minutes(15), 1, chrono_tz::America::Los_Angeles);
        // 2026-11-01: 01:00-02:00 happens twice in Los Angeles (PDT then PST).
        let plan = runs(&s, "2026-11-01T06:00:00Z", "2026-11-01T12:00:00Z");
        let comprehensive: Vec<_> = plan
            .iter()
            .filter(|(_, j)| *j == Job::Comprehensive)
            .collect();
        assert_eq!(comprehensive.len(), 1, "{comprehensive:?}");
    }

    #[test]
    fn the_default_plan_runs_an_incremental_sync_at_once_then_every_interval() {
        let s = default_plan(chrono_tz::UTC);
        let now = at("2026-11-21T10:07:00Z");
        assert_eq!(s.first(0, now), now);
        assert_eq!(s.next(0, now), at("2026-11-21T10:22:00Z"));
        assert_eq!(s.first(comprehensive(&s), now), at("2026-11-22T03:00:00Z"));
    }

    #[test]
    fn the_seed_000_preset_is_that_documents_plan_in_the_sellers_time_zone() {
        let s =
            Schedule::parse("seed-000", default_plan(chrono_tz::Europe::Berlin), FIFTEEN).unwrap();
        // A winter day in Berlin (UTC+1): local hours 01 03 05 09 11 13 15 17 19 21.
        let plan = runs(&s, "2026-12-01T23:00:00Z", "2026-12-02T22:59:59Z");
        let local: Vec<(u32, Job)> = plan
            .iter()
            .map(|(t, j)| {
                use chrono::Timelike as _;
                (t.with_timezone(&chrono_tz::Europe::Berlin).hour(), *j)
            })
            .collect();
        let inc = Job::Incremental;
        assert_eq!(
            local,
            vec![
                (1, inc),
                (3, Job::Comprehensive),
                (5, inc),
                (9, inc),
                (11, inc),
                (13, inc),
                (15, inc),
                (17, inc),
                (19, inc),
                (21, inc),
            ]
        );
    }

    #[test]
    fn cron_entries_may_have_seconds_and_any_number_of_lines() {
        let s = Schedule::parse(
            "*/20 * * * * * incremental\n 30 4 * * SUN comprehensive ;",
            default_plan(chrono_tz::UTC),
            FIFTEEN,
        )
        .unwrap();
        assert_eq!(s.entries.len(), 2);
        assert_eq!(
            s.next(0, at("2026-11-21T10:00:05Z")),
            at("2026-11-21T10:00:20Z")
        );
        // 2026-11-22 is a Sunday.
        assert_eq!(
            s.next(1, at("2026-11-21T10:00:00Z")),
            at("2026-11-22T04:30:00Z")
        );
    }

    #[test]
    fn the_listings_jobs_run_at_once_then_every_interval_and_in_full_daily() {
        let s = default_plan(chrono_tz::UTC).with_listings(Duration::minutes(60), 4);
        let listings = s.entries.len() - 2;
        assert_eq!(s.entries[listings].job, Job::Listings);
        assert_eq!(s.entries[listings + 1].job, Job::ListingsFull);
        let start = at("2026-11-21T10:00:00Z");
        assert_eq!(s.first(listings, start), start);
        assert_eq!(s.next(listings, start), at("2026-11-21T11:00:00Z"));
        assert_eq!(s.next(listings + 1, start), at("2026-11-22T04:30:00Z"));
        assert!(Job::ListingsFull.covers(Job::Listings));
        assert!(!Job::Listings.is_orders());
        let parsed = Schedule::parse(
            "0 * * * * listings; 30 4 * * * listings-full",
            s.clone(),
            FIFTEEN,
        );
        assert_eq!(parsed.unwrap().entries.len(), 2);
    }

    #[test]
    fn a_bad_schedule_says_which_entry_and_why() {
        let d = || default_plan(chrono_tz::UTC);
        let e = Schedule::parse(
            "0 3 * * * comprehensive; 0 25 * * * incremental",
            d(),
            FIFTEEN,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("entry 2 (\"0 25 * * * incremental\")"), "{e}");
        let e = Schedule::parse("0 3 * * *", d(), FIFTEEN)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must end with the job to run"), "{e}");
        assert!(matches!(
            Schedule::parse(" ; ", d(), FIFTEEN),
            Err(ScheduleError::Empty)
        ));
        let e = Schedule::parse("0 0 31 2 * incremental", d(), FIFTEEN)
            .unwrap_err()
            .to_string();
        assert!(e.contains("never matches"), "{e}");
    }

    #[test]
    fn whichever_job_is_due_first_runs_first_and_a_tie_goes_to_the_comprehensive_one() {
        let s = default_plan(chrono_tz::UTC);
        let t = at("2026-11-21T11:00:00Z");
        assert_eq!(s.pick(&[t, t]), Some(1));
        assert_eq!(s.pick(&[t, t + Duration::minutes(1)]), Some(0));
    }

    #[test]
    fn the_default_plan_is_the_freshness_loop_and_interval_brings_back_the_period() {
        let fresh = Schedule::fresh(FIFTEEN, 3, chrono_tz::UTC);
        assert!(fresh.is_fresh(0));
        let now = at("2026-11-21T10:07:00Z");
        // It decides at once, and again right after each run.
        assert_eq!(fresh.first(0, now), now);
        assert_eq!(fresh.next(0, now), now);
        assert!(fresh.describe().starts_with("incremental as each token"));
        let fresh = fresh.with_inventory(Duration::hours(1), 4);
        let every = Schedule::parse("interval", fresh.clone(), Duration::minutes(5)).unwrap();
        assert!(!every.is_fresh(0));
        assert_eq!(every.next(0, now), at("2026-11-21T10:12:00Z"));
        assert_eq!(every.entries.len(), 4, "the other datasets' jobs stay");
        for spec in ["default", "fresh"] {
            let same = Schedule::parse(spec, fresh.clone(), FIFTEEN).unwrap();
            assert!(same.is_fresh(0));
        }
        let seed = Schedule::parse("seed-000", fresh, FIFTEEN).unwrap();
        assert!(!(0..seed.entries.len()).any(|i| seed.is_fresh(i)));
    }

    #[test]
    fn retries_back_off_from_a_minute_up_to_the_interval() {
        let s = default_plan(chrono_tz::UTC);
        assert_eq!(s.retry_after(1), Duration::minutes(1));
        assert_eq!(s.retry_after(2), Duration::minutes(2));
        assert_eq!(s.retry_after(4), Duration::minutes(8));
        assert_eq!(s.retry_after(5), Duration::minutes(15));
        assert_eq!(s.retry_after(60), Duration::minutes(15));
    }
}
