//! Who may sign in, and proof that they did.
//!
//! Passwords are hashed with Argon2id (PHC strings in `users.password_hash`). A
//! successful sign-in yields a JWT signed with HS256 under `JWT_SECRET`, carrying
//! `sub` (the user id), `iat`, `exp`, `iss` and `aud`; all five are required and
//! checked on the way back in. Repeated failed sign-ins for one email are slowed
//! down, and a wrong password answers exactly like an unknown email.

use crate::Settings;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use chrono::{DateTime, TimeDelta, Utc};
use entity::enums::Role;
use entity::users;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The `iss` of every token this application signs.
pub const ISSUER: &str = "amazon-orders-admin";
/// The `aud` of every token: the admin API.
pub const AUDIENCE: &str = "amazon-orders-admin-api";
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (Argon2 hashes anything, but a megabyte "password"
/// is a denial-of-service attempt, not a password).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why an authentication step failed. `Display` is safe to show to the caller.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong password or unknown email: deliberately the same answer.
    #[error("wrong email or password")]
    InvalidCredentials,
    /// The token is missing, malformed, expired, or not signed by us.
    #[error("sign in again: the token is missing, expired or invalid")]
    InvalidToken,
    /// The token is valid but its user no longer exists.
    #[error("sign in again: the user of this token no longer exists")]
    UnknownUser,
    /// An owner exists: new users are added by the owner with `createUser`.
    #[error("registration is closed: an owner exists; ask the owner to create your account")]
    RegistrationClosed,
    /// The email is already registered (regardless of case).
    #[error("a user with this email already exists")]
    EmailTaken,
    /// The input cannot be used; the message says what to change.
    #[error("{0}")]
    InvalidInput(String),
    /// Hashing or signing failed (not the caller's fault).
    #[error("internal error while {0}")]
    Internal(&'static str),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The claims of a sign-in token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's id, as a string.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Issuer: [`ISSUER`].
    pub iss: String,
    /// Audience: [`AUDIENCE`].
    pub aud: String,
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
        Self::new(&settings.jwt_secret, settings.auth_token_ttl)
    }

    /// Signs a token for `user_id`, issued at `now`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if signing fails.
    pub fn issue(&self, user_id: i64, now: DateTime<Utc>) -> Result<IssuedToken, AuthError> {
        let ttl = TimeDelta::from_std(self.ttl).map_err(|_| AuthError::Internal("signing"))?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| AuthError::Internal("signing"))?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Checks the signature, algorithm, expiry, issuer and audience of `token` and
    /// returns the user id it was issued to.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for any token that is not one of ours and current.
    pub fn verify(&self, token: &str) -> Result<i64, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(reason = ?e.kind(), "rejected a sign-in token");
                AuthError::InvalidToken
            })?;
        data.claims
            .sub
            .parse::<i64>()
            .map_err(|_| AuthError::InvalidToken)
    }
}

/// Hashes a password with Argon2id and a fresh random salt.
///
/// # Errors
/// [`AuthError::Internal`] if hashing fails.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt: [u8; 16] = rand::random();
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AuthError::Internal("hashing a password"))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash matches nothing.
#[must_use]
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of no one's password, verified against when the email is unknown so
/// that an unknown email costs as much time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

/// Slows down repeated failed sign-ins, per email (case-insensitive).
///
/// The first `free_attempts` failures cost nothing extra; after that each attempt
/// waits `base_delay`, doubling per further failure up to `max_delay`. A success
/// clears the email's record; records expire after `window` without failures.
#[derive(Debug)]
pub struct LoginThrottle {
    free_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

/// At most this many emails are remembered; older records are dropped first.
const THROTTLE_CAPACITY: usize = 10_000;

impl LoginThrottle {
    /// A throttle with explicit limits.
    #[must_use]
    pub fn new(free_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            free_attempts,
            base_delay,
            max_delay,
            window: Duration::from_secs(15 * 60),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The configured throttle (`LOGIN_FREE_ATTEMPTS`; 500 ms doubling up to 8 s).
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        Self::new(
            settings.login_free_attempts,
            Duration::from_millis(500),
            Duration::from_secs(8),
        )
    }

    fn key(email: &str) -> String {
        email.trim().to_lowercase()
    }

    /// How long the next attempt for `email` must wait.
    #[must_use]
    pub fn delay_for(&self, email: &str) -> Duration {
        let Ok(map) = self.failures.lock() else {
            return self.max_delay;
        };
        let Some((count, last)) = map.get(&Self::key(email)) else {
            return Duration::ZERO;
        };
        if last.elapsed() > self.window || *count < self.free_attempts {
            return Duration::ZERO;
        }
        let doublings = (*count - self.free_attempts).min(16);
        self.base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
    }

    /// Records a failed attempt for `email`.
    pub fn record_failure(&self, email: &str) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= THROTTLE_CAPACITY {
            let window = self.window;
            map.retain(|_, (_, last)| last.elapsed() <= window);
            if map.len() >= THROTTLE_CAPACITY {
                map.clear();
            }
        }
        let entry = map.entry(Self::key(email)).or_insert((0, Instant::now()));
        if entry.1.elapsed() > self.window {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = Instant::now();
    }

    /// Forgets the failures of `email` after a successful sign-in.
    pub fn record_success(&self, email: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&Self::key(email));
        }
    }
}

/// Trims and checks an email address (a light check: one `@`, no spaces).
///
/// # Errors
/// [`AuthError::InvalidInput`] naming what is wrong.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim();
    let ok = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if ok {
        Ok(email.to_owned())
    } else {
        Err(AuthError::InvalidInput(
            "email: enter an address like owner@example.com".to_owned(),
        ))
    }
}

fn check_password(password: &str) -> Result<(), AuthError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AuthError::InvalidInput(format!(
            "password: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AuthError::InvalidInput(format!(
            "password: use at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

async fn hash_off_thread(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| AuthError::Internal("hashing a password"))?
}

async fn verify_off_thread(password: String, hash: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|_| AuthError::Internal("checking a password"))
}

/// Finds a user by email, regardless of case.
///
/// # Errors
/// The database error.
pub async fn find_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<users::Model>, DbErr> {
    use sea_orm::sea_query::ExprTrait as _;
    users::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(users::Column::Email)))
                .eq(email.trim().to_lowercase()),
        )
        .one(db)
        .await
}

/// Registers the first user of the installation as its owner. Refused once any
/// user exists.
///
/// # Errors
/// [`AuthError::RegistrationClosed`] once a user exists; [`AuthError::InvalidInput`]
/// for a bad email or password.
#[tracing::instrument(skip(db, password))]
pub async fn register_owner(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> Result<users::Model, AuthError> {
    let email = normalize_email(email)?;
    check_password(password)?;
    if users::Entity::find().count(db).await? > 0 {
        return Err(AuthError::RegistrationClosed);
    }
    let hash = hash_off_thread(password.to_owned()).await?;
    let txn = db.begin().await?;
    // Checked again inside the transaction, with writers to `users` shut out on
    // PostgreSQL, so two registrations racing for owner cannot both win. (SQLite
    // has one writer at a time; the loser's stale read makes its write fail.)
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    if users::Entity::find().count(&txn).await? > 0 {
        return Err(AuthError::RegistrationClosed);
    }
    let user = insert_user(&txn, email, hash, Role::Owner).await?;
    txn.commit().await?;
    tracing::info!(user_id = user.id, "owner registered");
    Ok(user)
}

/// Adds a user (the owner's act; the caller checks that).
///
/// # Errors
/// [`AuthError::EmailTaken`], or [`AuthError::InvalidInput`] for a bad email or password.
#[tracing::instrument(skip(db, password))]
pub async fn create_user(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    role: Role,
) -> Result<users::Model, AuthError> {
    let email = normalize_email(email)?;
    check_password(password)?;
    if find_by_email(db, &email).await?.is_some() {
        return Err(AuthError::EmailTaken);
    }
    let hash = hash_off_thread(password.to_owned()).await?;
    insert_user(db, email, hash, role).await
}

async fn insert_user(
    db: &impl sea_orm::ConnectionTrait,
    email: String,
    password_hash: String,
    role: Role,
) -> Result<users::Model, AuthError> {
    let result = users::ActiveModel {
        email: Set(email),
        password_hash: Set(password_hash),
        role: Set(role),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match result {
        Ok(user) => Ok(user),
        Err(e) if is_unique_violation(&e) => Err(AuthError::EmailTaken),
        Err(e) => Err(AuthError::Db(e)),
    }
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Checks an email and password and signs a token. Unknown email and wrong
/// password give the same error after the same work; repeated failures for one
/// email wait longer and longer first.
///
/// # Errors
/// [`AuthError::InvalidCredentials`] when they do not match a user.
#[tracing::instrument(skip(db, tokens, throttle, password))]
pub async fn login(
    db: &DatabaseConnection,
    tokens: &Tokens,
    throttle: &LoginThrottle,
    email: &str,
    password: &str,
) -> Result<(users::Model, IssuedToken), AuthError> {
    let delay = throttle.delay_for(email);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        throttle.record_failure(email);
        return Err(AuthError::InvalidCredentials);
    }
    let user = find_by_email(db, email).await?;
    let hash = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let matches = verify_off_thread(password.to_owned(), hash).await?;
    match user {
        Some(user) if matches => {
            throttle.record_success(email);
            let token = tokens.issue(user.id, Utc::now())?;
            Ok((user, token))
        }
        _ => {
            throttle.record_failure(email);
            Err(AuthError::InvalidCredentials)
        }
    }
}

/// The user a token was issued to.
///
/// # Errors
/// [`AuthError::InvalidToken`] for a bad token, [`AuthError::UnknownUser`] when
/// its user is gone.
pub async fn authenticate(
    db: &DatabaseConnection,
    tokens: &Tokens,
    token: &str,
) -> Result<users::Model, AuthError> {
    let id = tokens.verify(token)?;
    users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AuthError::UnknownUser)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(
            &SecretString::from("0123456789abcdef0123456789abcdef".to_owned()),
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let t = tokens();
        let issued = t.issue(42, Utc::now()).unwrap();
        assert_eq!(t.verify(&issued.token).unwrap(), 42);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let t = tokens();
        let issued = t.issue(1, Utc::now() - TimeDelta::hours(2)).unwrap();
        assert!(matches!(
            t.verify(&issued.token),
            Err(AuthError::InvalidToken)
        ));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = Tokens::new(
            &SecretString::from("another secret of thirty-two bytes!!".to_owned()),
            Duration::from_secs(3600),
        );
        let issued = other.issue(1, Utc::now()).unwrap();
        assert!(tokens().verify(&issued.token).is_err());
    }

    #[test]
    fn a_token_for_another_audience_or_issuer_is_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let now = Utc::now().timestamp();
        for (iss, aud) in [(ISSUER, "someone-else"), ("someone-else", AUDIENCE)] {
            let claims = Claims {
                sub: "1".to_owned(),
                iat: now,
                exp: now + 600,
                iss: iss.to_owned(),
                aud: aud.to_owned(),
            };
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(secret),
            )
            .unwrap();
            assert!(tokens().verify(&token).is_err(), "iss={iss} aud={aud}");
        }
    }

    #[test]
    fn failures_beyond_the_free_attempts_are_slowed_down_and_success_clears_them() {
        let throttle =
            LoginThrottle::new(2, Duration::from_millis(100), Duration::from_millis(250));
        let email = "Owner@Example.com";
        throttle.record_failure(email);
        throttle.record_failure("owner@example.com");
        assert_eq!(throttle.delay_for(email), Duration::from_millis(100));
        throttle.record_failure(email);
        assert_eq!(throttle.delay_for(email), Duration::from_millis(200));
        throttle.record_failure(email);
        assert_eq!(throttle.delay_for(email), Duration::from_millis(250));
        assert_eq!(throttle.delay_for("someone@else.com"), Duration::ZERO);
        throttle.record_success(email);
        assert_eq!(throttle.delay_for(email), Duration::ZERO);
    }

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(normalize_email("  a@b.c ").unwrap(), "a@b.c");
        for bad in ["", "ab.c", "a@", "@b", "a b@c.d", "a@b@c"] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }
}
