//! Login with Amazon: the access token, exchanged from the refresh token, cached,
//! refreshed 60 s before it expires, one exchange at a time however many callers
//! wait.

use super::SpApiError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What LWA needs to issue an access token. `Debug` shows no secret.
#[derive(Clone)]
pub struct LwaCredentials {
    /// The app's LWA client id (not secret).
    pub client_id: String,
    /// The app's LWA client secret.
    pub client_secret: SecretString,
    /// The seller's refresh token.
    pub refresh_token: SecretString,
}

impl std::fmt::Debug for LwaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LwaCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

/// Refresh this long before the token's stated expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

struct Cached {
    token: SecretString,
    refresh_at: Instant,
}

/// The cached access token.
pub struct TokenCache {
    cached: Mutex<Option<Cached>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

impl TokenCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self {
            cached: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, or a new one from LWA. The lock is held
    /// during the exchange, so concurrent callers wait for one exchange.
    ///
    /// `refreshed` is called once for each exchange made.
    ///
    /// # Errors
    /// [`SpApiError::LwaRejected`] when LWA refuses the credentials;
    /// [`SpApiError::Upstream`] when LWA cannot be reached after retries.
    pub async fn get(
        &self,
        http: &reqwest::Client,
        token_url: &str,
        creds: &LwaCredentials,
        refreshed: impl Fn(),
    ) -> Result<SecretString, SpApiError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let fresh = exchange(http, token_url, creds).await?;
        refreshed();
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets `token` if it is still the cached one (Amazon said it expired).
    pub async fn invalidate(&self, token: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|c| c.token.expose_secret() == token.expose_secret())
        {
            *cached = None;
        }
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

async fn exchange(
    http: &reqwest::Client,
    token_url: &str,
    creds: &LwaCredentials,
) -> Result<Cached, SpApiError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", creds.refresh_token.expose_secret()),
        ("client_id", creds.client_id.as_str()),
        ("client_secret", creds.client_secret.expose_secret()),
    ];
    let mut last = String::new();
    let attempts = 4;
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_millis(200 * (1 << (attempt - 2)))).await;
        }
        let response = match http.post(token_url).form(&form).send().await {
            Ok(r) => r,
            Err(e) => {
                last = format!("LWA unreachable: {}", without_url(&e));
                continue;
            }
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                last = format!("LWA answer cut off: {}", without_url(&e));
                continue;
            }
        };
        if status.is_success() {
            let parsed: TokenResponse =
                serde_json::from_slice(&body).map_err(|e| SpApiError::Decode {
                    operation: "lwa",
                    reason: e.to_string(),
                    request_id: String::new(),
                    excerpt: "(token response withheld: it may hold a token)".to_owned(),
                })?;
            let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
            return Ok(Cached {
                token: SecretString::from(parsed.access_token),
                refresh_at: Instant::now()
                    + lifetime.saturating_sub(REFRESH_MARGIN).max(lifetime / 2),
            });
        }
        if status.is_server_error() || status.as_u16() == 429 {
            last = format!("LWA answered {status}");
            continue;
        }
        if status.is_redirection() {
            // Not followed: the form holds the client secret and refresh token.
            return Err(SpApiError::Upstream {
                operation: "lwa",
                attempts: attempt,
                last: format!("LWA answered a redirect ({status}), which is not followed"),
            });
        }
        let e: TokenError = serde_json::from_slice(&body).unwrap_or(TokenError {
            error: None,
            error_description: None,
        });
        let code = e
            .error
            .unwrap_or_else(|| format!("http_{}", status.as_u16()));
        let description = e
            .error_description
            .unwrap_or_else(|| "no description".to_owned());
        tracing::warn!(status = status.as_u16(), lwa_code = %code, lwa_description = %description, "LWA refused the token exchange");
        return Err(SpApiError::LwaRejected { code, description });
    }
    Err(SpApiError::Upstream {
        operation: "lwa",
        attempts,
        last,
    })
}

/// reqwest errors print the URL; LWA's carries no secret, but keep messages short.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "LWA");
    }
    s
}
