//! The schema as the migrations build it, on SQLite and (in the PostgreSQL leg)
//! PostgreSQL: it goes up and down, its constraints hold, money stays exact, and the
//! entities agree with it.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::{DateTime, TimeZone, Utc};
use e2e::{Backend, TestDb};
use entity::enums::{
    OrderStatus, OrdersApiVersion, Region, Role, SyncKind, SyncStatus, SyncTrigger,
};
use entity::{
    Amount, amazon_connection, amazon_credential, amazon_order, amazon_order_item, marketplaces,
    order_items, orders, sync_cursor, sync_lease, sync_runs, users,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, IdenStatic,
    IntoActiveModel, Iterable, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

const APP_TABLES: [&str; 21] = [
    "alerts",
    "amazon_connection",
    "amazon_credential",
    "amazon_listing",
    "amazon_order",
    "amazon_order_item",
    "amazon_transaction",
    "amazon_transaction_breakdown",
    "amazon_transaction_related",
    "fba_inventory",
    "listing_change",
    "listing_change_history",
    "listing_feed",
    "listing_feed_item",
    "marketplaces",
    "order_items",
    "orders",
    "sync_cursor",
    "sync_lease",
    "sync_runs",
    "users",
];

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + secs, 123_456_000)
        .single()
        .unwrap()
}

fn amount(s: &str) -> Amount {
    s.parse().unwrap()
}

/// Reverts every migration after phase `n`: the first `n` stay applied, whatever
/// the newest phase is.
async fn down_to(t: &TestDb, n: usize) {
    let applied = Migrator::get_applied_migrations(&t.db).await.unwrap().len();
    let steps = u32::try_from(applied - n).unwrap();
    Migrator::down(&t.db, Some(steps)).await.unwrap();
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let t = TestDb::empty().await;

    Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(t.tables().await, APP_TABLES);
    assert_eq!(
        Migrator::get_pending_migrations(&t.db).await.unwrap().len(),
        0
    );
    assert_eq!(
        Migrator::get_applied_migrations(&t.db).await.unwrap().len(),
        Migrator::migrations().len()
    );

    Migrator::down(&t.db, None).await.unwrap();
    assert!(
        t.tables().await.is_empty(),
        "left behind: {:?}",
        t.tables().await
    );

    Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(t.tables().await, APP_TABLES);
    assert!(marketplaces::Entity::find().count(&t.db).await.unwrap() >= 20);
}

#[tokio::test]
async fn each_migration_can_be_reverted_and_reapplied_in_turn() {
    let t = TestDb::empty().await;
    for step in 1..=Migrator::migrations().len() {
        Migrator::up(&t.db, Some(1)).await.unwrap();
        let tables = t.tables().await;
        Migrator::down(&t.db, Some(1))
            .await
            .unwrap_or_else(|e| panic!("down of step {step}: {e}"));
        Migrator::up(&t.db, Some(1))
            .await
            .unwrap_or_else(|e| panic!("re-up of step {step}: {e}"));
        assert_eq!(
            t.tables().await,
            tables,
            "step {step} is not the same after down and up"
        );
        assert_eq!(
            Migrator::get_applied_migrations(&t.db).await.unwrap().len(),
            step
        );
    }
}

#[tokio::test]
async fn marketplaces_are_seeded_for_every_region_with_their_currency() {
    let t = TestDb::migrated().await;
    let all = marketplaces::Entity::find().all(&t.db).await.unwrap();
    let find = |id: &str| all.iter().find(|m| m.marketplace_id == id).unwrap();
    assert_eq!(find("ATVPDKIKX0DER").currency.as_deref(), Some("USD"));
    assert_eq!(find("A1F83G8C2ARO7P").currency.as_deref(), Some("GBP"));
    assert_eq!(find("A1PA6795UKMFR9").region, "EU");
    assert_eq!(find("A1VC38T7YXB528").currency.as_deref(), Some("JPY"));
    assert_eq!(find("A1VC38T7YXB528").region, "FE");
    for region in ["NA", "EU", "FE"] {
        assert!(
            all.iter().any(|m| m.region == region),
            "no {region} marketplace"
        );
    }
    assert!(all.iter().all(|m| m.currency.is_some()));
}

#[tokio::test]
async fn marketplace_currency_is_nullable_after_phase_11_and_restored_by_its_down() {
    let t = TestDb::migrated().await;
    marketplaces::ActiveModel {
        marketplace_id: Set("TESTMARKET".into()),
        region: Set("NA".into()),
        country_code: Set("US".into()),
        name: Set("Unknown currency".into()),
        currency: Set(None),
        ..Default::default()
    }
    .insert(&t.db)
    .await
    .unwrap();
    // Revert everything after 0010: the NOT NULL comes back without losing the row.
    down_to(&t, 10).await;
    let currency = t
        .strings("SELECT currency FROM marketplaces WHERE marketplace_id = 'TESTMARKET'")
        .await;
    assert_eq!(currency, ["XXX"]);
    let refused =
        t.db.execute_unprepared(
            "INSERT INTO marketplaces (marketplace_id, region, country_code, name, currency) \
             VALUES ('NULLCUR', 'NA', 'US', 'x', NULL)",
        )
        .await;
    assert!(
        refused.is_err(),
        "currency must be NOT NULL before phase 11"
    );
    Migrator::up(&t.db, None).await.unwrap();
}

#[tokio::test]
async fn phase_19_keeps_the_orders_watermarks_and_run_counts_and_its_down_restores_them() {
    let t = TestDb::empty().await;
    Migrator::up(&t.db, Some(18)).await.unwrap();
    t.db.execute_unprepared(
        "INSERT INTO sync_watermark (marketplace_id, api_version, watermark, updated_at) \
         VALUES ('ATVPDKIKX0DER', 'v0', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
    )
    .await
    .unwrap();
    t.db.execute_unprepared(
        "INSERT INTO sync_runs (kind, trigger, status, dry_run, include_items, pages, api_calls, \
         throttled, orders_found, orders_inserted, orders_updated, orders_unchanged, \
         items_upserted, started_at) \
         VALUES ('orders', 'manual', 'succeeded', false, true, 1, 2, 0, 7, 4, 2, 1, 9, \
         '2026-11-01T00:00:00Z')",
    )
    .await
    .unwrap();

    Migrator::up(&t.db, None).await.unwrap();
    let cursor = sync_cursor::Entity::find().all(&t.db).await.unwrap();
    assert_eq!(cursor.len(), 1);
    assert_eq!(cursor[0].kind, SyncKind::Orders);
    assert_eq!(cursor[0].marketplace_id, "ATVPDKIKX0DER");
    assert_eq!(cursor[0].scope, "v0");
    assert_eq!(
        cursor[0].watermark,
        "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let run = sync_runs::Entity::find().one(&t.db).await.unwrap().unwrap();
    assert_eq!(
        (run.found, run.inserted, run.updated, run.unchanged),
        (7, 4, 2, 1)
    );

    down_to(&t, 18).await;
    assert_eq!(
        t.strings("SELECT api_version FROM sync_watermark WHERE marketplace_id = 'ATVPDKIKX0DER'")
            .await,
        ["v0"]
    );
    assert_eq!(
        t.strings("SELECT CAST(orders_found AS TEXT) FROM sync_runs")
            .await,
        ["7"]
    );
}

#[tokio::test]
async fn phase_21_stores_every_order_status_in_one_spelling_and_keeps_unknown_ones() {
    let t = TestDb::empty().await;
    Migrator::up(&t.db, Some(20)).await.unwrap();
    for (n, status) in [
        "PARTIALLY_SHIPPED",
        "Cancelled",
        "CANCELED",
        "Shipped",
        "ON_HOLD",
    ]
    .iter()
    .enumerate()
    {
        t.db.execute_unprepared(&format!(
            "INSERT INTO amazon_order (amazon_order_id, marketplace_id, purchase_date, \
             last_update_date, order_status, is_prime, is_business_order, raw_payload, \
             created_at, updated_at) VALUES ('111-{n}', 'ATVPDKIKX0DER', \
             '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '{status}', false, false, '{{}}', \
             '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')"
        ))
        .await
        .unwrap();
    }

    Migrator::up(&t.db, None).await.unwrap();

    let stored = t
        .strings("SELECT order_status FROM amazon_order ORDER BY amazon_order_id")
        .await;
    assert_eq!(
        stored,
        [
            "PartiallyShipped",
            "Canceled",
            "Canceled",
            "Shipped",
            "ON_HOLD"
        ]
    );
    let read: Vec<OrderStatus> = amazon_order::Entity::find()
        .order_by_asc(amazon_order::Column::AmazonOrderId)
        .all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.order_status)
        .collect();
    assert_eq!(read[0], OrderStatus::PartiallyShipped);
    assert_eq!(read[4], OrderStatus::Other("ON_HOLD".to_owned()));
}

#[tokio::test]
async fn user_emails_are_unique_regardless_of_case() {
    let t = TestDb::migrated().await;
    let user = |email: &str| users::ActiveModel {
        email: Set(email.into()),
        password_hash: Set("$argon2id$v=19$m=19456,t=2,p=1$x$y".into()),
        role: Set(Role::Owner),
        created_at: Set(at(0)),
        ..Default::default()
    };
    user("Owner@Shop.example").insert(&t.db).await.unwrap();
    let dup = user("owner@shop.EXAMPLE").insert(&t.db).await;
    assert!(
        dup.is_err(),
        "a second account for the same email was accepted"
    );
    user("viewer@shop.example").insert(&t.db).await.unwrap();
}

#[tokio::test]
async fn user_role_is_owner_or_viewer_only() {
    let t = TestDb::migrated().await;
    let r =
        t.db.execute_unprepared(
            "INSERT INTO users (email, password_hash, role) VALUES ('a@b.c', 'h', 'admin')",
        )
        .await;
    assert!(r.is_err());
}

fn connection() -> amazon_connection::ActiveModel {
    amazon_connection::ActiveModel {
        id: Set(amazon_connection::SINGLETON_ID),
        seller_id: Set("A2SELLER".into()),
        region: Set(Region::Na),
        sandbox: Set(false),
        marketplace_ids: Set(json!(["ATVPDKIKX0DER"])),
        orders_api_version: Set(OrdersApiVersion::V2026_01_01),
        endpoint: Set(None),
        token_url: Set(None),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    }
}

#[tokio::test]
async fn only_one_amazon_connection_row_can_exist() {
    let t = TestDb::migrated().await;
    connection().insert(&t.db).await.unwrap();

    let mut second = connection();
    second.id = Set(2);
    assert!(
        second.insert(&t.db).await.is_err(),
        "a second connection row was accepted"
    );
    assert!(
        connection().insert(&t.db).await.is_err(),
        "id 1 twice was accepted"
    );
    let raw =
        t.db.execute_unprepared(
            "INSERT INTO amazon_connection (id, seller_id, region, marketplace_ids) \
             VALUES (7, 'X', 'NA', '[]')",
        )
        .await;
    assert!(raw.is_err());
    assert_eq!(
        amazon_connection::Entity::find()
            .count(&t.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn connection_region_and_api_version_are_constrained() {
    let t = TestDb::migrated().await;
    for sql in [
        "INSERT INTO amazon_connection (seller_id, region, marketplace_ids) VALUES ('X', 'US', '[]')",
        "INSERT INTO amazon_connection (seller_id, region, marketplace_ids, orders_api_version) \
         VALUES ('X', 'NA', '[]', 'v1')",
    ] {
        assert!(
            t.db.execute_unprepared(sql).await.is_err(),
            "accepted: {sql}"
        );
    }
    t.db.execute_unprepared(
        "INSERT INTO amazon_connection (seller_id, region, marketplace_ids) VALUES ('X', 'NA', '[]')",
    )
    .await
    .unwrap();
    let row = amazon_connection::Entity::find()
        .one(&t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.id, 1);
    assert_eq!(
        row.orders_api_version,
        OrdersApiVersion::V2026_01_01,
        "the default API version"
    );
}

fn order(id: &str, marketplace: &str) -> amazon_order::ActiveModel {
    amazon_order::ActiveModel {
        amazon_order_id: Set(id.into()),
        marketplace_id: Set(marketplace.into()),
        purchase_date: Set(at(0)),
        last_update_date: Set(at(60)),
        order_status: Set(OrderStatus::Unshipped),
        fulfillment_channel: Set(Some("MFN".into())),
        order_total_currency: Set(Some("USD".into())),
        order_total_amount: Set(Some(amount("11.01"))),
        number_of_items_shipped: Set(Some(0)),
        number_of_items_unshipped: Set(Some(1)),
        is_prime: Set(false),
        is_business_order: Set(false),
        raw_payload: Set(json!({"AmazonOrderId": id})),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    }
}

fn item(order_id: &str, marketplace: &str, item_id: &str) -> amazon_order_item::ActiveModel {
    amazon_order_item::ActiveModel {
        order_item_id: Set(item_id.into()),
        amazon_order_id: Set(order_id.into()),
        marketplace_id: Set(marketplace.into()),
        seller_sku: Set(Some("SKU-1".into())),
        asin: Set(Some("B000000001".into())),
        title: Set(Some("Widget".into())),
        quantity_ordered: Set(1),
        quantity_shipped: Set(0),
        item_price_currency: Set(Some("USD".into())),
        item_price_amount: Set(Some(amount("11.01"))),
        raw_payload: Set(json!({"OrderItemId": item_id})),
        order_purchase_date: Set(at(0)),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_amazon_order_is_unique_per_order_id_and_marketplace() {
    let t = TestDb::migrated().await;
    order("111-0000001-0000001", "ATVPDKIKX0DER")
        .insert(&t.db)
        .await
        .unwrap();
    assert!(
        order("111-0000001-0000001", "ATVPDKIKX0DER")
            .insert(&t.db)
            .await
            .is_err()
    );
    order("111-0000001-0000001", "A2EUQ1WTGCTBG2")
        .insert(&t.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_amazon_order_item_is_unique_per_order_and_item_id_and_needs_its_order() {
    let t = TestDb::migrated().await;
    order("111-0000001-0000001", "ATVPDKIKX0DER")
        .insert(&t.db)
        .await
        .unwrap();
    item("111-0000001-0000001", "ATVPDKIKX0DER", "ITEM1")
        .insert(&t.db)
        .await
        .unwrap();
    assert!(
        item("111-0000001-0000001", "ATVPDKIKX0DER", "ITEM1")
            .insert(&t.db)
            .await
            .is_err()
    );
    item("111-0000001-0000001", "ATVPDKIKX0DER", "ITEM2")
        .insert(&t.db)
        .await
        .unwrap();
    let orphan = item("999-0000000-0000000", "ATVPDKIKX0DER", "ITEM1")
        .insert(&t.db)
        .await;
    assert!(orphan.is_err(), "an item without its order was accepted");
}

#[tokio::test]
async fn unified_order_items_are_unique_per_source_line_only_where_one_is_set() {
    let t = TestDb::migrated().await;
    let o = orders::ActiveModel {
        source: Set("amazon".into()),
        source_order_id: Set("111-0000001-0000001".into()),
        marketplace_id: Set(Some("ATVPDKIKX0DER".into())),
        status: Set(OrderStatus::Unshipped),
        purchased_at: Set(at(0)),
        source_updated_at: Set(Some(at(1))),
        currency: Set(Some("USD".into())),
        total_amount: Set(Some(amount("22.02"))),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    }
    .insert(&t.db)
    .await
    .unwrap();
    let line = |source: Option<&str>, id: Option<&str>| order_items::ActiveModel {
        order_id: Set(o.id),
        sku: Set(Some("SKU".into())),
        title: Set(None),
        quantity: Set(1),
        quantity_shipped: Set(0),
        currency: Set(Some("USD".into())),
        price_amount: Set(Some(amount("11.01"))),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        source: Set(source.map(str::to_owned)),
        source_order_item_id: Set(id.map(str::to_owned)),
        ..Default::default()
    };
    line(Some("amazon"), Some("ITEM1"))
        .insert(&t.db)
        .await
        .unwrap();
    assert!(
        line(Some("amazon"), Some("ITEM1"))
            .insert(&t.db)
            .await
            .is_err()
    );
    line(Some("manual"), None).insert(&t.db).await.unwrap();
    line(Some("manual"), None).insert(&t.db).await.unwrap();
    // The same order in `orders` twice for one source is refused too.
    let dup = orders::ActiveModel {
        source: Set("amazon".into()),
        source_order_id: Set("111-0000001-0000001".into()),
        status: Set(OrderStatus::Shipped),
        purchased_at: Set(at(0)),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    }
    .insert(&t.db)
    .await;
    assert!(dup.is_err());
}

#[tokio::test]
async fn one_credential_per_connection_and_one_watermark_per_marketplace_and_version() {
    let t = TestDb::migrated().await;
    connection().insert(&t.db).await.unwrap();
    let cred = || amazon_credential::ActiveModel {
        connection_id: Set(1),
        lwa_client_id: Set("amzn1.application-oa2-client.x".into()),
        client_secret_ciphertext: Set(vec![1, 2, 3]),
        client_secret_nonce: Set(vec![0; 12]),
        refresh_token_ciphertext: Set(vec![4, 5, 6]),
        refresh_token_nonce: Set(vec![1; 12]),
        key_id: Set("k-1".into()),
        updated_at: Set(at(0)),
        ..Default::default()
    };
    cred().insert(&t.db).await.unwrap();
    assert!(cred().insert(&t.db).await.is_err());

    let mark = |kind: SyncKind, scope: &str| sync_cursor::ActiveModel {
        kind: Set(kind),
        marketplace_id: Set("ATVPDKIKX0DER".into()),
        scope: Set(scope.into()),
        watermark: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    };
    mark(SyncKind::Orders, "2026-01-01")
        .insert(&t.db)
        .await
        .unwrap();
    mark(SyncKind::Orders, "v0").insert(&t.db).await.unwrap();
    mark(SyncKind::Inventory, "").insert(&t.db).await.unwrap();
    assert!(mark(SyncKind::Orders, "v0").insert(&t.db).await.is_err());
    assert!(mark(SyncKind::Inventory, "").insert(&t.db).await.is_err());
}

#[tokio::test]
async fn money_round_trips_exactly_and_is_never_stored_as_a_float() {
    let t = TestDb::migrated().await;
    let amounts = [
        "11.01",
        "0.10",
        "123456789.99",
        "1999",
        "0.01",
        "99999999999.9999",
    ];
    for (n, text) in amounts.iter().enumerate() {
        let id = format!("111-0000000-{n:07}");
        let mut o = order(&id, "ATVPDKIKX0DER");
        o.order_total_amount = Set(Some(amount(text)));
        o.insert(&t.db).await.unwrap();
        let mut i = item(&id, "ATVPDKIKX0DER", "ITEM");
        i.item_price_amount = Set(Some(amount(text)));
        i.insert(&t.db).await.unwrap();
    }
    for (n, text) in amounts.iter().enumerate() {
        let id = format!("111-0000000-{n:07}");
        let o = amazon_order::Entity::find()
            .filter(amazon_order::Column::AmazonOrderId.eq(&id))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            o.order_total_amount.unwrap().to_string(),
            *text,
            "order total"
        );
        let i = amazon_order_item::Entity::find()
            .filter(amazon_order_item::Column::AmazonOrderId.eq(&id))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            i.item_price_amount.unwrap().to_string(),
            *text,
            "item price"
        );
    }
    let storage = match t.backend {
        Backend::Sqlite => {
            t.strings("SELECT DISTINCT typeof(item_price_amount) FROM amazon_order_item")
                .await
        }
        Backend::Postgres => {
            t.strings("SELECT DISTINCT pg_typeof(item_price_amount)::text FROM amazon_order_item")
                .await
        }
    };
    let expected = match t.backend {
        Backend::Sqlite => "text",
        Backend::Postgres => "numeric",
    };
    assert_eq!(storage, [expected]);
    // A Pending order has no total: NULL, not zero.
    let mut pending = order("111-9999999-9999999", "ATVPDKIKX0DER");
    pending.order_total_amount = Set(None);
    let pending = pending.insert(&t.db).await.unwrap();
    assert_eq!(pending.order_total_amount, None);
}

/// (column name, nullable) as the database has them.
async fn db_columns(t: &TestDb, table: &str) -> Vec<(String, bool)> {
    let sql = match t.db.get_database_backend() {
        DatabaseBackend::Sqlite => format!(
            "SELECT name || '|' || (CASE WHEN \"notnull\" = 1 OR pk = 1 THEN 'NO' ELSE 'YES' END) \
             FROM pragma_table_info('{table}') ORDER BY name"
        ),
        _ => format!(
            "SELECT column_name::text || '|' || is_nullable::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY column_name"
        ),
    };
    t.strings(&sql)
        .await
        .into_iter()
        .map(|s| {
            let (name, nullable) = s.split_once('|').unwrap();
            (name.to_owned(), nullable == "YES")
        })
        .collect()
}

fn entity_columns<E: EntityTrait>() -> Vec<(String, bool)> {
    let mut cols: Vec<(String, bool)> = E::Column::iter()
        .map(|c| (c.as_str().to_owned(), c.def().is_null()))
        .collect();
    cols.sort();
    cols
}

#[tokio::test]
async fn every_entity_has_exactly_the_columns_and_nullability_of_its_table() {
    let t = TestDb::migrated().await;
    let checks: Vec<(&str, Vec<(String, bool)>)> = vec![
        ("alerts", entity_columns::<entity::alerts::Entity>()),
        ("users", entity_columns::<users::Entity>()),
        ("marketplaces", entity_columns::<marketplaces::Entity>()),
        ("orders", entity_columns::<orders::Entity>()),
        ("order_items", entity_columns::<order_items::Entity>()),
        (
            "amazon_connection",
            entity_columns::<amazon_connection::Entity>(),
        ),
        (
            "amazon_credential",
            entity_columns::<amazon_credential::Entity>(),
        ),
        ("sync_runs", entity_columns::<sync_runs::Entity>()),
        ("amazon_order", entity_columns::<amazon_order::Entity>()),
        (
            "amazon_order_item",
            entity_columns::<amazon_order_item::Entity>(),
        ),
        ("sync_cursor", entity_columns::<sync_cursor::Entity>()),
        (
            "fba_inventory",
            entity_columns::<entity::fba_inventory::Entity>(),
        ),
        ("sync_lease", entity_columns::<sync_lease::Entity>()),
        (
            "amazon_transaction",
            entity_columns::<entity::amazon_transaction::Entity>(),
        ),
        (
            "amazon_transaction_breakdown",
            entity_columns::<entity::amazon_transaction_breakdown::Entity>(),
        ),
        (
            "amazon_transaction_related",
            entity_columns::<entity::amazon_transaction_related::Entity>(),
        ),
        (
            "amazon_listing",
            entity_columns::<entity::amazon_listing::Entity>(),
        ),
        (
            "listing_change",
            entity_columns::<entity::listing_change::Entity>(),
        ),
        (
            "listing_change_history",
            entity_columns::<entity::listing_change_history::Entity>(),
        ),
        (
            "listing_feed",
            entity_columns::<entity::listing_feed::Entity>(),
        ),
        (
            "listing_feed_item",
            entity_columns::<entity::listing_feed_item::Entity>(),
        ),
    ];
    assert_eq!(
        checks.len(),
        APP_TABLES.len(),
        "an entity is missing from this test"
    );
    for (table, expected) in checks {
        assert_eq!(db_columns(&t, table).await, expected, "table {table}");
    }
}

#[tokio::test]
async fn every_timestamp_column_is_stored_with_time_zone() {
    let t = TestDb::migrated().await;
    if t.backend != Backend::Postgres {
        // SQLite has no time zone type; sea-orm stores RFC 3339 text with its offset,
        // which the round-trip test below reads back as the same UTC instant.
        return;
    }
    let naive = t
        .strings(
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type = 'timestamp without time zone' \
             AND table_name <> 'seaql_migrations'",
        )
        .await;
    assert!(naive.is_empty(), "timestamps without time zone: {naive:?}");
}

#[tokio::test]
async fn every_entity_round_trips_a_fully_populated_row() {
    let t = TestDb::migrated().await;
    let db = &t.db;

    let u = users::ActiveModel {
        email: Set("owner@shop.example".into()),
        password_hash: Set("hash".into()),
        role: Set(Role::Viewer),
        created_at: Set(at(1)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        users::Entity::find_by_id(u.id).one(db).await.unwrap(),
        Some(u)
    );

    let c = connection();
    let mut c = c;
    c.endpoint = Set(Some("http://127.0.0.1:8787".into()));
    c.token_url = Set(Some("http://127.0.0.1:8787/auth/o2/token".into()));
    c.sandbox = Set(true);
    c.region = Set(Region::Fe);
    c.orders_api_version = Set(OrdersApiVersion::V0);
    c.last_check_at = Set(Some(at(5)));
    c.last_check_ok = Set(Some(false));
    c.last_check_error = Set(Some("LWA rejected the refresh token".into()));
    c.last_orders_sync_at = Set(Some(at(6)));
    c.last_orders_sync_status = Set(Some("succeeded".into()));
    c.last_orders_sync_error = Set(None);
    c.last_orders_sync_orders_count = Set(Some(42));
    c.last_orders_sync_items_count = Set(Some(84));
    let c = c.insert(db).await.unwrap();
    assert_eq!(
        amazon_connection::Entity::find_by_id(1)
            .one(db)
            .await
            .unwrap(),
        Some(c.clone())
    );
    assert_eq!(c.marketplace_id_list(), ["ATVPDKIKX0DER"]);

    let cred = amazon_credential::ActiveModel {
        connection_id: Set(1),
        lwa_client_id: Set("client".into()),
        client_secret_ciphertext: Set((0..=255).collect()),
        client_secret_nonce: Set(vec![9; 12]),
        refresh_token_ciphertext: Set(vec![0, 255, 0]),
        refresh_token_nonce: Set(vec![8; 12]),
        key_id: Set("k-abcdef01".into()),
        updated_at: Set(at(2)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        amazon_credential::Entity::find_by_id(cred.id)
            .one(db)
            .await
            .unwrap(),
        Some(cred)
    );

    let run = sync_runs::ActiveModel {
        kind: Set(SyncKind::Orders),
        trigger: Set(SyncTrigger::Schedule),
        status: Set(SyncStatus::Interrupted),
        dry_run: Set(true),
        include_items: Set(false),
        api_version: Set(Some("v0".into())),
        window_start: Set(Some(at(10))),
        window_end: Set(Some(at(20))),
        pages: Set(3),
        api_calls: Set(7),
        throttled: Set(1),
        found: Set(250),
        inserted: Set(200),
        updated: Set(40),
        unchanged: Set(10),
        items_upserted: Set(600),
        error: Set(Some("cancelled".into())),
        metadata: Set(Some(json!({"retries": 2, "waits_ms": [100, 200]}))),
        started_at: Set(at(30)),
        finished_at: Set(Some(at(40))),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        sync_runs::Entity::find_by_id(run.id).one(db).await.unwrap(),
        Some(run)
    );

    let o = order("111-0000001-0000001", "ATVPDKIKX0DER")
        .insert(db)
        .await
        .unwrap();
    assert_eq!(
        amazon_order::Entity::find_by_id(o.id)
            .one(db)
            .await
            .unwrap(),
        Some(o)
    );
    let i = item("111-0000001-0000001", "ATVPDKIKX0DER", "ITEM1")
        .insert(db)
        .await
        .unwrap();
    assert_eq!(
        amazon_order_item::Entity::find_by_id(i.id)
            .one(db)
            .await
            .unwrap(),
        Some(i)
    );

    let w = sync_cursor::ActiveModel {
        kind: Set(SyncKind::Orders),
        marketplace_id: Set("ATVPDKIKX0DER".into()),
        scope: Set("2026-01-01".into()),
        watermark: Set(at(100)),
        updated_at: Set(at(101)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        sync_cursor::Entity::find_by_id(w.id).one(db).await.unwrap(),
        Some(w)
    );

    let lease = sync_lease::Model {
        name: "orders_sync".into(),
        holder: "host-1:4242:ab12".into(),
        run_id: Some(1),
        acquired_at: at(200),
        expires_at: at(260),
    };
    lease.clone().into_active_model().insert(db).await.unwrap();
    assert_eq!(
        sync_lease::Entity::find_by_id("orders_sync".to_owned())
            .one(db)
            .await
            .unwrap(),
        Some(lease)
    );

    let listing = entity::amazon_listing::ActiveModel {
        marketplace_id: Set("A1VC38T7YXB528".into()),
        seller_sku: Set("MUG 01/blue".into()),
        asin: Set(Some("B0SIM00001".into())),
        product_type: Set(Some("KITCHEN".into())),
        title: Set(Some("Mug".into())),
        buyable: Set(true),
        discoverable: Set(true),
        fulfillment_channel: Set(Some("MFN".into())),
        price_currency: Set(Some("JPY".into())),
        price_amount: Set(Some(amount("1980"))),
        quantity: Set(Some(7)),
        issues: Set(json!([{"code": "18027", "severity": "WARNING", "message": "m"}])),
        created_date: Set(Some(at(300))),
        last_updated_time: Set(Some(at(301))),
        raw: Set(json!({"sku": "MUG 01/blue"})),
        seen_at: Set(at(302)),
        gone_at: Set(Some(at(303))),
        created_at: Set(at(304)),
        updated_at: Set(at(305)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        entity::amazon_listing::Entity::find_by_id(listing.id)
            .one(db)
            .await
            .unwrap(),
        Some(listing)
    );

    let change = entity::listing_change::ActiveModel {
        marketplace_id: Set("ATVPDKIKX0DER".into()),
        seller_sku: Set("MUG".into()),
        desired_currency: Set(Some("USD".into())),
        desired_price: Set(Some(amount("19.90"))),
        desired_quantity: Set(Some(3)),
        price_when_queued: Set(Some(amount("18.00"))),
        quantity_when_queued: Set(Some(1)),
        live_price: Set(Some(amount("18.50"))),
        live_quantity: Set(Some(2)),
        state: Set(entity::enums::ListingChangeState::PriceLive),
        two_phase: Set(false),
        phase: Set(Some("QUANTITY".into())),
        price_submission_id: Set(Some("s1".into())),
        quantity_submission_id: Set(Some("s2".into())),
        issues: Set(json!([])),
        attempts: Set(2),
        submit_requested_at: Set(Some(at(400))),
        sent_at: Set(Some(at(401))),
        deadline_at: Set(Some(at(402))),
        queued_by: Set(Some("owner@shop.example".into())),
        created_at: Set(at(403)),
        updated_at: Set(at(404)),
        finished_at: Set(Some(at(405))),
        submit_via: Set(entity::enums::SubmitVia::Feed),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        entity::listing_change::Entity::find_by_id(change.id)
            .one(db)
            .await
            .unwrap(),
        Some(change.clone())
    );
    let h = entity::listing_change_history::ActiveModel {
        change_id: Set(change.id),
        state: Set(entity::enums::ListingChangeState::NotApplied),
        at: Set(at(406)),
        note: Set(Some("did not show".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        entity::listing_change_history::Entity::find_by_id(h.id)
            .one(db)
            .await
            .unwrap(),
        Some(h)
    );

    let feed = entity::listing_feed::ActiveModel {
        feed_id: Set(Some("50001".into())),
        feed_type: Set("JSON_LISTINGS_FEED".into()),
        marketplace_id: Set("ATVPDKIKX0DER".into()),
        document_id: Set(Some("amzn1.tortuga.doc".into())),
        result_document_id: Set(Some("amzn1.tortuga.result".into())),
        state: Set(entity::enums::ListingFeedState::Done),
        messages: Set(1000),
        messages_processed: Set(Some(1000)),
        messages_accepted: Set(Some(998)),
        messages_invalid: Set(Some(2)),
        errors: Set(Some(2)),
        warnings: Set(Some(1)),
        issues: Set(json!([{"code": "FEED_STUCK", "severity": "ERROR", "message": "m"}])),
        note: Set(Some("reported stuck".into())),
        submitted_by: Set(Some("owner@shop.example".into())),
        created_at: Set(at(500)),
        submitted_at: Set(Some(at(501))),
        started_at: Set(Some(at(502))),
        finished_at: Set(Some(at(503))),
        checked_at: Set(Some(at(504))),
        stuck_at: Set(Some(at(505))),
        updated_at: Set(at(506)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        entity::listing_feed::Entity::find_by_id(feed.id)
            .one(db)
            .await
            .unwrap(),
        Some(feed.clone())
    );
    let item = entity::listing_feed_item::ActiveModel {
        listing_feed_id: Set(feed.id),
        change_id: Set(change.id),
        message_id: Set(change.id),
        seller_sku: Set("MUG".into()),
        phase: Set("PRICE".into()),
        result: Set(entity::enums::ListingFeedItemResult::Invalid),
        issues: Set(json!([{"code": "99025", "severity": "ERROR", "message": "decimals"}])),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        entity::listing_feed_item::Entity::find_by_id(item.id)
            .one(db)
            .await
            .unwrap(),
        Some(item)
    );
}
