//! A process started with another key than the one that sealed the stored
//! credentials (a second `DATA_DIR` generates a key of its own) is told so at
//! start, with both keys' ids and where its own key came from, on SQLite and
//! PostgreSQL.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use e2e::TestDb;
use entity::enums::{OrdersApiVersion, Region};
use secrecy::SecretString;
use service::amazon_account::{
    self, ConnectionInput, CredentialInput, EncryptionKey, sealing_key_mismatch,
};

async fn sealed_with(t: &TestDb, key: &EncryptionKey) {
    amazon_account::upsert(
        &t.db,
        ConnectionInput {
            seller_id: "A1B2C3D4E5".into(),
            region: Region::Na,
            sandbox: false,
            marketplace_ids: vec!["ATVPDKIKX0DER".into()],
            orders_api_version: OrdersApiVersion::V2026_01_01,
            endpoint: None,
            token_url: None,
            timezone: None,
        },
        service::spapi::EndpointPolicy::AmazonOnly,
    )
    .await
    .unwrap();
    amazon_account::set_credential(
        &t.db,
        key,
        CredentialInput {
            lwa_client_id: "amzn1.application-oa2-client.sealing".into(),
            lwa_client_secret: SecretString::from("amzn1.oa2-cs.v1.sealing".to_owned()),
            refresh_token: SecretString::from("Atzr|sealing-test".to_owned()),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_process_with_another_key_is_told_which_keys_differ_and_where_its_own_came_from() {
    let t = TestDb::migrated().await;
    let first = EncryptionKey::from_bytes([7; 32]);
    let second = EncryptionKey::from_bytes([8; 32]);
    assert_eq!(
        sealing_key_mismatch(&t.db, &second, "/srv/b/data/encryption.key")
            .await
            .unwrap(),
        None,
        "nothing stored yet: any key will do"
    );
    sealed_with(&t, &first).await;

    assert_eq!(
        sealing_key_mismatch(&t.db, &first, "APP_ENCRYPTION_KEY")
            .await
            .unwrap(),
        None
    );
    let problem = sealing_key_mismatch(&t.db, &second, "/srv/b/data/encryption.key")
        .await
        .unwrap()
        .unwrap();
    assert!(problem.contains(first.id()), "{problem}");
    assert!(problem.contains(second.id()), "{problem}");
    assert!(problem.contains("/srv/b/data/encryption.key"), "{problem}");
    assert!(problem.contains("same APP_ENCRYPTION_KEY"), "{problem}");
}
