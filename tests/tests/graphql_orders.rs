//! Orders, sync runs and marketplaces through `schema.execute`, over rows inserted
//! directly: keyset paging newest first, filters, items, exact money.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use e2e::{TestApi, error_codes};
use entity::enums::{SyncStatus, SyncTrigger};
use entity::{Amount, amazon_order, amazon_order_item, sync_runs};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use std::str::FromStr;

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000, 250_000_000)
        .single()
        .unwrap()
        + Duration::minutes(minutes)
}

async fn order(
    api: &TestApi,
    id: &str,
    marketplace: &str,
    purchased: DateTime<Utc>,
    status: &str,
    total: Option<&str>,
) {
    amazon_order::ActiveModel {
        amazon_order_id: Set(id.to_owned()),
        marketplace_id: Set(marketplace.to_owned()),
        purchase_date: Set(purchased),
        last_update_date: Set(purchased),
        order_status: Set(entity::enums::OrderStatus::parse(status)),
        fulfillment_channel: Set(Some("MFN".to_owned())),
        order_total_currency: Set(total.map(|_| "USD".to_owned())),
        order_total_amount: Set(total.map(|t| Amount::from_str(t).unwrap())),
        number_of_items_shipped: Set(Some(0)),
        number_of_items_unshipped: Set(Some(1)),
        is_prime: Set(false),
        is_business_order: Set(false),
        raw_payload: Set(json!({})),
        created_at: Set(purchased),
        updated_at: Set(purchased),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap();
}

async fn item(
    api: &TestApi,
    order_id: &str,
    item_id: &str,
    sku: &str,
    qty: i32,
    price: Option<&str>,
) {
    let purchased = amazon_order::Entity::find()
        .filter(amazon_order::Column::AmazonOrderId.eq(order_id))
        .one(&api.t.db)
        .await
        .unwrap()
        .unwrap() // an item's order is inserted first
        .purchase_date;
    amazon_order_item::ActiveModel {
        order_item_id: Set(item_id.to_owned()),
        amazon_order_id: Set(order_id.to_owned()),
        marketplace_id: Set("ATVPDKIKX0DER".to_owned()),
        seller_sku: Set(Some(sku.to_owned())),
        asin: Set(Some(format!("B0{sku}"))),
        title: Set(Some(format!("Product {sku}"))),
        quantity_ordered: Set(qty),
        quantity_shipped: Set(0),
        item_price_currency: Set(price.map(|_| "USD".to_owned())),
        item_price_amount: Set(price.map(|p| Amount::from_str(p).unwrap())),
        raw_payload: Set(json!({})),
        order_purchase_date: Set(purchased),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap();
}

const PAGE: &str = "query($first: Int! = 50, $after: String, $filter: AmazonOrderFilter) { amazonOrders(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { amazonOrderId marketplaceId purchaseDate orderStatus orderTotal { amount currencyCode } items { orderItemId sellerSku quantityOrdered itemPrice { amount currencyCode } unitPrice { amount } } } } } }";

fn ids(r: &Value) -> Vec<String> {
    r["data"]["amazonOrders"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {r}"))
        .iter()
        .map(|e| e["node"]["amazonOrderId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_walks_every_order_once_newest_first_even_with_equal_purchase_times() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    // Seven orders; three share one purchase instant, so the id breaks the tie.
    for (n, minute) in [(1, 0), (2, 10), (3, 10), (4, 10), (5, 20), (6, 30), (7, 40)] {
        order(
            &api,
            &format!("111-000000{n}"),
            "ATVPDKIKX0DER",
            at(minute),
            "Shipped",
            Some("1.00"),
        )
        .await;
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let r = api
            .run(Some(&token), PAGE, json!({ "first": 3, "after": after }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let page = &r["data"]["amazonOrders"];
        assert_eq!(page["totalCount"], 7);
        assert_eq!(page["pageInfo"]["hasPreviousPage"], after.is_some());
        seen.extend(ids(&r));
        pages += 1;
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }

    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        [
            "111-0000007",
            "111-0000006",
            "111-0000005",
            "111-0000004",
            "111-0000003",
            "111-0000002",
            "111-0000001"
        ]
    );
}

#[tokio::test]
async fn paging_walks_every_order_exactly_once_while_new_orders_arrive() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    for n in 0..20 {
        order(
            &api,
            &format!("111-10000{n:02}"),
            "ATVPDKIKX0DER",
            at(n),
            "Shipped",
            Some("1.00"),
        )
        .await;
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut arrived = 0;
    loop {
        let r = api
            .run(Some(&token), PAGE, json!({ "first": 4, "after": after }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        seen.extend(ids(&r));
        // A sync lands new orders between two page reads: newer, and one that
        // was placed long ago but only now reached us.
        order(
            &api,
            &format!("111-20000{arrived:02}"),
            "ATVPDKIKX0DER",
            at(100 + arrived),
            "Pending",
            None,
        )
        .await;
        order(
            &api,
            &format!("111-30000{arrived:02}"),
            "ATVPDKIKX0DER",
            at(-100 - arrived),
            "Shipped",
            Some("2.00"),
        )
        .await;
        arrived += 1;
        let page = &r["data"]["amazonOrders"];
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }

    let originals: Vec<&String> = seen.iter().filter(|id| id.starts_with("111-1")).collect();
    assert_eq!(
        originals.len(),
        20,
        "every order present when paging began, once: {seen:?}"
    );
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        seen.len(),
        "an order was listed twice: {seen:?}"
    );
    assert!(
        seen.iter().all(|id| !id.starts_with("111-2")),
        "newer orders stay ahead of the cursor"
    );
}

#[tokio::test]
async fn money_is_exact_with_its_currency_and_pending_orders_have_no_total() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    order(
        &api,
        "111-0000001",
        "ATVPDKIKX0DER",
        at(0),
        "Shipped",
        Some("12345678901234.10"),
    )
    .await;
    item(&api, "111-0000001", "I-1", "SKU1", 3, Some("0.30")).await;
    item(&api, "111-0000001", "I-2", "SKU2", 2, Some("19.90")).await;
    order(&api, "111-0000002", "ATVPDKIKX0DER", at(5), "Pending", None).await;
    item(&api, "111-0000002", "I-3", "SKU1", 1, None).await;

    let r = api.run(Some(&token), PAGE, json!({})).await;

    assert!(r["errors"].is_null(), "{r}");
    let edges = &r["data"]["amazonOrders"]["edges"];
    let pending = &edges[0]["node"];
    assert_eq!(pending["orderStatus"], "PENDING");
    assert!(pending["orderTotal"].is_null());
    assert!(pending["items"][0]["itemPrice"].is_null());
    let shipped = &edges[1]["node"];
    assert_eq!(shipped["orderStatus"], "SHIPPED");
    assert_eq!(
        shipped["orderTotal"],
        json!({ "amount": "12345678901234.10", "currencyCode": "USD" })
    );
    assert_eq!(shipped["items"][0]["orderItemId"], "I-1");
    assert_eq!(
        shipped["items"][0]["itemPrice"],
        json!({ "amount": "0.30", "currencyCode": "USD" })
    );
    assert_eq!(shipped["items"][0]["unitPrice"]["amount"], "0.10");
    assert_eq!(shipped["items"][1]["itemPrice"]["amount"], "19.90");
    assert_eq!(shipped["items"][1]["unitPrice"]["amount"], "9.95");
}

#[tokio::test]
async fn items_answer_aliases_fragments_typenames_directives_and_repeated_fields_in_document_order()
{
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    order(
        &api,
        "111-0000001",
        "ATVPDKIKX0DER",
        at(0),
        "Shipped",
        Some("39.80"),
    )
    .await;
    item(&api, "111-0000001", "I-1", "BLUE", 2, Some("19.90")).await;
    item(&api, "111-0000001", "I-2", "RED", 1, None).await;
    // An order's items are built in one pass over the selection (`ItemList`),
    // not by async-graphql's per-field resolvers: they must still answer every
    // way a document can select them, in the document's order, on both the page
    // and the single order.
    let selection = "...line sku: sellerSku __typename \
         ... on AmazonOrderItem { itemPrice { currencyCode } } \
         itemPrice { amount __typename } unitPrice { each: amount } \
         sellerSku title @skip(if: $yes) quantityShipped @include(if: $yes)";
    let items = r#"[{"orderItemId":"I-1","quantityOrdered":2,"sku":"BLUE","__typename":"AmazonOrderItem","itemPrice":{"currencyCode":"USD","amount":"19.90","__typename":"Money"},"unitPrice":{"each":"9.95"},"sellerSku":"BLUE","quantityShipped":0},{"orderItemId":"I-2","quantityOrdered":1,"sku":"RED","__typename":"AmazonOrderItem","itemPrice":null,"unitPrice":null,"sellerSku":"RED","quantityShipped":0}]"#;
    // One root field per document: async-graphql orders sibling root fields as
    // they finish, which is not what is checked here.
    for (root, expected) in [
        (
            "amazonOrders(first: 1) { edges { node { items",
            format!(r#"{{"amazonOrders":{{"edges":[{{"node":{{"items":{items}}}}}]}}}}"#),
        ),
        (
            "amazonOrder(amazonOrderId: \"111-0000001\") { items",
            format!(r#"{{"amazonOrder":{{"items":{items}}}}}"#),
        ),
    ] {
        let closing = "}".repeat(root.matches('{').count());
        let query = format!(
            "query($yes: Boolean!) {{ {root} {{ {selection} }} {closing} }} \
             fragment line on AmazonOrderItem {{ orderItemId quantityOrdered sku: sellerSku }}"
        );
        let response = api
            .schema
            .execute(
                async_graphql::Request::new(query)
                    .variables(async_graphql::Variables::from_json(json!({ "yes": true })))
                    .data(api::schema::RequestAuth::bearer(token.as_str())),
            )
            .await;
        assert!(response.errors.is_empty(), "{root}: {:?}", response.errors);
        assert_eq!(
            serde_json::to_string(&response.data).unwrap(),
            expected,
            "{root}"
        );
    }
}

#[tokio::test]
async fn every_field_of_an_item_and_its_money_can_be_selected() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    order(
        &api,
        "111-0000001",
        "ATVPDKIKX0DER",
        at(0),
        "Shipped",
        Some("1.00"),
    )
    .await;
    item(&api, "111-0000001", "I-1", "BLUE", 1, Some("1.00")).await;
    // What the schema says the types have, so a field added to either type
    // without teaching the items resolver fails here.
    let names = |r: &Value, ty: &str| -> Vec<(String, String)> {
        r["data"][ty]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let kind = f["type"]["ofType"]["kind"]
                    .as_str()
                    .or(f["type"]["kind"].as_str());
                (
                    f["name"].as_str().unwrap().to_owned(),
                    kind.unwrap().to_owned(),
                )
            })
            .collect()
    };
    let types = api
        .run(
            Some(&token),
            "{ item: __type(name: \"AmazonOrderItem\") { fields { name type { kind ofType { kind } } } } \
               money: __type(name: \"Money\") { fields { name type { kind ofType { kind } } } } }",
            json!({}),
        )
        .await;
    let money: Vec<String> = names(&types, "money").into_iter().map(|(n, _)| n).collect();
    let money = format!("{{ __typename {} }}", money.join(" "));
    let fields: Vec<String> = names(&types, "item")
        .into_iter()
        .map(|(name, kind)| {
            if kind == "OBJECT" {
                format!("{name} {money}")
            } else {
                name
            }
        })
        .collect();
    assert!(fields.len() >= 8, "{fields:?}");
    let r = api
        .run(
            Some(&token),
            &format!("{{ amazonOrders(first: 1) {{ edges {{ node {{ items {{ __typename {} }} }} }} }} }}", fields.join(" ")),
            json!({}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let item = &r["data"]["amazonOrders"]["edges"][0]["node"]["items"][0];
    assert_eq!(item["orderItemId"], "I-1");
    assert_eq!(item["title"], "Product BLUE");
    assert_eq!(
        item["unitPrice"],
        json!({ "__typename": "Money", "amount": "1.00", "currencyCode": "USD" })
    );
    assert_eq!(item.as_object().unwrap().len(), fields.len() + 1);
}

#[tokio::test]
async fn filters_by_status_marketplace_purchase_window_and_sku_combine() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    order(&api, "A", "ATVPDKIKX0DER", at(0), "Shipped", Some("1.00")).await;
    order(
        &api,
        "B",
        "ATVPDKIKX0DER",
        at(10),
        "UNSHIPPED",
        Some("2.00"),
    )
    .await;
    order(
        &api,
        "C",
        "A2EUQ1WTGCTBG2",
        at(20),
        "Unshipped",
        Some("3.00"),
    )
    .await;
    order(
        &api,
        "D",
        "ATVPDKIKX0DER",
        at(30),
        "CANCELLED",
        Some("4.00"),
    )
    .await;
    item(&api, "A", "I-A", "RED", 1, Some("1.00")).await;
    item(&api, "B", "I-B", "BLUE", 1, Some("2.00")).await;
    item(&api, "D", "I-D", "RED", 1, Some("4.00")).await;

    let cases = [
        (json!({ "statuses": ["UNSHIPPED"] }), vec!["C", "B"]),
        (
            json!({ "statuses": ["CANCELED", "SHIPPED"] }),
            vec!["D", "A"],
        ),
        (json!({ "marketplaceId": "A2EUQ1WTGCTBG2" }), vec!["C"]),
        (
            json!({ "purchasedFrom": at(10).to_rfc3339(), "purchasedTo": at(30).to_rfc3339() }),
            vec!["C", "B"],
        ),
        (json!({ "sku": "RED" }), vec!["D", "A"]),
        (json!({ "asin": "B0BLUE" }), vec!["B"]),
        (json!({ "sku": "RED", "statuses": ["SHIPPED"] }), vec!["A"]),
        (json!({ "sku": "GREEN" }), vec![]),
    ];
    for (filter, expected) in cases {
        let r = api
            .run(Some(&token), PAGE, json!({ "filter": filter }))
            .await;
        assert!(r["errors"].is_null(), "{filter}: {r}");
        assert_eq!(ids(&r), expected, "{filter}");
        assert_eq!(
            r["data"]["amazonOrders"]["totalCount"],
            expected.len(),
            "{filter}"
        );
    }
}

#[tokio::test]
async fn a_status_filter_pages_through_every_spelling_of_it_in_one_newest_first_order() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    // v0 and 2026-01-01 spell statuses differently; one status filter matches both,
    // read as one scan per spelling and merged: pages must still interleave them
    // by purchase time (ties broken by id) and never repeat or skip one.
    let spellings = [
        "Unshipped",
        "UNSHIPPED",
        "PartiallyShipped",
        "PARTIALLY_SHIPPED",
    ];
    let mut expected = Vec::new();
    for n in 0..14 {
        let status = if n % 5 == 4 {
            "Shipped"
        } else {
            spellings[n % 4]
        };
        let minute = i64::try_from(n / 3).unwrap() * 10; // three orders share each instant
        let id = format!("111-{n:07}");
        order(&api, &id, "ATVPDKIKX0DER", at(minute), status, Some("1.00")).await;
        if status != "Shipped" {
            expected.push(id);
        }
    }
    expected.reverse(); // newest first; equal instants by id, which grows with n

    let filter = json!({ "statuses": ["UNSHIPPED", "PARTIALLY_SHIPPED"] });
    let seen = walk(&api, &token, &filter, 2, expected.len()).await;
    assert_eq!(seen, expected);
}

/// Every order `filter` selects, page by page of `first`, checking each page's
/// `totalCount` against `expected`.
async fn walk(
    api: &TestApi,
    token: &str,
    filter: &Value,
    first: i32,
    expected: usize,
) -> Vec<String> {
    walk_nodes(api, token, filter, first, expected)
        .await
        .iter()
        .map(|node| node["amazonOrderId"].as_str().unwrap().to_owned())
        .collect()
}

/// [`walk`], giving each order's node as the page answered it.
async fn walk_nodes(
    api: &TestApi,
    token: &str,
    filter: &Value,
    first: i32,
    expected: usize,
) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let r = api
            .run(
                Some(token),
                PAGE,
                json!({ "first": first, "after": after, "filter": filter }),
            )
            .await;
        assert!(r["errors"].is_null(), "{filter}: {r}");
        let page = &r["data"]["amazonOrders"];
        assert_eq!(page["totalCount"], expected, "{filter}");
        let edges = page["edges"].as_array().unwrap();
        seen.extend(edges.iter().map(|e| e["node"].clone()));
        if page["pageInfo"]["hasNextPage"] == false {
            return seen;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
}

#[tokio::test]
async fn a_sku_or_asin_filter_pages_through_its_orders_newest_first_with_ties_and_repeated_lines() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    // The SKU and ASIN filters read the items' (sku, purchase date, order) index
    // in growing chunks and check the rest of the filter on the orders: small
    // pages make many chunks, three orders share each instant, some orders have
    // two lines of the SKU, and a third of the orders do not sell it at all.
    let mut red = Vec::new();
    for n in 0..40 {
        let status = if n % 4 == 3 { "Shipped" } else { "Unshipped" };
        let minute = i64::from(n / 3) * 10;
        let id = format!("111-{n:07}");
        order(&api, &id, "ATVPDKIKX0DER", at(minute), status, Some("1.00")).await;
        item(&api, &id, &format!("{id}-B"), "BLUE", 1, Some("1.00")).await;
        if n % 3 != 2 {
            item(&api, &id, &format!("{id}-R"), "RED", 1, Some("1.00")).await;
            if n % 5 == 0 {
                item(&api, &id, &format!("{id}-R2"), "RED", 2, Some("2.00")).await;
            }
            red.push((n, status, minute, id));
        }
    }
    // Newest first; equal instants by id, which grows with n.
    red.reverse();
    let expect = |keep: &dyn Fn(&str, i64) -> bool| -> Vec<String> {
        red.iter()
            .filter(|(_, status, minute, _)| keep(status, *minute))
            .map(|(_, _, _, id)| id.clone())
            .collect()
    };

    let all_red = expect(&|_, _| true);
    assert_eq!(all_red.len(), 27);
    for first in [1, 4, 50] {
        let filter = json!({ "sku": "RED" });
        assert_eq!(
            walk(&api, &token, &filter, first, all_red.len()).await,
            all_red,
            "first: {first}"
        );
    }
    let unshipped = expect(&|status, _| status == "Unshipped");
    let filter = json!({ "sku": "RED", "statuses": ["UNSHIPPED"] });
    assert_eq!(
        walk(&api, &token, &filter, 3, unshipped.len()).await,
        unshipped
    );

    let window = expect(&|_, minute| (50..100).contains(&minute));
    let filter = json!({ "asin": "B0RED", "purchasedFrom": at(50), "purchasedTo": at(100) });
    assert_eq!(walk(&api, &token, &filter, 2, window.len()).await, window);

    let both = json!({ "sku": "RED", "asin": "B0BLUE" });
    assert_eq!(
        walk(&api, &token, &both, 5, all_red.len()).await,
        all_red,
        "every order sells BLUE"
    );
    let none = json!({ "sku": "GREEN" });
    assert!(walk(&api, &token, &none, 5, 0).await.is_empty());
}

#[tokio::test]
async fn a_page_size_out_of_range_or_a_foreign_cursor_is_bad_user_input() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    for vars in [
        json!({ "first": 0 }),
        json!({ "first": 201 }),
        json!({ "after": "not-a-cursor" }),
    ] {
        let r = api.run(Some(&token), PAGE, vars.clone()).await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{vars}: {r}");
    }
}

#[tokio::test]
async fn every_order_of_a_page_carries_its_own_items_as_the_order_itself_lists_them() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    // Orders with no, one and several items, three of them bought in the same
    // minute; items inserted out of their orders' order.
    for (n, minute) in [(1, 0), (2, 10), (3, 10), (4, 10), (5, 20)] {
        let id = format!("111-000000{n}");
        order(
            &api,
            &id,
            "ATVPDKIKX0DER",
            at(minute),
            "Shipped",
            Some("9.00"),
        )
        .await;
    }
    for (order_id, item_id, sku) in [
        ("111-0000003", "I-31", "C"),
        ("111-0000002", "I-21", "B"),
        ("111-0000003", "I-33", "A"),
        ("111-0000004", "I-41", "D"),
        ("111-0000003", "I-32", "B"),
        ("111-0000002", "I-22", "E"),
    ] {
        item(&api, order_id, item_id, sku, 1, Some("3.00")).await;
    }
    let one = "query($id: String!) { amazonOrder(amazonOrderId: $id) { items { orderItemId sellerSku quantityOrdered itemPrice { amount currencyCode } unitPrice { amount } } } }";

    // Pages of two: a page reads the items of all its orders at once, the single
    // order only its own; both must tell the same.
    let mut listed = Vec::new();
    for node in walk_nodes(&api, &token, &json!({}), 2, 5).await {
        let id = node["amazonOrderId"].as_str().unwrap().to_owned();
        let alone = api.run(Some(&token), one, json!({ "id": id })).await;
        assert_eq!(node["items"], alone["data"]["amazonOrder"]["items"], "{id}");
        let items: Vec<String> = node["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["orderItemId"].as_str().unwrap().to_owned())
            .collect();
        listed.push((id, items));
    }

    let expected: Vec<(String, Vec<String>)> = [
        ("111-0000005", vec![]),
        ("111-0000004", vec!["I-41"]),
        ("111-0000003", vec!["I-31", "I-33", "I-32"]),
        ("111-0000002", vec!["I-21", "I-22"]),
        ("111-0000001", vec![]),
    ]
    .into_iter()
    .map(|(id, items)| {
        (
            id.to_owned(),
            items.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn one_order_is_found_by_its_amazon_id_with_items_and_an_unknown_one_is_not_found() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    order(
        &api,
        "111-0000001",
        "ATVPDKIKX0DER",
        at(0),
        "PartiallyShipped",
        Some("5.00"),
    )
    .await;
    item(&api, "111-0000001", "I-1", "SKU1", 1, Some("5.00")).await;
    let q = "query($id: String!) { amazonOrder(amazonOrderId: $id) { amazonOrderId orderStatus items { sellerSku } } }";

    let found = api
        .run(Some(&token), q, json!({ "id": "111-0000001" }))
        .await;
    let missing = api.run(Some(&token), q, json!({ "id": "999" })).await;

    assert_eq!(
        found["data"]["amazonOrder"]["orderStatus"],
        "PARTIALLY_SHIPPED"
    );
    assert_eq!(
        found["data"]["amazonOrder"]["items"],
        json!([{ "sellerSku": "SKU1" }])
    );
    assert_eq!(error_codes(&missing), ["NOT_FOUND"], "{missing}");
    assert!(missing["data"]["amazonOrder"].is_null());
}

async fn run_row(api: &TestApi, started: DateTime<Utc>, status: SyncStatus) -> i64 {
    sync_runs::ActiveModel {
        kind: Set(entity::enums::SyncKind::Orders),
        trigger: Set(SyncTrigger::Schedule),
        status: Set(status),
        dry_run: Set(false),
        include_items: Set(true),
        api_version: Set(Some("2026-01-01".to_owned())),
        pages: Set(2),
        api_calls: Set(3),
        throttled: Set(1),
        found: Set(10),
        inserted: Set(4),
        updated: Set(5),
        unchanged: Set(1),
        items_upserted: Set(12),
        error: Set(
            (status == SyncStatus::Failed).then(|| "LWA rejected the refresh token".to_owned())
        ),
        started_at: Set(started),
        finished_at: Set((status != SyncStatus::Running).then_some(started + Duration::seconds(5))),
        ..Default::default()
    }
    .insert(&api.t.db)
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn sync_runs_are_listed_newest_first_in_pages_and_found_by_id() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;
    let first = run_row(&api, at(0), SyncStatus::Succeeded).await;
    run_row(&api, at(10), SyncStatus::Failed).await;
    let last = run_row(&api, at(20), SyncStatus::Running).await;
    let q = "query($after: String) { syncRuns(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id status trigger apiVersion pages apiCalls throttled ordersFound ordersInserted ordersUpdated ordersUnchanged itemsUpserted error finishedAt } } } }";

    let page1 = api.run(Some(&token), q, json!({})).await;
    let after = page1["data"]["syncRuns"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap();
    let page2 = api.run(Some(&token), q, json!({ "after": after })).await;
    let one = api
        .run(
            Some(&token),
            "query($id: ID!) { syncRun(id: $id) { id status } }",
            json!({ "id": first.to_string() }),
        )
        .await;
    let missing = api
        .run(
            Some(&token),
            r#"{ syncRun(id: "424242") { id } }"#,
            Value::Null,
        )
        .await;

    assert!(page1["errors"].is_null(), "{page1}");
    let runs = &page1["data"]["syncRuns"];
    assert_eq!(runs["totalCount"], 3);
    assert_eq!(runs["pageInfo"]["hasNextPage"], true);
    let newest = &runs["edges"][0]["node"];
    assert_eq!(newest["id"], last.to_string());
    assert_eq!(newest["status"], "RUNNING");
    assert!(newest["finishedAt"].is_null());
    assert_eq!(runs["edges"][1]["node"]["status"], "FAILED");
    assert_eq!(
        runs["edges"][1]["node"]["error"],
        "LWA rejected the refresh token"
    );
    assert_eq!(
        (
            newest["trigger"].as_str(),
            newest["apiVersion"].as_str(),
            newest["pages"].as_i64(),
            newest["throttled"].as_i64(),
            newest["itemsUpserted"].as_i64()
        ),
        (
            Some("SCHEDULE"),
            Some("V2026_01_01"),
            Some(2),
            Some(1),
            Some(12)
        )
    );
    assert_eq!(
        page2["data"]["syncRuns"]["edges"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        page2["data"]["syncRuns"]["edges"][0]["node"]["id"],
        first.to_string()
    );
    assert_eq!(page2["data"]["syncRuns"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        one["data"]["syncRun"],
        json!({ "id": first.to_string(), "status": "SUCCEEDED" })
    );
    assert_eq!(error_codes(&missing), ["NOT_FOUND"]);
}

#[tokio::test]
async fn marketplaces_are_listed_with_region_and_currency() {
    let api = TestApi::new().await;
    let token = api.owner_token().await;

    let r = api
        .run(
            Some(&token),
            "{ marketplaces { marketplaceId region countryCode name currency } }",
            Value::Null,
        )
        .await;

    let list = r["data"]["marketplaces"].as_array().unwrap();
    assert!(list.len() >= 20, "{r}");
    let us = list
        .iter()
        .find(|m| m["marketplaceId"] == "ATVPDKIKX0DER")
        .unwrap();
    assert_eq!(
        us,
        &json!({ "marketplaceId": "ATVPDKIKX0DER", "region": "NA", "countryCode": "US", "name": "Amazon.com", "currency": "USD" })
    );
}
