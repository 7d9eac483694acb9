//! [`Settings`]: every knob of the application in one typed struct, loaded once by
//! each binary's `main` and passed down.
//!
//! Values come from a lookup function (the binaries pass the process environment,
//! after reading an optional `.env`); library code never reads the environment
//! itself, so tests build settings from a plain map.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::SecretString;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the application runs. Production refuses to invent secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// A developer's machine (the default).
    Development,
    /// Automated tests.
    Test,
    /// A real deployment: every secret must be given.
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

use crate::amazon_account::EncryptionKey;

/// Everything the binaries and the service need to know. Its `Debug` hides every
/// secret: the database password, the keys, the metrics token, the webhook URL.
pub struct Settings {
    /// `APP_ENV`: development (default), test or production.
    pub app_env: AppEnv,
    /// `DATA_DIR`: where the embedded database and generated secrets live (default `./data`).
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `postgres://…` or `sqlite://…` (default: SQLite file in the data dir).
    pub database_url: String,
    /// `API_ADDR`: where the api listens (default 127.0.0.1:8080).
    pub api_addr: SocketAddr,
    /// `APP_ENCRYPTION_KEY`: base64 of 32 bytes.
    pub encryption_key: EncryptionKey,
    /// `JWT_SECRET`: at least 32 bytes.
    pub jwt_secret: SecretString,
    /// `RUN_MIGRATIONS`: apply pending migrations at start-up (default true).
    pub run_migrations: bool,
    /// `LOG_FORMAT`: text (default) or json.
    pub log_format: LogFormat,
    /// `AUTH_TOKEN_TTL_SECS`: how long a sign-in token is valid (default 2 hours).
    pub auth_token_ttl: std::time::Duration,
    /// The sign-in throttle: `LOGIN_FREE_ATTEMPTS`, `LOGIN_DELAY_MS`,
    /// `LOGIN_MAX_DELAY_MS`, `LOGIN_LOCKOUT_AFTER`, `LOGIN_LOCKOUT_SECS`,
    /// `LOGIN_PER_EMAIL_PER_MINUTE`, `LOGIN_PER_ADDRESS_PER_MINUTE`, `LOGIN_PER_MINUTE`
    /// (defaults in [`crate::auth::LoginLimits`]).
    pub login: crate::auth::LoginLimits,
    /// `SYNC_INTERVAL_MINUTES`: the worker's incremental orders sync period (default 15).
    /// `SYNC_INTERVAL_SECS`, when set, overrides it with seconds (chaos and soak runs).
    pub sync_interval: std::time::Duration,
    /// How far back the worker's first sync looks (`SYNC_FIRST_LOOKBACK_DAYS`, default
    /// 30) and how its syncs hold the lease and call Amazon: production defaults unless
    /// the `SYNC_LEASE_TTL_SECS`, `SPAPI_REQUEST_TIMEOUT_MS` or `SPAPI_RETRY_BASE_MS`
    /// knobs (meant for tests on a time-compressed simulator) are set.
    pub sync: crate::sync::SyncConfig,
    /// `COMPREHENSIVE_SYNC_HOUR`: hour of the day (0-23, in `SELLER_TIMEZONE`) of the
    /// daily re-sync of the last 48 hours (default 3).
    pub comprehensive_sync_hour: u32,
    /// `INVENTORY_INTERVAL_MINUTES`: the worker's incremental FBA inventory sync
    /// period in the default plan (default 60; 0 turns the inventory jobs off).
    /// `INVENTORY_INTERVAL_SECS`, when set, overrides it with seconds (chaos runs).
    pub inventory_interval: Option<std::time::Duration>,
    /// `INVENTORY_FULL_SYNC_HOUR`: hour of the day (0-23, in `SELLER_TIMEZONE`) of the
    /// daily full inventory scan in the default plan (default 4).
    pub inventory_full_sync_hour: u32,
    /// `SELLER_TIMEZONE`: the seller's IANA time zone for the daily schedule (default UTC).
    pub seller_timezone: chrono_tz::Tz,
    /// `SYNC_SCHEDULE`: the worker's plan instead of the interval above: `seed-000`, or
    /// cron entries such as `0 */2 * * * incremental; 0 3 * * * comprehensive` (read
    /// and checked by the worker, which owns the schedule).
    pub sync_schedule: Option<String>,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins (e.g. `https://admin.example.com`)
    /// allowed to call the api from a browser; none by default (same origin only).
    pub cors_allowed_origins: Vec<String>,
    /// The sync monitor's alert thresholds and webhook.
    pub alerts: crate::monitor::AlertSettings,
    /// `GRAPHIQL`: serve the GraphiQL explorer at `GET /graphql` (default: on,
    /// except in production).
    pub graphiql: bool,
    /// `GRAPHQL_INTROSPECTION`: answer `__schema` and `__type` queries (default: on,
    /// except in production).
    pub graphql_introspection: bool,
    /// `METRICS_TOKEN`: the bearer token `GET /metrics` requires (at least 16
    /// characters). Without one, `/metrics` answers 404.
    pub metrics_token: Option<SecretString>,
    /// What loading did on its own (secrets it generated), for `main` to log.
    pub notices: Vec<String>,
}

/// A setting that cannot be used, named so the operator knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{var}: {reason}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A secret is missing where it may not be generated.
    #[error("{var} is required when APP_ENV=production ({hint})")]
    MissingInProduction {
        /// The environment variable.
        var: &'static str,
        /// How to make one.
        hint: &'static str,
    },
    /// A generated secret could not be read or written.
    #[error("{var}: cannot use {path}: {source}")]
    SecretFile {
        /// The environment variable the file stands in for.
        var: &'static str,
        /// The file.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
}

const KEY_FILE: &str = "encryption.key";
const JWT_FILE: &str = "jwt.secret";
const MIN_JWT_SECRET_BYTES: usize = 32;
const DEFAULT_TOKEN_TTL_SECS: u64 = 2 * 3600;
const MIN_METRICS_TOKEN_BYTES: usize = 16;

impl Settings {
    /// Loads the settings from a lookup function such as `|k| std::env::var(k).ok()`.
    ///
    /// Outside production, a missing `APP_ENCRYPTION_KEY` or `JWT_SECRET` is generated
    /// once into the data directory (mode 0600) and reused afterwards.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable that cannot be used.
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let app_env = match get("APP_ENV").as_deref() {
            None | Some("development" | "dev") => AppEnv::Development,
            Some("test") => AppEnv::Test,
            Some("production" | "prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "APP_ENV",
                    reason: format!(
                        "unknown environment {other:?} (use development, test or production)"
                    ),
                });
            }
        };
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".to_owned()));

        let database_url = match get("DATABASE_URL") {
            Some(url) => {
                check_database_url(&url)?;
                url
            }
            None => format!("sqlite://{}/app.sqlite?mode=rwc", data_dir.display()),
        };

        let api_addr = match get("API_ADDR") {
            Some(v) => v.parse().map_err(|e| ConfigError::Invalid {
                var: "API_ADDR",
                reason: format!("{v:?} is not a socket address like 127.0.0.1:8080 ({e})"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };

        let run_migrations = parse_bool("RUN_MIGRATIONS", get("RUN_MIGRATIONS"), true)?;
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "LOG_FORMAT",
                    reason: format!("unknown format {other:?} (use text or json)"),
                });
            }
        };

        let auth_token_ttl = std::time::Duration::from_secs(parse_u64_in(
            "AUTH_TOKEN_TTL_SECS",
            get("AUTH_TOKEN_TTL_SECS"),
            DEFAULT_TOKEN_TTL_SECS,
            60..=30 * 24 * 3600,
        )?);
        let login = login_limits(&get)?;

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
            ..defaults
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
        let inventory_full_sync_hour = u32::try_from(parse_u64_in(
            "INVENTORY_FULL_SYNC_HOUR",
            get("INVENTORY_FULL_SYNC_HOUR"),
            4,
            0..=23,
        )?)
        .unwrap_or(4);
        let seller_timezone = match get("SELLER_TIMEZONE") {
            None => chrono_tz::UTC,
            Some(name) => name.parse().map_err(|_| ConfigError::Invalid {
                var: "SELLER_TIMEZONE",
                reason: format!("{name:?} is not an IANA time zone such as America/Los_Angeles"),
            })?,
        };

        let sync_schedule = get("SYNC_SCHEDULE").filter(|s| !s.trim().is_empty());

        let cors_allowed_origins = match get("CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| match url::Url::parse(o) {
                    Ok(u)
                        if matches!(u.scheme(), "http" | "https")
                            && u.path() == "/"
                            && u.query().is_none() =>
                    {
                        Ok(o.trim_end_matches('/').to_owned())
                    }
                    _ => Err(ConfigError::Invalid {
                        var: "CORS_ALLOWED_ORIGINS",
                        reason: format!("{o:?} is not an origin like https://admin.example.com"),
                    }),
                })
                .collect::<Result<_, _>>()?,
        };

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
        };

        let not_production = app_env != AppEnv::Production;
        let graphiql = parse_bool("GRAPHIQL", get("GRAPHIQL"), not_production)?;
        let graphql_introspection = parse_bool(
            "GRAPHQL_INTROSPECTION",
            get("GRAPHQL_INTROSPECTION"),
            not_production,
        )?;
        let metrics_token = match get("METRICS_TOKEN") {
            None => None,
            Some(t) if t.len() < MIN_METRICS_TOKEN_BYTES => {
                return Err(ConfigError::Invalid {
                    var: "METRICS_TOKEN",
                    reason: format!(
                        "too short ({} bytes); use at least {MIN_METRICS_TOKEN_BYTES} random characters, e.g. `openssl rand -hex 24`",
                        t.len()
                    ),
                });
            }
            Some(t) => Some(SecretString::from(t)),
        };

        let mut notices = Vec::new();
        tighten_data_dir(&data_dir, &mut notices)?;
        let key_b64 = secret_or_generated(
            "APP_ENCRYPTION_KEY",
            get("APP_ENCRYPTION_KEY"),
            app_env,
            &data_dir.join(KEY_FILE),
            "32 random bytes in base64, e.g. `openssl rand -base64 32`",
            || BASE64.encode(rand::random::<[u8; 32]>()),
            &mut notices,
        )?;
        let encryption_key = parse_key(&key_b64)?;

        let jwt_secret = secret_or_generated(
            "JWT_SECRET",
            get("JWT_SECRET"),
            app_env,
            &data_dir.join(JWT_FILE),
            "at least 32 random characters, e.g. `openssl rand -base64 48`",
            || BASE64.encode(rand::random::<[u8; 48]>()),
            &mut notices,
        )?;
        if jwt_secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                var: "JWT_SECRET",
                reason: format!(
                    "too short ({} bytes); use at least {MIN_JWT_SECRET_BYTES} random bytes",
                    jwt_secret.len()
                ),
            });
        }

        Ok(Self {
            app_env,
            data_dir,
            database_url,
            api_addr,
            encryption_key,
            jwt_secret: SecretString::from(jwt_secret),
            run_migrations,
            log_format,
            auth_token_ttl,
            login,
            sync_interval,
            sync,
            comprehensive_sync_hour,
            inventory_interval,
            inventory_full_sync_hour,
            seller_timezone,
            sync_schedule,
            cors_allowed_origins,
            alerts,
            graphiql,
            graphql_introspection,
            metrics_token,
            notices,
        })
    }

    /// Whether the database is the embedded SQLite one.
    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: bool| if set { "[redacted]" } else { "none" };
        f.debug_struct("Settings")
            .field("app_env", &self.app_env)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url_password(&self.database_url))
            .field("api_addr", &self.api_addr)
            .field("encryption_key", &self.encryption_key)
            .field("jwt_secret", &"[redacted]")
            .field("run_migrations", &self.run_migrations)
            .field("log_format", &self.log_format)
            .field("auth_token_ttl", &self.auth_token_ttl)
            .field("login", &self.login)
            .field("sync_interval", &self.sync_interval)
            .field("sync", &self.sync)
            .field("comprehensive_sync_hour", &self.comprehensive_sync_hour)
            .field("inventory_interval", &self.inventory_interval)
            .field("inventory_full_sync_hour", &self.inventory_full_sync_hour)
            .field("seller_timezone", &self.seller_timezone)
            .field("sync_schedule", &self.sync_schedule)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("alerts", &self.alerts)
            .field("graphiql", &self.graphiql)
            .field("graphql_introspection", &self.graphql_introspection)
            .field("metrics_token", &redacted(self.metrics_token.is_some()))
            .field("notices", &self.notices)
            .finish()
    }
}

/// `url` with its password (if any) replaced by `[redacted]`, for logs and `Debug`.
/// A URL that does not parse is hidden whole: it might be all secret.
#[must_use]
pub fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() && parsed.set_password(Some("redacted")).is_err() {
                return "[redacted]".to_owned();
            }
            parsed.to_string()
        }
        Err(_) => "[redacted]".to_owned(),
    }
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let ok = ["postgres://", "postgresql://", "sqlite:"]
        .iter()
        .any(|scheme| url.starts_with(scheme));
    if ok {
        Ok(())
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(ConfigError::Invalid {
            var: "DATABASE_URL",
            reason: format!(
                "unsupported database {scheme:?}: use postgres://user:pass@host/db or sqlite://path/file.sqlite?mode=rwc"
            ),
        })
    }
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

fn parse_bool(
    var: &'static str,
    value: Option<String>,
    default: bool,
) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is not a boolean (use true or false)"),
        }),
    }
}

/// The sign-in throttle's section (`LOGIN_*`).
fn login_limits(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<crate::auth::LoginLimits, ConfigError> {
    use std::time::Duration;
    let d = crate::auth::LoginLimits::default();
    let count = |var: &'static str, default: u32, max: u64| -> Result<u32, ConfigError> {
        parse_u64_in(var, get(var), u64::from(default), 1..=max)
            .map(|v| u32::try_from(v).unwrap_or(default))
    };
    let millis = |var: &'static str, default: Duration| -> Result<Duration, ConfigError> {
        parse_u64_in(
            var,
            get(var),
            u64::try_from(default.as_millis()).unwrap_or(u64::MAX),
            1..=600_000,
        )
        .map(Duration::from_millis)
    };
    Ok(crate::auth::LoginLimits {
        free_attempts: count("LOGIN_FREE_ATTEMPTS", d.free_attempts, 100)?,
        base_delay: millis("LOGIN_DELAY_MS", d.base_delay)?,
        max_delay: millis("LOGIN_MAX_DELAY_MS", d.max_delay)?,
        lockout_after: count("LOGIN_LOCKOUT_AFTER", d.lockout_after, 1_000)?,
        lockout: Duration::from_secs(parse_u64_in(
            "LOGIN_LOCKOUT_SECS",
            get("LOGIN_LOCKOUT_SECS"),
            d.lockout.as_secs(),
            1..=24 * 3600,
        )?),
        per_email_per_minute: count(
            "LOGIN_PER_EMAIL_PER_MINUTE",
            d.per_email_per_minute,
            100_000,
        )?,
        per_address_per_minute: count(
            "LOGIN_PER_ADDRESS_PER_MINUTE",
            d.per_address_per_minute,
            100_000,
        )?,
        global_per_minute: count("LOGIN_PER_MINUTE", d.global_per_minute, 100_000)?,
        capacity: d.capacity,
    })
}

fn parse_u64_in(
    var: &'static str,
    value: Option<String>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    match text.parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            var,
            reason: format!(
                "{text:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}

fn parse_key(b64: &str) -> Result<EncryptionKey, ConfigError> {
    let bytes = BASE64
        .decode(b64.trim())
        .map_err(|_| ConfigError::Invalid {
            var: "APP_ENCRYPTION_KEY",
            reason:
                "not valid base64; expected 32 random bytes in base64 (`openssl rand -base64 32`)"
                    .to_owned(),
        })?;
    let len = bytes.len();
    let key: [u8; 32] = bytes.try_into().map_err(|_| ConfigError::Invalid {
        var: "APP_ENCRYPTION_KEY",
        reason: format!(
            "decodes to {len} bytes; it must be exactly 32 (`openssl rand -base64 32`)"
        ),
    })?;
    Ok(EncryptionKey::from_bytes(key))
}

/// The secret from the environment; else, outside production, the one generated
/// earlier into `path`, or a new one written there with mode 0600.
fn secret_or_generated(
    var: &'static str,
    given: Option<String>,
    app_env: AppEnv,
    path: &Path,
    hint: &'static str,
    generate: impl FnOnce() -> String,
    notices: &mut Vec<String>,
) -> Result<String, ConfigError> {
    if let Some(v) = given {
        return Ok(v);
    }
    if app_env == AppEnv::Production {
        return Err(ConfigError::MissingInProduction { var, hint });
    }
    let file_err = |source| ConfigError::SecretFile {
        var,
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(existing) => return Ok(existing.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_err(e)),
    }
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(file_err)?;
    }
    let secret = generate();
    write_private(path, &secret).map_err(file_err)?;
    notices.push(format!(
        "{var} was not set: generated one into {} (mode 0600); set {var} to use your own",
        path.display()
    ));
    Ok(secret)
}

/// Creates `dir` (and its missing parents) with mode 0700 on Unix, so only the
/// application's user can list or read what is inside (secrets, the SQLite files).
///
/// # Errors
/// The I/O failure.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Tightens an existing `DATA_DIR` that others may read (earlier versions created
/// it 0755) to 0700. Only the data directory itself: it belongs to the application.
fn tighten_data_dir(dir: &Path, notices: &mut Vec<String>) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let Ok(meta) = std::fs::metadata(dir) else {
            return Ok(());
        };
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() && mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| ConfigError::SecretFile {
                    var: "DATA_DIR",
                    path: dir.display().to_string(),
                    source,
                },
            )?;
            notices.push(format!(
                "DATA_DIR {} was readable by other users (mode {mode:o}): changed to 0700",
                dir.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, notices);
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load(|k| map.get(k).cloned())
    }

    fn key() -> String {
        BASE64.encode([7u8; 32])
    }

    const JWT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_use_embedded_sqlite_and_localhost_8080() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = load(&[("DATA_DIR", d)]).unwrap();
        assert_eq!(s.database_url, format!("sqlite://{d}/app.sqlite?mode=rwc"));
        assert_eq!(s.api_addr, "127.0.0.1:8080".parse().unwrap());
        assert!(s.run_migrations);
        assert_eq!(s.app_env, AppEnv::Development);
        assert_eq!(s.auth_token_ttl, std::time::Duration::from_secs(2 * 3600));
        assert_eq!(s.login, crate::auth::LoginLimits::default());
    }

    #[test]
    fn missing_secrets_are_generated_once_with_private_permissions_outside_production() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let first = load(&[("DATA_DIR", d)]).unwrap();
        let generated = first.notices.iter().filter(|n| n.contains("generated"));
        assert_eq!(generated.count(), 2, "{:?}", first.notices);
        let second = load(&[("DATA_DIR", d)]).unwrap();
        assert!(second.notices.is_empty());
        assert_eq!(
            first.encryption_key.expose(),
            second.encryption_key.expose()
        );
        assert_eq!(
            first.jwt_secret.expose_secret(),
            second.jwt_secret.expose_secret()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for f in [KEY_FILE, JWT_FILE] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
    }

    #[test]
    fn production_without_secrets_is_refused_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let err = load(&[
            ("DATA_DIR", d),
            ("APP_ENV", "production"),
            ("JWT_SECRET", JWT),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("APP_ENCRYPTION_KEY is required"),
            "{err}"
        );
        let err = load(&[
            ("DATA_DIR", d),
            ("APP_ENV", "production"),
            ("APP_ENCRYPTION_KEY", &key()),
        ])
        .unwrap_err();
        assert!(
            err.to_string().starts_with("JWT_SECRET is required"),
            "{err}"
        );
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "production must not write secrets"
        );
    }

    #[test]
    fn bad_values_are_one_line_errors_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let ok = [
            ("DATA_DIR", d),
            ("APP_ENCRYPTION_KEY", key().leak() as &str),
            ("JWT_SECRET", JWT),
        ];
        let cases: &[(&str, &str, &str)] = &[
            (
                "APP_ENCRYPTION_KEY",
                "not base64!!",
                "APP_ENCRYPTION_KEY: not valid base64",
            ),
            (
                "APP_ENCRYPTION_KEY",
                "c2hvcnQ=",
                "APP_ENCRYPTION_KEY: decodes to 5 bytes",
            ),
            ("JWT_SECRET", "short", "JWT_SECRET: too short"),
            (
                "API_ADDR",
                "localhost",
                "API_ADDR: \"localhost\" is not a socket address",
            ),
            (
                "DATABASE_URL",
                "mysql://x",
                "DATABASE_URL: unsupported database \"mysql\"",
            ),
            (
                "RUN_MIGRATIONS",
                "maybe",
                "RUN_MIGRATIONS: \"maybe\" is not a boolean",
            ),
            ("APP_ENV", "staging", "APP_ENV: unknown environment"),
            ("LOG_FORMAT", "xml", "LOG_FORMAT: unknown format"),
            (
                "SELLER_TIMEZONE",
                "Mars/Olympus",
                "SELLER_TIMEZONE: \"Mars/Olympus\" is not an IANA time zone",
            ),
            (
                "COMPREHENSIVE_SYNC_HOUR",
                "24",
                "COMPREHENSIVE_SYNC_HOUR: \"24\" is not a whole number from 0 to 23",
            ),
            (
                "SYNC_INTERVAL_MINUTES",
                "0",
                "SYNC_INTERVAL_MINUTES: \"0\" is not a whole number",
            ),
            (
                "SYNC_INTERVAL_SECS",
                "0",
                "SYNC_INTERVAL_SECS: \"0\" is not a whole number",
            ),
            (
                "SYNC_LEASE_TTL_SECS",
                "1",
                "SYNC_LEASE_TTL_SECS: \"1\" is not a whole number",
            ),
            (
                "AUTH_TOKEN_TTL_SECS",
                "10",
                "AUTH_TOKEN_TTL_SECS: \"10\" is not a whole number from 60",
            ),
            (
                "LOGIN_FREE_ATTEMPTS",
                "lots",
                "LOGIN_FREE_ATTEMPTS: \"lots\" is not a whole number",
            ),
            (
                "LOGIN_LOCKOUT_AFTER",
                "0",
                "LOGIN_LOCKOUT_AFTER: \"0\" is not a whole number",
            ),
            (
                "LOGIN_PER_MINUTE",
                "0",
                "LOGIN_PER_MINUTE: \"0\" is not a whole number",
            ),
        ];
        for (var, value, expected) in cases {
            let mut vars: Vec<(&str, &str)> =
                ok.iter().filter(|(k, _)| k != var).copied().collect();
            vars.push((var, value));
            let err = load(&vars).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{var}={value}: got {err:?}");
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
    }

    #[test]
    fn chaos_knobs_shorten_the_interval_lease_and_timeouts_and_default_to_production() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let base = [
            ("DATA_DIR", d),
            ("APP_ENCRYPTION_KEY", key().leak() as &str),
            ("JWT_SECRET", JWT),
        ];
        let s = load(&base).unwrap();
        assert_eq!(s.sync_interval, std::time::Duration::from_secs(900));
        assert_eq!(s.sync, crate::sync::SyncConfig::default());

        let mut vars = base.to_vec();
        vars.extend([
            ("SYNC_INTERVAL_MINUTES", "5"),
            ("SYNC_INTERVAL_SECS", "2"),
            ("SYNC_LEASE_TTL_SECS", "5"),
            ("SPAPI_REQUEST_TIMEOUT_MS", "800"),
            ("SPAPI_RETRY_BASE_MS", "20"),
            ("SYNC_FIRST_LOOKBACK_DAYS", "62"),
        ]);
        let s = load(&vars).unwrap();
        assert_eq!(s.sync_interval, std::time::Duration::from_secs(2));
        assert_eq!(s.sync.lease_ttl, std::time::Duration::from_secs(5));
        assert_eq!(
            s.sync.request_timeout,
            std::time::Duration::from_millis(800)
        );
        assert_eq!(
            s.sync.retry_base_delay,
            std::time::Duration::from_millis(20)
        );
        assert_eq!(
            s.sync.first_lookback,
            std::time::Duration::from_secs(62 * 24 * 3600)
        );
    }

    #[test]
    fn custom_spapi_endpoints_are_off_by_default_allowed_on_request_and_refused_in_production() {
        use crate::spapi::EndpointPolicy;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let key = key();
        let base = [
            ("DATA_DIR", d),
            ("APP_ENCRYPTION_KEY", key.as_str()),
            ("JWT_SECRET", JWT),
        ];
        assert_eq!(
            load(&base).unwrap().sync.endpoints,
            EndpointPolicy::AmazonOnly
        );
        let mut allowed = base.to_vec();
        allowed.push(("SPAPI_ALLOW_CUSTOM_ENDPOINTS", "true"));
        assert_eq!(
            load(&allowed).unwrap().sync.endpoints,
            EndpointPolicy::AllowCustom
        );
        allowed.push(("APP_ENV", "production"));
        let err = load(&allowed).unwrap_err();
        assert!(
            err.to_string().starts_with("SPAPI_ALLOW_CUSTOM_ENDPOINTS:"),
            "{err}"
        );
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = load(&[
            ("DATA_DIR", d),
            ("APP_ENCRYPTION_KEY", &key()),
            ("JWT_SECRET", JWT),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains(JWT));
        assert!(!debug.contains(&key()));
        assert!(debug.contains(s.encryption_key.id()));
    }

    #[test]
    fn debug_output_hides_the_database_password_the_metrics_token_and_the_webhook() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = load(&[
            ("DATA_DIR", d),
            ("APP_ENCRYPTION_KEY", &key()),
            ("JWT_SECRET", JWT),
            (
                "DATABASE_URL",
                "postgres://app:pg-pass-word@db.internal:5432/orders",
            ),
            ("METRICS_TOKEN", "metrics-token-0123456789"),
            (
                "ALERT_WEBHOOK_URL",
                "https://hooks.example.com/services/T0/B0/hook-secret",
            ),
        ])
        .unwrap();

        let debug = format!("{s:?}");

        for secret in ["pg-pass-word", "metrics-token-0123456789", "hook-secret"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(
            debug.contains("postgres://app:redacted@db.internal:5432/orders"),
            "{debug}"
        );
    }

    #[test]
    fn graphiql_and_introspection_are_on_in_development_and_off_in_production_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let k = key();
        let base = [
            ("DATA_DIR", d),
            ("APP_ENCRYPTION_KEY", k.as_str()),
            ("JWT_SECRET", JWT),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars: Vec<(&str, &str)> = base.to_vec();
            vars.extend_from_slice(extra);
            let s = load(&vars).unwrap();
            (s.graphiql, s.graphql_introspection)
        };

        assert_eq!(with(&[]), (true, true));
        assert_eq!(with(&[("APP_ENV", "production")]), (false, false));
        assert_eq!(
            with(&[
                ("APP_ENV", "production"),
                ("GRAPHIQL", "true"),
                ("GRAPHQL_INTROSPECTION", "true")
            ]),
            (true, true)
        );
        assert_eq!(with(&[("GRAPHIQL", "false")]), (false, true));
    }

    #[test]
    fn a_short_metrics_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let err = load(&[
            ("DATA_DIR", d),
            ("APP_ENCRYPTION_KEY", &key()),
            ("JWT_SECRET", JWT),
            ("METRICS_TOKEN", "short"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("METRICS_TOKEN: too short"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_data_dir_is_created_private_and_an_open_one_is_tightened() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("fresh/data");
        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();

        load(&[("DATA_DIR", fresh.to_str().unwrap())]).unwrap();
        let s = load(&[("DATA_DIR", open.to_str().unwrap())]).unwrap();

        assert_eq!(mode(&fresh), 0o700);
        assert_eq!(mode(&open), 0o700);
        assert!(
            s.notices.iter().any(|n| n.contains("changed to 0700")),
            "{:?}",
            s.notices
        );
    }
}
