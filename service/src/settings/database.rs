//! The database section: `DATABASE_URL`, `RUN_MIGRATIONS`. Its `Debug` never
//! prints the password.

use super::{ConfigError, Get, parse_bool};
use std::fmt;
use std::path::Path;

/// Where the data lives.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`: `postgres://…` or `sqlite://…` (default: SQLite file in the data dir).
    pub url: String,
    /// `RUN_MIGRATIONS`: apply pending migrations at start-up (default true).
    pub run_migrations: bool,
}

impl DatabaseSettings {
    /// Reads the section; the default database is `app.sqlite` in `data_dir`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable that cannot be used.
    pub fn load(get: Get<'_>, data_dir: &Path) -> Result<Self, ConfigError> {
        let url = match get("DATABASE_URL") {
            Some(url) => {
                check_database_url(&url)?;
                url
            }
            None => format!("sqlite://{}/app.sqlite?mode=rwc", data_dir.display()),
        };

        let run_migrations = parse_bool("RUN_MIGRATIONS", get("RUN_MIGRATIONS"), true)?;
        Ok(Self {
            url,
            run_migrations,
        })
    }

    /// Whether the database is the embedded SQLite one.
    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url_password(&self.url))
            .field("run_migrations", &self.run_migrations)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<DatabaseSettings, ConfigError> {
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        DatabaseSettings::load(&get, Path::new("/srv/data"))
    }

    #[test]
    fn the_default_is_sqlite_in_the_data_dir_with_migrations() {
        let d = load(&[]).unwrap();
        assert_eq!(d.url, "sqlite:///srv/data/app.sqlite?mode=rwc");
        assert!(d.is_sqlite() && d.run_migrations);
    }

    #[test]
    fn another_database_is_refused_and_the_password_never_shows() {
        let e = load(&[("DATABASE_URL", "mysql://u:p@h/db")]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("DATABASE_URL: unsupported database"),
            "{e}"
        );
        let d = load(&[("DATABASE_URL", "postgres://app:s3cret@db/app")]).unwrap();
        let shown = format!("{d:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("app:redacted@db"),
            "{shown}"
        );
    }
}
