//! The sync section: the lease, the first look-back, the client's timings and
//! where it may send the credentials ([`crate::sync::SyncConfig`]).

use super::{AppEnv, ConfigError, Get, parse_bool, parse_u64_in};

/// Reads the sync section; production defaults for what is not set.
///
/// # Errors
/// A [`ConfigError`] naming the first variable that cannot be used.
pub fn load(get: Get<'_>, app_env: AppEnv) -> Result<crate::sync::SyncConfig, ConfigError> {
    let defaults = crate::sync::SyncConfig::default();
    let sync = crate::sync::SyncConfig {
        lease_ttl: std::time::Duration::from_secs(parse_u64_in(
            "SYNC_LEASE_TTL_SECS",
            get("SYNC_LEASE_TTL_SECS"),
            defaults.lease_ttl.as_secs(),
            3..=3600,
        )?),
        request_timeout: std::time::Duration::from_millis(parse_u64_in(
            "SPAPI_REQUEST_TIMEOUT_MS",
            get("SPAPI_REQUEST_TIMEOUT_MS"),
            u64::try_from(defaults.request_timeout.as_millis()).unwrap_or(60_000),
            100..=600_000,
        )?),
        retry_base_delay: std::time::Duration::from_millis(parse_u64_in(
            "SPAPI_RETRY_BASE_MS",
            get("SPAPI_RETRY_BASE_MS"),
            u64::try_from(defaults.retry_base_delay.as_millis()).unwrap_or(500),
            1..=60_000,
        )?),
        first_lookback: std::time::Duration::from_secs(
            24 * 3600
                * parse_u64_in(
                    "SYNC_FIRST_LOOKBACK_DAYS",
                    get("SYNC_FIRST_LOOKBACK_DAYS"),
                    defaults.first_lookback.as_secs() / (24 * 3600),
                    1..=730,
                )?,
        ),
        endpoints: endpoint_policy(app_env, get("SPAPI_ALLOW_CUSTOM_ENDPOINTS"))?,
        listings_apply_timeout: std::time::Duration::from_secs(
            60 * parse_u64_in(
                "LISTINGS_APPLY_TIMEOUT_MINUTES",
                get("LISTINGS_APPLY_TIMEOUT_MINUTES"),
                defaults.listings_apply_timeout.as_secs() / 60,
                1..=24 * 60,
            )?,
        ),
        listings_poll_interval: std::time::Duration::from_secs(parse_u64_in(
            "LISTINGS_POLL_SECS",
            get("LISTINGS_POLL_SECS"),
            defaults.listings_poll_interval.as_secs(),
            1..=3600,
        )?),
        listings_feed_threshold: usize::try_from(parse_u64_in(
            "LISTINGS_FEED_THRESHOLD",
            get("LISTINGS_FEED_THRESHOLD"),
            defaults.listings_feed_threshold as u64,
            1..=1_000_000,
        )?)
        .unwrap_or(defaults.listings_feed_threshold),
        listings_feed_stuck_after: std::time::Duration::from_secs(
            60 * parse_u64_in(
                "LISTINGS_FEED_STUCK_MINUTES",
                get("LISTINGS_FEED_STUCK_MINUTES"),
                defaults.listings_feed_stuck_after.as_secs() / 60,
                10..=7 * 24 * 60,
            )?,
        ),
        ..defaults
    };
    Ok(sync)
}

/// `SPAPI_ALLOW_CUSTOM_ENDPOINTS`: whether a connection may name its own SP-API
/// endpoint and LWA token URL (a simulator). Production refuses it: the stored
/// credentials go to Amazon's hosts only.
fn endpoint_policy(
    app_env: AppEnv,
    value: Option<String>,
) -> Result<crate::spapi::EndpointPolicy, ConfigError> {
    const VAR: &str = "SPAPI_ALLOW_CUSTOM_ENDPOINTS";
    match parse_bool(VAR, value, false)? {
        false => Ok(crate::spapi::EndpointPolicy::AmazonOnly),
        true if app_env == AppEnv::Production => Err(ConfigError::Invalid {
            var: VAR,
            reason: "custom SP-API endpoints are refused when APP_ENV=production: the \
                     credentials go to Amazon's hosts only (remove the variable)"
                .to_owned(),
        }),
        true => Ok(crate::spapi::EndpointPolicy::AllowCustom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(
        env: AppEnv,
        vars: &[(&str, &str)],
    ) -> Result<crate::sync::SyncConfig, ConfigError> {
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        load(&get, env)
    }

    #[test]
    fn unset_knobs_keep_production_defaults_and_set_ones_change_only_themselves() {
        assert_eq!(
            load_with(AppEnv::Development, &[]).unwrap(),
            crate::sync::SyncConfig::default()
        );
        let c = load_with(AppEnv::Development, &[("SYNC_LEASE_TTL_SECS", "5")]).unwrap();
        assert_eq!(c.lease_ttl.as_secs(), 5);
        assert_eq!(c.overlap, crate::sync::SyncConfig::default().overlap);
    }

    #[test]
    fn custom_endpoints_are_refused_in_production() {
        let e = load_with(
            AppEnv::Production,
            &[("SPAPI_ALLOW_CUSTOM_ENDPOINTS", "true")],
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("SPAPI_ALLOW_CUSTOM_ENDPOINTS:"),
            "{e}"
        );
    }
}
