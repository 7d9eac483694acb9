//! Login with Amazon: the refresh-token grant, and the access tokens it hands out.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use rand::Rng;
use serde_json::json;

use crate::state::{AccessToken, Inner, Shared};

/// Why an SP-API call's access token was refused.
pub(crate) enum Denied {
    Missing,
    Unknown,
    Expired,
}

pub(crate) fn check(
    inner: &Inner,
    headers: &HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, Denied> {
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or(Denied::Missing)?;
    let info = inner.access_tokens.get(token).ok_or(Denied::Unknown)?;
    if info.revoked || info.expires_at <= now {
        return Err(Denied::Expired);
    }
    Ok(token.to_string())
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        json!({"error_description": description, "error": error}).to_string(),
    )
        .into_response()
}

/// `POST /auth/o2/token`, form-encoded or JSON.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let fields: Vec<(String, String)> = if is_json {
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
            Err(_) => {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The request body is not valid JSON",
                );
            }
        }
    } else {
        url::form_urlencoded::parse(&body).into_owned().collect()
    };
    let field = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let cfg = &shared.config;
    let now = shared.clock.now();
    let mut inner = shared.lock();
    inner.token_requests += 1;
    let Some(grant_type) = field("grant_type") else {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter : grant_type",
        );
    };
    if grant_type != "refresh_token" {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!(
                "The authorization grant type {grant_type} is not supported by the authorization server"
            ),
        );
    }
    for required in ["refresh_token", "client_id", "client_secret"] {
        if field(required).is_none() {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("The request is missing a required parameter : {required}"),
            );
        }
    }
    if field("client_id") != Some(cfg.client_id.as_str())
        || field("client_secret") != Some(cfg.client_secret.as_str())
    {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if field("refresh_token") != Some(cfg.refresh_token.as_str()) {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let suffix: String = (0..320)
        .map(|_| {
            const CHARS: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            char::from(CHARS[inner.rng.random_range(0..CHARS.len())])
        })
        .collect();
    let access_token = format!("Atza|IwEB{suffix}");
    let lifetime = i64::try_from(cfg.token_lifetime_secs).unwrap_or(i64::MAX / 2_000);
    inner.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            expires_at: now + Duration::seconds(lifetime),
            revoked: false,
        },
    );
    inner.tokens_issued += 1;
    drop(inner);
    // expires_in is in real seconds, so a client that refreshes on it keeps working when the
    // simulated clock runs K times faster.
    let expires_in = (cfg.token_lifetime_secs as f64 / shared.clock.scale())
        .ceil()
        .max(1.0) as u64;
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "application/json;charset=UTF-8".to_string(),
            ),
            (header::DATE, crate::clock::http_date(now)),
        ],
        json!({
            "access_token": access_token,
            "refresh_token": cfg.refresh_token,
            "token_type": "bearer",
            "expires_in": expires_in,
        })
        .to_string(),
    )
        .into_response()
}
