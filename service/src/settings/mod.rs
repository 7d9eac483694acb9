//! [`Settings`]: every knob of the application in one typed struct, loaded once by
//! each binary's `main` and passed down.
//!
//! Values come from a lookup function (the binaries pass the process environment,
//! after reading an optional `.env`); library code never reads the environment
//! itself, so tests build settings from a plain map.

mod alerts;
mod api;
mod database;
#[cfg(test)]
mod env_example;
mod sync;
mod worker;

pub use api::ApiSettings;
pub use database::{DatabaseSettings, redact_url_password};
pub use worker::WorkerSettings;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::SecretString;
use std::fmt;
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

/// Everything the binaries and the service need to know, in sections that are each
/// read and tested on their own. Its `Debug` hides every secret: the database
/// password, the keys, the metrics token, the webhook URL.
pub struct Settings {
    /// `APP_ENV`: development (default), test or production.
    pub app_env: AppEnv,
    /// `DATA_DIR`: where the embedded database and generated secrets live (default `./data`).
    pub data_dir: PathBuf,
    /// `APP_ENCRYPTION_KEY`: base64 of 32 bytes.
    pub encryption_key: EncryptionKey,
    /// Where the key came from: `APP_ENCRYPTION_KEY`, or the absolute path of the
    /// file it was read from or generated into (for messages about a wrong key).
    pub encryption_key_origin: String,
    /// `JWT_SECRET`: at least 32 bytes.
    pub jwt_secret: SecretString,
    /// `LOG_FORMAT`: text (default) or json.
    pub log_format: LogFormat,
    /// The database.
    pub database: DatabaseSettings,
    /// How the api serves.
    pub api: ApiSettings,
    /// How the syncs run (lease, first look-back, client timings, endpoints).
    pub sync: crate::sync::SyncConfig,
    /// The worker's default plan and time zone.
    pub worker: WorkerSettings,
    /// The sync monitor's and the stock's alert thresholds and webhook.
    pub alerts: crate::monitor::AlertSettings,
    /// What loading did on its own (secrets it generated), for `main` to log.
    pub notices: Vec<String>,
}

/// How a section reads a variable: trimmed, `None` when unset or empty.
pub type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

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
        let get: Get<'_> = &get;

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
        let database = DatabaseSettings::load(get, &data_dir)?;

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

        let api = ApiSettings::load(get, app_env)?;
        let sync = sync::load(get, app_env)?;
        let worker = WorkerSettings::load(get)?;
        let alerts = alerts::load(get)?;

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
        let encryption_key_origin = if get("APP_ENCRYPTION_KEY").is_some() {
            "APP_ENCRYPTION_KEY".to_owned()
        } else {
            let file = data_dir.join(KEY_FILE);
            std::path::absolute(&file)
                .unwrap_or(file)
                .display()
                .to_string()
        };

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
            encryption_key,
            encryption_key_origin,
            jwt_secret: SecretString::from(jwt_secret),
            log_format,
            database,
            api,
            sync,
            worker,
            alerts,
            notices,
        })
    }

    /// Whether the database is the embedded SQLite one.
    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.database.is_sqlite()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("app_env", &self.app_env)
            .field("data_dir", &self.data_dir)
            .field("encryption_key", &self.encryption_key)
            .field("jwt_secret", &"[redacted]")
            .field("log_format", &self.log_format)
            .field("database", &self.database)
            .field("api", &self.api)
            .field("sync", &self.sync)
            .field("worker", &self.worker)
            .field("alerts", &self.alerts)
            .field("notices", &self.notices)
            .finish()
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
        assert_eq!(s.database.url, format!("sqlite://{d}/app.sqlite?mode=rwc"));
        assert_eq!(s.api.addr, "127.0.0.1:8080".parse().unwrap());
        assert!(s.database.run_migrations);
        assert_eq!(s.app_env, AppEnv::Development);
        assert_eq!(
            s.api.auth_token_ttl,
            std::time::Duration::from_secs(2 * 3600)
        );
        assert_eq!(s.api.login, crate::auth::LoginLimits::default());
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
        assert_eq!(s.worker.sync_interval, std::time::Duration::from_secs(900));
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
        assert_eq!(s.worker.sync_interval, std::time::Duration::from_secs(2));
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
            (s.api.graphiql, s.api.graphql_introspection)
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
