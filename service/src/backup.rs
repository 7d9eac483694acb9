//! Backup and restore of the database, for `worker backup` and `worker restore`.
//!
//! A backup is a directory: the database (`database.sqlite`, made with SQLite's
//! `VACUUM INTO`, or `database.pgdump`, `pg_dump -Fc`) and a `manifest.json` that
//! says when, of which kind, at which migration, and which encryption key the stored
//! Amazon credentials need, by its fingerprint only. The key itself is copied
//! (`encryption.key`, mode 0600) only when asked: a backup that carries its key
//! hands the credentials to whoever reads it.
//!
//! Neither side migrates: a backup reads, a restore writes what was backed up and
//! leaves migrating to `worker migrate` or the next start. The PostgreSQL password
//! goes to `pg_dump` and `pg_restore` through `PGPASSWORD`, never on their command
//! line, and no error or log line carries it.

use crate::Settings;
use crate::amazon_account::EncryptionKey;
use crate::amazon_account::seal::{self, Field, Sealed};
use crate::db::DbSetupError;
use base64::Engine as _;
use entity::{amazon_credential, amazon_order};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, Statement};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest's file name in a backup directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The copy of the key, written only with `include_key`.
pub const KEY_FILE: &str = "encryption.key";
const SQLITE_FILE: &str = "database.sqlite";
const PG_DUMP_FILE: &str = "database.pgdump";
const FORMAT: u32 = 1;

/// Which database a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgresql,
}

impl DatabaseKind {
    fn of(settings: &Settings) -> Self {
        if settings.is_sqlite() {
            Self::Sqlite
        } else {
            Self::Postgresql
        }
    }

    fn file(self) -> &'static str {
        match self {
            Self::Sqlite => SQLITE_FILE,
            Self::Postgresql => PG_DUMP_FILE,
        }
    }
}

impl std::fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "SQLite",
            Self::Postgresql => "PostgreSQL",
        })
    }
}

/// `manifest.json`: what a backup holds. Written last, so a directory with a
/// manifest is a finished backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest's own format (1).
    pub format: u32,
    /// When the backup was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The database's kind; a backup restores into the same kind only.
    pub database: DatabaseKind,
    /// The database's file in the backup directory.
    pub database_file: String,
    /// The last migration applied to the database when it was backed up.
    pub latest_migration: String,
    /// The encryption key's fingerprint: `k-` and the first 8 hex digits of the
    /// SHA-256 of the key (the id the sealed credentials carry); never the key.
    pub key_fingerprint: String,
    /// Whether `encryption.key` is in the backup.
    pub key_included: bool,
    /// What to do about the key, for the person who finds this backup.
    pub key_note: String,
    /// The version of the program that made the backup.
    pub made_by: String,
}

/// What [`backup`] wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The manifest written.
    pub manifest: Manifest,
    /// The files written, the manifest last.
    pub files: Vec<PathBuf>,
}

/// What [`restore`] did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Orders in the restored database.
    pub orders: u64,
    /// Whether stored credentials were found (and opened with the configured key).
    pub credentials_opened: bool,
    /// Migrations this program knows that the restored database lacks (`worker migrate`).
    pub pending_migrations: usize,
}

/// Why a backup or a restore stopped. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database could not be opened.
    #[error(transparent)]
    Open(#[from] DbSetupError),
    /// A query failed.
    #[error("database: {0}")]
    Database(#[from] DbErr),
    /// A file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The database to back up has no schema.
    #[error(
        "the database has no migrations table (seaql_migrations): nothing was ever written to it; check DATABASE_URL"
    )]
    NoSchema,
    /// The backup directory already holds a backup or its database file.
    #[error("{0} already exists: back up into a new or empty directory")]
    Exists(String),
    /// A PostgreSQL tool is not installed.
    #[error(
        "{0} was found neither on PATH nor in `pg_config --bindir`: install the PostgreSQL client tools of the server's major version or newer (Debian: apt-get install postgresql-client)"
    )]
    ToolMissing(&'static str),
    /// A PostgreSQL tool failed.
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        /// `pg_dump` or `pg_restore`.
        tool: &'static str,
        /// Its exit status.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// `DATABASE_URL` cannot be handed to the PostgreSQL tools.
    #[error("DATABASE_URL is not a postgres:// URL the PostgreSQL tools understand: {0}")]
    BadUrl(String),
    /// The directory holds no manifest.
    #[error("{0} has no readable manifest.json: not a backup made by `worker backup` ({1})")]
    NotABackup(String, String),
    /// The backup is of the other kind of database.
    #[error(
        "the backup is of a {backup} database and DATABASE_URL names a {configured} one: restore into the same kind"
    )]
    KindMismatch {
        /// The backup's kind.
        backup: DatabaseKind,
        /// The configured kind.
        configured: DatabaseKind,
    },
    /// The configured key is not the one the backup's credentials were sealed with.
    #[error(
        "the backup was made with key {backup}; this configuration's key is {configured}; the stored credentials could not be opened (set APP_ENCRYPTION_KEY to the key of the backup{hint})"
    )]
    KeyMismatch {
        /// The backup's key fingerprint.
        backup: String,
        /// The configured key's fingerprint.
        configured: String,
        /// Where that key may be found.
        hint: &'static str,
    },
    /// The target database already holds tables.
    #[error(
        "the target database is not empty ({0} tables): restore only into a new, empty database (create one and point DATABASE_URL at it); nothing was changed"
    )]
    NotEmpty(usize),
    /// The restored credentials do not open with the configured key.
    #[error(
        "the database was restored, but its stored credentials do not open with this configuration's key ({0}): set APP_ENCRYPTION_KEY to the key they were sealed with, or enter the credentials again"
    )]
    CredentialsDoNotOpen(String),
}

/// The key's public fingerprint, as the manifest and the sealed credentials name it.
#[must_use]
pub fn key_fingerprint(key: &EncryptionKey) -> String {
    key.id().to_owned()
}

/// Backs up the configured database into `dir` (created 0700 if missing): the
/// database, the key when `include_key`, then `manifest.json`. Reads only; never
/// migrates.
///
/// # Errors
/// [`BackupError`] saying what failed; files already written stay, but without a
/// manifest the directory is not a backup.
#[tracing::instrument(skip(settings))]
pub async fn backup(
    settings: &Settings,
    dir: &Path,
    include_key: bool,
) -> Result<BackupReport, BackupError> {
    let kind = DatabaseKind::of(settings);
    let manifest_path = dir.join(MANIFEST_FILE);
    let db_path = dir.join(kind.file());
    for path in [&manifest_path, &db_path, &dir.join(KEY_FILE)] {
        if path.exists() {
            return Err(BackupError::Exists(path.display().to_string()));
        }
    }
    crate::settings::create_private_dir(dir).map_err(io("cannot create", dir))?;

    if let Some(file) = crate::db::sqlite_file(&settings.database.url)
        && !Path::new(&file).exists()
    {
        return Err(BackupError::Io {
            what: "no SQLite database at",
            path: file,
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    let db = crate::db::open(&settings.database.url).await?;
    let latest_migration = latest_migration(&db).await?.ok_or(BackupError::NoSchema)?;

    match kind {
        DatabaseKind::Sqlite => {
            let target = db_path.display().to_string().replace('\'', "''");
            db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
                .await?;
            make_private(&db_path)?;
        }
        DatabaseKind::Postgresql => {
            let pg = PgTarget::parse(&settings.database.url)?;
            let out = db_path.display().to_string();
            pg.run("pg_dump", &["--format=custom", "--file", &out])
                .await?;
            make_private(&db_path)?;
        }
    }
    db.close().await?;
    let mut files = vec![db_path];

    let fingerprint = key_fingerprint(&settings.encryption_key);
    let key_note = if include_key {
        let path = dir.join(KEY_FILE);
        let b64 =
            base64::engine::general_purpose::STANDARD.encode(settings.encryption_key.expose());
        write_private(&path, format!("{b64}\n").as_bytes())?;
        files.push(path);
        format!(
            "{KEY_FILE} holds the encryption key {fingerprint} (mode 0600): whoever reads this backup can open the stored Amazon credentials; keep it as safe as the key"
        )
    } else {
        format!(
            "the encryption key is not in this backup: keep APP_ENCRYPTION_KEY (or DATA_DIR/encryption.key), fingerprint {fingerprint}, apart from it; without that key the stored Amazon credentials cannot be opened"
        )
    };
    let manifest = Manifest {
        format: FORMAT,
        created_at: chrono::Utc::now(),
        database: kind,
        database_file: kind.file().to_owned(),
        latest_migration,
        key_fingerprint: fingerprint,
        key_included: include_key,
        key_note,
        made_by: format!("amazon-admin {}", env!("CARGO_PKG_VERSION")),
    };
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    write_private(&manifest_path, &json)?;
    files.push(manifest_path);
    tracing::info!(kind = %kind, dir = %dir.display(), include_key, "backup written");
    Ok(BackupReport { manifest, files })
}

/// Reads a backup's manifest.
///
/// # Errors
/// [`BackupError::NotABackup`] when it is missing or does not parse.
pub fn read_manifest(dir: &Path) -> Result<Manifest, BackupError> {
    let not = |e: String| BackupError::NotABackup(dir.display().to_string(), e);
    let text = std::fs::read(dir.join(MANIFEST_FILE)).map_err(|e| not(e.to_string()))?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| not(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(not(format!(
            "manifest format {} (this program reads {FORMAT})",
            manifest.format
        )));
    }
    Ok(manifest)
}

/// Restores the backup in `dir` into the configured database, which must be empty
/// (a SQLite file that does not exist yet, or has no tables; a PostgreSQL database
/// with no tables). Checks first that the configured key is the backup's, and after
/// that the restored credentials open with it. Never migrates. Stop the api and the
/// worker first.
///
/// # Errors
/// [`BackupError`] saying what failed; before anything is written on a kind or key
/// mismatch and on a non-empty target.
#[tracing::instrument(skip(settings))]
pub async fn restore(settings: &Settings, dir: &Path) -> Result<RestoreReport, BackupError> {
    let manifest = read_manifest(dir)?;
    let kind = DatabaseKind::of(settings);
    if manifest.database != kind {
        return Err(BackupError::KindMismatch {
            backup: manifest.database,
            configured: kind,
        });
    }
    let configured = key_fingerprint(&settings.encryption_key);
    if manifest.key_fingerprint != configured {
        return Err(BackupError::KeyMismatch {
            backup: manifest.key_fingerprint.clone(),
            configured,
            hint: if manifest.key_included {
                ": it is in the backup's encryption.key"
            } else {
                ", kept apart from the backup"
            },
        });
    }
    let source = dir.join(&manifest.database_file);
    if !source.is_file() {
        return Err(BackupError::NotABackup(
            dir.display().to_string(),
            format!("{} is missing", manifest.database_file),
        ));
    }

    match kind {
        DatabaseKind::Sqlite => restore_sqlite(&settings.database.url, &source).await?,
        DatabaseKind::Postgresql => {
            let db = crate::db::open(&settings.database.url).await?;
            let tables = tables(&db).await?;
            db.close().await?;
            if !tables.is_empty() {
                return Err(BackupError::NotEmpty(tables.len()));
            }
            let pg = PgTarget::parse(&settings.database.url)?;
            let input = source.display().to_string();
            // One transaction: a restore that fails leaves the database empty.
            // No owner and no grants: the roles of the backed-up server need not
            // exist here; the configured user owns what it restores.
            pg.run(
                "pg_restore",
                &[
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    &input,
                ],
            )
            .await?;
        }
    }

    let db = crate::db::open(&settings.database.url).await?;
    let credentials_opened = open_credentials(&db, &settings.encryption_key).await?;
    let orders = amazon_order::Entity::find().count(&db).await?;
    let pending_migrations = {
        use migration::MigratorTrait as _;
        migration::Migrator::get_pending_migrations(&db)
            .await?
            .len()
    };
    db.close().await?;
    tracing::info!(kind = %kind, dir = %dir.display(), orders, "backup restored");
    Ok(RestoreReport {
        manifest,
        orders,
        credentials_opened,
        pending_migrations,
    })
}

async fn restore_sqlite(url: &str, source: &Path) -> Result<(), BackupError> {
    let Some(file) = crate::db::sqlite_file(url) else {
        return Err(BackupError::BadUrl(
            "an in-memory SQLite database cannot be restored into".to_owned(),
        ));
    };
    let target = PathBuf::from(&file);
    if target.exists() {
        let tables = {
            // Read-only, and without the WAL switch `db::open` makes (a write).
            let db = sea_orm::Database::connect(format!("sqlite://{file}?mode=ro"))
                .await
                .map_err(DbSetupError::Connect)?;
            let tables = tables(&db).await?;
            db.close().await?;
            tables
        };
        if !tables.is_empty() {
            return Err(BackupError::NotEmpty(tables.len()));
        }
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::settings::create_private_dir(parent).map_err(io("cannot create", parent))?;
    }
    // Copied beside the target, then renamed over it: the target is never half
    // written. The empty database's WAL files would belong to the old file.
    let partial = PathBuf::from(format!("{file}.restoring"));
    std::fs::copy(source, &partial).map_err(io("cannot copy the backup to", &partial))?;
    make_private(&partial)?;
    for suffix in ["-wal", "-shm"] {
        let stale = PathBuf::from(format!("{file}{suffix}"));
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("cannot remove", &stale)(e));
            }
            _ => {}
        }
    }
    std::fs::rename(&partial, &target).map_err(io("cannot move the restored database to", &target))
}

/// Whether stored credentials exist; an error when they do and do not open.
async fn open_credentials(
    db: &DatabaseConnection,
    key: &EncryptionKey,
) -> Result<bool, BackupError> {
    let Some(row) = amazon_credential::Entity::find().one(db).await? else {
        return Ok(false);
    };
    for (field, ciphertext, nonce) in [
        (
            Field::ClientSecret,
            &row.client_secret_ciphertext,
            &row.client_secret_nonce,
        ),
        (
            Field::RefreshToken,
            &row.refresh_token_ciphertext,
            &row.refresh_token_nonce,
        ),
    ] {
        let sealed = Sealed {
            ciphertext: ciphertext.clone(),
            nonce: nonce.clone(),
        };
        seal::open(key, &row.key_id, row.connection_id, field, &sealed)
            .map_err(|e| BackupError::CredentialsDoNotOpen(e.to_string()))?;
    }
    Ok(true)
}

/// Every table of the database, the migrations table included.
async fn tables(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_schema::text || '.' || table_name::text FROM information_schema.tables \
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await?;
    rows.iter().map(|r| r.try_get_by_index(0)).collect()
}

/// The last migration applied, read without creating the migrations table
/// (the migrator's own functions would).
async fn latest_migration(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    if !tables(db)
        .await?
        .iter()
        .any(|t| t == "seaql_migrations" || t == "public.seaql_migrations")
    {
        return Ok(None);
    }
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1".to_owned(),
        ))
        .await?;
    row.map(|r| r.try_get_by_index(0)).transpose()
}

/// A PostgreSQL database as the `pg_*` tools reach it: the URL without its
/// password (as `--dbname`) and the password apart (as `PGPASSWORD`).
struct PgTarget {
    conninfo: String,
    password: Option<String>,
}

impl PgTarget {
    fn parse(database_url: &str) -> Result<Self, BackupError> {
        let mut url =
            url::Url::parse(database_url).map_err(|e| BackupError::BadUrl(e.to_string()))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(BackupError::BadUrl(format!("scheme {:?}", url.scheme())));
        }
        let password = url.password().map(percent_decode);
        url.set_password(None)
            .map_err(|()| BackupError::BadUrl("no host".to_owned()))?;
        // Only the parameters libpq knows; sqlx's own would make the tools refuse.
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| {
                matches!(
                    k.as_ref(),
                    "sslmode" | "sslrootcert" | "sslcert" | "sslkey" | "application_name"
                )
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        Ok(Self {
            conninfo: url.to_string(),
            password,
        })
    }

    /// Runs `tool` (from PATH, else `pg_config --bindir`) on this database.
    async fn run(&self, tool: &'static str, args: &[&str]) -> Result<(), BackupError> {
        let program = find_pg_tool(tool).await?;
        let mut command = tokio::process::Command::new(program);
        command
            .arg("--dbname")
            .arg(&self.conninfo)
            .args(args)
            .env_remove("PGPASSWORD")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(p) = &self.password {
            command.env("PGPASSWORD", p);
        }
        let output = command.output().await.map_err(|e| BackupError::Io {
            what: "cannot start",
            path: tool.to_owned(),
            source: e,
        })?;
        if output.status.success() {
            return Ok(());
        }
        let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if let Some(p) = self.password.as_deref().filter(|p| !p.is_empty()) {
            stderr = stderr.replace(p, "[redacted]");
        }
        Err(BackupError::ToolFailed {
            tool,
            status: output.status.to_string(),
            stderr,
        })
    }
}

/// `tool` on PATH, else in `pg_config --bindir`: the first that answers `--version`.
async fn find_pg_tool(tool: &'static str) -> Result<PathBuf, BackupError> {
    let answers = |p: PathBuf| async move {
        let ok = tokio::process::Command::new(&p)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        ok.then_some(p)
    };
    if let Some(p) = answers(PathBuf::from(tool)).await {
        return Ok(p);
    }
    let bindir = tokio::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .await
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if let Some(dir) = bindir
        && let Some(p) = answers(Path::new(&dir).join(tool)).await
    {
        return Ok(p);
    }
    Err(BackupError::ToolMissing(tool))
}

/// `%XX` escapes of a URL's user info decoded (libpq gets the password raw).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.display().to_string();
    move |source| BackupError::Io { what, path, source }
}

fn make_private(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(io("cannot make private (0600)", path))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), BackupError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let write = || -> std::io::Result<()> {
        let mut file = options.open(path)?;
        file.write_all(contents)?;
        file.sync_all()
    };
    write().map_err(io("cannot write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_pgpassword_decoded_and_sqlx_parameters_are_dropped() {
        let t = PgTarget::parse(
            "postgres://app:p%40ss%2Fw0rd@db.internal:5433/orders?sslmode=require&statement-cache-capacity=0",
        )
        .unwrap();
        assert_eq!(t.password.as_deref(), Some("p@ss/w0rd"));
        assert_eq!(
            t.conninfo,
            "postgres://app@db.internal:5433/orders?sslmode=require"
        );
        assert!(!t.conninfo.contains("w0rd"));
        let bare = PgTarget::parse("postgres://app@localhost/orders").unwrap();
        assert_eq!(bare.password, None);
        assert_eq!(bare.conninfo, "postgres://app@localhost/orders");
    }

    #[test]
    fn a_fingerprint_is_the_key_id_eight_hex_digits_of_its_sha256() {
        use sha2::Digest as _;
        let key = EncryptionKey::from_bytes([9u8; 32]);
        let digest = sha2::Sha256::digest([9u8; 32]);
        let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key_fingerprint(&key), format!("k-{hex}"));
    }

    #[test]
    fn percent_escapes_decode_and_a_stray_percent_stays() {
        assert_eq!(percent_decode("a%20b%zz%"), "a b%zz%");
    }
}
