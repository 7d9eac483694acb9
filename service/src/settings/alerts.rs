//! The alerts section: the monitor's thresholds, the stock thresholds and the
//! webhook ([`crate::monitor::AlertSettings`]; its `Debug` hides the webhook URL).

use super::{ConfigError, Get, parse_u64_in};

/// Reads the alerts section.
///
/// # Errors
/// A [`ConfigError`] naming the first variable that cannot be used.
pub fn load(get: Get<'_>) -> Result<crate::monitor::AlertSettings, ConfigError> {
    let alerts = crate::monitor::AlertSettings {
        no_order_after: chrono::Duration::hours(
            i64::try_from(parse_u64_in(
                "ALERT_NO_ORDER_HOURS",
                get("ALERT_NO_ORDER_HOURS"),
                24,
                1..=24 * 30,
            )?)
            .unwrap_or(24),
        ),
        freshness_slo: chrono::Duration::minutes(
            i64::try_from(parse_u64_in(
                "ALERT_FRESHNESS_MINUTES",
                get("ALERT_FRESHNESS_MINUTES"),
                30,
                1..=24 * 60,
            )?)
            .unwrap_or(30),
        ),
        failures_in_a_row: u32::try_from(parse_u64_in(
            "ALERT_FAILURES_IN_A_ROW",
            get("ALERT_FAILURES_IN_A_ROW"),
            3,
            1..=100,
        )?)
        .unwrap_or(3),
        throttled_per_day: parse_u64_in(
            "ALERT_THROTTLED_PER_DAY",
            get("ALERT_THROTTLED_PER_DAY"),
            10,
            1..=1_000_000,
        )?,
        webhook_url: match get("ALERT_WEBHOOK_URL") {
            None => None,
            Some(u) => Some(
                url::Url::parse(&u)
                    .ok()
                    .filter(|p| matches!(p.scheme(), "http" | "https"))
                    .ok_or_else(|| ConfigError::Invalid {
                        var: "ALERT_WEBHOOK_URL",
                        reason: format!("{u:?} is not an http(s) URL"),
                    })?
                    .to_string(),
            ),
        },
        stock: crate::inventory::StockSettings {
            velocity_days: u32::try_from(parse_u64_in(
                "STOCK_VELOCITY_DAYS",
                get("STOCK_VELOCITY_DAYS"),
                28,
                1..=365,
            )?)
            .unwrap_or(28),
            alert_days: u32::try_from(parse_u64_in(
                "ALERT_STOCK_DAYS",
                get("ALERT_STOCK_DAYS"),
                14,
                0..=365,
            )?)
            .unwrap_or(14),
            alert_units: match get("ALERT_STOCK_UNITS") {
                None => None,
                Some(v) => Some(
                    i64::try_from(parse_u64_in(
                        "ALERT_STOCK_UNITS",
                        Some(v),
                        0,
                        0..=1_000_000,
                    )?)
                    .unwrap_or(0),
                ),
            },
        },
        reconciliation: crate::finances::views::Reconciliation {
            settle_within: chrono::Duration::days(
                i64::try_from(parse_u64_in(
                    "RECONCILE_AFTER_DAYS",
                    get("RECONCILE_AFTER_DAYS"),
                    14,
                    1..=365,
                )?)
                .unwrap_or(14),
            ),
        },
    };

    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(vars: &[(&str, &str)]) -> Result<crate::monitor::AlertSettings, ConfigError> {
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        load(&get)
    }

    #[test]
    fn stock_thresholds_default_to_28_days_of_sales_and_14_days_of_cover() {
        let a = load_with(&[]).unwrap();
        assert_eq!(a.stock, crate::inventory::StockSettings::default());
        let a = load_with(&[("ALERT_STOCK_UNITS", "5"), ("STOCK_VELOCITY_DAYS", "7")]).unwrap();
        assert_eq!((a.stock.alert_units, a.stock.velocity_days), (Some(5), 7));
        let e = load_with(&[("STOCK_VELOCITY_DAYS", "0")]).unwrap_err();
        assert!(e.to_string().starts_with("STOCK_VELOCITY_DAYS:"), "{e}");
    }

    #[test]
    fn a_webhook_that_is_not_http_is_refused_and_a_good_one_never_shows() {
        let e = load_with(&[("ALERT_WEBHOOK_URL", "file:///etc/passwd")]).unwrap_err();
        assert!(e.to_string().starts_with("ALERT_WEBHOOK_URL:"), "{e}");
        let a = load_with(&[("ALERT_WEBHOOK_URL", "https://hooks.example/T0/secret")]).unwrap();
        assert!(!format!("{a:?}").contains("secret"));
    }
}
