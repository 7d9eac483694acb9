//! Cross-site requests and WebSocket abuse (issue #16, findings 2 and 4): the app on
//! port 0 and real HTTP and WebSocket clients.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::TestServer;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

const REGISTER: &str = r#"{"query":"mutation { register(email: \"attacker@example.com\", password: \"attacker-password-1\") { token } }"}"#;

/// The api over HTTP, allowing `https://admin.example.com`, with the requests these
/// tests send.
struct App(TestServer);

impl std::ops::Deref for App {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl App {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(limits: impl FnOnce(&mut api::SocketLimits)) -> Self {
        Self(
            TestServer::start_with(
                |s| s.api.cors_allowed_origins = vec!["https://admin.example.com".to_owned()],
                |app| limits(app.socket_limits_mut()),
            )
            .await,
        )
    }

    fn post(
        &self,
        content_type: &str,
        origin: Option<&str>,
        body: &'static str,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .post(format!("http://{}/graphql", self.addr))
            .header("content-type", content_type)
            .body(body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req
    }

    async fn users(&self) -> usize {
        self.t.strings("SELECT email FROM users").await.len()
    }

    async fn socket(
        &self,
        origin: Option<&str>,
    ) -> Result<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        tokio_tungstenite::tungstenite::Error,
    > {
        let mut request = format!("ws://{}/graphql/ws", self.addr)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
            .await
            .map(|(ws, _)| ws)
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads until the server closes the socket (or 10 s pass); returns every text
/// message and whether it closed.
async fn until_closed(ws: &mut Socket) -> (Vec<String>, bool) {
    let mut texts = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return (texts, false),
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return (texts, true),
            Ok(Some(Ok(Message::Text(t)))) => texts.push(t.as_str().to_owned()),
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn init(token: Option<&str>) -> Message {
    let payload = match token {
        Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    Message::text(json!({ "type": "connection_init", "payload": payload }).to_string())
}

#[tokio::test]
async fn a_cross_site_form_post_cannot_register_the_owner() {
    let app = App::start().await;

    // What a <form enctype="text/plain"> sends, with and without an Origin.
    for origin in [Some("https://evil.example"), None] {
        let res = app
            .post("text/plain", origin, REGISTER)
            .send()
            .await
            .unwrap();
        assert_ne!(res.status(), 200);
    }
    let plain = app.post("text/plain", None, REGISTER).send().await.unwrap();
    assert_eq!(plain.status(), 415);
    let body: Value = plain.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "UNSUPPORTED_MEDIA_TYPE"
    );
    let form = app
        .post("application/x-www-form-urlencoded", None, REGISTER)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);

    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn a_post_from_a_foreign_origin_is_refused_and_the_apis_own_and_configured_origins_pass() {
    let app = App::start().await;

    let foreign = app
        .post("application/json", Some("https://evil.example"), REGISTER)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let body: Value = foreign.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN_ORIGIN");
    for sneaky in ["null", "http://127.0.0.1.evil.example", "file://"] {
        let res = app
            .post("application/json", Some(sneaky), REGISTER)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{sneaky}");
    }
    assert_eq!(app.users().await, 0);

    let me = r#"{"query":"{ __typename }"}"#;
    let own = format!("http://{}", app.addr);
    for origin in [own.as_str(), "https://admin.example.com"] {
        let res = app
            .client
            .post(format!("http://{}/graphql", app.addr))
            .header("content-type", "application/json; charset=utf-8")
            .header("origin", origin)
            .body(me)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{origin}");
    }
}

#[tokio::test]
async fn a_websocket_from_a_foreign_origin_is_refused_before_the_upgrade() {
    let app = App::start().await;

    let refused = app.socket(Some("https://evil.example")).await;

    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 403);
        }
        other => panic!("expected 403, got {other:?}"),
    }
    let own = format!("http://{}", app.addr);
    assert!(app.socket(Some(&own)).await.is_ok());
}

#[tokio::test]
async fn connection_init_without_a_valid_token_closes_the_socket_without_an_ack() {
    let app = App::start().await;
    let token = app.owner_token().await;

    for bad in [None, Some("not-a-token")] {
        let mut ws = app.socket(None).await.unwrap();
        ws.send(init(bad)).await.unwrap();
        let (texts, closed) = until_closed(&mut ws).await;
        assert!(closed, "{bad:?}: still open after {texts:?}");
        assert!(
            texts.iter().all(|t| !t.contains("connection_ack")),
            "{bad:?}: {texts:?}"
        );
    }

    let mut ws = app.socket(None).await.unwrap();
    ws.send(init(Some(&token))).await.unwrap();
    let ack = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack}");
}

#[tokio::test]
async fn an_anonymous_eleven_megabyte_websocket_message_is_refused() {
    let app = App::start().await;
    let mut ws = app.socket(None).await.unwrap();
    let huge = format!(
        r#"{{"type":"subscribe","id":"1","payload":{{"query":"{}"}}}}"#,
        "{ __typename }".repeat(11 * 1024 * 1024 / 14)
    );
    assert!(huge.len() > 11 * 1000 * 1000);

    // The server may already have closed while the message is being written.
    let _ = ws.send(Message::text(huge)).await;
    let (texts, closed) = until_closed(&mut ws).await;

    assert!(closed, "still open after {texts:?}");
    assert!(texts.iter().all(|t| !t.contains("__typename")), "{texts:?}");
}

#[tokio::test]
async fn a_socket_that_never_initialises_or_falls_silent_is_closed_and_their_number_is_capped() {
    let app = App::start_with(|limits| {
        limits.init_timeout = Duration::from_millis(300);
        limits.idle_timeout = Duration::from_millis(600);
        *limits = limits.clone().with_max_open(2);
    })
    .await;
    let token = app.owner_token().await;

    // Never sends connection_init: closed after the init timeout.
    let mut silent = app.socket(None).await.unwrap();
    let started = std::time::Instant::now();
    let (_, closed) = until_closed(&mut silent).await;
    assert!(closed && started.elapsed() < Duration::from_secs(5));

    // Initialised, then silent: closed after the idle timeout.
    let mut idle = app.socket(None).await.unwrap();
    idle.send(init(Some(&token))).await.unwrap();
    let (texts, closed) = until_closed(&mut idle).await;
    assert!(closed, "{texts:?}");
    assert!(texts[0].contains("connection_ack"), "{texts:?}");

    // Two open at once at most.
    let mut first = app.socket(None).await.unwrap();
    let mut second = app.socket(None).await.unwrap();
    first.send(init(Some(&token))).await.unwrap();
    second.send(init(Some(&token))).await.unwrap();
    match app.socket(None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 503),
        other => panic!("expected 503, got {other:?}"),
    }
    drop(first);
    drop(second);
}
