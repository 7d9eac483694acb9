//! The one place where failures become GraphQL errors with an `extensions.code`.
//!
//! Resolvers return `Result<_, ApiError>`; every service error converts into an
//! [`ApiError`] here, and [`ApiError`] converts into the GraphQL error. Internal
//! failures are logged with their cause and answered with a bare `INTERNAL`, so
//! nothing about the database or the keys leaks to the caller.
//!
//! `ApiError` deliberately has no `Display`: async-graphql turns anything that
//! displays into an error without a code, and this keeps that path closed. The
//! errors async-graphql raises itself (parse, validation, limits, variables) get
//! their code from the [`ErrorCodes`] extension; the HTTP layer's own refusals
//! (body not a GraphQL request, body too large) from [`http_error`].

use async_graphql::ErrorExtensions as _;
use service::amazon_account::ConnectionError;
use service::auth::AuthError;

/// A failure as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No token, or a token that is not (or no longer) valid.
    Unauthenticated(String),
    /// Signed in, but the role may not do this.
    Forbidden(String),
    /// The input cannot be used; the message says what to change.
    BadUserInput(String),
    /// What was asked for does not exist.
    NotFound(String),
    /// Something must be set up first (e.g. the Amazon connection).
    NotConfigured(String),
    /// An orders sync is running already (`runningRunId` in the extensions).
    SyncAlreadyRunning {
        /// The running run, when known.
        run_id: Option<i64>,
        /// What to tell the caller.
        message: String,
    },
    /// A sync waited for failed because Amazon refused the credentials or access.
    SpApiAuthFailed {
        /// The failed run.
        run_id: i64,
        /// What Amazon said and what to do.
        message: String,
    },
    /// A sync waited for failed because Amazon was unavailable or kept throttling.
    SpApiUnavailable {
        /// The failed run.
        run_id: i64,
        /// What happened.
        message: String,
    },
    /// Too many attempts: a sign-in limit or lockout (`retryAfterSeconds` in the
    /// extensions).
    TooManyRequests {
        /// Whole seconds until the caller may try again.
        retry_after_secs: u64,
        /// What to tell the caller.
        message: String,
    },
    /// Our fault; details are in the log only.
    Internal,
}

impl ApiError {
    /// The `extensions.code` of this error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::NotConfigured(_) => "NOT_CONFIGURED",
            Self::SyncAlreadyRunning { .. } => "SYNC_ALREADY_RUNNING",
            Self::SpApiAuthFailed { .. } => "SPAPI_AUTH_FAILED",
            Self::SpApiUnavailable { .. } => "SPAPI_UNAVAILABLE",
            Self::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Self::Internal => "INTERNAL",
        }
    }

    /// What to tell the caller.
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::BadUserInput(m)
            | Self::NotFound(m)
            | Self::NotConfigured(m)
            | Self::SyncAlreadyRunning { message: m, .. }
            | Self::SpApiAuthFailed { message: m, .. }
            | Self::SpApiUnavailable { message: m, .. }
            | Self::TooManyRequests { message: m, .. } => m,
            Self::Internal => "internal error: the server log has the details",
        }
    }

    /// Logs an internal failure once, with its cause, and returns [`ApiError::Internal`].
    pub fn internal(context: &str, cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, source = ?cause.source(), "{context}");
        Self::Internal
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        let code = e.code();
        let running = match &e {
            ApiError::SyncAlreadyRunning { run_id, .. } => *run_id,
            _ => None,
        };
        let failed_run = match &e {
            ApiError::SpApiAuthFailed { run_id, .. }
            | ApiError::SpApiUnavailable { run_id, .. } => Some(*run_id),
            _ => None,
        };
        let retry_after = match &e {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        async_graphql::Error::new(e.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(id) = running {
                ext.set("runningRunId", id.to_string());
            }
            if let Some(id) = failed_run {
                ext.set("runId", id.to_string());
            }
            if let Some(secs) = retry_after {
                ext.set("retryAfterSeconds", secs);
            }
        })
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal("database error", &e)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidCredentials
            | AuthError::InvalidToken
            | AuthError::UnknownUser
            | AuthError::Revoked => Self::Unauthenticated(e.to_string()),
            AuthError::TooManyAttempts(refused) => Self::TooManyRequests {
                retry_after_secs: service::auth::retry_after_secs(&refused),
                message: e.to_string(),
            },
            AuthError::NoSuchUser => Self::NotFound(e.to_string()),
            AuthError::RegistrationClosed => Self::Forbidden(e.to_string()),
            AuthError::EmailTaken | AuthError::InvalidInput(_) => Self::BadUserInput(e.to_string()),
            AuthError::Internal(_) => Self::internal("authentication failed", &e),
            AuthError::Db(db) => db.into(),
        }
    }
}

impl From<ConnectionError> for ApiError {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::Invalid { .. } => Self::BadUserInput(e.to_string()),
            ConnectionError::NotConfigured => Self::NotConfigured(e.to_string()),
            ConnectionError::Seal(_) => Self::internal("sealing credentials failed", &e),
            ConnectionError::Db(db) => db.into(),
        }
    }
}

impl From<service::amazon_account::AccountError> for ApiError {
    fn from(e: service::amazon_account::AccountError) -> Self {
        use service::amazon_account::AccountError;
        match e {
            AccountError::NotConfigured(_)
            | AccountError::Credentials(_)
            | AccountError::Client(_) => Self::NotConfigured(e.to_string()),
            AccountError::Database(db) => db.into(),
        }
    }
}

impl From<service::sync::SyncError> for ApiError {
    fn from(e: service::sync::SyncError) -> Self {
        use service::sync::SyncError;
        match e {
            SyncError::AlreadyRunning { run_id, .. } => Self::SyncAlreadyRunning {
                run_id,
                message: e.to_string(),
            },
            SyncError::Account(a) => a.into(),
            SyncError::Database(db) => db.into(),
            // Every other failure ends the run as failed and is reported on the run.
            other => Self::internal("sync", &other),
        }
    }
}

/// Gives every error async-graphql raises itself (before or around our resolvers)
/// an `extensions.code`: `GRAPHQL_PARSE_FAILED` for a document that does not parse
/// or nests deeper than the parser allows (recursion depth 32),
/// `GRAPHQL_VALIDATION_FAILED` for one that breaks the schema, the variables' types or
/// the depth and complexity limits, and `BAD_USER_INPUT` for anything else raised
/// outside our resolvers. An enum value the schema does not know is answered with
/// the values it does. Errors our
/// resolvers raise already carry their code and are left alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorCodes;

impl async_graphql::extensions::ExtensionFactory for ErrorCodes {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(ErrorCodes)
    }
}

/// An enum value the schema does not know: the message lists the values it does
/// (async-graphql names only the one refused).
fn with_allowed_values(
    mut e: async_graphql::ServerError,
    registry: &async_graphql::registry::Registry,
) -> async_graphql::ServerError {
    const MARK: &str = "enumeration type \"";
    let Some(start) = e.message.find(MARK).map(|i| i + MARK.len()) else {
        return e;
    };
    let Some(name) = e.message[start..].split('"').next().map(str::to_owned) else {
        return e;
    };
    if let Some(async_graphql::registry::MetaType::Enum { enum_values, .. }) =
        registry.types.get(&name)
        && !e.message.contains("(allowed:")
    {
        let allowed: Vec<&str> = enum_values.keys().map(String::as_str).collect();
        e.message = format!("{} (allowed: {})", e.message, allowed.join(", "));
    }
    e
}

fn with_code(mut e: async_graphql::ServerError, code: &str) -> async_graphql::ServerError {
    let has_code = e
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some());
    if !has_code {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    e
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for ErrorCodes {
    async fn request(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        next: async_graphql::extensions::NextRequest<'_>,
    ) -> async_graphql::Response {
        let mut response = next.run(ctx).await;
        let registry = &ctx.schema_env.registry;
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|e| with_code(with_allowed_values(e, registry), "BAD_USER_INPUT"))
            .collect();
        response
    }

    async fn parse_query(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        query: &str,
        variables: &async_graphql::Variables,
        next: async_graphql::extensions::NextParseQuery<'_>,
    ) -> async_graphql::ServerResult<async_graphql::parser::types::ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))
    }

    async fn validation(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        next: async_graphql::extensions::NextValidation<'_>,
    ) -> Result<async_graphql::ValidationResult, Vec<async_graphql::ServerError>> {
        let registry = &ctx.schema_env.registry;
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    with_code(
                        with_allowed_values(e, registry),
                        "GRAPHQL_VALIDATION_FAILED",
                    )
                })
                .collect()
        })
    }
}

/// A GraphQL-shaped error body for a request refused before GraphQL saw it:
/// `BAD_REQUEST` (not a JSON GraphQL request, or a batch), `PAYLOAD_TOO_LARGE`,
/// `UNSUPPORTED_MEDIA_TYPE` (not `application/json`), `FORBIDDEN_ORIGIN` (a
/// browser page of another origin) or `UNAVAILABLE` (too many open sockets).
#[must_use]
pub fn http_error(status: u16, message: &str) -> serde_json::Value {
    let code = match status {
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        403 => "FORBIDDEN_ORIGIN",
        503 => "UNAVAILABLE",
        _ => "BAD_REQUEST",
    };
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}
