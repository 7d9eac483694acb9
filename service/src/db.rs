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
    /// The SQLite file could not be created or made private.
    #[error("cannot make the SQLite database {path} private (mode 0600): {source}")]
    FileMode {
        /// The file.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The database server refused or did not answer (named in one line, in
    /// seconds, rather than after the pool's wait).
    #[error(
        "cannot reach the database at {target}: {reason} (is the server running? check DATABASE_URL)"
    )]
    Unreachable {
        /// Host and port, never the password.
        target: String,
        /// What the network said.
        reason: String,
    },
    /// Connecting failed.
    #[error("cannot connect to the database (check DATABASE_URL): {0}")]
    Connect(DbErr),
    /// A migration failed.
    #[error("applying migrations failed: {0}")]
    Migrate(DbErr),
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
    let db = open(&settings.database.url).await?;
    if settings.database.run_migrations {
        Migrator::up(&db, None)
            .await
            .map_err(DbSetupError::Migrate)?;
    }
    Ok(db)
}

/// Opens a database by URL without migrating (tests and tools).
///
/// A SQLite file is private to the application's user: its directory is created
/// with mode 0700 when missing, the file is created 0600 before SQLite opens it
/// (SQLite gives its `-wal` and `-shm` files the database file's mode), and an
/// existing file, `-wal` or `-shm` that others may read is tightened to 0600. The
/// users table holds password hashes.
///
/// # Errors
/// [`DbSetupError`] when the directory, the file or the connection fails.
pub async fn open(url: &str) -> Result<DatabaseConnection, DbSetupError> {
    if let Some(dir) = sqlite_dir(url) {
        crate::settings::create_private_dir(std::path::Path::new(&dir)).map_err(|source| {
            DbSetupError::CreateDir {
                path: dir.clone(),
                source,
            }
        })?;
    }
    if let Some(file) = sqlite_file(url) {
        let create = url.contains("mode=rwc");
        make_private(&file, create).map_err(|source| DbSetupError::FileMode {
            path: file.clone(),
            source,
        })?;
    }
    probe_server(url).await?;
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

/// How long the first look at a database server may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// For a PostgreSQL URL with a network host, one TCP connection to it first: a
/// server that refuses or does not answer is named at once, where the pool would
/// retry for its whole acquire timeout and say only "pool timed out".
async fn probe_server(url: &str) -> Result<(), DbSetupError> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(());
    };
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Ok(());
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Ok(()); // a Unix socket: the pool says what goes wrong
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port().unwrap_or(5432);
    let target = format!("{host}:{port}");
    let reason = match tokio::time::timeout(
        PROBE_TIMEOUT,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "the connection was refused".to_owned()
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer in {} s", PROBE_TIMEOUT.as_secs()),
    };
    Err(DbSetupError::Unreachable { target, reason })
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

/// Creates `file` with mode 0600 if missing and `create` (the URL's `mode=rwc`;
/// never truncating), and brings it and its `-wal` and `-shm` companions to 0600
/// where they are more open.
#[cfg(unix)]
fn make_private(file: &str, create: bool) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    if create {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(file)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{file}{suffix}");
        match std::fs::metadata(&path) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_file: &str, _create: bool) -> std::io::Result<()> {
    Ok(())
}

/// The file of a `sqlite://path/file?…` URL, when it names one (not in memory).
pub(crate) fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = query.split('&').any(|p| p == "mode=memory");
    (!path.is_empty() && path != ":memory:" && !in_memory).then(|| path.to_owned())
}

/// The directory of a `sqlite://path/file?…` URL, when it names a file.
fn sqlite_dir(url: &str) -> Option<String> {
    let path = sqlite_file(url)?;
    let parent = std::path::Path::new(&path).parent()?;
    let parent = parent.to_str()?;
    (!parent.is_empty()).then(|| parent.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{DbSetupError, PING_AFTER_IDLE, connect_options, open, sqlite_dir, sqlite_file};

    #[tokio::test]
    async fn a_server_that_refuses_is_named_in_one_line_without_the_password() {
        // Nothing listens on port 1: the connection is refused at once.
        let Err(e) = open("postgres://app:s3cret@127.0.0.1:1/db").await else {
            panic!("connected to port 1");
        };
        assert!(matches!(e, DbSetupError::Unreachable { .. }), "{e:?}");
        let text = e.to_string();
        assert_eq!(
            text,
            "cannot reach the database at 127.0.0.1:1: the connection was refused (is the server running? check DATABASE_URL)"
        );
        assert!(std::error::Error::source(&e).is_none(), "said once");
    }

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

    #[test]
    fn only_sqlite_urls_naming_a_file_name_one_to_make_private() {
        assert_eq!(
            sqlite_file("sqlite://data/app.sqlite?mode=rwc").as_deref(),
            Some("data/app.sqlite")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(
            sqlite_file("sqlite://shared?mode=memory&cache=shared"),
            None
        );
        assert_eq!(sqlite_file("postgres://localhost/db"), None);
    }
}
