//! The Amazon seller account: `amazonConnection`, `upsertAmazonConnection` and
//! `setAmazonCredential`. Secrets go in and never come out: the connection shows
//! only whether credentials are configured and the (public) LWA client id.

use super::sync_runs::SyncRunStatus;
pub use super::versions::OrdersApiVersion;
use super::{ApiError, OwnerOnly, SignedIn, api_context};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::amazon_connection;
use entity::enums;
use secrecy::SecretString;
use service::amazon_account::{ConnectionInput, CredentialInput, CredentialSummary};

/// The SP-API region of a seller account.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Region {
    /// North America (and Brazil).
    #[graphql(name = "NA")]
    Na,
    /// Europe, Middle East, India and Africa.
    #[graphql(name = "EU")]
    Eu,
    /// Far East.
    #[graphql(name = "FE")]
    Fe,
}

impl From<enums::Region> for Region {
    fn from(r: enums::Region) -> Self {
        match r {
            enums::Region::Na => Self::Na,
            enums::Region::Eu => Self::Eu,
            enums::Region::Fe => Self::Fe,
        }
    }
}

impl From<Region> for enums::Region {
    fn from(r: Region) -> Self {
        match r {
            Region::Na => Self::Na,
            Region::Eu => Self::Eu,
            Region::Fe => Self::Fe,
        }
    }
}

/// The seller account to sync.
#[derive(InputObject, Debug)]
pub struct AmazonConnectionInput {
    /// The merchant token (Seller Central: Settings, Account Info).
    pub seller_id: String,
    /// The account's region.
    pub region: Region,
    /// Call Amazon's sandbox instead of production.
    #[graphql(default)]
    pub sandbox: bool,
    /// Marketplaces to sync, all in `region` (see the `marketplaces` query).
    pub marketplace_ids: Vec<String>,
    /// The Orders API to use.
    #[graphql(default)]
    pub orders_api_version: OrdersApiVersion,
    /// SP-API base URL override for a simulator; refused unless the server runs
    /// with `SPAPI_ALLOW_CUSTOM_ENDPOINTS=true` (never in production). Leave it
    /// empty: the region and `sandbox` decide. Changing it deletes the stored
    /// credentials.
    pub endpoint: Option<String>,
    /// LWA token URL override for a simulator; as `endpoint`.
    pub token_url: Option<String>,
    /// IANA time zone the daily sales report cuts days in, e.g.
    /// `America/Los_Angeles`; null for the first marketplace's.
    pub timezone: Option<String>,
}

/// The LWA credentials of the app authorized for the seller account.
#[derive(InputObject)]
pub struct AmazonCredentialInput {
    /// The LWA client id (public).
    pub lwa_client_id: String,
    /// The LWA client secret; stored sealed, never shown again.
    #[graphql(secret)]
    pub lwa_client_secret: String,
    /// The refresh token from authorizing the app; stored sealed, never shown again.
    #[graphql(secret)]
    pub refresh_token: String,
}

/// The seller account this installation syncs, and how its last check and sync went.
#[derive(SimpleObject, Debug)]
pub struct AmazonConnection {
    /// The merchant token.
    pub seller_id: String,
    /// The account's region.
    pub region: Region,
    /// Whether Amazon's sandbox is used.
    pub sandbox: bool,
    /// The marketplaces synced.
    pub marketplace_ids: Vec<String>,
    /// The Orders API in use.
    pub orders_api_version: OrdersApiVersion,
    /// SP-API base URL override, if any (only where the server allows custom
    /// endpoints: `SPAPI_ALLOW_CUSTOM_ENDPOINTS`).
    pub endpoint: Option<String>,
    /// LWA token URL override, if any (as `endpoint`).
    pub token_url: Option<String>,
    /// Whether LWA credentials are stored (they are never shown).
    pub credential_configured: bool,
    /// The LWA client id of the stored credentials (public, not a secret).
    pub lwa_client_id: Option<String>,
    /// When the credentials were last set.
    pub credential_updated_at: Option<DateTime<Utc>>,
    /// When the connection was last checked against Amazon.
    pub last_check_at: Option<DateTime<Utc>>,
    /// Whether that check succeeded.
    pub last_check_ok: Option<bool>,
    /// Why it failed, if it did.
    pub last_check_error: Option<String>,
    /// When the last orders sync ended.
    pub last_orders_sync_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub last_orders_sync_status: Option<SyncRunStatus>,
    /// Why it failed, if it did.
    pub last_orders_sync_error: Option<String>,
    /// Orders it read.
    pub last_orders_sync_orders_count: Option<i64>,
    /// Items it read.
    pub last_orders_sync_items_count: Option<i64>,
    /// The time zone set for daily reports; null: the first marketplace's.
    pub timezone: Option<String>,
    /// The time zone daily reports (`salesDaily`) use: `timezone`, else the first
    /// marketplace's, else UTC.
    pub report_timezone: String,
    /// When the connection was first saved.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl AmazonConnection {
    fn new(c: amazon_connection::Model, credential: Option<CredentialSummary>) -> Self {
        Self {
            report_timezone: service::reports::seller_time_zone(Some(&c))
                .name()
                .to_owned(),
            timezone: c.timezone.clone(),
            marketplace_ids: c.marketplace_id_list(),
            seller_id: c.seller_id,
            region: c.region.into(),
            sandbox: c.sandbox,
            orders_api_version: c.orders_api_version.into(),
            endpoint: c.endpoint,
            token_url: c.token_url,
            credential_configured: credential.is_some(),
            lwa_client_id: credential.as_ref().map(|s| s.lwa_client_id.clone()),
            credential_updated_at: credential.map(|s| s.updated_at),
            last_check_at: c.last_check_at,
            last_check_ok: c.last_check_ok,
            last_check_error: c.last_check_error,
            last_orders_sync_at: c.last_orders_sync_at,
            last_orders_sync_status: c
                .last_orders_sync_status
                .as_deref()
                .and_then(SyncRunStatus::parse),
            last_orders_sync_error: c.last_orders_sync_error,
            last_orders_sync_orders_count: c.last_orders_sync_orders_count,
            last_orders_sync_items_count: c.last_orders_sync_items_count,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }

    /// The connection as stored now, with its credential summary.
    pub(crate) async fn load(api: &super::ApiContext) -> Result<Option<Self>, ApiError> {
        let db = &api.db;
        let Some(connection) = service::amazon_account::get(db).await? else {
            return Ok(None);
        };
        let credential = service::amazon_account::credential_summary(db).await?;
        Ok(Some(Self::new(connection, credential)))
    }
}

/// Reading the connection.
#[derive(Default)]
pub struct ConnectionQuery;

#[Object]
impl ConnectionQuery {
    /// The seller account, or null before one is saved.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn amazon_connection(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<AmazonConnection>, ApiError> {
        AmazonConnection::load(api_context(ctx)?).await
    }
}

/// Changing the connection (owner only).
#[derive(Default)]
pub struct ConnectionMutation;

#[Object]
impl ConnectionMutation {
    /// Saves the seller account to sync, replacing the previous settings.
    #[graphql(guard = "OwnerOnly")]
    async fn upsert_amazon_connection(
        &self,
        ctx: &Context<'_>,
        input: AmazonConnectionInput,
    ) -> Result<AmazonConnection, ApiError> {
        let api = api_context(ctx)?;
        service::amazon_account::upsert(
            &api.db,
            ConnectionInput {
                seller_id: input.seller_id,
                region: input.region.into(),
                sandbox: input.sandbox,
                marketplace_ids: input.marketplace_ids,
                orders_api_version: input.orders_api_version.into(),
                endpoint: input.endpoint,
                token_url: input.token_url,
                timezone: input.timezone,
            },
            api.syncer.config().endpoints,
        )
        .await?;
        AmazonConnection::load(api).await?.ok_or(ApiError::Internal)
    }

    /// Stores the LWA credentials sealed; they can be replaced but never read back.
    #[graphql(guard = "OwnerOnly")]
    async fn set_amazon_credential(
        &self,
        ctx: &Context<'_>,
        input: AmazonCredentialInput,
    ) -> Result<AmazonConnection, ApiError> {
        let api = api_context(ctx)?;
        service::amazon_account::set_credential(
            &api.db,
            &api.encryption_key,
            CredentialInput {
                lwa_client_id: input.lwa_client_id,
                lwa_client_secret: SecretString::from(input.lwa_client_secret),
                refresh_token: SecretString::from(input.refresh_token),
            },
        )
        .await?;
        AmazonConnection::load(api).await?.ok_or(ApiError::Internal)
    }
}
