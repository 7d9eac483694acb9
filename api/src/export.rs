//! `GET /export/orders.csv?filter=<JSON>`: the orders list as CSV, streamed.
//!
//! `filter` is the JSON of the `AmazonOrderFilter` GraphQL input (the same names
//! and checks as `amazonOrders(filter:)`); the rows are the ones that list returns,
//! in its order, every page of them. Signed-in users only: send the token from
//! `login` as `Authorization: Bearer <token>`, as for `/graphql`. The columns are
//! in `service::orders::csv`.

use crate::AppState;
use crate::schema::ApiError;
use crate::schema::orders::AmazonOrderFilter;
use async_graphql::InputType as _;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::TryStreamExt as _;

pub fn routes() -> Router<AppState> {
    Router::new().route("/export/orders.csv", get(orders_csv))
}

#[derive(serde::Deserialize)]
struct Params {
    filter: Option<String>,
}

async fn orders_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    if let Err(refused) = signed_in(&state, &headers).await {
        return refused;
    }
    let filter = match parse_filter(params.filter.as_deref()) {
        Ok(f) => f,
        Err(message) => return plain(StatusCode::BAD_REQUEST, message),
    };
    let body = service::orders::csv::stream(state.db.clone(), filter).inspect_err(|e| {
        tracing::error!(error = %e, "orders CSV export stopped: the database failed");
    });
    let name = format!(
        "attachment; filename=\"orders-{}.csv\"",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    let mut response = Body::from_stream(body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The request's user, who must be signed in with a password of their own.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    let auth = crate::schema::RequestAuth::from_authorization(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    let Some(token) = auth.token() else {
        return Err(plain(
            StatusCode::UNAUTHORIZED,
            "sign in first: send `Authorization: Bearer <token>` with the token from `login`"
                .to_owned(),
        ));
    };
    match service::auth::authenticate(&state.db, &state.tokens, token).await {
        Ok(user) if user.must_change_password => Err(plain(
            StatusCode::FORBIDDEN,
            "change your one-time password first".to_owned(),
        )),
        Ok(_) => Ok(()),
        Err(e) => {
            let e = ApiError::from(e);
            let status = match e {
                ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Err(plain(status, e.message().to_owned()))
        }
    }
}

/// The filter's JSON read as the GraphQL input, with that input's checks.
fn parse_filter(json: Option<&str>) -> Result<service::orders::OrderFilter, String> {
    let input = match json.map(str::trim) {
        None | Some("") => AmazonOrderFilter::default(),
        Some(text) => {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("filter: not JSON ({e})"))?;
            let value = async_graphql::Value::from_json(value)
                .map_err(|e| format!("filter: not a filter ({e})"))?;
            AmazonOrderFilter::parse(Some(value)).map_err(|e| {
                format!(
                    "filter: {}",
                    e.into_server_error(async_graphql::Pos::default()).message
                )
            })?
        }
    };
    service::orders::OrderFilter::try_from(&input).map_err(|e| e.message().to_owned())
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}
