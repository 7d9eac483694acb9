//! Input a person typed is checked at the edge and refused with the reason and
//! what to give instead: a `since` in the future, a marketplace the seller account
//! does not have, credentials in the wrong shape, an enum value the schema does not
//! know (on SQLite and PostgreSQL).

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::{TestApi, error_codes};
use serde_json::{Value, json};

fn message(r: &Value) -> String {
    r["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_since_in_the_future_is_refused_with_an_example_in_the_past() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    for mutation in [
        "mutation($s: DateTime!) { syncAmazonOrders(since: $s) { id } }",
        "mutation($s: DateTime!) { syncAmazonTransactions(since: $s) { id } }",
    ] {
        let r = api
            .run(Some(&owner), mutation, json!({"s": "2999-01-01T00:00:00Z"}))
            .await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
        assert!(
            message(&r).starts_with("since: 2999-01-01T00:00:00Z is in the future"),
            "{r}"
        );
    }
}

#[tokio::test]
async fn sales_of_a_marketplace_the_account_does_not_have_are_refused_naming_its_marketplaces() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let sales = "query($m: String) { salesDaily(from: \"2026-05-01\", to: \"2026-05-02\", marketplaceId: $m) { revenue } }";

    let r = api.run(Some(&owner), sales, json!({"m": "XYZ"})).await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert!(
        message(&r).contains("connect the seller account first"),
        "{r}"
    );

    let r = api
        .run(
            Some(&owner),
            "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { sellerId } }",
            json!({ "input": { "sellerId": "A2SELLER", "region": "NA", "marketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"] } }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = api
        .run(Some(&owner), sales, json!({"m": "A1VC38T7YXB528"}))
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert_eq!(
        message(&r),
        "marketplaceId: A1VC38T7YXB528 is not a marketplace of the connected seller account (its marketplaces: ATVPDKIKX0DER, A2EUQ1WTGCTBG2)"
    );
    let r = api
        .run(Some(&owner), sales, json!({"m": "ATVPDKIKX0DER"}))
        .await;
    assert!(r["errors"].is_null(), "{r}");

    let r = api
        .run(
            Some(&owner),
            "mutation($i: AmazonCredentialInput!) { setAmazonCredential(input: $i) { credentialConfigured } }",
            json!({ "i": { "lwaClientId": "hello", "lwaClientSecret": "s3cret", "refreshToken": "Atzr|x" } }),
        )
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert!(
        message(&r).contains("lwaClientId")
            && message(&r).contains("amzn1.application-oa2-client."),
        "{r}"
    );
    assert!(!r.to_string().contains("s3cret"), "{r}");
}

#[tokio::test]
async fn an_unknown_enum_value_is_answered_with_the_allowed_ones() {
    let api = TestApi::new().await;
    let owner = api.owner_token().await;
    let literal = api
        .run(
            Some(&owner),
            "mutation { upsertAmazonConnection(input: { sellerId: \"A2SELLER\", region: XX, marketplaceIds: [\"ATVPDKIKX0DER\"] }) { sellerId } }",
            Value::Null,
        )
        .await;
    let variable = api
        .run(
            Some(&owner),
            "mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { sellerId } }",
            json!({ "input": { "sellerId": "A2SELLER", "region": "XX", "marketplaceIds": ["ATVPDKIKX0DER"] } }),
        )
        .await;
    for r in [literal, variable] {
        assert!(message(&r).ends_with("(allowed: NA, EU, FE)"), "{r}");
        assert!(!error_codes(&r).is_empty(), "{r}");
    }
}
