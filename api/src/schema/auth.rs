//! Sign-up of the owner, sign-in, the owner's user management, and `me`.

use super::{ApiError, OwnerOnly, SignedIn, api_context, current_user};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{enums, users};

/// What a user may do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything: the connection, credentials, syncs and users.
    #[graphql(name = "OWNER")]
    Owner,
    /// Read-only.
    #[graphql(name = "VIEWER")]
    Viewer,
}

impl From<enums::Role> for Role {
    fn from(r: enums::Role) -> Self {
        match r {
            enums::Role::Owner => Self::Owner,
            enums::Role::Viewer => Self::Viewer,
        }
    }
}

impl From<Role> for enums::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => Self::Owner,
            Role::Viewer => Self::Viewer,
        }
    }
}

/// A person who may sign in.
#[derive(SimpleObject, Clone, Debug)]
pub struct User {
    /// The user's id.
    pub id: ID,
    /// The email they sign in with.
    pub email: String,
    /// What they may do.
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl From<&users::Model> for User {
    fn from(u: &users::Model) -> Self {
        Self {
            id: ID(u.id.to_string()),
            email: u.email.clone(),
            role: u.role.into(),
            created_at: u.created_at,
        }
    }
}

/// A signed-in session: send `token` as `Authorization: Bearer <token>`.
#[derive(SimpleObject, Debug)]
pub struct AuthPayload {
    /// The bearer token (a JWT).
    pub token: String,
    /// When the token stops being accepted; sign in again then.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub user: User,
}

/// Queries about the signed-in user.
#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in user.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn me(&self, ctx: &Context<'_>) -> Result<User, ApiError> {
        Ok(current_user(ctx).await?.into())
    }
}

/// Registration, sign-in and user management.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Registers the owner: only the first user may register, and becomes OWNER.
    /// Afterwards the owner adds users with `createUser`.
    #[graphql(complexity = "super::rows_cost(1, child_complexity)")]
    async fn register(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] password: String,
    ) -> Result<AuthPayload, ApiError> {
        let api = api_context(ctx)?;
        service::auth::register_owner(&api.db, &email, &password).await?;
        sign_in(ctx, &email, &password).await
    }

    /// Signs in. A wrong password and an unknown email get the same answer.
    #[graphql(complexity = "super::rows_cost(1, child_complexity)")]
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] password: String,
    ) -> Result<AuthPayload, ApiError> {
        sign_in(ctx, &email, &password).await
    }

    /// Adds a read-only user (owner only).
    #[graphql(
        guard = "OwnerOnly",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] password: String,
        #[graphql(default_with = "Role::Viewer")] role: Role,
    ) -> Result<User, ApiError> {
        if role != Role::Viewer {
            return Err(ApiError::BadUserInput(
                "role: only VIEWER users can be created; there is one owner".to_owned(),
            ));
        }
        let api = api_context(ctx)?;
        let user = service::auth::create_user(&api.db, &email, &password, role.into()).await?;
        Ok((&user).into())
    }
}

async fn sign_in(ctx: &Context<'_>, email: &str, password: &str) -> Result<AuthPayload, ApiError> {
    let api = api_context(ctx)?;
    let (user, token) =
        service::auth::login(&api.db, &api.tokens, &api.throttle, email, password).await?;
    Ok(AuthPayload {
        token: token.token,
        expires_at: token.expires_at,
        user: (&user).into(),
    })
}
