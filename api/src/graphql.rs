//! The HTTP side of GraphQL: `GET /graphql` serves GraphiQL, `POST /graphql` runs
//! one operation with the caller's `Authorization: Bearer` token. The body is read
//! through axum's body limit ([`MAX_BODY_BYTES`]), so an oversized request gets
//! `413` (`PAYLOAD_TOO_LARGE`) before it is parsed; a body that is not one JSON
//! GraphQL request (invalid JSON, a batch) gets `400` (`BAD_REQUEST`). Both answer
//! a GraphQL-shaped `{"errors": [...]}` with an `extensions.code`.
//!
//! Cross-site requests: a POST must say `Content-Type: application/json` (`415`
//! otherwise), which a web page of another origin cannot send without a CORS
//! preflight; and a request carrying an `Origin` (every browser does on POST and on
//! a WebSocket upgrade) must come from the api's own origin or one listed in
//! `CORS_ALLOWED_ORIGINS` (`403` otherwise). Scripts send no `Origin`.
//!
//! `GET /graphql/ws` upgrades to a WebSocket for subscriptions (graphql-transport-ws,
//! or the older graphql-ws); the token goes in the `connection_init` payload as
//! `{"Authorization": "Bearer <token>"}` and is checked there: without a valid one
//! the socket is closed, and so it is when no `connection_init` arrives within 10 s
//! or the client is silent for 120 s ([`SocketLimits`]). Frames and messages are
//! limited to [`MAX_BODY_BYTES`], like HTTP bodies, and at most 64 sockets are
//! open at once.

use crate::AppState;
use crate::schema::{ClientAddr, RequestAuth};
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::extract::WebSocketUpgrade;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Largest request body accepted on `POST /graphql`, and largest WebSocket message.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Who may call from a browser: the api's own origin and `CORS_ALLOWED_ORIGINS`.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    allowed: Vec<String>,
}

impl Origins {
    /// The api's own origin plus `allowed` (exact origins such as
    /// `https://admin.example.com`).
    #[must_use]
    pub fn new(allowed: &[String]) -> Self {
        Self {
            allowed: allowed.to_vec(),
        }
    }

    /// Whether a request with these headers may go on: no `Origin` (not a browser
    /// page), an allowed one, or the api's own (the `Origin`'s host and port are the
    /// request's `Host`).
    #[must_use]
    pub fn permit(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if self.allowed.iter().any(|a| a == origin) {
            return true;
        }
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let Ok(url) = url::Url::parse(origin) else {
            return false;
        };
        let (Some(name), "http" | "https") = (url.host_str(), url.scheme()) else {
            return false;
        };
        let authority = match url.port() {
            Some(port) => format!("{name}:{port}"),
            None => name.to_owned(),
        };
        authority.eq_ignore_ascii_case(host)
    }
}

/// How many WebSockets may be open and how long they may wait.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// How long a new socket may take to send a valid `connection_init` (10 s).
    pub init_timeout: Duration,
    /// A socket whose client sends nothing, not even a `ping`, for this long is
    /// closed (120 s).
    pub idle_timeout: Duration,
    slots: Arc<tokio::sync::Semaphore>,
}

impl SocketLimits {
    /// At most `max_open` sockets at once (64 by default); further upgrades get `503`.
    #[must_use]
    pub fn with_max_open(self, max_open: usize) -> Self {
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(max_open)),
            ..self
        }
    }
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            init_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            slots: Arc::new(tokio::sync::Semaphore::new(64)),
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/graphql", post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A refusal before GraphQL runs, as a GraphQL-shaped JSON error with a code.
fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(crate::schema::error::http_error(status.as_u16(), message)),
    )
        .into_response()
}

fn forbidden_origin() -> Response {
    refuse(
        StatusCode::FORBIDDEN,
        "this origin may not call the api: use the admin page on the api's own address, or add the page's origin to CORS_ALLOWED_ORIGINS",
    )
}

/// Whether the request says its body is JSON (`application/json`, any parameters).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

async fn graphql(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !state.origins.permit(&headers) {
        return forbidden_origin();
    }
    if !is_json(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as JSON with `Content-Type: application/json`",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            );
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) if body.first() == Some(&b'[') => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "batched requests are not supported: send one operation per request",
            );
        }
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("expected a JSON body {{\"query\": \"…\", \"variables\": {{…}}}}: {e}"),
            );
        }
    };
    state.documents.attach(&mut request);
    let auth = RequestAuth::from_authorization(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    let mut request = request.data(auth);
    // The peer address, for the per-address sign-in limit (absent when the router
    // is served without connect info, as in tests).
    if let Some(Extension(ConnectInfo(peer))) = connect {
        request = request.data(ClientAddr(peer.ip()));
    }
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// The bearer token of a `connection_init` payload, checked: the user it names, or
/// an error that closes the socket.
async fn authenticate_init(
    state: &AppState,
    payload: &serde_json::Value,
) -> async_graphql::Result<RequestAuth> {
    let header = ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()));
    let auth = RequestAuth::from_authorization(header);
    let Some(token) = auth.token() else {
        return Err(async_graphql::Error::new(
            "sign in first: send {\"Authorization\": \"Bearer <token>\"} in connection_init",
        ));
    };
    match service::auth::authenticate(&state.db, &state.tokens, token).await {
        Ok(_) => Ok(auth),
        Err(e) => Err(async_graphql::Error::new(e.to_string())),
    }
}

async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !state.origins.permit(&headers) {
        return forbidden_origin();
    }
    let Ok(slot) = state.sockets.slots.clone().try_acquire_owned() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many open subscriptions: try again later",
        );
    };
    let schema = state.schema.clone();
    let (init_timeout, idle_timeout) = (state.sockets.init_timeout, state.sockets.idle_timeout);
    let client = connect.map(|Extension(ConnectInfo(peer))| ClientAddr(peer.ip()));
    upgrade
        .max_message_size(MAX_BODY_BYTES)
        .max_frame_size(MAX_BODY_BYTES)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| async move {
            let _slot = slot;
            let (initialised, init_seen) = tokio::sync::oneshot::channel::<()>();
            let serve = GraphQLWebSocket::new(stream, schema, protocol)
                .keepalive_timeout(idle_timeout)
                .on_connection_init(move |payload| async move {
                    let auth = authenticate_init(&state, &payload).await?;
                    // The callback runs once per socket (a second init is refused).
                    let _ = initialised.send(());
                    let mut data = async_graphql::Data::default();
                    data.insert(auth);
                    if let Some(client) = client {
                        data.insert(client);
                    }
                    Ok(data)
                })
                .serve();
            tokio::pin!(serve);
            // No valid connection_init in time: drop the socket.
            tokio::select! {
                () = &mut serve => return,
                seen = tokio::time::timeout(init_timeout, init_seen) => {
                    if !matches!(seen, Ok(Ok(()))) {
                        return;
                    }
                }
            }
            serve.await;
        })
}
