//! The worker section: when the scheduler runs which sync, in the seller's time
//! zone (the worker reads and checks `SYNC_SCHEDULE` itself).

use super::{ConfigError, Get, parse_u64_in};

/// The worker's default plan and its time zone.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `SYNC_INTERVAL_MINUTES`: the incremental orders sync period (default 15).
    /// `SYNC_INTERVAL_SECS`, when set, overrides it with seconds (chaos and soak runs).
    pub sync_interval: std::time::Duration,
    /// `COMPREHENSIVE_SYNC_HOUR`: hour of the day (0-23, in `SELLER_TIMEZONE`) of the
    /// daily re-sync of the last 48 hours (default 3).
    pub comprehensive_sync_hour: u32,
    /// `INVENTORY_INTERVAL_MINUTES`: the incremental FBA inventory sync period in the
    /// default plan (default 60; 0 turns the inventory jobs off).
    /// `INVENTORY_INTERVAL_SECS`, when set, overrides it with seconds (chaos runs).
    pub inventory_interval: Option<std::time::Duration>,
    /// `INVENTORY_FULL_SYNC_HOUR`: hour of the day (0-23, in `SELLER_TIMEZONE`) of the
    /// daily full inventory scan in the default plan (default 4).
    pub inventory_full_sync_hour: u32,
    /// `TRANSACTIONS_INTERVAL_MINUTES`: the financial transactions sync period in the
    /// default plan (default 60; 0 turns the transactions jobs off).
    /// `TRANSACTIONS_INTERVAL_SECS`, when set, overrides it with seconds (chaos runs).
    pub transactions_interval: Option<std::time::Duration>,
    /// `LISTINGS_INTERVAL_MINUTES`: the incremental listings sync period in the default
    /// plan (default 60; 0 turns the listings jobs off); a full listings sync runs
    /// daily at `INVENTORY_FULL_SYNC_HOUR`.
    /// `LISTINGS_INTERVAL_SECS`, when set, overrides it with seconds (chaos runs).
    pub listings_interval: Option<std::time::Duration>,
    /// `TRANSACTIONS_REPULL_DAYS`: how far back the weekly re-pull of transactions
    /// reads (default 30), catching status changes such as DEFERRED to RELEASED.
    pub transactions_repull_days: u32,
    /// `TRANSACTIONS_REPULL_SCHEDULE`: when the re-pull runs, a cron expression in
    /// `SELLER_TIMEZONE` (default `0 5 * * SUN`: Sundays at 05:00; the worker checks it).
    pub transactions_repull_schedule: String,
    /// `SELLER_TIMEZONE`: the seller's IANA time zone for the daily schedule (default UTC).
    pub seller_timezone: chrono_tz::Tz,
    /// `SYNC_SCHEDULE`: the plan instead of the default (the freshness loop):
    /// `interval` (every `SYNC_INTERVAL_MINUTES`), `seed-000`, or cron entries such as
    /// `0 */2 * * * incremental; 0 3 * * * comprehensive`.
    pub sync_schedule: Option<String>,
    /// `FRESHNESS_RESERVE`: the fraction of the orders search bucket the freshness
    /// loop leaves to comprehensive, manual and CLI runs (0 to 0.9, default 0.25).
    pub freshness_reserve: f64,
}

impl WorkerSettings {
    /// Reads the section.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable that cannot be used.
    pub fn load(get: Get<'_>) -> Result<Self, ConfigError> {
        let sync_interval = match get("SYNC_INTERVAL_SECS") {
            Some(secs) => std::time::Duration::from_secs(parse_u64_in(
                "SYNC_INTERVAL_SECS",
                Some(secs),
                900,
                1..=24 * 3600,
            )?),
            None => std::time::Duration::from_secs(
                60 * parse_u64_in(
                    "SYNC_INTERVAL_MINUTES",
                    get("SYNC_INTERVAL_MINUTES"),
                    15,
                    1..=24 * 60,
                )?,
            ),
        };
        let comprehensive_sync_hour = u32::try_from(parse_u64_in(
            "COMPREHENSIVE_SYNC_HOUR",
            get("COMPREHENSIVE_SYNC_HOUR"),
            3,
            0..=23,
        )?)
        .unwrap_or(3);
        let inventory_interval = match get("INVENTORY_INTERVAL_SECS") {
            Some(secs) => Some(std::time::Duration::from_secs(parse_u64_in(
                "INVENTORY_INTERVAL_SECS",
                Some(secs),
                3600,
                1..=24 * 3600,
            )?)),
            None => match parse_u64_in(
                "INVENTORY_INTERVAL_MINUTES",
                get("INVENTORY_INTERVAL_MINUTES"),
                60,
                0..=24 * 60,
            )? {
                0 => None,
                minutes => Some(std::time::Duration::from_secs(60 * minutes)),
            },
        };
        let listings_interval = match get("LISTINGS_INTERVAL_SECS") {
            Some(secs) => Some(std::time::Duration::from_secs(parse_u64_in(
                "LISTINGS_INTERVAL_SECS",
                Some(secs),
                3600,
                1..=24 * 3600,
            )?)),
            None => match parse_u64_in(
                "LISTINGS_INTERVAL_MINUTES",
                get("LISTINGS_INTERVAL_MINUTES"),
                60,
                0..=24 * 60,
            )? {
                0 => None,
                minutes => Some(std::time::Duration::from_secs(60 * minutes)),
            },
        };
        let inventory_full_sync_hour = u32::try_from(parse_u64_in(
            "INVENTORY_FULL_SYNC_HOUR",
            get("INVENTORY_FULL_SYNC_HOUR"),
            4,
            0..=23,
        )?)
        .unwrap_or(4);
        let transactions_interval = match get("TRANSACTIONS_INTERVAL_SECS") {
            Some(secs) => Some(std::time::Duration::from_secs(parse_u64_in(
                "TRANSACTIONS_INTERVAL_SECS",
                Some(secs),
                3600,
                1..=24 * 3600,
            )?)),
            None => match parse_u64_in(
                "TRANSACTIONS_INTERVAL_MINUTES",
                get("TRANSACTIONS_INTERVAL_MINUTES"),
                60,
                0..=24 * 60,
            )? {
                0 => None,
                minutes => Some(std::time::Duration::from_secs(60 * minutes)),
            },
        };
        let transactions_repull_days = u32::try_from(parse_u64_in(
            "TRANSACTIONS_REPULL_DAYS",
            get("TRANSACTIONS_REPULL_DAYS"),
            30,
            3..=180,
        )?)
        .unwrap_or(30);
        let transactions_repull_schedule = get("TRANSACTIONS_REPULL_SCHEDULE")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "0 5 * * SUN".to_owned());
        let seller_timezone = match get("SELLER_TIMEZONE") {
            None => chrono_tz::UTC,
            Some(name) => name.parse().map_err(|_| ConfigError::Invalid {
                var: "SELLER_TIMEZONE",
                reason: format!("{name:?} is not an IANA time zone such as America/Los_Angeles"),
            })?,
        };

        let sync_schedule = get("SYNC_SCHEDULE").filter(|s| !s.trim().is_empty());
        let freshness_reserve = match get("FRESHNESS_RESERVE") {
            None => 0.25,
            Some(text) => match text.trim().parse::<f64>() {
                Ok(f) if (0.0..=0.9).contains(&f) => f,
                _ => {
                    return Err(ConfigError::Invalid {
                        var: "FRESHNESS_RESERVE",
                        reason: format!(
                            "{text:?} is not a fraction of the burst from 0 to 0.9, such as 0.25 (a quarter)"
                        ),
                    });
                }
            },
        };

        Ok(Self {
            sync_interval,
            comprehensive_sync_hour,
            inventory_interval,
            inventory_full_sync_hour,
            transactions_interval,
            listings_interval,
            transactions_repull_days,
            transactions_repull_schedule,
            seller_timezone,
            sync_schedule,
            freshness_reserve,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<WorkerSettings, ConfigError> {
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        WorkerSettings::load(&get)
    }

    #[test]
    fn the_default_plan_syncs_orders_every_15_minutes_and_stock_every_hour_in_utc() {
        let w = load(&[]).unwrap();
        assert_eq!(w.sync_interval.as_secs(), 900);
        assert_eq!(w.inventory_interval.map(|d| d.as_secs()), Some(3600));
        assert_eq!(
            (w.comprehensive_sync_hour, w.inventory_full_sync_hour),
            (3, 4)
        );
        assert_eq!(w.seller_timezone, chrono_tz::UTC);
    }

    #[test]
    fn seconds_override_minutes_and_zero_turns_the_inventory_off() {
        let w = load(&[
            ("SYNC_INTERVAL_SECS", "2"),
            ("INVENTORY_INTERVAL_MINUTES", "0"),
        ])
        .unwrap();
        assert_eq!(w.sync_interval.as_secs(), 2);
        assert_eq!(w.inventory_interval, None);
        let e = load(&[("SELLER_TIMEZONE", "Mars/Olympus")]).unwrap_err();
        assert!(e.to_string().starts_with("SELLER_TIMEZONE:"), "{e}");
    }

    #[test]
    fn the_freshness_reserve_is_a_quarter_unless_a_fraction_says_otherwise() {
        assert!((load(&[]).unwrap().freshness_reserve - 0.25).abs() < 1e-9);
        let w = load(&[("FRESHNESS_RESERVE", "0.5")]).unwrap();
        assert!((w.freshness_reserve - 0.5).abs() < 1e-9);
        let e = load(&[("FRESHNESS_RESERVE", "25%")]).unwrap_err();
        assert!(e.to_string().starts_with("FRESHNESS_RESERVE:"), "{e}");
        assert!(load(&[("FRESHNESS_RESERVE", "1")]).is_err());
    }
}
