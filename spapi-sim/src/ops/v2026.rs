//! Orders API 2026-01-01: searchOrders (items inline) and getOrder, with `includedData`.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::Outcome;
use super::{
    WindowNames, check_marketplaces, check_order_id, list_page, page_size, redeem, sandbox, window,
};
use crate::clock::iso;
use crate::data::{ItemRec, Money, OrderRec, OrderStatus};
use crate::models::Op;
use crate::paging::PageEntry;
use crate::query::{ApiError, Query};
use crate::state::{Inner, ListQuery, Shared, Window};

const NAMES: WindowNames = WindowNames {
    created_after: "createdAfter",
    created_before: "createdBefore",
    updated_after: "lastUpdatedAfter",
    updated_before: "lastUpdatedBefore",
};

/// The model's `includedData` enum.
pub(crate) const DATASETS: &[&str] = &[
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];
const FULFILLMENT_STATUSES: &[&str] = &[
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
];

fn money(m: &Money) -> Value {
    json!({"amount": m.amount, "currencyCode": m.currency_code})
}

fn included(query: &Query) -> Result<Vec<String>, ApiError> {
    Ok(query
        .enum_list("includedData", DATASETS)?
        .unwrap_or_default())
}

/// An order as 2026-01-01 renders it, with the datasets asked for.
pub(crate) fn render_order(o: &OrderRec, datasets: &[String]) -> Value {
    let has = |d: &str| datasets.iter().any(|x| x == d);
    let priced = o.shows_prices();
    let mut v = Map::new();
    v.insert("orderId".into(), json!(o.id));
    if let Some(s) = &o.seller_order_id {
        v.insert(
            "orderAliases".into(),
            json!([{"aliasId": s, "aliasType": "SELLER_ORDER_ID"}]),
        );
    }
    v.insert("createdTime".into(), json!(iso(o.purchase)));
    v.insert("lastUpdatedTime".into(), json!(iso(o.last_update)));
    let mut programs = Vec::new();
    if o.is_prime {
        programs.push("PRIME");
    }
    if o.is_business {
        programs.push("AMAZON_BUSINESS");
    }
    if !programs.is_empty() {
        v.insert("programs".into(), json!(programs));
    }
    v.insert(
        "salesChannel".into(),
        json!({"channelName": "AMAZON", "marketplaceId": o.mp.id, "marketplaceName": o.mp.name}),
    );
    if has("BUYER") {
        let mut buyer = Map::new();
        buyer.insert(
            "buyerName".into(),
            json!(format!("Buyer {}", &o.id[o.id.len() - 4..])),
        );
        if o.is_business {
            buyer.insert("buyerCompanyName".into(), json!("Example Trading Ltd"));
        }
        v.insert("buyer".into(), Value::Object(buyer));
    }
    if has("RECIPIENT") {
        let (city, region, postal) = o.city();
        v.insert(
            "recipient".into(),
            json!({"deliveryAddress": {
                "city": city, "stateOrRegion": region, "postalCode": postal,
                "countryCode": o.mp.country_code, "addressType": "RESIDENTIAL"
            }}),
        );
    }
    if has("PROCEEDS") && priced {
        let total = o.money(o.total_minor());
        v.insert(
            "proceeds".into(),
            json!({"grandTotal": money(&total), "breakdowns": [{"type": "ITEM", "subtotal": money(&total)}]}),
        );
    }
    if has("FULFILLMENT") {
        v.insert(
            "fulfillment".into(),
            json!({
                "fulfillmentStatus": o.status.as_2026(),
                "fulfilledBy": if o.afn { "AMAZON" } else { "MERCHANT" },
                "fulfillmentServiceLevel": if o.expedited { "EXPEDITED" } else { "STANDARD" },
                "shipByWindow": {"earliestDateTime": iso(o.earliest_ship()), "latestDateTime": iso(o.latest_ship())},
                "deliverByWindow": {"earliestDateTime": iso(o.earliest_delivery()), "latestDateTime": iso(o.latest_delivery())},
            }),
        );
    }
    let items: Vec<Value> = o.items.iter().map(|i| render_item(o, i, &has)).collect();
    v.insert("orderItems".into(), Value::Array(items));
    // Packages exist only for merchant-fulfilled orders, once something shipped.
    if has("PACKAGES") && !o.afn && o.units_shipped() > 0 {
        let ship_time = o.last_update.min(o.purchase + Duration::days(1));
        let package_items: Vec<Value> = o
            .items
            .iter()
            .filter(|i| i.shipped > 0)
            .map(|i| json!({"orderItemId": i.id, "quantity": i.shipped}))
            .collect();
        v.insert(
            "packages".into(),
            json!([{
                "packageReferenceId": "1",
                "createdTime": iso(ship_time),
                "packageStatus": {"status": if o.status == OrderStatus::Shipped { "SHIPPED" } else { "IN_TRANSIT" }},
                "carrier": "UPS",
                "shipTime": iso(ship_time),
                "shippingService": "UPS Ground",
                "trackingNumber": format!("1Z{}", o.id.replace('-', "")),
                "packageItems": package_items,
            }]),
        );
    }
    Value::Object(v)
}

fn render_item(o: &OrderRec, i: &ItemRec, has: &impl Fn(&str) -> bool) -> Value {
    let priced = o.shows_prices();
    let mut product = Map::new();
    product.insert("asin".into(), json!(i.asin));
    product.insert("title".into(), json!(i.title));
    product.insert("sellerSku".into(), json!(i.sku));
    product.insert(
        "condition".into(),
        json!({"conditionType": "NEW", "conditionSubtype": "NEW"}),
    );
    if priced {
        product.insert(
            "price".into(),
            json!({"unitPrice": money(&o.money(i.unit_minor))}),
        );
    }
    let mut v = Map::new();
    v.insert("orderItemId".into(), json!(i.id));
    v.insert("quantityOrdered".into(), json!(i.qty));
    v.insert("product".into(), Value::Object(product));
    let line = o.money(i.unit_minor * i64::from(i.qty));
    if has("PROCEEDS") && priced {
        v.insert(
            "proceeds".into(),
            json!({"proceedsTotal": money(&line), "breakdowns": [{"type": "ITEM", "subtotal": money(&line)}]}),
        );
    }
    // Amazon Points exist in Japan only: 1% of the line price.
    if has("EXPENSE") && priced && o.mp.currency == "JPY" {
        let points = i.unit_minor * i64::from(i.qty) / 100;
        v.insert(
            "expense".into(),
            json!({"pointsCost": {"pointsGranted": {"pointsNumber": points, "pointsMonetaryValue": money(&o.money(points))}}}),
        );
    }
    if has("CANCELLATION") && o.status == OrderStatus::Canceled {
        v.insert(
            "cancellation".into(),
            json!({
                "cancellationRequest": {"requester": "BUYER", "cancelReason": "Changed my mind"},
                "cancellationExecution": {"cancelledBy": "BUYER", "cancelReason": "Changed my mind"},
            }),
        );
    }
    if has("FULFILLMENT") {
        let unfulfilled = if o.status == OrderStatus::Canceled {
            0
        } else {
            i.qty - i.shipped.min(i.qty)
        };
        v.insert(
            "fulfillment".into(),
            json!({"quantityFulfilled": i.shipped, "quantityUnfulfilled": unfulfilled}),
        );
    }
    Value::Object(v)
}

pub(crate) fn search_orders(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::SearchOrders, query, &[]) {
        return Ok(answer);
    }
    let marketplaces = query.list("marketplaceIds").unwrap_or_default();
    check_marketplaces(shared, "marketplaceIds", &marketplaces)?;
    let size = page_size(query, "maxResultsPerPage")?;
    let datasets = included(query)?;
    let statuses = query.enum_list("fulfillmentStatuses", FULFILLMENT_STATUSES)?;
    let fulfilled_by = query.enum_list("fulfilledBy", &["MERCHANT", "AMAZON"])?;

    let given = query.get("paginationToken");
    let (q, cursor) = if let Some(token) = given {
        let PageEntry {
            query: q, cursor, ..
        } = redeem(inner, token, now, "paginationToken", Op::SearchOrders)?;
        (q, Some(cursor))
    } else {
        let (window, after, before) = window(query, &NAMES, now)?;
        let statuses = statuses.map(|v| {
            OrderStatus::ALL
                .into_iter()
                .filter(|s| v.iter().any(|x| x == s.as_2026()))
                .collect()
        });
        let channels = fulfilled_by.map(|v| {
            v.iter()
                .map(|f| {
                    if f == "AMAZON" {
                        "AFN".to_string()
                    } else {
                        "MFN".to_string()
                    }
                })
                .collect()
        });
        let q = ListQuery {
            op: Op::SearchOrders,
            marketplaces,
            window,
            after,
            before,
            statuses,
            channels,
            order_ids: None,
            seller_order_id: None,
            payment_methods: None,
            easy_ship_only: false,
            page_size: size,
            order_id: None,
        };
        (q, None)
    };
    let (ids, next) = list_page(shared, inner, now, &q, cursor.as_ref(), given);
    let orders: Vec<Value> = ids
        .iter()
        .filter_map(|id| inner.orders.get(id))
        .map(|o| render_order(o, &datasets))
        .collect();
    let mut body = Map::new();
    body.insert("orders".into(), Value::Array(orders));
    if let Some(t) = next {
        body.insert("pagination".into(), json!({"nextToken": t}));
    }
    let bound = match q.window {
        Window::Created => "createdBefore",
        Window::Updated => "lastUpdatedBefore",
    };
    body.insert(bound.into(), json!(iso(q.before)));
    Ok((200, Value::Object(body)))
}

pub(crate) fn get_order(shared: &Shared, inner: &mut Inner, id: &str, query: &Query) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::GetOrder2026, query, &[("orderId", id)]) {
        return Ok(answer);
    }
    let datasets = included(query)?;
    check_order_id(id)?;
    let order = inner
        .orders
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("Order {id} was not found for this seller.")))?;
    Ok((200, json!({"order": render_order(order, &datasets)})))
}
