//! `GET /graphql`: the GraphiQL explorer, from pinned copies of GraphiQL and React
//! embedded in the binary (`api/graphiql/`, versions and hashes in its README), so
//! the API's origin runs no script fetched from elsewhere.
//!
//! On by default except with `APP_ENV=production`, where it needs `GRAPHIQL=true`
//! (`Settings::graphiql`); when off, the page and its assets answer 404 saying so.

use crate::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../graphiql/index.html");

/// The page's files: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../graphiql/react-dom.production.min.js"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../graphiql/init.js"),
    ),
    (
        "page.css",
        "text/css; charset=utf-8",
        include_bytes!("../graphiql/page.css"),
    ),
];

/// Scripts, styles and connections of this origin only; GraphiQL's fonts and
/// icons are `data:` URLs inside its stylesheet. No inline script, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// What a client gets when GraphiQL is off.
const OFF: &str = "GraphiQL is off (the default with APP_ENV=production): set GRAPHIQL=true to serve it. POST /graphql answers GraphQL as always.\n";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(page))
        .route("/graphql/assets/{name}", get(asset))
}

async fn page(State(state): State<AppState>) -> Response {
    if !state.graphiql {
        return (StatusCode::NOT_FOUND, OFF).into_response();
    }
    respond("text/html; charset=utf-8", INDEX_HTML.as_bytes())
}

async fn asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    if !state.graphiql {
        return (StatusCode::NOT_FOUND, OFF).into_response();
    }
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => respond(content_type, body),
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset\n").into_response(),
    }
}

fn respond(content_type: &'static str, body: &'static [u8]) -> Response {
    crate::admin::embedded(content_type, CONTENT_SECURITY_POLICY, body)
}
