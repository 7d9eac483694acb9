//! Who may sign in, and proof that they did.
//!
//! Passwords are hashed with Argon2id (PHC strings in `users.password_hash`); at
//! most one hash per CPU runs at a time, whatever asks for it. A successful
//! sign-in yields a JWT signed with HS256 under `JWT_SECRET`, carrying `sub` (the
//! user id), `ver` (the user's token version), `iat`, `exp`, `iss` and `aud`; all
//! are required and checked on the way back in, and a token issued in the future,
//! not valid yet (`nbf`) or living longer than `AUTH_TOKEN_TTL_SECS` is refused.
//! Changing the password or signing out everywhere adds one to the user's token
//! version, which revokes every token issued before; deleting the user revokes
//! theirs. `reset_password` (the operator's recovery path) sets a one-time
//! password its holder must change first. Sign-in attempts go through the [`LoginThrottle`] (module `throttle`),
//! and a wrong password answers exactly like an unknown email.

mod throttle;
mod tokens;

pub use throttle::{Limit, Lockout, LoginLimits, LoginThrottle, Refused};
pub use tokens::{Claims, IssuedToken, Tokens};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use chrono::Utc;
use entity::enums::Role;
use entity::users;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use secrecy::SecretString;
use std::net::IpAddr;
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// The `iss` of every token this application signs.
pub const ISSUER: &str = "amazon-orders-admin";
/// The `aud` of every token: the admin API.
pub const AUDIENCE: &str = "amazon-orders-admin-api";
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
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
    /// The token was revoked: its user changed the password or signed out everywhere.
    #[error(
        "sign in again: this session was signed out (password changed or signed out everywhere)"
    )]
    Revoked,
    /// A rate limit or lockout refused the attempt before the password was checked.
    #[error("{}", too_many_attempts(.0))]
    TooManyAttempts(Refused),
    /// No user has this id.
    #[error("no user has this id")]
    NoSuchUser,
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

/// Whole seconds to wait, rounded up, at least one.
#[must_use]
pub fn retry_after_secs(refused: &Refused) -> u64 {
    let d = refused.retry_after;
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

fn too_many_attempts(refused: &Refused) -> String {
    let secs = retry_after_secs(refused);
    match refused.limit {
        Limit::Account => {
            format!("too many sign-in attempts for this account: try again in {secs} s")
        }
        Limit::Address => {
            format!("too many sign-in attempts from your address: try again in {secs} s")
        }
        Limit::Server => {
            format!("too many sign-in attempts on this server right now: try again in {secs} s")
        }
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

/// One permit per CPU: Argon2 is deliberately expensive, and a burst of sign-ins
/// must queue here rather than crowd every other request off the machine.
fn argon2_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    })
}

async fn hash_off_thread(password: String) -> Result<String, AuthError> {
    let _permit = argon2_permits()
        .acquire()
        .await
        .map_err(|_| AuthError::Internal("hashing a password"))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| AuthError::Internal("hashing a password"))?
}

async fn verify_off_thread(password: String, hash: String) -> Result<bool, AuthError> {
    let _permit = argon2_permits()
        .acquire()
        .await
        .map_err(|_| AuthError::Internal("checking a password"))?;
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
/// password give the same error after the same work. The attempt goes through
/// `throttle` first (rate limits, one check per email at a time, growing delays,
/// lockout), as coming from `client` when the address is known.
///
/// # Errors
/// [`AuthError::InvalidCredentials`] when they do not match a user,
/// [`AuthError::TooManyAttempts`] when the throttle refuses the attempt.
#[tracing::instrument(skip(db, tokens, throttle, password))]
pub async fn login(
    db: &DatabaseConnection,
    tokens: &Tokens,
    throttle: &LoginThrottle,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<(users::Model, IssuedToken), AuthError> {
    let user = check_credentials(db, throttle, email, password, client).await?;
    let token = tokens.issue(&user, Utc::now())?;
    Ok((user, token))
}

/// The user whose email and password these are, through the throttle.
async fn check_credentials(
    db: &DatabaseConnection,
    throttle: &LoginThrottle,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<users::Model, AuthError> {
    // Counted as a failure from here on, until the password proves right.
    let attempt = throttle
        .begin(email, client)
        .await
        .map_err(AuthError::TooManyAttempts)?;
    if !attempt.delay().is_zero() {
        tokio::time::sleep(attempt.delay()).await;
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(AuthError::InvalidCredentials);
    }
    let user = find_by_email(db, email).await?;
    let hash = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let matches = verify_off_thread(password.to_owned(), hash).await?;
    match user {
        Some(user) if matches => {
            attempt.succeeded();
            Ok(user)
        }
        _ => Err(AuthError::InvalidCredentials),
    }
}

/// Changes the signed-in `user`'s password after checking `current` (through the
/// throttle, like a sign-in: a stolen token must not become a way to guess the
/// password), revokes every token of the user and signs a new one for the caller.
///
/// # Errors
/// [`AuthError::InvalidCredentials`] for a wrong current password,
/// [`AuthError::InvalidInput`] for an unusable new one, [`AuthError::TooManyAttempts`].
#[tracing::instrument(skip(db, tokens, throttle, user, current, new), fields(user_id = user.id))]
pub async fn change_password(
    db: &DatabaseConnection,
    tokens: &Tokens,
    throttle: &LoginThrottle,
    user: &users::Model,
    current: &str,
    new: &str,
    client: Option<IpAddr>,
) -> Result<(users::Model, IssuedToken), AuthError> {
    check_password(new)?;
    let user = check_credentials(db, throttle, &user.email, current, client).await?;
    let hash = hash_off_thread(new.to_owned()).await?;
    revoke_tokens(
        db,
        user.id,
        Some(NewPassword {
            hash,
            one_time: false,
        }),
    )
    .await?;
    let user = users::Entity::find_by_id(user.id)
        .one(db)
        .await?
        .ok_or(AuthError::UnknownUser)?;
    tracing::info!(
        user_id = user.id,
        "password changed; earlier tokens revoked"
    );
    let token = tokens.issue(&user, Utc::now())?;
    Ok((user, token))
}

/// A password hash to store, and whether it is a one-time password its holder
/// must change before anything else.
struct NewPassword {
    hash: String,
    one_time: bool,
}

/// Adds one to the user's token version, which revokes every token signed before,
/// and sets a new password hash with it when given.
async fn revoke_tokens(
    db: &DatabaseConnection,
    user_id: i64,
    password_hash: Option<NewPassword>,
) -> Result<(), AuthError> {
    use sea_orm::sea_query::ExprTrait as _;
    let mut update = users::Entity::update_many().col_expr(
        users::Column::TokenVersion,
        Expr::col(users::Column::TokenVersion).add(1),
    );
    if let Some(password) = password_hash {
        update = update
            .col_expr(users::Column::PasswordHash, Expr::value(password.hash))
            .col_expr(
                users::Column::MustChangePassword,
                Expr::value(password.one_time),
            );
    }
    let updated = update
        .filter(Expr::col(users::Column::Id).eq(user_id))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AuthError::UnknownUser);
    }
    Ok(())
}

/// Length of the one-time password `reset_password` makes: 20 characters of a
/// 56-letter alphabet, about 116 bits.
const ONE_TIME_PASSWORD_CHARS: usize = 20;

/// Sets a random one-time password for the user with `email` (the recovery path
/// for a lost password, run by whoever runs the server), ends every session of
/// theirs, and returns the password. Its holder may sign in and change it, and
/// nothing else until they do.
///
/// # Errors
/// [`AuthError::NoSuchUser`] when no user has this email.
#[tracing::instrument(skip(db))]
pub async fn reset_password(
    db: &DatabaseConnection,
    email: &str,
) -> Result<(users::Model, SecretString), AuthError> {
    let user = find_by_email(db, email)
        .await?
        .ok_or(AuthError::NoSuchUser)?;
    let password = one_time_password();
    let hash = hash_off_thread(password.clone()).await?;
    revoke_tokens(
        db,
        user.id,
        Some(NewPassword {
            hash,
            one_time: true,
        }),
    )
    .await?;
    tracing::info!(
        user_id = user.id,
        "password reset to a one-time password; earlier tokens revoked"
    );
    Ok((user, SecretString::from(password)))
}

fn one_time_password() -> String {
    use rand::Rng as _;
    // No 0/O, 1/l/I: the password is read off a terminal and typed.
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..ONE_TIME_PASSWORD_CHARS)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Every user, the owner first, then by email.
///
/// # Errors
/// The database error.
pub async fn list_users(db: &DatabaseConnection) -> Result<Vec<users::Model>, DbErr> {
    let mut all = users::Entity::find()
        .order_by_asc(users::Column::Email)
        .all(db)
        .await?;
    all.sort_by_key(|u| u.role != Role::Owner);
    Ok(all)
}

/// Whether the installation has its owner yet (before, anyone reaching the server
/// may `register` as the owner).
///
/// # Errors
/// The database error.
pub async fn owner_exists(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(users::Entity::find()
        .filter(users::Column::Role.eq(Role::Owner))
        .count(db)
        .await?
        > 0)
}

/// Revokes every token of the user `user_id` (signs out everywhere).
///
/// # Errors
/// [`AuthError::UnknownUser`] when the user is gone.
#[tracing::instrument(skip(db))]
pub async fn sign_out_everywhere(db: &DatabaseConnection, user_id: i64) -> Result<(), AuthError> {
    revoke_tokens(db, user_id, None).await?;
    tracing::info!(user_id, "signed out everywhere; earlier tokens revoked");
    Ok(())
}

/// Deletes the user `id` (the owner's act; the caller checks that); their tokens
/// stop working at once. The owner cannot be deleted.
///
/// # Errors
/// [`AuthError::NoSuchUser`], or [`AuthError::InvalidInput`] for the owner.
#[tracing::instrument(skip(db))]
pub async fn delete_user(db: &DatabaseConnection, id: i64) -> Result<users::Model, AuthError> {
    let user = users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AuthError::NoSuchUser)?;
    if user.role == Role::Owner {
        return Err(AuthError::InvalidInput(
            "id: the owner cannot be deleted; delete viewers only".to_owned(),
        ));
    }
    let deleted = users::Entity::delete_by_id(id).exec(db).await?;
    if deleted.rows_affected == 0 {
        return Err(AuthError::NoSuchUser);
    }
    tracing::info!(user_id = id, "user deleted");
    Ok(user)
}

/// The user a token was issued to, if the token is still theirs.
///
/// # Errors
/// [`AuthError::InvalidToken`] for a bad token, [`AuthError::UnknownUser`] when
/// its user is gone, [`AuthError::Revoked`] when the user revoked it.
pub async fn authenticate(
    db: &DatabaseConnection,
    tokens: &Tokens,
    token: &str,
) -> Result<users::Model, AuthError> {
    let claims = tokens.verify(token)?;
    let user = users::Entity::find_by_id(claims.user_id()?)
        .one(db)
        .await?
        .ok_or(AuthError::UnknownUser)?;
    if user.token_version != claims.ver {
        return Err(AuthError::Revoked);
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use std::time::Duration;

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
    fn an_issued_token_verifies_to_its_user_and_version() {
        let t = tokens();
        let issued = t.issue_for(42, 3, Utc::now()).unwrap();
        let claims = t.verify(&issued.token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.ver), ("42", 3));
    }

    fn forge(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap()
    }

    fn claims_at(iat: i64, exp: i64) -> serde_json::Value {
        serde_json::json!({
            "sub": "1", "ver": 0, "iat": iat, "exp": exp, "iss": ISSUER, "aud": AUDIENCE,
        })
    }

    #[test]
    fn a_token_issued_in_the_future_or_not_valid_yet_is_refused() {
        let now = Utc::now().timestamp();
        let future_iat = forge(&claims_at(now + 600, now + 1200));
        let mut future_nbf = claims_at(now, now + 600);
        future_nbf["nbf"] = serde_json::json!(now + 300);
        let future_nbf = forge(&future_nbf);
        for token in [future_iat, future_nbf] {
            assert!(matches!(
                tokens().verify(&token),
                Err(AuthError::InvalidToken)
            ));
        }
        assert!(tokens().verify(&forge(&claims_at(now, now + 600))).is_ok());
    }

    #[test]
    fn a_token_living_longer_than_configured_is_refused() {
        let now = Utc::now().timestamp();
        let year_2100 = 4_102_444_800;
        for (iat, exp) in [(now, year_2100), (now - 100, now + 3600)] {
            assert!(
                matches!(
                    tokens().verify(&forge(&claims_at(iat, exp))),
                    Err(AuthError::InvalidToken)
                ),
                "iat={iat} exp={exp}"
            );
        }
        assert!(
            tokens()
                .verify(&forge(&claims_at(now - 100, now + 3500)))
                .is_ok()
        );
    }

    #[test]
    fn a_token_without_a_version_is_refused() {
        let now = Utc::now().timestamp();
        let mut claims = claims_at(now, now + 600);
        claims.as_object_mut().unwrap().remove("ver");
        assert!(tokens().verify(&forge(&claims)).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let t = tokens();
        let issued = t.issue_for(1, 0, Utc::now() - TimeDelta::hours(2)).unwrap();
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
        let issued = other.issue_for(1, 0, Utc::now()).unwrap();
        assert!(tokens().verify(&issued.token).is_err());
    }

    #[test]
    fn a_token_for_another_audience_or_issuer_is_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let now = Utc::now().timestamp();
        for (iss, aud) in [(ISSUER, "someone-else"), ("someone-else", AUDIENCE)] {
            let claims = Claims {
                sub: "1".to_owned(),
                ver: 0,
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
    fn emails_are_trimmed_and_checked() {
        assert_eq!(normalize_email("  a@b.c ").unwrap(), "a@b.c");
        for bad in ["", "ab.c", "a@", "@b", "a b@c.d", "a@b@c"] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }
}
