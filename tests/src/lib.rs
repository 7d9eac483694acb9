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

pub mod truth;

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
    /// On PostgreSQL: the cluster's admin URL and this database's name, so that
    /// dropping the `TestDb` drops the database (a run creates hundreds; kept, they
    /// filled a CI disk).
    pg_drop: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg_drop.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: the DROP
        // goes through a connection of its own on a short-lived thread. `FORCE` ends
        // what is still connected (this struct's pool, a server or worker under test).
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let admin_db = service::db::open(&admin).await.map_err(|e| e.to_string())?;
                admin_db
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())?;
                admin_db.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| "the drop thread panicked".to_owned()) {
            // Not fatal for the test that is ending: the cluster is thrown away at
            // the end of the run anyway.
            eprintln!("note: could not drop a test database: {e}");
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A fresh database with no tables.
    ///
    /// # Panics
    /// When the database cannot be created: a test cannot go on without it.
    pub async fn empty() -> Self {
        Self::empty_on(pg_admin_url().as_deref()).await
    }

    /// A fresh database with no tables on the PostgreSQL cluster at `admin` (a new
    /// database is created there), or a temporary SQLite file when `None`.
    ///
    /// # Panics
    /// When the database cannot be created.
    pub async fn empty_on(admin: Option<&str>) -> Self {
        match admin {
            Some(admin) => Self::postgres(admin).await,
            None => Self::sqlite().await,
        }
    }

    /// [`Self::empty_on`] with every migration applied.
    ///
    /// # Panics
    /// When the database cannot be created or migrated.
    pub async fn migrated_on(admin: Option<&str>) -> Self {
        let t = Self::empty_on(admin).await;
        Migrator::up(&t.db, None).await.expect("migrations apply");
        t
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
            pg_drop: None,
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
            pg_drop: Some((admin.to_owned(), name)),
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

/// The JWT secret of [`settings`], for tests that forge tokens.
pub const TEST_JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789";

/// Settings for a test: the given database, port 0, fixed secrets, no
/// migrations at start-up (the test database is migrated already, or the test
/// wants it not to be).
///
/// # Panics
/// When the settings do not load (a bug in this function).
pub fn settings(
    database_url: &str,
    data_dir: &std::path::Path,
    run_migrations: bool,
) -> service::Settings {
    settings_with(database_url, data_dir, run_migrations, &[])
}

/// [`settings`] with more variables (`extra` wins over the defaults here).
///
/// # Panics
/// When the settings do not load.
pub fn settings_with(
    database_url: &str,
    data_dir: &std::path::Path,
    run_migrations: bool,
    extra: &[(&str, &str)],
) -> service::Settings {
    use base64::Engine as _;
    let vars = [
        ("DATABASE_URL", database_url.to_owned()),
        ("DATA_DIR", data_dir.display().to_string()),
        ("API_ADDR", "127.0.0.1:0".to_owned()),
        ("APP_ENV", "test".to_owned()),
        (
            "APP_ENCRYPTION_KEY",
            base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
        ),
        ("JWT_SECRET", TEST_JWT_SECRET.to_owned()),
        ("RUN_MIGRATIONS", run_migrations.to_string()),
        // Tests point the connection at spapi-sim on 127.0.0.1.
        ("SPAPI_ALLOW_CUSTOM_ENDPOINTS", "true".to_owned()),
    ];
    service::Settings::load(|k| {
        extra
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| {
                vars.iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| v.clone())
            })
    })
    .expect("test settings load")
}

/// A migrated database with the GraphQL schema on it, called directly (no HTTP).
pub struct TestApi {
    /// The database.
    pub t: TestDb,
    /// The schema.
    pub schema: api::schema::ApiSchema,
    /// The settings it was built from.
    pub settings: service::Settings,
    _data: tempfile::TempDir,
}

/// An owner's email and password used by [`TestApi::owner_token`].
pub const OWNER_EMAIL: &str = "owner@example.com";
/// The owner's password.
pub const OWNER_PASSWORD: &str = "owner-password-1";

impl TestApi {
    /// A fresh database and schema.
    ///
    /// # Panics
    /// When the database cannot be created.
    pub async fn new() -> Self {
        Self::with_vars(&[]).await
    }

    /// A fresh database and a schema built with these extra settings (e.g. the
    /// `LOGIN_*` limits).
    ///
    /// # Panics
    /// When the database cannot be created or the settings do not load.
    pub async fn with_vars(extra: &[(&str, &str)]) -> Self {
        Self::build(extra, |_| {}).await
    }

    /// A fresh database and a schema built from the test settings as `configure`
    /// changes them.
    ///
    /// # Panics
    /// When the database cannot be created.
    pub async fn with_settings(configure: impl FnOnce(&mut service::Settings)) -> Self {
        Self::build(&[], configure).await
    }

    async fn build(extra: &[(&str, &str)], configure: impl FnOnce(&mut service::Settings)) -> Self {
        let t = TestDb::migrated().await;
        let data = tempfile::tempdir().expect("temp dir");
        let mut settings = settings_with(&t.url, data.path(), false, extra);
        configure(&mut settings);
        let schema = api::schema::schema(t.db.clone(), &settings);
        Self {
            t,
            schema,
            settings,
            _data: data,
        }
    }

    /// Runs `query` with `variables`, as the holder of `token` (none: anonymous),
    /// and returns the whole response as JSON (`data` and `errors`).
    ///
    /// # Panics
    /// When the response cannot be serialised.
    pub async fn run(
        &self,
        token: Option<&str>,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        self.run_from(None, token, query, variables).await
    }

    /// [`Self::run`] as a request from the client address `client` (as the HTTP
    /// layer passes it), when given.
    ///
    /// # Panics
    /// When the response cannot be serialised.
    pub async fn run_from(
        &self,
        client: Option<std::net::IpAddr>,
        token: Option<&str>,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let auth = match token {
            Some(t) => api::schema::RequestAuth::bearer(t),
            None => api::schema::RequestAuth::anonymous(),
        };
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables))
            .data(auth);
        if let Some(client) = client {
            request = request.data(api::schema::ClientAddr(client));
        }
        serde_json::to_value(self.schema.execute(request).await).expect("response is JSON")
    }

    /// Registers the owner and returns their token.
    ///
    /// # Panics
    /// When registration fails.
    pub async fn owner_token(&self) -> String {
        let r = self
            .run(
                None,
                "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token } }",
                serde_json::json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
            )
            .await;
        r["data"]["register"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("register failed: {r}"))
            .to_owned()
    }

    /// Creates a viewer (as the owner) and returns the viewer's token.
    ///
    /// # Panics
    /// When creating or signing in fails.
    pub async fn viewer_token(&self, owner_token: &str) -> String {
        let created = self
            .run(
                Some(owner_token),
                r#"mutation { createUser(email: "viewer@example.com", password: "viewer-password-1", role: VIEWER) { id } }"#,
                serde_json::Value::Null,
            )
            .await;
        assert!(created["errors"].is_null(), "createUser failed: {created}");
        let r = self
            .run(
                None,
                r#"mutation { login(email: "viewer@example.com", password: "viewer-password-1") { token } }"#,
                serde_json::Value::Null,
            )
            .await;
        r["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("viewer login failed: {r}"))
            .to_owned()
    }
}

/// The `extensions.code` of each error of a response, in order.
#[must_use]
pub fn error_codes(response: &serde_json::Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Saves a connection to the simulated seller `sim` (its endpoint and token URL,
/// so the settings must allow custom endpoints) with the simulator's LWA client
/// and `refresh_token`, sealed with `key`: what every test and benchmark that runs
/// a real sync against spapi-sim starts from.
///
/// # Errors
/// When the connection or the credentials cannot be saved.
pub async fn connect_to_simulator(
    db: &DatabaseConnection,
    key: &service::amazon_account::EncryptionKey,
    sim: &spapi_sim::SimHandle,
    seller_id: &str,
    marketplace_ids: Vec<String>,
    version: entity::enums::OrdersApiVersion,
    refresh_token: &str,
) -> Result<(), service::amazon_account::ConnectionError> {
    use secrecy::SecretString;
    use service::amazon_account::{ConnectionInput, CredentialInput};
    service::amazon_account::upsert(
        db,
        ConnectionInput {
            seller_id: seller_id.to_owned(),
            region: entity::enums::Region::Na,
            sandbox: false,
            marketplace_ids,
            orders_api_version: version,
            endpoint: Some(sim.base_url()),
            token_url: Some(sim.token_url()),
            timezone: None,
        },
        service::spapi::EndpointPolicy::AllowCustom,
    )
    .await?;
    service::amazon_account::set_credential(
        db,
        key,
        CredentialInput {
            lwa_client_id: spapi_sim::DEFAULT_CLIENT_ID.to_owned(),
            lwa_client_secret: SecretString::from(spapi_sim::DEFAULT_CLIENT_SECRET.to_owned()),
            refresh_token: SecretString::from(refresh_token.to_owned()),
        },
    )
    .await?;
    Ok(())
}

/// The api served over HTTP on 127.0.0.1 (port 0) on a fresh migrated database,
/// for tests that need the real transport: headers, status codes, WebSockets.
pub struct TestServer {
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// `http://` and the address.
    pub base: String,
    /// A client for it.
    pub client: reqwest::Client,
    /// The database it serves.
    pub t: TestDb,
    /// The settings it was started with.
    pub settings: service::Settings,
    _data: tempfile::TempDir,
}

impl TestServer {
    /// The api with the test settings.
    ///
    /// # Panics
    /// When the database or the server cannot be started.
    pub async fn start() -> Self {
        Self::start_with(|_| {}, |_| {}).await
    }

    /// The api with the test settings as `settings` changes them, and the built
    /// application as `app` changes it before it serves.
    ///
    /// # Panics
    /// When the database or the server cannot be started.
    pub async fn start_with(
        settings: impl FnOnce(&mut service::Settings),
        app: impl FnOnce(&mut api::Application),
    ) -> Self {
        let t = TestDb::migrated().await;
        let data = tempfile::tempdir().expect("temp dir");
        let mut s = self::settings(&t.url, data.path(), false);
        settings(&mut s);
        let mut application = api::Application::with_database(&s, t.db.clone())
            .await
            .expect("the api starts");
        app(&mut application);
        let addr = application.addr();
        tokio::spawn(application.run());
        Self {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            t,
            settings: s,
            _data: data,
        }
    }

    /// One GraphQL request over HTTP, with `token` as the bearer when given: the
    /// whole JSON answer (`data` and `errors`).
    ///
    /// # Panics
    /// When the server does not answer JSON.
    pub async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("the api answers")
            .json()
            .await
            .expect("the api answers JSON")
    }

    /// Registers the owner over HTTP and returns their token.
    ///
    /// # Panics
    /// When registration fails.
    pub async fn owner_token(&self) -> String {
        let r = self
            .graphql(
                None,
                "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token } }",
                serde_json::json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
            )
            .await;
        r["data"]["register"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("register failed: {r}"))
            .to_owned()
    }
}
