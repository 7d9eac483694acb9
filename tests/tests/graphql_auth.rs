//! Registration, sign-in and the auth matrix, through `schema.execute`.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::{Duration, Utc};
use e2e::{OWNER_EMAIL, OWNER_PASSWORD, TEST_JWT_SECRET, TestApi, error_codes};
use serde_json::{Value, json};

const REGISTER: &str = "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token expiresAt user { id email role } } }";
const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token expiresAt user { id email role } } }";
const ME: &str = "{ me { id email role } }";

/// Every owner-only mutation (the Amazon ones answer NOT_CONFIGURED to the owner
/// until a connection is saved; what matters here is who may call them).
const OWNER_MUTATIONS: [&str; 5] = [
    r#"mutation { createUser(email: "x@example.com", password: "long-enough-1", role: VIEWER) { id } }"#,
    r#"mutation { upsertAmazonConnection(input: { sellerId: "A1SELLER", region: NA, marketplaceIds: ["ATVPDKIKX0DER"] }) { sellerId } }"#,
    r#"mutation { setAmazonCredential(input: { lwaClientId: "id", lwaClientSecret: "s", refreshToken: "t" }) { credentialConfigured } }"#,
    r#"mutation { pingSpApi { lastCheckOk } }"#,
    r#"mutation { syncAmazonOrders(dryRun: true) { id } }"#,
];

/// Every query, each needing a signed-in user.
const QUERIES: [&str; 7] = [
    "{ me { id } }",
    "{ amazonConnection { sellerId } }",
    "{ amazonOrders { totalCount } }",
    r#"{ amazonOrder(amazonOrderId: "x") { amazonOrderId } }"#,
    "{ syncRuns { totalCount } }",
    r#"{ syncRun(id: "1") { id } }"#,
    "{ marketplaces { marketplaceId } }",
];

fn forge(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(sub: &str, exp_in: Duration) -> Value {
    let now = Utc::now();
    json!({
        "sub": sub,
        "iat": now.timestamp(),
        "exp": (now + exp_in).timestamp(),
        "iss": service::auth::ISSUER,
        "aud": service::auth::AUDIENCE,
    })
}

#[tokio::test]
async fn the_first_user_to_register_becomes_the_owner_and_gets_a_working_token() {
    let api = TestApi::new().await;

    let r = api
        .run(
            None,
            REGISTER,
            json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
        )
        .await;

    assert!(r["errors"].is_null(), "{r}");
    let payload = &r["data"]["register"];
    assert_eq!(payload["user"]["email"], OWNER_EMAIL);
    assert_eq!(payload["user"]["role"], "OWNER");
    let expires: chrono::DateTime<Utc> = payload["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!(expires > Utc::now() + Duration::hours(11));
    let me = api.run(payload["token"].as_str(), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL);
    assert_eq!(me["data"]["me"]["role"], "OWNER");
    let hash = api.t.strings("SELECT password_hash FROM users").await;
    assert!(hash[0].starts_with("$argon2id$"), "{hash:?}");
    assert!(!hash[0].contains(OWNER_PASSWORD));
}

#[tokio::test]
async fn registering_again_once_an_owner_exists_is_refused() {
    let api = TestApi::new().await;
    api.owner_token().await;

    let r = api
        .run(
            None,
            REGISTER,
            json!({ "e": "second@example.com", "p": "another-password" }),
        )
        .await;

    assert_eq!(error_codes(&r), ["FORBIDDEN"], "{r}");
    assert!(r["data"].is_null());
    assert_eq!(
        api.t.strings("SELECT email FROM users").await,
        [OWNER_EMAIL]
    );
}

#[tokio::test]
async fn a_short_password_or_bad_email_is_bad_user_input() {
    let api = TestApi::new().await;
    for (email, password) in [
        ("owner@example.com", "short"),
        ("not-an-email", "long-enough-password"),
    ] {
        let r = api
            .run(None, REGISTER, json!({ "e": email, "p": password }))
            .await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{email}: {r}");
    }
}

#[tokio::test]
async fn login_with_a_wrong_password_answers_exactly_like_an_unknown_email() {
    let api = TestApi::new().await;
    api.owner_token().await;

    let wrong_password = api
        .run(
            None,
            LOGIN,
            json!({ "e": OWNER_EMAIL, "p": "not-the-password" }),
        )
        .await;
    let unknown_email = api
        .run(
            None,
            LOGIN,
            json!({ "e": "nobody@example.com", "p": "not-the-password" }),
        )
        .await;

    assert_eq!(error_codes(&wrong_password), ["UNAUTHENTICATED"]);
    assert_eq!(wrong_password, unknown_email);
}

#[tokio::test]
async fn login_ignores_the_case_of_the_email_and_returns_a_token() {
    let api = TestApi::new().await;
    api.owner_token().await;

    let r = api
        .run(
            None,
            LOGIN,
            json!({ "e": "OWNER@Example.COM", "p": OWNER_PASSWORD }),
        )
        .await;

    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(r["data"]["login"]["user"]["email"], OWNER_EMAIL);
    let me = api
        .run(r["data"]["login"]["token"].as_str(), ME, Value::Null)
        .await;
    assert_eq!(me["data"]["me"]["role"], "OWNER");
}

#[tokio::test]
async fn the_owner_creates_a_viewer_who_can_read_but_gets_forbidden_on_every_owner_mutation() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;

    let me = api.run(Some(&viewer), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["role"], "VIEWER");
    for query in QUERIES
        .iter()
        .filter(|q| !q.contains("amazonOrder(") && !q.contains("syncRun("))
    {
        let r = api.run(Some(&viewer), query, Value::Null).await;
        assert!(r["errors"].is_null(), "viewer reading {query}: {r}");
    }
    for mutation in OWNER_MUTATIONS {
        let r = api.run(Some(&viewer), mutation, Value::Null).await;
        assert_eq!(error_codes(&r), ["FORBIDDEN"], "{mutation}: {r}");
        assert!(r["data"].is_null(), "{mutation}: {r}");
    }
    assert_eq!(
        api.t.strings("SELECT COUNT(*) || '' FROM users").await,
        ["2"]
    );
    assert!(
        api.t
            .strings("SELECT seller_id FROM amazon_connection")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn creating_a_second_owner_or_a_duplicate_email_is_refused() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;

    let second_owner = api
        .run(
            Some(&owner),
            r#"mutation { createUser(email: "boss@example.com", password: "long-enough-1", role: OWNER) { id } }"#,
            Value::Null,
        )
        .await;
    let duplicate = api
        .run(
            Some(&owner),
            r#"mutation { createUser(email: "Owner@Example.com", password: "long-enough-1", role: VIEWER) { id } }"#,
            Value::Null,
        )
        .await;

    assert_eq!(
        error_codes(&second_owner),
        ["BAD_USER_INPUT"],
        "{second_owner}"
    );
    assert_eq!(error_codes(&duplicate), ["BAD_USER_INPUT"], "{duplicate}");
}

#[tokio::test]
async fn without_a_token_every_query_and_owner_mutation_is_unauthenticated() {
    let api = TestApi::new().await;
    api.owner_token().await;

    for operation in QUERIES.iter().chain(OWNER_MUTATIONS.iter()) {
        let r = api.run(None, operation, Value::Null).await;
        assert_eq!(error_codes(&r), ["UNAUTHENTICATED"], "{operation}: {r}");
    }
}

#[tokio::test]
async fn expired_tampered_foreign_and_unsigned_tokens_are_all_unauthenticated() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let owner_id = api.t.strings("SELECT id || '' FROM users").await[0].clone();

    let expired = forge(&claims(&owner_id, -Duration::hours(1)), TEST_JWT_SECRET);
    let wrong_secret = forge(
        &claims(&owner_id, Duration::hours(1)),
        "someone-elses-secret-0123456789abcdef",
    );
    // Flip the first character of the signature (the last one may carry only
    // padding bits).
    let sig_at = owner.rfind('.').unwrap() + 1;
    let flipped = if owner[sig_at..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{flipped}{}", &owner[..sig_at], &owner[sig_at + 1..]);
    let mut foreign_audience = claims(&owner_id, Duration::hours(1));
    foreign_audience["aud"] = json!("another-app");
    let foreign_audience = forge(&foreign_audience, TEST_JWT_SECRET);
    let unsigned = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(claims(&owner_id, Duration::hours(1)).to_string())
        )
    };
    let unknown_user = forge(&claims("999999", Duration::hours(1)), TEST_JWT_SECRET);

    for (what, token) in [
        ("expired", expired),
        ("wrong secret", wrong_secret),
        ("tampered signature", tampered),
        ("foreign audience", foreign_audience),
        ("alg none", unsigned),
        ("unknown user", unknown_user),
        ("garbage", "garbage".to_owned()),
    ] {
        for operation in std::iter::once(ME).chain(OWNER_MUTATIONS) {
            let r = api.run(Some(&token), operation, Value::Null).await;
            assert_eq!(
                error_codes(&r),
                ["UNAUTHENTICATED"],
                "{what}: {operation}: {r}"
            );
        }
    }
    assert!(
        api.t
            .strings("SELECT seller_id FROM amazon_connection")
            .await
            .is_empty()
    );
    // The real token still works.
    let me = api.run(Some(&owner), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL);
}
