//! The one Amazon seller account this installation syncs, in one place: the
//! connection (`amazon_connection`, id 1) and where its calls may go, its LWA
//! credentials sealed at rest ([`seal`]: the key, seal and open), the summary the
//! API may show, and the SP-API client built from them ([`client`]).
//!
//! Credentials go in and never come back out of this module: callers learn only
//! whether they are configured and the (public) LWA client id; only [`client`]
//! opens them, to hand them to the SP-API client.

pub mod client;
pub mod seal;

pub use client::{AccountError, client, client_config};
pub use seal::EncryptionKey;

use crate::spapi::EndpointPolicy;
use chrono::Utc;
use entity::amazon_connection::{self, SINGLETON_ID};
use entity::enums::{OrdersApiVersion, Region};
use entity::{amazon_credential, marketplaces};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, TransactionTrait,
};
use seal::{CredentialError, Field};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeSet;

/// Why the connection or its credentials could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// A field cannot be used; the message names it and says what is expected.
    #[error("{field}: {reason}")]
    Invalid {
        /// The input field (as the API names it).
        field: &'static str,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Credentials were given before the connection exists.
    #[error(
        "no Amazon connection yet: save the connection (seller id, region, marketplaces) first"
    )]
    NotConfigured,
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] CredentialError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What the owner enters to connect a seller account.
#[derive(Debug, Clone)]
pub struct ConnectionInput {
    /// The merchant token (Seller Central: Settings, Account Info, Merchant Token).
    pub seller_id: String,
    /// The SP-API region the account lives in.
    pub region: Region,
    /// Whether to call Amazon's sandbox.
    pub sandbox: bool,
    /// Marketplaces to sync; each must be a known marketplace of `region`.
    pub marketplace_ids: Vec<String>,
    /// Which Orders API the sync speaks.
    pub orders_api_version: OrdersApiVersion,
    /// SP-API base URL override (sandbox, simulator).
    pub endpoint: Option<String>,
    /// LWA token URL override.
    pub token_url: Option<String>,
    /// IANA time zone of daily reports (e.g. `America/Los_Angeles`); None: the
    /// first marketplace's ([`crate::reports::marketplace_time_zone`]).
    pub timezone: Option<String>,
}

/// The LWA credentials as entered. The secrets are [`SecretString`]s: they print
/// as `[REDACTED]` and are sealed before they reach the database.
#[derive(Debug, Clone)]
pub struct CredentialInput {
    /// The LWA client id (public).
    pub lwa_client_id: String,
    /// The LWA client secret.
    pub lwa_client_secret: SecretString,
    /// The refresh token from authorizing the app.
    pub refresh_token: SecretString,
}

/// What may be said about stored credentials: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSummary {
    /// The LWA client id.
    pub lwa_client_id: String,
    /// When they were last set.
    pub updated_at: chrono::DateTime<Utc>,
}

/// The connection, if one was saved.
///
/// # Errors
/// The database error.
pub async fn get(db: &impl ConnectionTrait) -> Result<Option<amazon_connection::Model>, DbErr> {
    amazon_connection::Entity::find_by_id(SINGLETON_ID)
        .one(db)
        .await
}

/// The stored credentials' public part, if any are stored.
///
/// # Errors
/// The database error.
pub async fn credential_summary(
    db: &impl ConnectionTrait,
) -> Result<Option<CredentialSummary>, DbErr> {
    Ok(amazon_credential::Entity::find()
        .filter(amazon_credential::Column::ConnectionId.eq(SINGLETON_ID))
        .one(db)
        .await?
        .map(|c| CredentialSummary {
            lwa_client_id: c.lwa_client_id,
            updated_at: c.updated_at,
        }))
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConnectionError {
    ConnectionError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A custom endpoint or token URL, checked: only where `policy` allows custom
/// endpoints at all, and only a plain http(s) URL (no user info, query or
/// fragment, which would change where the appended paths and the credentials go).
fn check_url(
    field: &'static str,
    value: Option<String>,
    policy: EndpointPolicy,
) -> Result<Option<String>, ConnectionError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if !policy.allows_custom() {
        return Err(invalid(
            field,
            "custom endpoints are off: the SP-API and LWA addresses come from the region \
             (and sandbox); leave it empty (SPAPI_ALLOW_CUSTOM_ENDPOINTS=true allows a \
             simulator outside production)",
        ));
    }
    match url::Url::parse(&value) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
                && !value.contains(['#', '?']) =>
        {
            Ok(Some(value))
        }
        _ => Err(invalid(
            field,
            format!(
                "{value:?} is not a plain http(s) URL like https://sellingpartnerapi-na.amazon.com \
                 (no user, query or fragment)"
            ),
        )),
    }
}

async fn validate(
    db: &impl ConnectionTrait,
    input: ConnectionInput,
    policy: EndpointPolicy,
) -> Result<ConnectionInput, ConnectionError> {
    let seller_id = input.seller_id.trim().to_owned();
    if seller_id.is_empty()
        || seller_id.len() > 64
        || !seller_id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(invalid(
            "sellerId",
            "use the merchant token from Seller Central (letters and digits, e.g. A1B2C3D4E5F6G7)",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for id in &input.marketplace_ids {
        let id = id.trim().to_owned();
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(invalid(
            "marketplaceIds",
            "give at least one marketplace id (see the `marketplaces` query)",
        ));
    }
    let known = marketplaces::Entity::find()
        .filter(marketplaces::Column::MarketplaceId.is_in(ids.clone()))
        .all(db)
        .await?;
    for id in &ids {
        match known.iter().find(|m| &m.marketplace_id == id) {
            None => {
                return Err(invalid(
                    "marketplaceIds",
                    format!("{id:?} is not a known marketplace id (see the `marketplaces` query)"),
                ));
            }
            Some(m) if m.region != region_code(input.region) => {
                return Err(invalid(
                    "marketplaceIds",
                    format!(
                        "{id:?} ({}) is in region {}, not {}: connect one region per account",
                        m.name,
                        m.region,
                        region_code(input.region)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let timezone = match input.timezone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tz) => match tz.parse::<chrono_tz::Tz>() {
            Ok(parsed) => Some(parsed.name().to_owned()),
            Err(_) => {
                return Err(invalid(
                    "timezone",
                    format!(
                        "{tz:?} is not an IANA time zone like America/Los_Angeles or Europe/Berlin; leave it empty for the marketplace's"
                    ),
                ));
            }
        },
    };
    Ok(ConnectionInput {
        seller_id,
        timezone,
        marketplace_ids: ids,
        endpoint: check_url("endpoint", input.endpoint, policy)?,
        token_url: check_url("tokenUrl", input.token_url, policy)?,
        ..input
    })
}

fn region_code(region: Region) -> &'static str {
    match region {
        Region::Na => "NA",
        Region::Eu => "EU",
        Region::Fe => "FE",
    }
}

/// Creates or replaces the connection (row id 1). The last check and sync results
/// are kept: they describe the same account unless the seller id changes.
///
/// A custom `endpoint` or `tokenUrl` is accepted only where `policy` allows it.
/// Changing either of them deletes the stored credentials, in the same
/// transaction: secrets entered for one place are never sent to another.
///
/// # Errors
/// [`ConnectionError::Invalid`] naming the first unusable field.
#[tracing::instrument(skip(db, input), fields(seller_id = %input.seller_id, region = ?input.region))]
pub async fn upsert(
    db: &DatabaseConnection,
    input: ConnectionInput,
    policy: EndpointPolicy,
) -> Result<amazon_connection::Model, ConnectionError> {
    let input = validate(db, input, policy).await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let existing = get(&txn).await?;
    let seller_changed = existing
        .as_ref()
        .is_some_and(|c| c.seller_id != input.seller_id);
    let urls_changed = existing
        .as_ref()
        .is_some_and(|c| c.endpoint != input.endpoint || c.token_url != input.token_url);
    if urls_changed {
        let dropped = amazon_credential::Entity::delete_many()
            .filter(amazon_credential::Column::ConnectionId.eq(SINGLETON_ID))
            .exec(&txn)
            .await?;
        if dropped.rows_affected > 0 {
            tracing::warn!(
                "the connection's endpoint or token URL changed: the stored LWA credentials were deleted; enter them again with setAmazonCredential"
            );
        }
    }
    let mut row = amazon_connection::ActiveModel {
        id: Set(SINGLETON_ID),
        seller_id: Set(input.seller_id),
        region: Set(input.region),
        sandbox: Set(input.sandbox),
        marketplace_ids: Set(serde_json::json!(input.marketplace_ids)),
        orders_api_version: Set(input.orders_api_version),
        endpoint: Set(input.endpoint),
        token_url: Set(input.token_url),
        timezone: Set(input.timezone),
        updated_at: Set(now),
        ..Default::default()
    };
    let saved = if existing.is_some() {
        if seller_changed || urls_changed {
            // Another account or another place: the previous check says nothing about it.
            row.last_check_at = Set(None);
            row.last_check_ok = Set(None);
            row.last_check_error = Set(None);
        }
        row.update(&txn).await?
    } else {
        row.created_at = Set(now);
        row.insert(&txn).await?
    };
    txn.commit().await?;
    Ok(saved)
}

/// When the stored credentials were sealed with another key than `key`: a message
/// naming both keys' ids and where this process's key came from (`origin`), so an
/// operator who started a second process with another `DATA_DIR` (which generated
/// a key of its own) sees it at once instead of at the first sync.
///
/// # Errors
/// The database error.
pub async fn sealing_key_mismatch(
    db: &DatabaseConnection,
    key: &EncryptionKey,
    origin: &str,
) -> Result<Option<String>, DbErr> {
    let Some(cred) = amazon_credential::Entity::find().one(db).await? else {
        return Ok(None);
    };
    if cred.key_id == key.id() {
        return Ok(None);
    }
    Ok(Some(format!(
        "the stored Amazon credentials were sealed with key {} but this process's key is {} (from {origin}): run every process (api and worker) with the same APP_ENCRYPTION_KEY, or the same absolute DATA_DIR; a key generated into another directory cannot open them",
        cred.key_id,
        key.id()
    )))
}

/// What an LWA client id starts with.
pub const CLIENT_ID_PREFIX: &str = "amzn1.application-oa2-client.";
/// What an LWA refresh token starts with.
pub const REFRESH_TOKEN_PREFIX: &str = "Atzr|";

/// The shapes Amazon gives the three credentials, checked before they are sealed,
/// so a value pasted into the wrong field is named at once. The messages never
/// repeat a secret.
fn check_credential_formats(
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> Result<(), ConnectionError> {
    let printable = |v: &str| v.chars().all(|c| c.is_ascii_graphic());
    if client_id.is_empty() {
        return Err(invalid(
            "lwaClientId",
            "must not be empty: copy the LWA client id from Developer Central (Apps & Services → your app → LWA credentials)",
        ));
    }
    if !client_id.starts_with(CLIENT_ID_PREFIX)
        || client_id.len() == CLIENT_ID_PREFIX.len()
        || client_id.len() > 256
        || !printable(client_id)
    {
        return Err(invalid(
            "lwaClientId",
            "an LWA client id starts with amzn1.application-oa2-client. (Developer Central → your app → LWA credentials)",
        ));
    }
    if client_secret.is_empty() {
        return Err(invalid("lwaClientSecret", "must not be empty"));
    }
    if client_secret.len() > 512 || !printable(client_secret) {
        return Err(invalid(
            "lwaClientSecret",
            "an LWA client secret is one word of at most 512 printable characters (no spaces)",
        ));
    }
    if client_secret.starts_with(REFRESH_TOKEN_PREFIX)
        || client_secret.starts_with(CLIENT_ID_PREFIX)
    {
        return Err(invalid(
            "lwaClientSecret",
            "this looks like the refresh token or the client id, not the client secret",
        ));
    }
    if refresh_token.is_empty() {
        return Err(invalid(
            "refreshToken",
            "must not be empty (authorize the app in Seller Central to get one)",
        ));
    }
    if !refresh_token.starts_with(REFRESH_TOKEN_PREFIX)
        || refresh_token.len() == REFRESH_TOKEN_PREFIX.len()
        || refresh_token.len() > 2048
        || !printable(refresh_token)
    {
        return Err(invalid(
            "refreshToken",
            "a refresh token starts with Atzr| (Seller Central → Apps and Services → authorize your app)",
        ));
    }
    Ok(())
}

/// Seals and stores the LWA credentials of the connection, replacing earlier ones.
///
/// # Errors
/// [`ConnectionError::NotConfigured`] before the connection exists;
/// [`ConnectionError::Invalid`] for an empty value or one not shaped as Amazon
/// makes it (`amzn1.application-oa2-client.…`, `Atzr|…`).
#[tracing::instrument(skip(db, key, input))]
pub async fn set_credential(
    db: &DatabaseConnection,
    key: &EncryptionKey,
    input: CredentialInput,
) -> Result<amazon_connection::Model, ConnectionError> {
    let client_id = input.lwa_client_id.trim().to_owned();
    check_credential_formats(
        &client_id,
        input.lwa_client_secret.expose_secret().trim(),
        input.refresh_token.expose_secret().trim(),
    )?;
    let client_secret =
        SecretString::from(input.lwa_client_secret.expose_secret().trim().to_owned());
    let refresh_token = SecretString::from(input.refresh_token.expose_secret().trim().to_owned());
    let secret = seal::seal(key, SINGLETON_ID, Field::ClientSecret, &client_secret)?;
    let token = seal::seal(key, SINGLETON_ID, Field::RefreshToken, &refresh_token)?;

    let txn = db.begin().await?;
    let Some(connection) = get(&txn).await? else {
        return Err(ConnectionError::NotConfigured);
    };
    let row = amazon_credential::ActiveModel {
        connection_id: Set(SINGLETON_ID),
        lwa_client_id: Set(client_id),
        client_secret_ciphertext: Set(secret.ciphertext),
        client_secret_nonce: Set(secret.nonce),
        refresh_token_ciphertext: Set(token.ciphertext),
        refresh_token_nonce: Set(token.nonce),
        key_id: Set(key.id().to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    amazon_credential::Entity::insert(row)
        .on_conflict(
            OnConflict::column(amazon_credential::Column::ConnectionId)
                .update_columns([
                    amazon_credential::Column::LwaClientId,
                    amazon_credential::Column::ClientSecretCiphertext,
                    amazon_credential::Column::ClientSecretNonce,
                    amazon_credential::Column::RefreshTokenCiphertext,
                    amazon_credential::Column::RefreshTokenNonce,
                    amazon_credential::Column::KeyId,
                    amazon_credential::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!("Amazon credentials saved (sealed)");
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_field(id: &str, secret: &str, token: &str) -> Option<&'static str> {
        match check_credential_formats(id, secret, token) {
            Ok(()) => None,
            Err(ConnectionError::Invalid { field, .. }) => Some(field),
            Err(e) => panic!("unexpected {e}"),
        }
    }

    const ID: &str = "amzn1.application-oa2-client.0123abcd";
    const SECRET: &str = "amzn1.oa2-cs.v1.0123abcd";
    const TOKEN: &str = "Atzr|IwEBI0123";

    #[test]
    fn credentials_shaped_as_amazon_makes_them_pass() {
        assert_eq!(refused_field(ID, SECRET, TOKEN), None);
    }

    #[test]
    fn a_value_in_the_wrong_shape_or_field_is_named_by_its_field() {
        for (id, secret, token, field) in [
            ("", SECRET, TOKEN, "lwaClientId"),
            ("hello", SECRET, TOKEN, "lwaClientId"),
            (
                "amzn1.application-oa2-client.",
                SECRET,
                TOKEN,
                "lwaClientId",
            ),
            (
                "amzn1.application-oa2-client.a b",
                SECRET,
                TOKEN,
                "lwaClientId",
            ),
            (ID, "", TOKEN, "lwaClientSecret"),
            (ID, "two words", TOKEN, "lwaClientSecret"),
            (ID, TOKEN, TOKEN, "lwaClientSecret"),
            (ID, SECRET, "", "refreshToken"),
            (ID, SECRET, "hello", "refreshToken"),
            (ID, SECRET, "Atzr|", "refreshToken"),
            (ID, SECRET, ID, "refreshToken"),
        ] {
            assert_eq!(
                refused_field(id, secret, token),
                Some(field),
                "{id:?} {token:?}"
            );
        }
    }

    #[test]
    fn a_refusal_never_repeats_the_secret() {
        let Err(e) = check_credential_formats(ID, "leaky secret", TOKEN) else {
            panic!("accepted");
        };
        assert!(!e.to_string().contains("leaky"), "{e}");
        let Err(e) = check_credential_formats(ID, SECRET, "leaky-token") else {
            panic!("accepted");
        };
        assert!(!e.to_string().contains("leaky"), "{e}");
    }
}
