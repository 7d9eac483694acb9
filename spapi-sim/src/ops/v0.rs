//! Orders API v0: getOrders, getOrder, getOrderItems.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::Outcome;
use super::{
    WindowNames, check_marketplaces, check_order_id, list_page, page_size, redeem, sandbox, window,
};
use crate::clock::iso;
use crate::data::{Money, OrderRec, OrderStatus};
use crate::models::Op;
use crate::paging::PageEntry;
use crate::query::{ApiError, Query};
use crate::state::{Inner, ListQuery, Shared, Window};

const NAMES: WindowNames = WindowNames {
    created_after: "CreatedAfter",
    created_before: "CreatedBefore",
    updated_after: "LastUpdatedAfter",
    updated_before: "LastUpdatedBefore",
};

const ELECTRONIC_INVOICE: &[&str] = &[
    "NotRequired",
    "NotFound",
    "Processing",
    "Errored",
    "Accepted",
];
const EASY_SHIP: &[&str] = &[
    "PendingSchedule",
    "PendingPickUp",
    "PendingDropOff",
    "LabelCanceled",
    "PickedUp",
    "DroppedOff",
    "AtOriginFC",
    "AtDestinationFC",
    "Delivered",
    "RejectedByBuyer",
    "Undeliverable",
    "ReturningToSeller",
    "ReturnedToSeller",
    "Lost",
    "OutForDelivery",
    "Damaged",
];

fn money(m: &Money) -> Value {
    json!({"CurrencyCode": m.currency_code, "Amount": m.amount})
}

/// An order as v0 renders it.
pub(crate) fn render_order(o: &OrderRec) -> Value {
    let (city, region, postal) = o.city();
    let mut v = Map::new();
    v.insert("AmazonOrderId".into(), json!(o.id));
    if let Some(s) = &o.seller_order_id {
        v.insert("SellerOrderId".into(), json!(s));
    }
    v.insert("PurchaseDate".into(), json!(iso(o.purchase)));
    v.insert("LastUpdateDate".into(), json!(iso(o.last_update)));
    v.insert("OrderStatus".into(), json!(o.status.as_str()));
    v.insert("FulfillmentChannel".into(), json!(o.channel()));
    v.insert("SalesChannel".into(), json!(o.mp.name));
    v.insert(
        "ShipServiceLevel".into(),
        json!(if o.expedited { "Expedited" } else { "Std Dom" }),
    );
    if o.shows_prices() {
        v.insert("OrderTotal".into(), money(&o.money(o.total_minor())));
    }
    v.insert("NumberOfItemsShipped".into(), json!(o.units_shipped()));
    v.insert("NumberOfItemsUnshipped".into(), json!(o.units_unshipped()));
    v.insert("PaymentMethod".into(), json!("Other"));
    v.insert("PaymentMethodDetails".into(), json!(["Standard"]));
    v.insert("IsReplacementOrder".into(), json!(false));
    v.insert("MarketplaceId".into(), json!(o.mp.id));
    v.insert(
        "ShipmentServiceLevelCategory".into(),
        json!(if o.expedited { "Expedited" } else { "Standard" }),
    );
    v.insert("OrderType".into(), json!("StandardOrder"));
    v.insert("EarliestShipDate".into(), json!(iso(o.earliest_ship())));
    v.insert("LatestShipDate".into(), json!(iso(o.latest_ship())));
    v.insert(
        "EarliestDeliveryDate".into(),
        json!(iso(o.earliest_delivery())),
    );
    v.insert("LatestDeliveryDate".into(), json!(iso(o.latest_delivery())));
    v.insert("IsBusinessOrder".into(), json!(o.is_business));
    v.insert("IsPrime".into(), json!(o.is_prime));
    v.insert("IsPremiumOrder".into(), json!(false));
    v.insert("IsGlobalExpressEnabled".into(), json!(false));
    v.insert("IsSoldByAB".into(), json!(false));
    v.insert("IsIBA".into(), json!(false));
    v.insert("IsISPU".into(), json!(false));
    v.insert("IsAccessPointOrder".into(), json!(false));
    v.insert(
        "ShippingAddress".into(),
        json!({"City": city, "StateOrRegion": region, "PostalCode": postal, "CountryCode": o.mp.country_code}),
    );
    v.insert("BuyerInfo".into(), json!({}));
    v.insert(
        "AutomatedShippingSettings".into(),
        json!({"HasAutomatedShippingSettings": false}),
    );
    v.insert("HasRegulatedItems".into(), json!(false));
    v.insert("ElectronicInvoiceStatus".into(), json!("NotRequired"));
    Value::Object(v)
}

fn render_item(o: &OrderRec, i: &crate::data::ItemRec) -> Value {
    let mut v = Map::new();
    v.insert("ASIN".into(), json!(i.asin));
    v.insert("SellerSKU".into(), json!(i.sku));
    v.insert("OrderItemId".into(), json!(i.id));
    v.insert("Title".into(), json!(i.title));
    v.insert("QuantityOrdered".into(), json!(i.qty));
    v.insert("QuantityShipped".into(), json!(i.shipped));
    v.insert("ProductInfo".into(), json!({"NumberOfItems": "1"}));
    // Pending orders: no pricing, taxes, shipping charges, gift status or promotions.
    if o.shows_prices() {
        let zero = o.money(0);
        v.insert(
            "ItemPrice".into(),
            money(&o.money(i.unit_minor * i64::from(i.qty))),
        );
        v.insert("ItemTax".into(), money(&zero));
        v.insert("PromotionDiscount".into(), money(&zero));
        v.insert("PromotionDiscountTax".into(), money(&zero));
        v.insert("IsGift".into(), json!("false"));
    }
    v.insert("ConditionId".into(), json!("New"));
    v.insert("ConditionSubtypeId".into(), json!("New"));
    v.insert("IsTransparency".into(), json!(false));
    v.insert("SerialNumberRequired".into(), json!(false));
    if o.status == OrderStatus::Canceled {
        v.insert(
            "BuyerRequestedCancel".into(),
            json!({"IsBuyerRequestedCancel": "true", "BuyerCancelReason": "Changed my mind"}),
        );
    }
    Value::Object(v)
}

pub(crate) fn get_orders(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::GetOrders, query, &[]) {
        return Ok(answer);
    }
    let Some(marketplaces) = query.list("MarketplaceIds") else {
        return Err(ApiError::invalid(
            "Missing required parameter MarketplaceIds: give at least one marketplace id.",
        ));
    };
    check_marketplaces(shared, "MarketplaceIds", &marketplaces)?;
    let size = page_size(query, "MaxResultsPerPage")?;

    let given = query.get("NextToken");
    let (q, cursor) = if let Some(token) = given {
        let PageEntry {
            query: q, cursor, ..
        } = redeem(inner, token, now, "NextToken", Op::GetOrders)?;
        (q, Some(cursor))
    } else {
        (build_query(query, now, marketplaces, size)?, None)
    };

    let (ids, next) = list_page(shared, inner, now, &q, cursor.as_ref(), given);
    let orders: Vec<Value> = ids
        .iter()
        .filter_map(|id| inner.orders.get(id))
        .map(render_order)
        .collect();
    let mut payload = Map::new();
    payload.insert("Orders".into(), Value::Array(orders));
    if let Some(t) = next {
        payload.insert("NextToken".into(), json!(t));
    }
    let bound = match q.window {
        Window::Created => "CreatedBefore",
        Window::Updated => "LastUpdatedBefore",
    };
    payload.insert(bound.into(), json!(iso(q.before)));
    Ok((200, json!({"payload": payload})))
}

fn build_query(
    query: &Query,
    now: DateTime<Utc>,
    marketplaces: Vec<String>,
    page_size: usize,
) -> Result<ListQuery, ApiError> {
    let (window, after, before) = window(query, &NAMES, now)?;
    let statuses = query
        .enum_list("OrderStatuses", &OrderStatus::ALL.map(OrderStatus::as_str))?
        .map(|v| v.iter().filter_map(|s| s.parse().ok()).collect());
    let channels = query.enum_list("FulfillmentChannels", &["AFN", "MFN"])?;
    let payment_methods = query.enum_list("PaymentMethods", &["COD", "CVS", "Other"])?;
    let easy_ship = query.enum_list("EasyShipShipmentStatuses", EASY_SHIP)?;
    let invoice = query.enum_list("ElectronicInvoiceStatuses", ELECTRONIC_INVOICE)?;
    let order_ids = query.list("AmazonOrderIds");
    if let Some(ids) = order_ids.as_ref().filter(|ids| ids.len() > 50) {
        return Err(ApiError::invalid(format!(
            "AmazonOrderIds may contain at most 50 order ids; {} were given.",
            ids.len()
        )));
    }
    let seller_order_id = query.get("SellerOrderId").map(str::to_string);
    if seller_order_id.is_some() {
        let forbidden = [
            "FulfillmentChannels",
            "OrderStatuses",
            "PaymentMethod",
            "PaymentMethods",
            "LastUpdatedAfter",
            "LastUpdatedBefore",
            "BuyerEmail",
        ];
        if let Some(bad) = forbidden.iter().find(|n| query.has(n)) {
            return Err(ApiError::invalid(format!(
                "{bad} cannot be specified together with SellerOrderId."
            )));
        }
    }
    Ok(ListQuery {
        op: Op::GetOrders,
        marketplaces,
        window,
        after,
        before,
        statuses,
        channels,
        order_ids,
        seller_order_id,
        payment_methods,
        // Every simulated order's ElectronicInvoiceStatus is NotRequired and none is Easy Ship.
        easy_ship_only: easy_ship.is_some()
            || invoice.is_some_and(|v| !v.iter().any(|s| s == "NotRequired"))
            || query.get("BuyerEmail").is_some(),
        page_size,
        order_id: None,
    })
}

fn find_order<'a>(inner: &'a Inner, id: &str) -> Result<&'a OrderRec, ApiError> {
    check_order_id(id)?;
    inner
        .orders
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("Order {id} was not found for this seller.")))
}

pub(crate) fn get_order(shared: &Shared, inner: &mut Inner, id: &str, query: &Query) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::GetOrder, query, &[("orderId", id)]) {
        return Ok(answer);
    }
    let order = find_order(inner, id)?;
    Ok((200, json!({"payload": render_order(order)})))
}

pub(crate) fn get_order_items(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    id: &str,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::GetOrderItems, query, &[("orderId", id)]) {
        return Ok(answer);
    }
    find_order(inner, id)?;
    let given = query.get("NextToken");
    let start = match given {
        None => 0,
        Some(token) => {
            let entry = redeem(inner, token, now, "NextToken", Op::GetOrderItems)?;
            if entry.query.order_id.as_deref() != Some(id) {
                return Err(ApiError::invalid(
                    "Invalid NextToken: it was issued for another order's items.",
                ));
            }
            entry.cursor.1.parse::<usize>().unwrap_or(0)
        }
    };
    let size = shared.config.order_items_page_size.max(1);
    let order = find_order(inner, id)?;
    let items: Vec<Value> = order
        .items
        .iter()
        .skip(start)
        .take(size)
        .map(|i| render_item(order, i))
        .collect();
    let end = start + items.len();
    let more = end < order.items.len();
    let mut payload = Map::new();
    payload.insert("OrderItems".into(), Value::Array(items));
    payload.insert("AmazonOrderId".into(), json!(id));
    if more {
        let token = match given {
            Some(t) if inner.faults.faults.repeat_next_token => t.to_string(),
            _ => {
                let entry = PageEntry {
                    query: items_query(id),
                    cursor: (DateTime::<Utc>::UNIX_EPOCH, end.to_string()),
                    expires_at: now + super::ttl(shared),
                };
                inner.pages.issue(&mut inner.rng, entry)
            }
        };
        payload.insert("NextToken".into(), json!(token));
    }
    Ok((200, json!({"payload": payload})))
}

fn items_query(id: &str) -> ListQuery {
    ListQuery {
        op: Op::GetOrderItems,
        marketplaces: Vec::new(),
        window: Window::Created,
        after: DateTime::<Utc>::UNIX_EPOCH,
        before: DateTime::<Utc>::UNIX_EPOCH,
        statuses: None,
        channels: None,
        order_ids: None,
        seller_order_id: None,
        payment_methods: None,
        easy_ship_only: false,
        page_size: 0,
        order_id: Some(id.to_string()),
    }
}
