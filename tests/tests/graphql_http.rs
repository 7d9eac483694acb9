//! The GraphQL API over HTTP: the app on port 0, a fresh database, real requests.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{OWNER_EMAIL, OWNER_PASSWORD, TestServer, error_codes};
use entity::enums::{SyncStatus, SyncTrigger};
use entity::sync_runs;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

/// The api over HTTP, with the requests these tests send.
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

    async fn start_with(configure: impl FnOnce(&mut service::Settings)) -> Self {
        Self(TestServer::start_with(configure, |_| {}).await)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.graphql(token, query, variables).await
    }
}

#[tokio::test]
async fn over_http_the_owner_registers_logs_in_and_uses_the_bearer_token() {
    let app = App::start().await;

    let registered = app
        .post(
            None,
            "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { user { role } } }",
            json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
        )
        .await;
    let login = app
        .post(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
        )
        .await;
    let token = login["data"]["login"]["token"].as_str().unwrap();
    let me = app
        .post(Some(token), "{ me { email role } }", Value::Null)
        .await;
    let anonymous = app.post(None, "{ me { email } }", Value::Null).await;
    let garbage = app
        .post(Some("not-a-jwt"), "{ me { email } }", Value::Null)
        .await;

    assert_eq!(registered["data"]["register"]["user"]["role"], "OWNER");
    assert_eq!(
        me["data"]["me"],
        json!({ "email": OWNER_EMAIL, "role": "OWNER" })
    );
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
    assert_eq!(error_codes(&garbage), ["UNAUTHENTICATED"]);
}

const METRICS_TOKEN: &str = "scrape-token-0123456789";

#[tokio::test]
async fn graphiql_is_served_from_the_binary_with_a_same_origin_policy_and_probes_answer() {
    let app = App::start().await;

    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains("graphiql"), "{html}");
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "{html}"
    );
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("http") && !csp.contains("unsafe"), "{csp}");
    let srcs: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphql/assets/"))
        .collect();
    assert_eq!(srcs.len(), 6, "{srcs:?}");
    for src in srcs {
        let res = app.get(src).await;
        assert_eq!(res.status(), 200, "{src}");
        assert!(
            res.headers().contains_key("content-security-policy"),
            "{src}"
        );
        assert!(!res.bytes().await.unwrap().is_empty(), "{src}");
    }
    for probe in ["/healthz", "/readyz"] {
        let res = app.get(probe).await;
        assert_eq!(res.status(), 200, "{probe}");
    }
}

#[tokio::test]
async fn graphiql_is_off_in_production_unless_enabled() {
    let off = App::start_with(|s| s.api.graphiql = false).await;

    let page = off.get("/graphql").await;
    let asset = off.get("/graphql/assets/graphiql.min.js").await;

    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("GRAPHIQL=true"));
    assert_eq!(asset.status(), 404);
}

#[tokio::test]
async fn metrics_without_their_token_are_401_and_with_it_200() {
    let app = App::start_with(|s| {
        s.api.metrics_token = Some(secrecy::SecretString::from(METRICS_TOKEN));
    })
    .await;
    let scrape = |token: Option<&'static str>| {
        let mut req = app.client.get(format!("{}/metrics", app.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };

    let anonymous = scrape(None).await.unwrap();
    let wrong = scrape(Some("scrape-token-0123456788")).await.unwrap();
    let right = scrape(Some(METRICS_TOKEN)).await.unwrap();

    assert_eq!(anonymous.status(), 401);
    assert_eq!(wrong.status(), 401);
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("http_requests_total "));
}

#[tokio::test]
async fn metrics_are_off_without_a_configured_token() {
    let app = App::start().await;

    let res = app.get("/metrics").await;

    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("METRICS_TOKEN"));
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413_and_a_malformed_one_with_400() {
    let app = App::start().await;

    let huge = format!("{{ me {{ email }} }} # {}", "x".repeat(api::MAX_BODY_BYTES));
    let too_big = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": huge }))
        .send()
        .await
        .unwrap();
    let malformed = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();

    assert_eq!(too_big.status(), 413);
    assert_eq!(malformed.status(), 400);
}

#[tokio::test]
async fn a_query_nested_deeper_than_the_limit_is_refused() {
    let app = App::start().await;
    let levels = ["__schema", "types", "fields", "type"]
        .into_iter()
        .chain(std::iter::repeat_n("ofType", 12))
        .collect::<Vec<_>>();
    let deep = format!(
        "{{ {} name {} }}",
        levels
            .iter()
            .map(|l| format!("{l} {{"))
            .collect::<Vec<_>>()
            .join(" "),
        "}".repeat(levels.len())
    );

    let r = app.post(None, &deep, Value::Null).await;

    let message = r["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("nested too deep"), "{r}");
}

#[tokio::test]
async fn browsers_may_call_the_api_only_from_the_configured_origins() {
    let app = App::start_with(|s| {
        s.api.cors_allowed_origins = vec!["https://admin.example.com".to_owned()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };

    let allowed = preflight("https://admin.example.com").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://admin.example.com"
    );
    let refused = preflight("https://elsewhere.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn the_admin_page_and_its_assets_are_served_with_a_same_origin_only_policy() {
    let app = App::start().await;
    let mut assets = vec![
        (
            "/admin".to_owned(),
            "text/html",
            "<script type=\"module\" src=\"/admin/app.js\">".to_owned(),
        ),
        ("/admin/app.css".to_owned(), "text/css", ":root".to_owned()),
    ];
    // Every module of the page on disk is served, from the binary.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/admin");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "js") {
            let text = std::fs::read_to_string(&path).unwrap();
            let first_line = text.lines().next().unwrap().to_owned();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            assets.push((format!("/admin/{name}"), "text/javascript", first_line));
        }
    }
    assert!(assets.len() > 4, "{assets:?}");
    for (path, content_type, marker) in &assets {
        let (path, content_type, marker) = (path.as_str(), *content_type, marker.as_str());
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert!(header("content-type").starts_with(content_type), "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "{path}: {csp}"
        );
        assert_eq!(header("cache-control"), "no-cache, private", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        let body = res.text().await.unwrap();
        assert!(body.contains(marker), "{path}");
    }
    let missing = app
        .client
        .get(format!("{}/admin/nothing.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // The server's root leads to the admin page.
    let root = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 200);
    assert!(root.url().path().ends_with("/admin"), "{}", root.url());
}

async fn run_row(db: &sea_orm::DatabaseConnection, status: SyncStatus, inserted: i64) -> i64 {
    sync_runs::ActiveModel {
        kind: Set(entity::enums::SyncKind::Orders),
        trigger: Set(SyncTrigger::Schedule),
        status: Set(status),
        dry_run: Set(false),
        include_items: Set(true),
        inserted: Set(inserted),
        metadata: Set(Some(json!({ "calls_by_operation": { "searchOrders": 2 } }))),
        started_at: Set(chrono::Utc::now()),
        finished_at: Set((status != SyncStatus::Running).then(chrono::Utc::now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn metrics_count_each_finished_run_once_and_a_running_one_when_it_ends() {
    let app = App::start_with(|s| {
        s.api.metrics_token = Some(secrecy::SecretString::from(METRICS_TOKEN));
    })
    .await;
    let db = app.t.db.clone();
    let scrape = || async {
        app.client
            .get(format!("{}/metrics", app.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let running = run_row(&db, SyncStatus::Running, 0).await;
    run_row(&db, SyncStatus::Succeeded, 5).await;

    let first = scrape().await;
    let again = scrape().await;
    let mut ended: sync_runs::ActiveModel = sync_runs::Entity::find_by_id(running)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .into();
    ended.status = Set(SyncStatus::Failed);
    ended.finished_at = Set(Some(chrono::Utc::now()));
    ended.update(&db).await.unwrap();
    run_row(&db, SyncStatus::Succeeded, 7).await;
    let later = scrape().await;

    for text in [&first, &again] {
        for line in [
            "orders_sync_runs_total{status=\"running\"} 1",
            "orders_sync_runs_total{status=\"succeeded\"} 1",
            "orders_sync_runs_total{status=\"failed\"} 0",
            "orders_upserted_total 5",
            "spapi_calls_total{operation=\"searchOrders\"} 2",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
    for line in [
        "orders_sync_runs_total{status=\"running\"} 0",
        "orders_sync_runs_total{status=\"succeeded\"} 2",
        "orders_sync_runs_total{status=\"failed\"} 1",
        "orders_upserted_total 12",
        "spapi_calls_total{operation=\"searchOrders\"} 6",
    ] {
        assert!(later.contains(line), "{line:?} missing from:\n{later}");
    }
}
