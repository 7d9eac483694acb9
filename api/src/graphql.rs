//! The HTTP side of GraphQL: `GET /graphql` serves GraphiQL, `POST /graphql` runs
//! one operation with the caller's `Authorization: Bearer` token. The body is read
//! through axum's body limit ([`MAX_BODY_BYTES`]), so an oversized request gets
//! `413` (`PAYLOAD_TOO_LARGE`) before it is parsed; a body that is not one JSON
//! GraphQL request (invalid JSON, a batch) gets `400` (`BAD_REQUEST`). Both answer
//! a GraphQL-shaped `{"errors": [...]}` with an `extensions.code`. `GET /graphql/ws` upgrades to a WebSocket for
//! subscriptions (graphql-transport-ws, or the older graphql-ws); the token goes in
//! the `connection_init` payload as `{"Authorization": "Bearer <token>"}`.

use crate::AppState;
use crate::schema::RequestAuth;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::Router;
use axum::body::Bytes;
use axum::extract::WebSocketUpgrade;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// Largest request body accepted on `POST /graphql`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
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
    GraphQLResponse::from(state.schema.execute(request.data(auth)).await).into_response()
}

async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(|payload| async move {
                    let header = ["Authorization", "authorization"]
                        .iter()
                        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()).map(str::to_owned));
                    let mut data = async_graphql::Data::default();
                    data.insert(RequestAuth::from_authorization(header.as_deref()));
                    Ok(data)
                })
                .serve()
        })
}
