//! The api section: where it listens, sign-in tokens and their throttle, which
//! browsers may call it, GraphiQL, introspection and `/metrics`. Its `Debug` never
//! prints the metrics token.

use super::{AppEnv, ConfigError, Get, parse_bool, parse_u64_in};
use secrecy::SecretString;
use std::fmt;
use std::net::SocketAddr;

const DEFAULT_TOKEN_TTL_SECS: u64 = 2 * 3600;
const MIN_METRICS_TOKEN_BYTES: usize = 16;

/// How the api serves.
#[derive(Clone)]
pub struct ApiSettings {
    /// `API_ADDR`: where the api listens (default 127.0.0.1:8080).
    pub addr: SocketAddr,
    /// `AUTH_TOKEN_TTL_SECS`: how long a sign-in token is valid (default 2 hours).
    pub auth_token_ttl: std::time::Duration,
    /// The sign-in throttle: `LOGIN_FREE_ATTEMPTS`, `LOGIN_DELAY_MS`,
    /// `LOGIN_MAX_DELAY_MS`, `LOGIN_LOCKOUT_AFTER`, `LOGIN_LOCKOUT_SECS`,
    /// `LOGIN_PER_EMAIL_PER_MINUTE`, `LOGIN_PER_ADDRESS_PER_MINUTE`, `LOGIN_PER_MINUTE`
    /// (defaults in [`crate::auth::LoginLimits`]).
    pub login: crate::auth::LoginLimits,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins (e.g. `https://admin.example.com`)
    /// allowed to call the api from a browser; none by default (same origin only).
    pub cors_allowed_origins: Vec<String>,
    /// `GRAPHIQL`: serve the GraphiQL explorer at `GET /graphql` (default: on,
    /// except in production).
    pub graphiql: bool,
    /// `GRAPHQL_INTROSPECTION`: answer `__schema` and `__type` queries (default: on,
    /// except in production).
    pub graphql_introspection: bool,
    /// `METRICS_TOKEN`: the bearer token `GET /metrics` requires (at least 16
    /// characters). Without one, `/metrics` answers 404.
    pub metrics_token: Option<SecretString>,
}

impl ApiSettings {
    /// Reads the section.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable that cannot be used.
    pub fn load(get: Get<'_>, app_env: AppEnv) -> Result<Self, ConfigError> {
        let addr = match get("API_ADDR") {
            Some(v) => v.parse().map_err(|e| ConfigError::Invalid {
                var: "API_ADDR",
                reason: format!("{v:?} is not a socket address like 127.0.0.1:8080 ({e})"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };

        let auth_token_ttl = std::time::Duration::from_secs(parse_u64_in(
            "AUTH_TOKEN_TTL_SECS",
            get("AUTH_TOKEN_TTL_SECS"),
            DEFAULT_TOKEN_TTL_SECS,
            60..=30 * 24 * 3600,
        )?);
        let login = login_limits(get)?;

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

        Ok(Self {
            addr,
            auth_token_ttl,
            login,
            cors_allowed_origins,
            graphiql,
            graphql_introspection,
            metrics_token,
        })
    }
}

impl fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiSettings")
            .field("addr", &self.addr)
            .field("auth_token_ttl", &self.auth_token_ttl)
            .field("login", &self.login)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("graphiql", &self.graphiql)
            .field("graphql_introspection", &self.graphql_introspection)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map_or("none", |_| "[redacted]"),
            )
            .finish()
    }
}

/// The sign-in throttle's section (`LOGIN_*`).
fn login_limits(get: Get<'_>) -> Result<crate::auth::LoginLimits, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: AppEnv, vars: &[(&str, &str)]) -> Result<ApiSettings, ConfigError> {
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        ApiSettings::load(&get, env)
    }

    #[test]
    fn defaults_listen_on_localhost_8080_with_two_hour_tokens_and_no_metrics() {
        let a = load(AppEnv::Development, &[]).unwrap();
        assert_eq!(a.addr, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(a.auth_token_ttl, std::time::Duration::from_secs(7200));
        assert!(a.metrics_token.is_none() && a.cors_allowed_origins.is_empty());
        assert!(a.graphiql && a.graphql_introspection);
        let prod = load(AppEnv::Production, &[]).unwrap();
        assert!(!prod.graphiql && !prod.graphql_introspection);
    }

    #[test]
    fn an_origin_with_a_path_is_refused_and_the_metrics_token_never_shows() {
        let e = load(
            AppEnv::Development,
            &[("CORS_ALLOWED_ORIGINS", "https://a.example/x")],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("CORS_ALLOWED_ORIGINS:"), "{e}");
        let a = load(
            AppEnv::Development,
            &[("METRICS_TOKEN", "0123456789abcdef-secret")],
        )
        .unwrap();
        assert!(!format!("{a:?}").contains("secret"));
    }
}
