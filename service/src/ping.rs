//! The SP-API ping: an LWA exchange plus `getMarketplaceParticipations` (the Sellers
//! quota, never the orders quota), recorded on the connection.

use crate::amazon_account::{self, AccountError};
use crate::spapi::OrdersApi;
use chrono::Utc;
use entity::amazon_connection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// What the ping found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingOutcome {
    /// Whether Amazon accepted the credentials and answered.
    pub ok: bool,
    /// The error a person can act on, when not ok.
    pub error: Option<String>,
    /// Marketplaces the seller participates in (when ok).
    pub marketplaces: Vec<String>,
}

/// Pings with a ready client and records the result on the connection.
///
/// # Errors
/// Only a database failure; Amazon's refusal is a result (`ok: false`).
pub async fn ping_with(
    db: &DatabaseConnection,
    api: &dyn OrdersApi,
) -> Result<PingOutcome, AccountError> {
    let outcome = match api.marketplace_participations().await {
        Ok(list) => PingOutcome {
            ok: true,
            error: None,
            marketplaces: list.into_iter().map(|p| p.marketplace_id).collect(),
        },
        Err(e) => PingOutcome {
            ok: false,
            error: Some(e.to_string()),
            marketplaces: Vec::new(),
        },
    };
    record(db, outcome.ok, outcome.error.clone()).await?;
    Ok(outcome)
}

async fn record(
    db: &DatabaseConnection,
    ok: bool,
    error: Option<String>,
) -> Result<(), AccountError> {
    let now = Utc::now();
    amazon_connection::Entity::update_many()
        .col_expr(amazon_connection::Column::LastCheckAt, Expr::value(now))
        .col_expr(amazon_connection::Column::LastCheckOk, Expr::value(ok))
        .col_expr(
            amazon_connection::Column::LastCheckError,
            Expr::value(error),
        )
        .filter(amazon_connection::Column::Id.eq(amazon_connection::SINGLETON_ID))
        .exec(db)
        .await?;
    Ok(())
}

/// Pings Amazon with the stored connection and credentials, recording the result.
/// Credentials that cannot be opened, and a connection whose endpoints are not
/// allowed, are recorded as a failed check too.
///
/// # Errors
/// [`AccountError::NotConfigured`] when there is no connection or credential; database errors.
pub async fn ping_sp_api(
    db: &DatabaseConnection,
    key: &crate::amazon_account::seal::EncryptionKey,
    endpoints: crate::spapi::EndpointPolicy,
) -> Result<PingOutcome, AccountError> {
    match amazon_account::client(db, key, endpoints).await {
        Ok((_, client)) => ping_with(db, &client).await,
        Err(e @ (AccountError::Credentials(_) | AccountError::Client(_))) => {
            let message = e.to_string();
            record(db, false, Some(message.clone())).await?;
            Ok(PingOutcome {
                ok: false,
                error: Some(message),
                marketplaces: Vec::new(),
            })
        }
        Err(e) => Err(e),
    }
}
