//! `GET /admin`: the admin page: views for the overview (connection, health, sales
//! chart), orders, inventory, listings (with the price & quantity queue and feeds),
//! finances, syncs and settings (first-run setup, credentials, users, password),
//! each with its own URL (`/admin#/orders?status=SHIPPED`).
//!
//! Plain HTML, CSS and JavaScript modules under `api/admin/` (one per view, `app.js`
//! the entry), embedded in the binary: no build step, no Node, nothing fetched from
//! elsewhere. The page talks to `/graphql` and `/graphql/ws` like any other client;
//! the API enforces every role.

use crate::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../admin/index.html");
const APP_CSS: &str = include_str!("../admin/app.css");

/// The page's JavaScript modules, by file name.
const MODULES: &[(&str, &str)] = &[
    ("app.js", include_str!("../admin/app.js")),
    ("core.js", include_str!("../admin/core.js")),
    ("session.js", include_str!("../admin/session.js")),
    ("status.js", include_str!("../admin/status.js")),
    ("sync.js", include_str!("../admin/sync.js")),
    ("orders.js", include_str!("../admin/orders.js")),
    ("inventory.js", include_str!("../admin/inventory.js")),
    ("listings.js", include_str!("../admin/listings.js")),
    ("finances.js", include_str!("../admin/finances.js")),
    ("chart.js", include_str!("../admin/chart.js")),
    ("settings.js", include_str!("../admin/settings.js")),
];

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
            "/admin/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route("/admin/{module}", get(module))
}

async fn module(Path(name): Path<String>) -> Response {
    match MODULES.iter().find(|(file, _)| *file == name) {
        Some((_, body)) => asset("text/javascript; charset=utf-8", body),
        None => (StatusCode::NOT_FOUND, "no such file of the admin page").into_response(),
    }
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
