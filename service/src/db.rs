//! The database connection: PostgreSQL in production, embedded SQLite by default.

use crate::Settings;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Why the database could not be opened or brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    /// The SQLite file's directory could not be created.
    #[error("cannot create the directory for the SQLite database {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// Connecting failed.
    #[error("cannot connect to the database (check DATABASE_URL): {0}")]
    Connect(#[source] DbErr),
    /// A migration failed.
    #[error("applying migrations failed: {0}")]
    Migrate(#[source] DbErr),
}

/// A pooled connection idle this long is pinged before it is handed out; one used
/// more recently is handed out as it is.
///
/// The pool's default pings on every checkout: one more round trip to the
/// database per statement, so an orders page (the user, the orders, their items)
/// made six instead of three, and each wakes the database's backend on a quiet
/// machine (docs/PERFORMANCE.md). A connection the server, a proxy or a firewall
/// dropped has almost always been idle first; one that breaks while in use fails
/// its statement with a database error and is not reused, as before.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Opens the database named by the settings, creating the SQLite file (and its
/// directory) on first use, and applies pending migrations unless turned off.
///
/// # Errors
/// [`DbSetupError`] when the directory, the connection or a migration fails.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbSetupError> {
    let db = open(&settings.database_url).await?;
    if settings.run_migrations {
        Migrator::up(&db, None)
            .await
            .map_err(DbSetupError::Migrate)?;
    }
    Ok(db)
}

/// Opens a database by URL without migrating (tests and tools).
///
/// # Errors
/// [`DbSetupError`] when the directory or the connection fails.
pub async fn open(url: &str) -> Result<DatabaseConnection, DbSetupError> {
    if let Some(dir) = sqlite_dir(url) {
        std::fs::create_dir_all(&dir).map_err(|source| DbSetupError::CreateDir {
            path: dir.clone(),
            source,
        })?;
    }
    let db = Database::connect(connect_options(url))
        .await
        .map_err(DbSetupError::Connect)?;
    if url.starts_with("sqlite:") && !url.contains(":memory:") && !url.contains("mode=memory") {
        // Readers keep reading while the sync writes.
        db.execute_unprepared("PRAGMA journal_mode=WAL")
            .await
            .map_err(DbSetupError::Connect)?;
    }
    Ok(db)
}

/// How the pool of `url` connects and hands out connections.
fn connect_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false);
    options
}

/// Whether every migration this build knows is applied (for readiness checks).
///
/// # Errors
/// The database error when the migration table cannot be read.
pub async fn migrations_current(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// The directory of a `sqlite://path/file?…` URL, when it names a file.
fn sqlite_dir(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let parent = std::path::Path::new(path).parent()?;
    let parent = parent.to_str()?;
    (!parent.is_empty()).then(|| parent.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{PING_AFTER_IDLE, connect_options, sqlite_dir};

    #[test]
    fn only_a_connection_idle_for_a_while_is_pinged_before_use() {
        let options = connect_options("postgres://localhost/db");
        assert!(!options.get_test_before_acquire());
        assert_eq!(
            options.get_test_before_acquire_if_idle_for(),
            Some(PING_AFTER_IDLE)
        );
    }

    #[test]
    fn sqlite_urls_name_the_directory_to_create() {
        assert_eq!(
            sqlite_dir("sqlite://data/app.sqlite?mode=rwc").as_deref(),
            Some("data")
        );
        assert_eq!(
            sqlite_dir("sqlite:///tmp/x/a.db").as_deref(),
            Some("/tmp/x")
        );
        assert_eq!(sqlite_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_dir("sqlite://app.sqlite"), None);
        assert_eq!(sqlite_dir("postgres://localhost/db"), None);
    }
}
