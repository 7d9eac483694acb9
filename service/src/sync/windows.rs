//! Which stretch of "last updated" time a run reads, and in which windows: pure
//! functions of Amazon's clock, the stored watermark and the settings, so every
//! dataset plans the same way and the plan is tested without a database.
//!
//! A run reads from the watermark minus an overlap (late-arriving updates), or
//! from `since` when asked, or, the first time, from the look-back; it stops
//! at Amazon's now minus its two-minute lag and a margin. The stretch is cut into
//! windows of at most `max_window`, each committed (and the watermark moved) as
//! one unit.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Amazon refuses windows ending later than its now minus two minutes.
pub const AMAZON_LAG: Duration = Duration::from_secs(120);

/// Where a run's reading starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The first instant read.
    pub start: DateTime<Utc>,
    /// The instant reading stops (exclusive); never before `start`.
    pub end: DateTime<Utc>,
}

/// How far back and how close to now a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// How far before the watermark a run starts again.
    pub overlap: Duration,
    /// How far back the first run (no watermark) looks.
    pub first_lookback: Duration,
    /// Extra distance from Amazon's "now minus two minutes".
    pub end_margin: Duration,
}

/// The span a run reads, given Amazon's clock, an explicit start and the stored
/// watermark (in that order of precedence).
#[must_use]
pub fn span(
    amazon_now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    watermark: Option<DateTime<Utc>>,
    reach: Reach,
) -> Span {
    let end = amazon_now - chrono_dur(AMAZON_LAG) - chrono_dur(reach.end_margin);
    let start = match (since, watermark) {
        (Some(since), _) => since,
        (None, Some(mark)) => mark - chrono_dur(reach.overlap),
        (None, None) => end - chrono_dur(reach.first_lookback),
    };
    Span {
        start,
        end: end.max(start),
    }
}

/// `span` cut into consecutive windows of at most `max_window` (none when empty).
#[must_use]
pub fn windows(span: Span, max_window: Duration) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let step = chrono_dur(max_window).max(chrono::Duration::seconds(1));
    let mut out = Vec::new();
    let mut from = span.start;
    while from < span.end {
        let to = from
            .checked_add_signed(step)
            .map_or(span.end, |t| t.min(span.end));
        out.push((from, to));
        from = to;
    }
    out
}

/// A std duration as chrono's (saturating).
#[must_use]
pub fn chrono_dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);
    const DAY: Duration = Duration::from_secs(86_400);

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap_or_default()
    }

    fn reach() -> Reach {
        Reach {
            overlap: 5 * MIN,
            first_lookback: DAY,
            end_margin: MIN / 2,
        }
    }

    #[test]
    fn a_first_run_looks_back_and_stops_short_of_amazons_lag_and_the_margin() {
        let s = span(t(10_000), None, None, reach());
        assert_eq!(s.end, t(10_000) - chrono::Duration::seconds(150));
        assert_eq!(s.start, s.end - chrono::Duration::days(1));
    }

    #[test]
    fn a_later_run_starts_an_overlap_before_the_watermark_and_since_overrides_both() {
        assert_eq!(
            span(t(10_000), None, Some(t(9_000)), reach()).start,
            t(8_995)
        );
        assert_eq!(
            span(t(10_000), Some(t(100)), Some(t(9_000)), reach()).start,
            t(100)
        );
    }

    #[test]
    fn a_watermark_in_the_future_reads_nothing() {
        let s = span(t(10_000), None, Some(t(20_000)), reach());
        assert_eq!(s.start, s.end);
        assert!(windows(s, DAY).is_empty());
    }

    #[test]
    fn windows_cover_the_span_end_to_end_none_wider_than_the_maximum() {
        let s = Span {
            start: t(0),
            end: t(25 * 60),
        };
        let w = windows(s, 10 * 60 * MIN);
        assert_eq!(
            w,
            vec![(t(0), t(600)), (t(600), t(1_200)), (t(1_200), t(1_500))]
        );
    }
}
