//! The Amazon connection and its credentials, through `schema.execute`: saved,
//! validated, and the secrets sealed and never readable back.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{TestApi, error_codes};
use entity::amazon_credential;
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const UPSERT: &str = "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { sellerId region sandbox marketplaceIds ordersApiVersion endpoint tokenUrl credentialConfigured lwaClientId lastCheckAt lastCheckOk lastCheckError lastOrdersSyncAt lastOrdersSyncStatus lastOrdersSyncError lastOrdersSyncOrdersCount lastOrdersSyncItemsCount } }";
const SET_CREDENTIAL: &str = "mutation($input: AmazonCredentialInput!) { setAmazonCredential(input: $input) { sellerId credentialConfigured lwaClientId } }";
const CONNECTION: &str = "{ amazonConnection { sellerId region marketplaceIds ordersApiVersion credentialConfigured lwaClientId } }";

const CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.super-secret-client-secret-value";
const REFRESH_TOKEN: &str = "Atzr|IwEBIA-the-refresh-token-that-must-never-leak";

fn us_connection() -> Value {
    json!({ "input": { "sellerId": "A1SELLER2ID", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"] } })
}

#[tokio::test]
async fn before_anything_is_saved_the_connection_is_null() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;

    let r = api.run(Some(&owner), CONNECTION, Value::Null).await;

    assert!(r["errors"].is_null(), "{r}");
    assert!(r["data"]["amazonConnection"].is_null());
}

#[tokio::test]
async fn the_owner_saves_a_connection_with_the_default_api_version_and_can_replace_it() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;

    let saved = api.run(Some(&owner), UPSERT, us_connection()).await;

    assert!(saved["errors"].is_null(), "{saved}");
    let c = &saved["data"]["upsertAmazonConnection"];
    assert_eq!(c["sellerId"], "A1SELLER2ID");
    assert_eq!(c["region"], "NA");
    assert_eq!(c["sandbox"], false);
    assert_eq!(
        c["marketplaceIds"],
        json!(["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"])
    );
    assert_eq!(c["ordersApiVersion"], "V2026_01_01");
    assert_eq!(c["credentialConfigured"], false);
    assert!(c["lastCheckAt"].is_null() && c["lastOrdersSyncStatus"].is_null());

    let replaced = api
        .run(
            Some(&owner),
            UPSERT,
            json!({ "input": {
                "sellerId": "A1SELLER2ID", "region": "EU", "sandbox": true,
                "marketplaceIds": ["A1PA6795UKMFR9"], "ordersApiVersion": "V0",
                "endpoint": "http://127.0.0.1:9999", "tokenUrl": "http://127.0.0.1:9999/auth/o2/token"
            } }),
        )
        .await;
    assert!(replaced["errors"].is_null(), "{replaced}");
    let c = &replaced["data"]["upsertAmazonConnection"];
    assert_eq!(c["region"], "EU");
    assert_eq!(c["ordersApiVersion"], "V0");
    assert_eq!(c["endpoint"], "http://127.0.0.1:9999");
    assert_eq!(
        api.t
            .strings("SELECT seller_id FROM amazon_connection")
            .await
            .len(),
        1
    );
    let read = api.run(Some(&owner), CONNECTION, Value::Null).await;
    assert_eq!(
        read["data"]["amazonConnection"]["marketplaceIds"],
        json!(["A1PA6795UKMFR9"])
    );
}

#[tokio::test]
async fn unknown_or_foreign_region_marketplaces_and_bad_fields_are_bad_user_input() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let cases = [
        (
            json!({ "sellerId": "A1SELLER", "region": "NA", "marketplaceIds": ["NOPE123"] }),
            "NOPE123",
        ),
        (
            json!({ "sellerId": "A1SELLER", "region": "NA", "marketplaceIds": ["A1PA6795UKMFR9"] }),
            "region EU",
        ),
        (
            json!({ "sellerId": "A1SELLER", "region": "NA", "marketplaceIds": [] }),
            "marketplaceIds",
        ),
        (
            json!({ "sellerId": "  ", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER"] }),
            "sellerId",
        ),
        (
            json!({ "sellerId": "A1SELLER", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER"], "endpoint": "ftp://x" }),
            "endpoint",
        ),
        (
            json!({ "sellerId": "A1SELLER", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER"], "tokenUrl": "not a url" }),
            "tokenUrl",
        ),
    ];

    for (input, mentions) in cases {
        let r = api
            .run(Some(&owner), UPSERT, json!({ "input": input }))
            .await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{input}: {r}");
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(mentions), "{input}: {message}");
    }
    assert!(
        api.t
            .strings("SELECT seller_id FROM amazon_connection")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn credentials_before_a_connection_are_not_configured() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;

    let r = api
        .run(
            Some(&owner),
            SET_CREDENTIAL,
            json!({ "input": { "lwaClientId": "amzn1.application-oa2-client.abc", "lwaClientSecret": CLIENT_SECRET, "refreshToken": REFRESH_TOKEN } }),
        )
        .await;

    assert_eq!(error_codes(&r), ["NOT_CONFIGURED"], "{r}");
}

#[tokio::test]
async fn credentials_are_stored_sealed_and_never_appear_in_any_response() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    api.run(Some(&owner), UPSERT, us_connection()).await;
    let credential = json!({ "input": {
        "lwaClientId": "amzn1.application-oa2-client.abc",
        "lwaClientSecret": CLIENT_SECRET,
        "refreshToken": REFRESH_TOKEN,
    } });

    let set = api
        .run(Some(&owner), SET_CREDENTIAL, credential.clone())
        .await;
    let again = api.run(Some(&owner), SET_CREDENTIAL, credential).await;
    let read = api.run(Some(&owner), CONNECTION, Value::Null).await;
    let introspected = api
        .run(
            Some(&owner),
            r#"{ __type(name: "AmazonConnection") { fields { name } } }"#,
            Value::Null,
        )
        .await;

    assert!(
        set["errors"].is_null() && again["errors"].is_null(),
        "{set} {again}"
    );
    assert_eq!(
        set["data"]["setAmazonCredential"]["credentialConfigured"],
        true
    );
    assert_eq!(
        read["data"]["amazonConnection"]["credentialConfigured"],
        true
    );
    assert_eq!(
        read["data"]["amazonConnection"]["lwaClientId"],
        "amzn1.application-oa2-client.abc"
    );
    for response in [&set, &again, &read, &introspected] {
        let text = response.to_string();
        assert!(
            !text.contains(CLIENT_SECRET) && !text.contains(REFRESH_TOKEN),
            "{text}"
        );
    }
    let fields = introspected.to_string().to_lowercase();
    assert!(
        !fields.contains("secret") && !fields.contains("refreshtoken\""),
        "{fields}"
    );

    let rows = amazon_credential::Entity::find()
        .all(&api.t.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "a second set replaces the first");
    let row = &rows[0];
    assert_ne!(row.client_secret_ciphertext, CLIENT_SECRET.as_bytes());
    assert_ne!(row.refresh_token_ciphertext, REFRESH_TOKEN.as_bytes());
    assert!(
        !row.refresh_token_ciphertext
            .windows(10)
            .any(|w| REFRESH_TOKEN.as_bytes().windows(10).any(|p| p == w))
    );
    assert_eq!(row.key_id, api.settings.encryption_key.id());
    // Sealed, not lost: the application's key opens them to the values entered.
    let opened = service::amazon_account::seal::open(
        &api.settings.encryption_key,
        &row.key_id,
        row.connection_id,
        service::amazon_account::seal::Field::RefreshToken,
        &service::amazon_account::seal::Sealed {
            ciphertext: row.refresh_token_ciphertext.clone(),
            nonce: row.refresh_token_nonce.clone(),
        },
    )
    .unwrap();
    assert_eq!(opened.expose_secret(), REFRESH_TOKEN);
}

#[tokio::test]
async fn empty_credentials_are_bad_user_input() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    api.run(Some(&owner), UPSERT, us_connection()).await;

    let r = api
        .run(
            Some(&owner),
            SET_CREDENTIAL,
            json!({ "input": { "lwaClientId": "amzn1.application-oa2-client.abc", "lwaClientSecret": "secret", "refreshToken": "  " } }),
        )
        .await;

    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("refreshToken")
    );
}

#[tokio::test]
async fn the_connection_shows_nothing_of_the_stored_refresh_token() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    api.run(Some(&owner), UPSERT, us_connection()).await;
    let set = api
        .run(
            Some(&owner),
            SET_CREDENTIAL,
            json!({ "input": { "lwaClientId": "amzn1.application-oa2-client.abc", "lwaClientSecret": CLIENT_SECRET, "refreshToken": REFRESH_TOKEN } }),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");

    // The hint that used to show its last four characters (by decrypting it) is gone.
    let hint = api
        .run(
            Some(&owner),
            "{ amazonConnection { refreshTokenHint } }",
            Value::Null,
        )
        .await;
    assert_eq!(error_codes(&hint), ["GRAPHQL_VALIDATION_FAILED"], "{hint}");
    let all = api
        .run(
            Some(&owner),
            "{ amazonConnection { sellerId credentialConfigured lwaClientId credentialUpdatedAt lastCheckError } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        all["data"]["amazonConnection"]["credentialConfigured"],
        true
    );
    let text = all.to_string();
    assert!(
        !text.contains("leak") && !text.contains(CLIENT_SECRET),
        "{text}"
    );
}
