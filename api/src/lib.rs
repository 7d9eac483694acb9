//! The admin backend's HTTP server.
//!
//! [`Application::build`] opens the database, binds the listener (port 0 in tests)
//! and returns the application with its bound address; `run` serves until SIGTERM
//! or Ctrl-C. The GraphQL admin API is [`schema`] (no HTTP in it) served at
//! `/graphql` by a thin layer; the admin page is at `/admin` (module `admin`).

mod admin;
mod export;
mod graphiql;
mod graphql;

pub use graphql::{MAX_BODY_BYTES, SocketLimits};
mod health;
mod metrics;
pub mod schema;

use axum::Router;
use sea_orm::DatabaseConnection;
use service::Settings;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] service::db::DbSetupError),
    /// The address could not be bound.
    #[error("cannot listen on {addr} (set API_ADDR to a free address): {source}")]
    Bind {
        /// The address from `API_ADDR`.
        addr: SocketAddr,
        /// The I/O failure.
        source: std::io::Error,
    },
}

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The GraphQL schema.
    pub schema: schema::ApiSchema,
    /// Request counters for `/metrics`.
    pub counters: metrics::SharedCounters,
    /// Documents already parsed, by their text.
    pub documents: std::sync::Arc<schema::documents::ParsedDocuments>,
    /// The browser origins that may call the api.
    pub origins: graphql::Origins,
    /// Verifies the tokens of WebSocket `connection_init`s.
    pub tokens: service::auth::Tokens,
    /// Open WebSockets and their time limits.
    pub sockets: graphql::SocketLimits,
    /// Whether `GET /graphql` serves GraphiQL (`GRAPHIQL`).
    pub graphiql: bool,
}

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    cors: tower_http::cors::CorsLayer,
    addr: SocketAddr,
    syncer: service::sync::Syncer,
}

/// How long shutdown waits for a background sync to record itself as interrupted.
const SYNC_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

impl Application {
    /// Opens the database (migrating it unless turned off) and binds `API_ADDR`.
    ///
    /// # Errors
    /// [`StartError`] when the database or the address cannot be used.
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        let db = service::db::connect(settings).await?;
        // The owner can store the credentials again with this key: a warning, not a stop.
        match service::amazon_account::sealing_key_mismatch(
            &db,
            &settings.encryption_key,
            &settings.encryption_key_origin,
        )
        .await
        {
            Ok(Some(problem)) => tracing::error!("{problem}"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not compare the stored credentials' key"),
        }
        Self::with_database(settings, db).await
    }

    /// Binds `settings.api.addr` and serves an already opened database.
    ///
    /// # Errors
    /// [`StartError::Bind`] when the address cannot be bound.
    pub async fn with_database(
        settings: &Settings,
        db: DatabaseConnection,
    ) -> Result<Self, StartError> {
        let addr = settings.api.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let context = schema::ApiContext::new(db.clone(), settings);
        let syncer = context.syncer.clone();
        let schema = schema::build(context, settings.api.graphql_introspection);
        let state = AppState {
            db,
            schema,
            counters: std::sync::Arc::new(metrics::Counters::new(
                settings.api.metrics_token.clone(),
            )),
            documents: std::sync::Arc::default(),
            origins: graphql::Origins::new(&settings.api.cors_allowed_origins),
            tokens: service::auth::Tokens::from_settings(settings),
            sockets: graphql::SocketLimits::default(),
            graphiql: settings.api.graphiql,
        };
        Ok(Self {
            listener,
            state,
            cors: cors(&settings.api.cors_allowed_origins),
            addr,
            syncer,
        })
    }

    /// The address actually bound (useful with port 0).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the owner has registered (a fresh install has none yet).
    ///
    /// # Errors
    /// The database error.
    pub async fn owner_exists(&self) -> Result<bool, sea_orm::DbErr> {
        service::auth::owner_exists(&self.state.db).await
    }

    /// The WebSocket limits, for tests that cannot wait for the real ones.
    pub fn socket_limits_mut(&mut self) -> &mut graphql::SocketLimits {
        &mut self.state.sockets
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests.
    ///
    /// # Errors
    /// The I/O error that stopped the server.
    pub async fn run(self) -> std::io::Result<()> {
        let syncer = self.syncer.clone();
        let router = router(self.state).layer(self.cors);
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Background syncs stop after their current page.
            syncer.cancel();
        })
        .await;
        if !self.syncer.shut_down(SYNC_GRACE).await {
            tracing::warn!(
                "a background sync did not stop within {SYNC_GRACE:?}; its run stays 'running' until the next start"
            );
        }
        served
    }
}

/// Browser access from the configured origins only (none: same origin only).
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(admin::routes())
        .merge(export::routes())
        .merge(graphql::routes())
        .merge(graphiql::routes())
        .merge(metrics::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
