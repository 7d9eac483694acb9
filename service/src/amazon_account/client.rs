//! The stored connection and its sealed credentials, made into an SP-API client:
//! the one place the credentials are opened.

use super::seal::{self, CredentialError, EncryptionKey, Field, Sealed};
use crate::spapi::SpApiError;
use crate::spapi::client::{ClientConfig, EndpointPolicy, SpApiClient};
use crate::spapi::lwa::LwaCredentials;
use entity::{amazon_connection, amazon_credential};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

/// Why there is no usable client.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No connection or no credentials stored yet.
    #[error("Amazon is not configured: {0}")]
    NotConfigured(&'static str),
    /// The stored credentials cannot be opened.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The client cannot be built from the stored settings.
    #[error(transparent)]
    Client(#[from] SpApiError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// The connection row, or `NotConfigured`.
///
/// # Errors
/// [`AccountError::NotConfigured`] when no connection is stored; database errors.
pub async fn connection(db: &DatabaseConnection) -> Result<amazon_connection::Model, AccountError> {
    super::get(db).await?.ok_or(AccountError::NotConfigured(
        "no Amazon connection is stored: set one with upsertAmazonConnection",
    ))
}

/// The LWA credentials of the connection, opened.
///
/// # Errors
/// [`AccountError::NotConfigured`] when none are stored; [`AccountError::Credentials`]
/// when they cannot be opened with the configured key.
async fn lwa_credentials(
    db: &DatabaseConnection,
    key: &EncryptionKey,
    conn: &amazon_connection::Model,
) -> Result<LwaCredentials, AccountError> {
    let cred = amazon_credential::Entity::find()
        .filter(amazon_credential::Column::ConnectionId.eq(conn.id))
        .one(db)
        .await?
        .ok_or(AccountError::NotConfigured(
            "no LWA credentials are stored: set them with setAmazonCredential",
        ))?;
    let client_secret = seal::open(
        key,
        &cred.key_id,
        conn.id,
        Field::ClientSecret,
        &Sealed {
            ciphertext: cred.client_secret_ciphertext,
            nonce: cred.client_secret_nonce,
        },
    )?;
    let refresh_token = seal::open(
        key,
        &cred.key_id,
        conn.id,
        Field::RefreshToken,
        &Sealed {
            ciphertext: cred.refresh_token_ciphertext,
            nonce: cred.refresh_token_nonce,
        },
    )?;
    Ok(LwaCredentials {
        client_id: cred.lwa_client_id,
        client_secret,
        refresh_token,
    })
}

/// The client configuration for the stored connection, sending the credentials
/// only where `endpoints` allows (the caller may tune it before building a client).
///
/// # Errors
/// See [`connection`] and [`lwa_credentials`]; [`AccountError::Client`] when the
/// connection names a custom endpoint that `endpoints` does not allow.
pub async fn client_config(
    db: &DatabaseConnection,
    key: &EncryptionKey,
    endpoints: EndpointPolicy,
) -> Result<(amazon_connection::Model, ClientConfig), AccountError> {
    let conn = connection(db).await?;
    let creds = lwa_credentials(db, key, &conn).await?;
    let config = ClientConfig::for_connection(&conn, creds, endpoints)?;
    Ok((conn, config))
}

/// A client for the stored connection with the default configuration.
///
/// # Errors
/// See [`client_config`]; [`AccountError::Client`] when the client cannot be built.
pub async fn client(
    db: &DatabaseConnection,
    key: &EncryptionKey,
    endpoints: EndpointPolicy,
) -> Result<(amazon_connection::Model, SpApiClient), AccountError> {
    let (conn, config) = client_config(db, key, endpoints).await?;
    Ok((conn, SpApiClient::new(config)?))
}
