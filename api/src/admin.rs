//! `GET /admin`: the admin page (sign in, connection and sync status, ping and sync
//! buttons with live progress, sync history, orders, FBA inventory with low-stock
//! highlights and its own sync button, 30-day sales chart).
//!
//! Plain HTML, CSS and JavaScript modules under `api/admin/`, embedded in the binary:
//! no build step, no Node, nothing fetched from elsewhere. The page talks to
//! `/graphql` and `/graphql/ws` like any other client; the API enforces every role.

use crate::AppState;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../admin/index.html");
const APP_JS: &str = include_str!("../admin/app.js");
const APP_CSS: &str = include_str!("../admin/app.css");

/// Only this origin's scripts, styles, images and connections (fetch and the
/// subscription WebSocket); no inline code, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route("/admin/", get(|| async { Redirect::permanent("/admin") }))
        // The server's root is the admin page: what a newcomer opens first.
        .route("/", get(|| async { Redirect::temporary("/admin") }))
        .route(
            "/admin/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/admin/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    embedded(content_type, CONTENT_SECURITY_POLICY, body.as_bytes())
}

/// A file embedded in the binary, with `csp` and the headers every page of ours
/// carries: no sniffing, no referrer, no framing.
pub(crate) fn embedded(
    content_type: &'static str,
    csp: &'static str,
    body: &'static [u8],
) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ),
        // The assets change with the binary: always revalidate, never store the
        // signed-in page in shared caches.
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ),
    ];
    (headers, body).into_response()
}
