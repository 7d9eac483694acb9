//! End-to-end test support: a fresh, throwaway database per test, on SQLite by
//! default and on PostgreSQL when the test command provides a cluster.
//!
//! The README's test command runs the whole suite twice: once on SQLite, once with
//! `TEST_PG_URL` pointing at a throwaway PostgreSQL cluster it started itself. Each
//! [`TestDb`] then creates its own database on that cluster, so tests never share
//! state and can run in parallel.

#![expect(
    clippy::expect_used,
    reason = "test support: a test cannot go on without its database, so failing loudly is right"
)]

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use std::sync::atomic::{AtomicU32, Ordering};

/// Which database the suite runs on in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file per test.
    Sqlite,
    /// A fresh database per test on the cluster at `TEST_PG_URL`.
    Postgres,
}

/// The backend this test process uses: PostgreSQL when `TEST_PG_URL` is set.
#[must_use]
pub fn backend() -> Backend {
    if pg_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

fn pg_admin_url() -> Option<String> {
    std::env::var("TEST_PG_URL").ok().filter(|v| !v.is_empty())
}

/// A database that exists for one test.
pub struct TestDb {
    /// The connection.
    pub db: DatabaseConnection,
    /// Its URL, for code under test that opens its own connection.
    pub url: String,
    /// Which backend it is on.
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A fresh database with no tables.
    ///
    /// # Panics
    /// When the database cannot be created: a test cannot go on without it.
    pub async fn empty() -> Self {
        match pg_admin_url() {
            Some(admin) => Self::postgres(&admin).await,
            None => Self::sqlite().await,
        }
    }

    /// A fresh database with every migration applied.
    ///
    /// # Panics
    /// When the database cannot be created or migrated.
    pub async fn migrated() -> Self {
        let t = Self::empty().await;
        Migrator::up(&t.db, None).await.expect("migrations apply");
        t
    }

    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/test.sqlite?mode=rwc", dir.path().display());
        let db = service::db::open(&url).await.expect("open sqlite");
        Self {
            db,
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
        }
    }

    async fn postgres(admin: &str) -> Self {
        let name = format!(
            "t_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let admin_db = service::db::open(admin)
            .await
            .expect("connect to TEST_PG_URL");
        admin_db
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        drop(admin_db);
        let mut url = url::Url::parse(admin).expect("TEST_PG_URL is a URL");
        url.set_path(&name);
        let url = url.to_string();
        let db = service::db::open(&url)
            .await
            .expect("connect to test database");
        Self {
            db,
            url,
            backend: Backend::Postgres,
            _dir: None,
        }
    }

    /// Runs a query and returns the first column of every row as a string.
    ///
    /// # Panics
    /// When the query fails.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.iter()
            .map(|r| {
                r.try_get_by_index::<String>(0)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            })
            .collect()
    }

    /// The application's tables (excluding the migration bookkeeping table).
    pub async fn tables(&self) -> Vec<String> {
        let sql = match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name"
            }
            _ => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
                 AND table_name <> 'seaql_migrations' ORDER BY table_name"
            }
        };
        self.strings(sql).await
    }
}
