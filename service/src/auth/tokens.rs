//! Sign-in tokens: HS256 JWTs under `JWT_SECRET`, carrying `sub` (the user id),
//! `ver` (the user's token version), `iat`, `exp`, `iss` and `aud`, all required and
//! checked on the way back in.

use super::{AUDIENCE, AuthError, ISSUER};
use crate::Settings;
use chrono::{DateTime, TimeDelta, Utc};
use entity::users;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The claims of a sign-in token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's id, as a string.
    pub sub: String,
    /// The user's token version when it was signed (`users.token_version`).
    pub ver: i32,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Issuer: [`ISSUER`].
    pub iss: String,
    /// Audience: [`AUDIENCE`].
    pub aud: String,
}

impl Claims {
    /// The user id in `sub`.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] when `sub` is not one.
    pub fn user_id(&self) -> Result<i64, AuthError> {
        self.sub.parse().map_err(|_| AuthError::InvalidToken)
    }
}

/// A freshly signed token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Signs and verifies sign-in tokens (HS256).
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("secret", &"[redacted]")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Tokens {
    /// Tokens signed with `secret`, valid for `ttl`.
    #[must_use]
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            ttl,
        }
    }

    /// Tokens as configured (`JWT_SECRET`, `AUTH_TOKEN_TTL_SECS`).
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        Self::new(&settings.jwt_secret, settings.api.auth_token_ttl)
    }

    /// Signs a token for `user`, issued at `now`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if signing fails.
    pub fn issue(&self, user: &users::Model, now: DateTime<Utc>) -> Result<IssuedToken, AuthError> {
        self.issue_for(user.id, user.token_version, now)
    }

    /// Signs a token for the user `user_id` at token version `version`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if signing fails.
    pub fn issue_for(
        &self,
        user_id: i64,
        version: i32,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, AuthError> {
        let ttl = TimeDelta::from_std(self.ttl).map_err(|_| AuthError::Internal("signing"))?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            ver: version,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| AuthError::Internal("signing"))?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Checks the signature, algorithm, expiry, `nbf`, issuer and audience of
    /// `token`, that it was not issued in the future and lives no longer than the
    /// configured lifetime, and returns its claims.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for any token that is not one of ours and current.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_at(token, Utc::now())
    }

    fn verify_at(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, AuthError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(reason = ?e.kind(), "rejected a sign-in token");
                AuthError::InvalidToken
            })?
            .claims;
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        if claims.iat > now.timestamp().saturating_add(leeway) {
            tracing::debug!("rejected a sign-in token issued in the future");
            return Err(AuthError::InvalidToken);
        }
        if claims.exp.saturating_sub(claims.iat) > ttl {
            tracing::debug!("rejected a sign-in token living longer than configured");
            return Err(AuthError::InvalidToken);
        }
        claims.user_id()?;
        Ok(claims)
    }
}
