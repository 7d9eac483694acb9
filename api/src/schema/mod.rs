//! The GraphQL schema, free of HTTP: tests run `schema.execute(...)` on it directly.
//!
//! One root per domain, merged: [`auth`] (register, login, users), [`connection`]
//! (the Amazon account and its credentials), [`orders`], [`sync_runs`] and
//! [`marketplaces`], [`reports`]. Who is asking travels in the request's data as a
//! [`RequestAuth`]; guards ([`SignedIn`], [`OwnerOnly`]) check it before a field runs.

pub mod auth;
pub mod connection;
pub mod documents;
pub mod error;
pub mod finances;
pub mod inventory;
pub mod listing_feeds;
pub mod listings;
pub mod live;
pub mod marketplaces;
pub mod money;
pub mod monitor;
pub mod order_items;
pub mod orders;
mod paging;
pub mod reports;
pub mod sync;
pub mod sync_runs;
pub mod versions;

use async_graphql::{Context, Guard, MergedObject, Schema};
use entity::enums::Role;
use entity::users;
use sea_orm::DatabaseConnection;
use service::Settings;
use service::amazon_account::EncryptionKey;
use service::auth::{LoginThrottle, Tokens};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::OnceCell;

pub use error::ApiError;

/// Deepest selection accepted.
pub const MAX_DEPTH: usize = 12;
/// The largest cost a request may have (async-graphql's static complexity,
/// checked before anything runs).
///
/// The cost estimates the values an answer may hold: a field counts 1, a page
/// counts its selection once per row it may return (`first`), `salesDaily` once
/// per day of its range, and every root field that reads the database adds
/// [`ROOT_READ_COST`], so aliasing one cheap lookup many times is not free. The
/// heaviest page a client may ask for, 200 orders with every order and item
/// field, costs about 8,000; the admin page's requests cost at most a few hundred.
/// 450 aliased 365-day `salesDaily` (9.7 s of database work before this limit)
/// cost over 300,000.
pub const MAX_COMPLEXITY: usize = 10_000;
/// What a root field that runs a database query adds to its selection's cost.
pub const ROOT_READ_COST: usize = 25;

/// The cost of a field returning up to `rows` rows of a selection costing
/// `child_complexity`, plus the query that reads them.
#[must_use]
pub fn rows_cost(rows: usize, child_complexity: usize) -> usize {
    ROOT_READ_COST.saturating_add(rows.max(1).saturating_mul(child_complexity))
}

/// Every query root, merged.
#[derive(MergedObject, Default)]
pub struct Query(
    auth::AuthQuery,
    connection::ConnectionQuery,
    orders::OrdersQuery,
    inventory::InventoryQuery,
    finances::FinancesQuery,
    listings::ListingsQuery,
    listing_feeds::ListingFeedsQuery,
    sync_runs::SyncRunsQuery,
    marketplaces::MarketplacesQuery,
    monitor::MonitorQuery,
    reports::ReportsQuery,
);

/// Every mutation root, merged.
#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    connection::ConnectionMutation,
    sync::SyncMutation,
    listings::ListingsMutation,
    listing_feeds::ListingFeedsMutation,
);

/// The schema type.
pub type ApiSchema = Schema<Query, Mutation, live::SyncSubscription>;

/// What every resolver may use.
pub struct ApiContext {
    /// The database.
    pub db: DatabaseConnection,
    /// Signs and verifies sign-in tokens.
    pub tokens: Tokens,
    /// Rate-limits, slows down and locks out sign-in attempts.
    pub throttle: LoginThrottle,
    /// Seals the Amazon credentials.
    pub encryption_key: Arc<EncryptionKey>,
    /// Starts the syncs, follows their progress, stops them at shutdown.
    pub syncer: service::sync::Syncer,
    /// Thresholds of the sync monitor.
    pub alerts: service::monitor::AlertSettings,
}

impl ApiContext {
    /// The context as configured.
    #[must_use]
    pub fn new(db: DatabaseConnection, settings: &Settings) -> Self {
        let encryption_key = Arc::new(EncryptionKey::from_bytes(*settings.encryption_key.expose()));
        Self {
            syncer: service::sync::Syncer::new(
                db.clone(),
                Arc::clone(&encryption_key),
                settings.sync.clone(),
            ),
            db,
            tokens: Tokens::from_settings(settings),
            throttle: LoginThrottle::new(settings.api.login.clone()),
            encryption_key,
            alerts: settings.alerts.clone(),
        }
    }
}

/// Builds the schema with its limits; without `introspection` (production's
/// default, `GRAPHQL_INTROSPECTION`), `__schema` and `__type` are refused.
#[must_use]
pub fn build(context: ApiContext, introspection: bool) -> ApiSchema {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        live::SyncSubscription,
    )
    .data(context)
    .extension(error::ErrorCodes)
    .extension(auth::OneSignInPerOperation)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY);
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema as configured, on `db`.
#[must_use]
pub fn schema(db: DatabaseConnection, settings: &Settings) -> ApiSchema {
    build(
        ApiContext::new(db, settings),
        settings.api.graphql_introspection,
    )
}

/// The schema's SDL, as checked in at `api/schema.graphql`.
#[must_use]
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        live::SyncSubscription,
    )
    .finish()
    .sdl()
}

/// Who is asking: the bearer token of the request, and the user it names once
/// a field has needed it (looked up once per request).
#[derive(Debug, Default)]
pub struct RequestAuth {
    token: Option<String>,
    user: OnceCell<Result<users::Model, ApiError>>,
}

impl RequestAuth {
    /// A request without a token.
    #[must_use]
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The bearer token, if the request carried one.
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// A request carrying `token`.
    #[must_use]
    pub fn bearer(token: impl Into<String>) -> Self {
        Self {
            token: Some(token.into()),
            user: OnceCell::new(),
        }
    }

    /// From an `Authorization` header value: `Bearer <token>` (the scheme is
    /// case-insensitive). Any other value counts as an invalid token.
    #[must_use]
    pub fn from_authorization(header: Option<&str>) -> Self {
        match header.map(str::trim) {
            None | Some("") => Self::anonymous(),
            Some(value) => match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    Self::bearer(token.trim())
                }
                _ => Self::bearer(""),
            },
        }
    }
}

/// The address a request came from, when the server knows it: the HTTP layer
/// puts the TCP peer's address in the request data. Behind a reverse proxy this
/// is the proxy's address, so the per-address sign-in limit then counts everyone
/// together. `schema.execute` without it (tests) skips that limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client address of this request, if known.
#[must_use]
pub fn client_addr(ctx: &Context<'_>) -> Option<IpAddr> {
    ctx.data_opt::<ClientAddr>().map(|c| c.0)
}

/// The signed-in user of this request.
///
/// # Errors
/// [`ApiError::Unauthenticated`] without a valid token.
pub async fn current_user<'a>(ctx: &Context<'a>) -> Result<&'a users::Model, ApiError> {
    let Some(auth) = ctx.data_opt::<RequestAuth>() else {
        return Err(not_signed_in());
    };
    let api = api_context(ctx)?;
    auth.user
        .get_or_init(|| async {
            match auth.token.as_deref() {
                None => Err(not_signed_in()),
                Some(token) => service::auth::authenticate(&api.db, &api.tokens, token)
                    .await
                    .map_err(ApiError::from),
            }
        })
        .await
        .as_ref()
        .map_err(Clone::clone)
}

fn not_signed_in() -> ApiError {
    ApiError::Unauthenticated(
        "sign in first: send `Authorization: Bearer <token>` with the token from `login`"
            .to_owned(),
    )
}

/// The shared context.
///
/// # Errors
/// [`ApiError::Internal`] if the schema was built without it.
pub fn api_context<'a>(ctx: &Context<'a>) -> Result<&'a ApiContext, ApiError> {
    ctx.data_opt::<ApiContext>().ok_or_else(|| {
        tracing::error!("the schema was built without its ApiContext");
        ApiError::Internal
    })
}

/// Lets any signed-in user through, even one still holding a one-time password:
/// only for reading who one is, changing the password and signing out.
pub struct AnySession;

impl Guard for AnySession {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        current_user(ctx).await?;
        Ok(())
    }
}

/// Lets any signed-in user through once their password is their own.
pub struct SignedIn;

impl Guard for SignedIn {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        active_user(ctx).await?;
        Ok(())
    }
}

/// Lets only the owner through; a viewer gets `FORBIDDEN`.
pub struct OwnerOnly;

impl Guard for OwnerOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let user = active_user(ctx).await?;
        if user.role == Role::Owner {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only the owner may do this".to_owned()).into())
        }
    }
}

/// The signed-in user, refused while they hold a one-time password.
async fn active_user<'a>(ctx: &Context<'a>) -> Result<&'a users::Model, ApiError> {
    let user = current_user(ctx).await?;
    if user.must_change_password {
        return Err(ApiError::Forbidden(
            "change your one-time password first (changePassword); until then only `me`, \
             `changePassword` and `signOutEverywhere` are allowed"
                .to_owned(),
        ));
    }
    Ok(user)
}
