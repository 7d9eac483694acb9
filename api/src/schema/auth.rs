//! Sign-up of the owner, sign-in and sign-out, password changes, the owner's
//! user management and sign-in lockouts, and `me`.
//!
//! A document may select `login` or `register` once per operation
//! ([`OneSignInPerOperation`]): aliases would otherwise put a hundred password
//! guesses in one request.

use super::{AnySession, ApiError, OwnerOnly, api_context, client_addr, current_user};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Context, Enum, ID, Name, Object, Positioned, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{enums, users};
use std::collections::{HashMap, HashSet};

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
    /// True while the user holds a one-time password (`worker reset-password`):
    /// they must `changePassword` before anything else.
    pub must_change_password: bool,
}

impl From<&users::Model> for User {
    fn from(u: &users::Model) -> Self {
        Self {
            id: ID(u.id.to_string()),
            email: u.email.clone(),
            role: u.role.into(),
            created_at: u.created_at,
            must_change_password: u.must_change_password,
        }
    }
}

/// The installation's state before sign-in.
#[derive(SimpleObject, Debug)]
pub struct SetupState {
    /// False on a fresh install: the first `register` creates the owner.
    pub owner_exists: bool,
    /// Shortest password accepted, in characters.
    pub min_password_chars: i32,
    /// Longest password accepted, in characters.
    pub max_password_chars: i32,
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

/// An email locked after too many failed sign-ins: every attempt is refused,
/// even with the right password, until `until`.
#[derive(SimpleObject, Debug)]
pub struct LoginLockout {
    /// The email as typed (lower-cased); it may belong to no user.
    pub email: String,
    /// Failed attempts in a row.
    pub failures: i32,
    /// When sign-in for this email is possible again.
    pub until: DateTime<Utc>,
}

impl AuthPayload {
    fn new(user: &users::Model, token: service::auth::IssuedToken) -> Self {
        Self {
            token: token.token,
            expires_at: token.expires_at,
            user: user.into(),
        }
    }
}

/// Queries about the signed-in user.
#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in user (also while they hold a one-time password).
    #[graphql(
        guard = "AnySession",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn me(&self, ctx: &Context<'_>) -> Result<User, ApiError> {
        Ok(current_user(ctx).await?.into())
    }

    /// Every user, the owner first (owner only).
    #[graphql(
        guard = "OwnerOnly",
        complexity = "super::rows_cost(100, child_complexity)"
    )]
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>, ApiError> {
        let api = api_context(ctx)?;
        let users = service::auth::list_users(&api.db).await?;
        Ok(users.iter().map(User::from).collect())
    }

    /// What a page needs before anyone signs in: whether the owner exists yet
    /// (until then the first `register` creates it) and the password rules.
    async fn setup(&self, ctx: &Context<'_>) -> Result<SetupState, ApiError> {
        let api = api_context(ctx)?;
        Ok(SetupState {
            owner_exists: service::auth::owner_exists(&api.db).await?,
            min_password_chars: i32::try_from(service::auth::MIN_PASSWORD_CHARS)
                .unwrap_or(i32::MAX),
            max_password_chars: i32::try_from(service::auth::MAX_PASSWORD_CHARS)
                .unwrap_or(i32::MAX),
        })
    }

    /// Emails locked now after too many failed sign-ins (owner only): someone
    /// may be guessing passwords. Kept in this process's memory, so a restart
    /// ends every lockout (`LOGIN_LOCKOUT_AFTER`, `LOGIN_LOCKOUT_SECS`).
    #[graphql(guard = "OwnerOnly")]
    async fn login_lockouts(&self, ctx: &Context<'_>) -> Result<Vec<LoginLockout>, ApiError> {
        let api = api_context(ctx)?;
        Ok(api
            .throttle
            .lockouts()
            .into_iter()
            .map(|l| LoginLockout {
                email: l.email,
                failures: i32::try_from(l.failures).unwrap_or(i32::MAX),
                until: l.until,
            })
            .collect())
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
    /// Repeated failures for one email wait longer and longer and then lock the
    /// email for a while; attempts per email, per client address and per server
    /// are rate-limited (`TOO_MANY_REQUESTS`, with `retryAfterSeconds`).
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

    /// Changes the signed-in user's password. Every token issued before stops
    /// working, on every device; the answer carries a new token for this one.
    /// This is also how a one-time password is replaced.
    #[graphql(guard = "AnySession")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] current_password: String,
        #[graphql(secret)] new_password: String,
    ) -> Result<AuthPayload, ApiError> {
        let api = api_context(ctx)?;
        let user = current_user(ctx).await?;
        let (user, token) = service::auth::change_password(
            &api.db,
            &api.tokens,
            &api.throttle,
            user,
            &current_password,
            &new_password,
            client_addr(ctx),
        )
        .await?;
        Ok(AuthPayload::new(&user, token))
    }

    /// Signs the signed-in user out everywhere: every token of theirs, this
    /// one included, stops working. Returns true.
    #[graphql(guard = "AnySession")]
    async fn sign_out_everywhere(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        let api = api_context(ctx)?;
        let user = current_user(ctx).await?;
        service::auth::sign_out_everywhere(&api.db, user.id).await?;
        Ok(true)
    }

    /// Deletes a viewer (owner only); their tokens stop working at once. Returns
    /// the deleted user. The owner cannot be deleted.
    #[graphql(guard = "OwnerOnly")]
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> Result<User, ApiError> {
        let api = api_context(ctx)?;
        let id = id
            .parse::<i64>()
            .map_err(|_| ApiError::NotFound("no user has this id".to_owned()))?;
        let user = service::auth::delete_user(&api.db, id).await?;
        Ok((&user).into())
    }
}

async fn sign_in(ctx: &Context<'_>, email: &str, password: &str) -> Result<AuthPayload, ApiError> {
    let api = api_context(ctx)?;
    let (user, token) = service::auth::login(
        &api.db,
        &api.tokens,
        &api.throttle,
        email,
        password,
        client_addr(ctx),
    )
    .await?;
    Ok(AuthPayload::new(&user, token))
}

/// The fields that check a password and sign in.
const SIGN_IN_FIELDS: [&str; 2] = ["login", "register"];

/// Refuses a document whose mutation selects `login` or `register` more than
/// once (under different aliases, or both), before anything runs: one request,
/// one password check. Fields of the same response key merge into one and count
/// once.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneSignInPerOperation;

impl async_graphql::extensions::ExtensionFactory for OneSignInPerOperation {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(OneSignInPerOperation)
    }
}

/// The response keys of the sign-in fields at the top of `set`, through inline
/// fragments and fragment spreads (each fragment visited once).
fn sign_in_keys<'a>(
    set: &'a SelectionSet,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    visited: &mut HashSet<&'a str>,
    keys: &mut HashSet<&'a str>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                if SIGN_IN_FIELDS.contains(&field.name.node.as_str()) {
                    keys.insert(field.response_key().node.as_str());
                }
            }
            Selection::InlineFragment(inline) => {
                sign_in_keys(&inline.node.selection_set.node, fragments, visited, keys);
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if visited.insert(name)
                    && let Some(fragment) = fragments.get(name)
                {
                    sign_in_keys(&fragment.node.selection_set.node, fragments, visited, keys);
                }
            }
        }
    }
}

fn check_one_sign_in(document: &ExecutableDocument) -> async_graphql::ServerResult<()> {
    for (_, operation) in document.operations.iter() {
        if operation.node.ty != OperationType::Mutation {
            continue;
        }
        let mut keys = HashSet::new();
        sign_in_keys(
            &operation.node.selection_set.node,
            &document.fragments,
            &mut HashSet::new(),
            &mut keys,
        );
        if keys.len() > 1 {
            let mut error = async_graphql::ServerError::new(
                "select `login` or `register` at most once per operation: send one sign-in per request",
                Some(operation.pos),
            );
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_USER_INPUT");
            return Err(error);
        }
    }
    Ok(())
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for OneSignInPerOperation {
    async fn parse_query(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        query: &str,
        variables: &async_graphql::Variables,
        next: async_graphql::extensions::NextParseQuery<'_>,
    ) -> async_graphql::ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        check_one_sign_in(&document)?;
        Ok(document)
    }
}
