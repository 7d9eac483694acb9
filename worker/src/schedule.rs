//! When the scheduler runs what: an incremental sync every interval, and a daily
//! comprehensive re-sync of the last 48 hours at a fixed hour of the seller's day.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;

/// The two kinds of scheduled sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// From the watermark (minus the overlap) to now.
    Incremental,
    /// The last 48 hours again, whatever the watermark says.
    Comprehensive,
}

/// How far back the daily comprehensive sync reaches.
pub const COMPREHENSIVE_SPAN: Duration = Duration::hours(48);

/// The schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Period of the incremental sync.
    pub interval: Duration,
    /// Hour of the seller's day for the comprehensive sync.
    pub comprehensive_hour: u32,
    /// The seller's time zone.
    pub tz: Tz,
}

impl Schedule {
    /// The first comprehensive instant strictly after `after`, at the configured hour
    /// of the seller's local day. A local hour skipped by a DST change falls to the
    /// next existing instant; a repeated one takes its first occurrence.
    #[must_use]
    pub fn next_comprehensive(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let local_day = after.with_timezone(&self.tz).date_naive();
        for offset in 0..=2 {
            let day = local_day + Duration::days(offset);
            let Some(naive) = day.and_hms_opt(self.comprehensive_hour, 0, 0) else {
                continue;
            };
            let candidate = match self.tz.from_local_datetime(&naive) {
                chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t,
                chrono::LocalResult::None => {
                    match self.tz.from_local_datetime(&(naive + Duration::hours(1))) {
                        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t,
                        chrono::LocalResult::None => continue,
                    }
                }
            }
            .with_timezone(&Utc);
            if candidate > after {
                return candidate;
            }
        }
        after + Duration::days(1)
    }

    /// Which job is due first, and when.
    #[must_use]
    pub fn next_job(
        next_incremental: DateTime<Utc>,
        next_comprehensive: DateTime<Utc>,
    ) -> (DateTime<Utc>, Job) {
        if next_comprehensive <= next_incremental {
            (next_comprehensive, Job::Comprehensive)
        } else {
            (next_incremental, Job::Incremental)
        }
    }

    /// When to try again after `failures` failures in a row: 1 minute doubling, never
    /// later than the regular interval.
    #[must_use]
    pub fn retry_after(&self, failures: u32) -> Duration {
        let backoff =
            Duration::minutes(1) * 2_i32.saturating_pow(failures.saturating_sub(1).min(20));
        backoff.min(self.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule(tz: Tz) -> Schedule {
        Schedule {
            interval: Duration::minutes(15),
            comprehensive_hour: 3,
            tz,
        }
    }

    #[test]
    fn the_comprehensive_sync_is_at_three_in_the_morning_of_the_sellers_day() {
        let s = schedule(chrono_tz::America::Los_Angeles);
        // 2026-11-21 10:00 UTC is 02:00 in Los Angeles (PST, UTC-8): 03:00 PST is 11:00 UTC.
        assert_eq!(
            s.next_comprehensive(at("2026-11-21T10:00:00Z")),
            at("2026-11-21T11:00:00Z")
        );
        // Just after it, the next one is the following day.
        assert_eq!(
            s.next_comprehensive(at("2026-11-21T11:00:00Z")),
            at("2026-11-22T11:00:00Z")
        );
        // In summer (PDT, UTC-7) 03:00 is 10:00 UTC.
        assert_eq!(
            s.next_comprehensive(at("2026-07-01T00:00:00Z")),
            at("2026-07-01T10:00:00Z")
        );
    }

    #[test]
    fn a_comprehensive_hour_skipped_by_daylight_saving_still_runs_that_day() {
        let s = Schedule {
            comprehensive_hour: 2,
            ..schedule(chrono_tz::America::Los_Angeles)
        };
        // 2026-03-08: clocks jump from 02:00 to 03:00 in Los Angeles.
        let next = s.next_comprehensive(at("2026-03-08T08:00:00Z"));
        assert_eq!(next, at("2026-03-08T10:00:00Z"));
    }

    #[test]
    fn whichever_job_is_due_first_runs_first_and_a_tie_goes_to_the_comprehensive_one() {
        let t = at("2026-11-21T11:00:00Z");
        assert_eq!(Schedule::next_job(t, t).1, Job::Comprehensive);
        assert_eq!(
            Schedule::next_job(t, t + Duration::minutes(1)),
            (t, Job::Incremental)
        );
    }

    #[test]
    fn retries_back_off_from_a_minute_up_to_the_interval() {
        let s = schedule(chrono_tz::UTC);
        assert_eq!(s.retry_after(1), Duration::minutes(1));
        assert_eq!(s.retry_after(2), Duration::minutes(2));
        assert_eq!(s.retry_after(4), Duration::minutes(8));
        assert_eq!(s.retry_after(5), Duration::minutes(15));
        assert_eq!(s.retry_after(60), Duration::minutes(15));
    }
}
