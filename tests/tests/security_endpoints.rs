//! The stored Amazon secrets go to Amazon only (issue #16, finding 1): an owner's
//! session cannot point them elsewhere, a changed address drops them, no redirect
//! carries them on, and what a far side answers stays out of fields users read.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use e2e::{TestApi, error_codes};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};
use service::spapi::EndpointPolicy;
use std::sync::{Arc, Mutex};

const UPSERT: &str = "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { endpoint tokenUrl credentialConfigured } }";
const SET_CREDENTIAL: &str = "mutation($input: AmazonCredentialInput!) { setAmazonCredential(input: $input) { credentialConfigured } }";
const PING: &str = "mutation { pingSpApi { lastCheckOk lastCheckError } }";

const CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.listener-must-never-see-this";
const REFRESH_TOKEN: &str = "Atzr|IwEBIA-refresh-token-listener-must-never-see";

/// What a listener on 127.0.0.1 answers: everything it was sent is kept.
#[derive(Clone, Copy)]
enum Answer {
    /// `307` to another address.
    RedirectTo(u16),
    /// A working LWA (`POST`) whose SP-API (`GET`) answers an internal page.
    InternalPage,
    /// A working LWA whose SP-API refuses with a message of its own.
    RefusesWithItsOwnWords,
    /// `200 {}` to everything.
    Empty,
}

const INTERNAL_PAGE: &str = "<html>internal admin console: db password hunter2</html>";
const FAR_SIDE_WORDS: &str = "far-side words that must stay in the server log";

struct Listener {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    async fn start(answer: Answer) -> Self {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = seen.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push(format!(
                        "{method} {uri} {headers:?} {}",
                        String::from_utf8_lossy(&body)
                    ));
                    match (answer, method) {
                        (Answer::RedirectTo(port), _) => (
                            StatusCode::TEMPORARY_REDIRECT,
                            [("location", format!("http://127.0.0.1:{port}{uri}"))],
                        )
                            .into_response(),
                        (Answer::InternalPage | Answer::RefusesWithItsOwnWords, Method::POST) => {
                            axum::Json(json!({ "access_token": "Atza|access", "expires_in": 3600 }))
                                .into_response()
                        }
                        (Answer::InternalPage, _) => INTERNAL_PAGE.into_response(),
                        (Answer::RefusesWithItsOwnWords, _) => (
                            StatusCode::BAD_REQUEST,
                            axum::Json(json!({ "errors": [{ "code": "InvalidInput", "message": FAR_SIDE_WORDS }] })),
                        )
                            .into_response(),
                        (Answer::Empty, _) => axum::Json(json!({})).into_response(),
                    }
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn connection(endpoint: Option<String>, token_url: Option<String>) -> Value {
    json!({ "input": {
        "sellerId": "A1SELLER2ID", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER"],
        "endpoint": endpoint, "tokenUrl": token_url,
    } })
}

fn credentials() -> Value {
    json!({ "input": { "lwaClientId": "amzn1.application-oa2-client.abc", "lwaClientSecret": CLIENT_SECRET, "refreshToken": REFRESH_TOKEN } })
}

async fn amazon_only() -> TestApi {
    TestApi::with_settings(|s| s.sync.endpoints = EndpointPolicy::AmazonOnly).await
}

#[tokio::test]
async fn without_custom_endpoints_allowed_no_endpoint_or_token_url_of_the_owners_choice_is_accepted()
 {
    let api = amazon_only().await;
    let owner = api.owner_token().await;
    let listener = Listener::start(Answer::Empty).await;

    for (endpoint, token_url, field) in [
        (Some(listener.url("")), None, "endpoint"),
        (None, Some(listener.url("/auth/o2/token")), "tokenUrl"),
        (Some(listener.url("/internal#")), None, "endpoint"),
    ] {
        let r = api
            .run(Some(&owner), UPSERT, connection(endpoint, token_url))
            .await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(field) && message.contains("custom endpoints are off"),
            "{message}"
        );
    }

    // The region decides: saved, with credentials, and no address of the owner's.
    let saved = api.run(Some(&owner), UPSERT, connection(None, None)).await;
    assert!(saved["errors"].is_null(), "{saved}");
    let set = api.run(Some(&owner), SET_CREDENTIAL, credentials()).await;
    assert_eq!(
        set["data"]["setAmazonCredential"]["credentialConfigured"],
        true
    );

    // A row that names the listener anyway (written before this check existed) is
    // not used: the ping fails in our words before anything is sent.
    api.t
        .db
        .execute_unprepared(&format!(
            "UPDATE amazon_connection SET token_url = '{}'",
            listener.url("/auth/o2/token")
        ))
        .await
        .unwrap();
    let ping = api.run(Some(&owner), PING, Value::Null).await;
    assert_eq!(ping["data"]["pingSpApi"]["lastCheckOk"], false, "{ping}");
    let error = ping["data"]["pingSpApi"]["lastCheckError"]
        .as_str()
        .unwrap();
    assert!(error.contains("custom endpoints are off"), "{error}");
    assert!(listener.requests().is_empty(), "{:?}", listener.requests());
}

#[tokio::test]
async fn changing_the_endpoint_or_the_token_url_deletes_the_stored_credentials() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let first = Listener::start(Answer::Empty).await;
    let listener = Listener::start(Answer::Empty).await;

    for (endpoint, token_url) in [
        (Some(listener.url("")), Some(first.url("/auth/o2/token"))),
        (Some(first.url("")), Some(listener.url("/auth/o2/token"))),
    ] {
        let saved = api
            .run(
                Some(&owner),
                UPSERT,
                connection(Some(first.url("")), Some(first.url("/auth/o2/token"))),
            )
            .await;
        assert!(saved["errors"].is_null(), "{saved}");
        api.run(Some(&owner), SET_CREDENTIAL, credentials()).await;

        let moved = api
            .run(Some(&owner), UPSERT, connection(endpoint, token_url))
            .await;

        assert_eq!(
            moved["data"]["upsertAmazonConnection"]["credentialConfigured"], false,
            "{moved}"
        );
        assert!(
            api.t
                .strings("SELECT lwa_client_id FROM amazon_credential")
                .await
                .is_empty()
        );
        let ping = api.run(Some(&owner), PING, Value::Null).await;
        assert_eq!(error_codes(&ping), ["NOT_CONFIGURED"], "{ping}");
    }
    assert!(listener.requests().is_empty(), "{:?}", listener.requests());

    // The same addresses again keep the credentials.
    api.run(Some(&owner), SET_CREDENTIAL, credentials()).await;
    let same = api
        .run(
            Some(&owner),
            UPSERT,
            connection(Some(first.url("")), Some(listener.url("/auth/o2/token"))),
        )
        .await;
    assert_eq!(
        same["data"]["upsertAmazonConnection"]["credentialConfigured"], true,
        "{same}"
    );
}

#[tokio::test]
async fn a_redirect_from_the_token_url_or_the_endpoint_is_not_followed() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let target = Listener::start(Answer::Empty).await;
    let redirecting = Listener::start(Answer::RedirectTo(target.port)).await;
    let working_lwa = Listener::start(Answer::RefusesWithItsOwnWords).await;

    for (endpoint, token_url) in [
        (target.url(""), redirecting.url("/auth/o2/token")),
        (redirecting.url(""), working_lwa.url("/auth/o2/token")),
    ] {
        api.run(
            Some(&owner),
            UPSERT,
            connection(Some(endpoint), Some(token_url)),
        )
        .await;
        api.run(Some(&owner), SET_CREDENTIAL, credentials()).await;

        let ping = api.run(Some(&owner), PING, Value::Null).await;

        assert_eq!(ping["data"]["pingSpApi"]["lastCheckOk"], false, "{ping}");
    }
    assert!(target.requests().is_empty(), "{:?}", target.requests());
}

#[tokio::test]
async fn what_the_far_side_answers_stays_in_the_server_log_not_in_last_check_error() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;

    for answer in [Answer::InternalPage, Answer::RefusesWithItsOwnWords] {
        let far = Listener::start(answer).await;
        api.run(
            Some(&owner),
            UPSERT,
            connection(Some(far.url("")), Some(far.url("/auth/o2/token"))),
        )
        .await;
        api.run(Some(&owner), SET_CREDENTIAL, credentials()).await;

        let ping = api.run(Some(&owner), PING, Value::Null).await;

        assert_eq!(ping["data"]["pingSpApi"]["lastCheckOk"], false, "{ping}");
        let error = ping["data"]["pingSpApi"]["lastCheckError"]
            .as_str()
            .unwrap();
        assert!(error.contains("getMarketplaceParticipations"), "{error}");
        assert!(error.contains("server log"), "{error}");
        for leaked in ["hunter2", "internal admin", FAR_SIDE_WORDS] {
            assert!(!error.contains(leaked), "{error}");
        }
        assert!(!far.requests().is_empty());
    }
}
