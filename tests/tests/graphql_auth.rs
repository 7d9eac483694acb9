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
const OWNER_MUTATIONS: [&str; 6] = [
    r#"mutation { createUser(email: "x@example.com", password: "long-enough-1", role: VIEWER) { id } }"#,
    r#"mutation { upsertAmazonConnection(input: { sellerId: "A1SELLER", region: NA, marketplaceIds: ["ATVPDKIKX0DER"] }) { sellerId } }"#,
    r#"mutation { setAmazonCredential(input: { lwaClientId: "id", lwaClientSecret: "s", refreshToken: "t" }) { credentialConfigured } }"#,
    r#"mutation { pingSpApi { lastCheckOk } }"#,
    r#"mutation { syncAmazonOrders(dryRun: true) { id } }"#,
    r#"mutation { syncAmazonInventory(dryRun: true) { id kind } }"#,
];

/// Every query, each needing a signed-in user.
const QUERIES: [&str; 8] = [
    "{ me { id } }",
    "{ amazonConnection { sellerId } }",
    "{ amazonOrders { totalCount } }",
    r#"{ amazonOrder(amazonOrderId: "x") { amazonOrderId } }"#,
    "{ syncRuns { totalCount } }",
    r#"{ syncRun(id: "1") { id } }"#,
    "{ marketplaces { marketplaceId } }",
    "{ amazonInventory { totalCount edges { node { sellerSku daysOfCover lowStock } } } }",
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
        "ver": 0,
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
    // The default lifetime is two hours.
    assert!(expires > Utc::now() + Duration::minutes(119), "{expires}");
    assert!(expires <= Utc::now() + Duration::hours(2), "{expires}");
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
        ("owner@example.com", "elevenchars"),
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

const CHANGE_PASSWORD: &str = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token user { email } } }";
const SIGN_OUT_EVERYWHERE: &str = "mutation { signOutEverywhere }";

fn token_of(r: &Value, field: &str) -> String {
    r["data"][field]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{field}: {r}"))
        .to_owned()
}

async fn login(api: &TestApi, email: &str, password: &str) -> Value {
    api.run(None, LOGIN, json!({ "e": email, "p": password }))
        .await
}

/// Limits for the throttle tests: short delays and lockout, and rate limits out
/// of the way unless a test sets them.
const FAST_THROTTLE: [(&str, &str); 7] = [
    ("LOGIN_FREE_ATTEMPTS", "3"),
    ("LOGIN_DELAY_MS", "20"),
    ("LOGIN_MAX_DELAY_MS", "80"),
    ("LOGIN_LOCKOUT_AFTER", "8"),
    ("LOGIN_LOCKOUT_SECS", "2"),
    ("LOGIN_PER_EMAIL_PER_MINUTE", "10000"),
    ("LOGIN_PER_MINUTE", "10000"),
];

#[tokio::test]
async fn two_hundred_concurrent_wrong_guesses_take_as_long_as_sequential_ones_and_the_right_password_works_after_the_lockout()
 {
    let api = TestApi::with_vars(&FAST_THROTTLE).await;
    let owner = api.owner_token().await;
    let limits = &api.settings.api.login;
    let throttle = service::auth::LoginThrottle::new(limits.clone());
    // One at a time, guesses wait 0, 0, 0, 20, 40, 80, 80, 80 ms and the email
    // is then locked: this is the least 200 sequential guesses take.
    let sequential: std::time::Duration = (0..limits.lockout_after)
        .map(|failures| throttle.delay_after(failures))
        .sum();

    let started = std::time::Instant::now();
    let answers = futures_util::future::join_all((0..200).map(|i| {
        let api = &api;
        async move { login(api, OWNER_EMAIL, &format!("wrong-guess-{i:04}")).await }
    }))
    .await;
    let elapsed = started.elapsed();

    assert!(
        elapsed >= sequential,
        "200 concurrent guesses took {elapsed:?}, less than {sequential:?} for sequential ones"
    );
    let codes: Vec<String> = answers.iter().flat_map(error_codes).collect();
    let checked = codes.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    let refused = codes.iter().filter(|c| *c == "TOO_MANY_REQUESTS").count();
    assert_eq!((checked, refused), (8, 192), "{codes:?}");
    let locked = answers
        .iter()
        .find(|r| error_codes(r) == ["TOO_MANY_REQUESTS"])
        .unwrap();
    assert!(
        locked["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("too many sign-in attempts for this account: try again in "),
        "{locked}"
    );
    assert!(locked["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() >= Some(1));

    // During the lockout the right password is refused too, and the owner sees it.
    let during = login(&api, OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(error_codes(&during), ["TOO_MANY_REQUESTS"], "{during}");
    let lockouts = api
        .run(
            Some(&owner),
            "{ loginLockouts { email failures until } }",
            Value::Null,
        )
        .await;
    let lockout = &lockouts["data"]["loginLockouts"][0];
    assert_eq!(lockout["email"], OWNER_EMAIL, "{lockouts}");
    assert_eq!(lockout["failures"], 8);
    let until: chrono::DateTime<Utc> = lockout["until"].as_str().unwrap().parse().unwrap();

    // Once it ends, the right password works.
    let wait = (until - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + std::time::Duration::from_millis(50)).await;
    let after = login(&api, OWNER_EMAIL, OWNER_PASSWORD).await;
    assert!(after["errors"].is_null(), "{after}");
    let me = api
        .run(Some(&token_of(&after, "login")), ME, Value::Null)
        .await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL);
    let lockouts = api
        .run(Some(&owner), "{ loginLockouts { email } }", Value::Null)
        .await;
    assert_eq!(lockouts["data"]["loginLockouts"], json!([]));
}

#[tokio::test]
async fn one_password_sprayed_across_fifty_emails_from_one_address_is_refused_past_its_limit() {
    let mut vars = FAST_THROTTLE.to_vec();
    vars.push(("LOGIN_PER_ADDRESS_PER_MINUTE", "5"));
    let api = TestApi::with_vars(&vars).await;
    api.owner_token().await;
    let sprayer: std::net::IpAddr = [198, 51, 100, 7].into();

    let mut codes = Vec::new();
    for i in 0..50 {
        let r = api
            .run_from(
                Some(sprayer),
                None,
                LOGIN,
                json!({ "e": format!("user{i}@example.com"), "p": "Summer2026!!" }),
            )
            .await;
        codes.extend(error_codes(&r));
        if i == 49 {
            assert!(
                r["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("too many sign-in attempts from your address: try again in "),
                "{r}"
            );
        }
    }
    let elsewhere = api
        .run_from(
            Some([198, 51, 100, 8].into()),
            None,
            LOGIN,
            json!({ "e": OWNER_EMAIL, "p": OWNER_PASSWORD }),
        )
        .await;

    let checked = codes.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    let refused = codes.iter().filter(|c| *c == "TOO_MANY_REQUESTS").count();
    assert_eq!((checked, refused), (5, 45), "{codes:?}");
    assert!(elsewhere["errors"].is_null(), "{elsewhere}");
}

#[tokio::test]
async fn over_http_the_client_address_is_known_and_limited() {
    let t = e2e::TestDb::migrated().await;
    let data = tempfile::tempdir().unwrap();
    let settings = e2e::settings_with(
        &t.url,
        data.path(),
        false,
        &[("LOGIN_PER_ADDRESS_PER_MINUTE", "3")],
    );
    let app = api::Application::with_database(&settings, t.db.clone())
        .await
        .unwrap();
    let url = format!("http://{}/graphql", app.addr());
    tokio::spawn(app.run());
    let client = reqwest::Client::new();

    let mut codes = Vec::new();
    for i in 0..4 {
        let r: Value = client
            .post(&url)
            .json(&json!({ "query": LOGIN, "variables": { "e": format!("u{i}@example.com"), "p": "guess-password-1" } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        codes.extend(error_codes(&r));
    }

    assert_eq!(
        codes,
        [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "TOO_MANY_REQUESTS"
        ]
    );
}

#[tokio::test]
async fn a_mutation_selecting_login_more_than_once_is_refused_before_any_password_is_checked() {
    let api = TestApi::with_vars(&FAST_THROTTLE).await;
    let owner = api.owner_token().await;
    let aliased: String = (0..100)
        .map(|i| {
            format!(
                "g{i}: login(email: \"{OWNER_EMAIL}\", password: \"guess-{i:08}\") {{ token }} "
            )
        })
        .collect();
    let documents = [
        format!("mutation {{ {aliased} }}"),
        format!(
            "mutation {{ a: login(email: \"{OWNER_EMAIL}\", password: \"guess-00000001\") {{ token }} ...F }} \
             fragment F on Mutation {{ b: login(email: \"{OWNER_EMAIL}\", password: \"guess-00000002\") {{ token }} }}"
        ),
        format!(
            "mutation {{ login(email: \"{OWNER_EMAIL}\", password: \"guess-00000001\") {{ token }} \
             register(email: \"x@example.com\", password: \"guess-00000002\") {{ token }} }}"
        ),
    ];

    for document in &documents {
        let r = api.run(None, document, Value::Null).await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{document}: {r}");
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("at most once per operation"),
            "{r}"
        );
        assert!(r["data"].is_null(), "{r}");
    }
    // Nothing ran: 100 guesses would have locked the email after 8, yet the
    // owner signs in; and one login written twice under the same response key
    // (merged into one field) is one sign-in, so it is fine.
    let one = api
        .run(
            None,
            &format!(
                "mutation {{ login(email: \"{OWNER_EMAIL}\", password: \"{OWNER_PASSWORD}\") {{ token }} \
                 login(email: \"{OWNER_EMAIL}\", password: \"{OWNER_PASSWORD}\") {{ expiresAt }} }}"
            ),
            Value::Null,
        )
        .await;
    assert!(one["errors"].is_null(), "{one}");
    let lockouts = api
        .run(Some(&owner), "{ loginLockouts { email } }", Value::Null)
        .await;
    assert_eq!(lockouts["data"]["loginLockouts"], json!([]));
}

#[tokio::test]
async fn a_token_stops_working_after_change_password_and_the_new_password_signs_in() {
    let api = TestApi::new().await;
    let old = api.owner_token().await;
    let other_device = token_of(&login(&api, OWNER_EMAIL, OWNER_PASSWORD).await, "login");

    let wrong_current = api
        .run(
            Some(&old),
            CHANGE_PASSWORD,
            json!({ "c": "not-the-password", "n": "a brand new password" }),
        )
        .await;
    let too_short = api
        .run(
            Some(&old),
            CHANGE_PASSWORD,
            json!({ "c": OWNER_PASSWORD, "n": "elevenchars" }),
        )
        .await;
    let changed = api
        .run(
            Some(&old),
            CHANGE_PASSWORD,
            json!({ "c": OWNER_PASSWORD, "n": "a brand new password" }),
        )
        .await;

    assert_eq!(
        error_codes(&wrong_current),
        ["UNAUTHENTICATED"],
        "{wrong_current}"
    );
    assert_eq!(error_codes(&too_short), ["BAD_USER_INPUT"], "{too_short}");
    assert!(changed["errors"].is_null(), "{changed}");
    let new = token_of(&changed, "changePassword");
    for token in [&old, &other_device] {
        let r = api.run(Some(token), ME, Value::Null).await;
        assert_eq!(error_codes(&r), ["UNAUTHENTICATED"], "{r}");
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("signed out"),
            "{r}"
        );
    }
    let me = api.run(Some(&new), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL);
    assert_eq!(
        error_codes(&login(&api, OWNER_EMAIL, OWNER_PASSWORD).await),
        ["UNAUTHENTICATED"]
    );
    assert!(login(&api, OWNER_EMAIL, "a brand new password").await["errors"].is_null());
}

#[tokio::test]
async fn a_token_stops_working_after_sign_out_everywhere() {
    let api = TestApi::new().await;
    let first = api.owner_token().await;
    let second = token_of(&login(&api, OWNER_EMAIL, OWNER_PASSWORD).await, "login");

    let anonymous = api.run(None, SIGN_OUT_EVERYWHERE, Value::Null).await;
    let signed_out = api
        .run(Some(&second), SIGN_OUT_EVERYWHERE, Value::Null)
        .await;

    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
    assert_eq!(
        signed_out["data"]["signOutEverywhere"], true,
        "{signed_out}"
    );
    for token in [&first, &second] {
        let r = api.run(Some(token), ME, Value::Null).await;
        assert_eq!(error_codes(&r), ["UNAUTHENTICATED"], "{r}");
    }
    let again = token_of(&login(&api, OWNER_EMAIL, OWNER_PASSWORD).await, "login");
    let me = api.run(Some(&again), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL);
}

#[tokio::test]
async fn a_token_stops_working_after_delete_user_and_only_the_owner_deletes_viewers() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    let ids = |r: &Value| r["data"]["me"]["id"].as_str().unwrap().to_owned();
    let viewer_id = ids(&api.run(Some(&viewer), "{ me { id } }", Value::Null).await);
    let owner_id = ids(&api.run(Some(&owner), "{ me { id } }", Value::Null).await);
    let delete = "mutation($id: ID!) { deleteUser(id: $id) { email role } }";

    let by_viewer = api
        .run(Some(&viewer), delete, json!({ "id": owner_id }))
        .await;
    let the_owner = api
        .run(Some(&owner), delete, json!({ "id": owner_id }))
        .await;
    let nobody = api
        .run(Some(&owner), delete, json!({ "id": "999999" }))
        .await;
    let deleted = api
        .run(Some(&owner), delete, json!({ "id": viewer_id }))
        .await;

    assert_eq!(error_codes(&by_viewer), ["FORBIDDEN"], "{by_viewer}");
    assert_eq!(error_codes(&the_owner), ["BAD_USER_INPUT"], "{the_owner}");
    assert_eq!(error_codes(&nobody), ["NOT_FOUND"], "{nobody}");
    assert_eq!(
        deleted["data"]["deleteUser"],
        json!({ "email": "viewer@example.com", "role": "VIEWER" }),
        "{deleted}"
    );
    let r = api.run(Some(&viewer), ME, Value::Null).await;
    assert_eq!(error_codes(&r), ["UNAUTHENTICATED"], "{r}");
    assert_eq!(
        api.t.strings("SELECT email FROM users").await,
        [OWNER_EMAIL]
    );
    let me = api.run(Some(&owner), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL);
}

#[tokio::test]
async fn tokens_issued_in_the_future_not_yet_valid_or_living_longer_than_configured_are_refused() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let owner_id = api.t.strings("SELECT id || '' FROM users").await[0].clone();
    let now = Utc::now();
    let at = |iat: chrono::DateTime<Utc>, exp: chrono::DateTime<Utc>| {
        let mut c = claims(&owner_id, Duration::zero());
        c["iat"] = json!(iat.timestamp());
        c["exp"] = json!(exp.timestamp());
        c
    };
    let mut not_yet = at(now, now + Duration::hours(1));
    not_yet["nbf"] = json!((now + Duration::minutes(30)).timestamp());
    let year_2100 = chrono::DateTime::parse_from_rfc3339("2100-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);

    for (what, claims) in [
        (
            "iat in the future",
            at(now + Duration::hours(1), now + Duration::hours(2)),
        ),
        ("nbf in the future", not_yet),
        ("exp in 2100", at(now, year_2100)),
        (
            "a day long",
            at(now - Duration::hours(1), now + Duration::hours(23)),
        ),
    ] {
        let r = api
            .run(Some(&forge(&claims, TEST_JWT_SECRET)), ME, Value::Null)
            .await;
        assert_eq!(error_codes(&r), ["UNAUTHENTICATED"], "{what}: {r}");
    }
    // The same forgery within the configured lifetime is accepted: the times are
    // what is refused above.
    let fine = forge(&at(now, now + Duration::hours(2)), TEST_JWT_SECRET);
    let me = api.run(Some(&fine), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL, "{me}");
    let me = api.run(Some(&owner), ME, Value::Null).await;
    assert_eq!(me["data"]["me"]["email"], OWNER_EMAIL);
}

#[tokio::test]
async fn setup_says_whether_the_owner_exists_without_signing_in_and_with_the_password_rules() {
    let api = TestApi::new().await;
    let query = "{ setup { ownerExists minPasswordChars maxPasswordChars } }";

    let fresh = api.run(None, query, Value::Null).await;
    api.owner_token().await;
    let after = api.run(None, query, Value::Null).await;

    assert_eq!(
        fresh["data"]["setup"],
        json!({ "ownerExists": false, "minPasswordChars": 12, "maxPasswordChars": 256 }),
        "{fresh}"
    );
    assert_eq!(after["data"]["setup"]["ownerExists"], true, "{after}");
}

#[tokio::test]
async fn the_owner_lists_every_user_owner_first_and_a_viewer_may_not() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let viewer = api.viewer_token(&owner).await;
    let query = "{ users { email role mustChangePassword } }";

    let listed = api.run(Some(&owner), query, Value::Null).await;
    let by_viewer = api.run(Some(&viewer), query, Value::Null).await;

    assert_eq!(
        listed["data"]["users"],
        json!([
            { "email": OWNER_EMAIL, "role": "OWNER", "mustChangePassword": false },
            { "email": "viewer@example.com", "role": "VIEWER", "mustChangePassword": false },
        ]),
        "{listed}"
    );
    assert_eq!(error_codes(&by_viewer), ["FORBIDDEN"], "{by_viewer}");
}

#[tokio::test]
async fn a_reset_password_ends_every_session_and_its_one_time_password_must_be_changed_first() {
    use secrecy::ExposeSecret as _;
    let api = TestApi::new().await;
    let before = api.owner_token().await;

    let (user, one_time) = service::auth::reset_password(&api.t.db, "OWNER@example.com")
        .await
        .unwrap();
    let one_time = one_time.expose_secret().to_owned();
    let unknown = service::auth::reset_password(&api.t.db, "nobody@example.com").await;

    assert_eq!(user.email, OWNER_EMAIL);
    assert_eq!(one_time.chars().count(), 20);
    assert!(matches!(unknown, Err(service::auth::AuthError::NoSuchUser)));
    let old_session = api.run(Some(&before), ME, Value::Null).await;
    assert_eq!(
        error_codes(&old_session),
        ["UNAUTHENTICATED"],
        "{old_session}"
    );
    assert_eq!(
        error_codes(&login(&api, OWNER_EMAIL, OWNER_PASSWORD).await),
        ["UNAUTHENTICATED"]
    );

    let signed_in = login(&api, OWNER_EMAIL, &one_time).await;
    let token = token_of(&signed_in, "login");
    let me = api
        .run(
            Some(&token),
            "{ me { email mustChangePassword } }",
            Value::Null,
        )
        .await;
    let orders = api
        .run(Some(&token), "{ amazonOrders { totalCount } }", Value::Null)
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "email": OWNER_EMAIL, "mustChangePassword": true }),
        "{me}"
    );
    assert_eq!(error_codes(&orders), ["FORBIDDEN"], "{orders}");
    assert!(
        orders["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("one-time password"),
        "{orders}"
    );

    let changed = api
        .run(
            Some(&token),
            CHANGE_PASSWORD,
            json!({ "c": one_time, "n": "my own password again" }),
        )
        .await;
    let fresh = token_of(&changed, "changePassword");
    let me = api
        .run(Some(&fresh), "{ me { mustChangePassword } }", Value::Null)
        .await;
    let orders = api
        .run(Some(&fresh), "{ amazonOrders { totalCount } }", Value::Null)
        .await;
    assert_eq!(me["data"]["me"]["mustChangePassword"], false, "{me}");
    assert!(orders["errors"].is_null(), "{orders}");
}
