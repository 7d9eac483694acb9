//! Decoding of SP-API payloads (Orders v0, Orders 2026-01-01, Sellers) into the
//! version-neutral [`RemoteOrder`] and [`RemoteItem`].
//!
//! Decoding never panics: any body gives a value or a [`DecodeError`] naming the
//! field that did not fit. The raw JSON of each order and item is kept as received.

use super::{Money, OrdersPage, Participation, RemoteItem, RemoteOrder};
use chrono::{DateTime, Utc};
use entity::Amount;
use entity::enums::OrderStatus;
use serde::Deserialize;
use serde_json::Value;

/// Why a body did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

fn err(msg: impl Into<String>) -> DecodeError {
    DecodeError(msg.into())
}

fn parse_json(body: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(body).map_err(|e| err(format!("not JSON: {e}")))
}

fn time(v: &str, field: &str) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| err(format!("{field} is not an ISO 8601 time: {v:?}")))
}

/// Amazon sends amounts as decimal strings; accept JSON numbers too, exactly.
fn amount(v: &Value, field: &str) -> Result<Amount, DecodeError> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err(err(format!("{field} is not an amount: {other}"))),
    };
    text.parse()
        .map_err(|_| err(format!("{field} is not a decimal amount: {text:?}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct V0Money {
    currency_code: Option<String>,
    amount: Option<Value>,
}

fn v0_money(m: Option<V0Money>, field: &str) -> Result<Option<Money>, DecodeError> {
    match m {
        Some(V0Money {
            currency_code: Some(currency),
            amount: Some(a),
        }) => Ok(Some(Money {
            currency,
            amount: amount(&a, field)?,
        })),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct V0Order {
    amazon_order_id: String,
    purchase_date: String,
    last_update_date: String,
    order_status: String,
    fulfillment_channel: Option<String>,
    order_total: Option<V0Money>,
    number_of_items_shipped: Option<i32>,
    number_of_items_unshipped: Option<i32>,
    marketplace_id: Option<String>,
    is_prime: Option<bool>,
    is_business_order: Option<bool>,
}

#[derive(Deserialize)]
struct V0OrdersPayload {
    #[serde(rename = "Orders")]
    orders: Vec<Value>,
    #[serde(rename = "NextToken")]
    next_token: Option<String>,
}

/// `getOrders` → one page. Orders without a `MarketplaceId` get `default_marketplace`.
///
/// # Errors
/// [`DecodeError`] naming what does not fit the model.
pub fn v0_orders_page(body: &[u8], default_marketplace: &str) -> Result<OrdersPage, DecodeError> {
    let root = parse_json(body)?;
    let payload = root
        .get("payload")
        .cloned()
        .ok_or_else(|| err("no payload"))?;
    let payload: V0OrdersPayload =
        serde_json::from_value(payload).map_err(|e| err(format!("payload: {e}")))?;
    let mut orders = Vec::with_capacity(payload.orders.len());
    for raw in payload.orders {
        let o: V0Order =
            serde_json::from_value(raw.clone()).map_err(|e| err(format!("order: {e}")))?;
        orders.push(RemoteOrder {
            marketplace_id: o
                .marketplace_id
                .unwrap_or_else(|| default_marketplace.to_owned()),
            purchase_date: time(&o.purchase_date, "PurchaseDate")?,
            last_update_date: time(&o.last_update_date, "LastUpdateDate")?,
            order_status: OrderStatus::parse(&o.order_status),
            fulfillment_channel: o.fulfillment_channel,
            order_total: v0_money(o.order_total, "OrderTotal.Amount")?,
            number_of_items_shipped: o.number_of_items_shipped,
            number_of_items_unshipped: o.number_of_items_unshipped,
            is_prime: o.is_prime.unwrap_or(false),
            is_business_order: o.is_business_order.unwrap_or(false),
            amazon_order_id: o.amazon_order_id,
            raw,
            items: None,
        });
    }
    Ok(OrdersPage {
        orders,
        next_token: payload.next_token.filter(|t| !t.is_empty()),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct V0Item {
    #[serde(rename = "ASIN")]
    asin: Option<String>,
    #[serde(rename = "SellerSKU")]
    seller_sku: Option<String>,
    order_item_id: String,
    title: Option<String>,
    quantity_ordered: i32,
    quantity_shipped: Option<i32>,
    item_price: Option<V0Money>,
}

#[derive(Deserialize)]
struct V0ItemsPayload {
    #[serde(rename = "OrderItems")]
    order_items: Vec<Value>,
    #[serde(rename = "NextToken")]
    next_token: Option<String>,
}

/// `getOrderItems` → the page's items and the next token.
///
/// # Errors
/// [`DecodeError`] naming what does not fit the model.
pub fn v0_items_page(body: &[u8]) -> Result<(Vec<RemoteItem>, Option<String>), DecodeError> {
    let root = parse_json(body)?;
    let payload = root
        .get("payload")
        .cloned()
        .ok_or_else(|| err("no payload"))?;
    let payload: V0ItemsPayload =
        serde_json::from_value(payload).map_err(|e| err(format!("payload: {e}")))?;
    let mut items = Vec::with_capacity(payload.order_items.len());
    for raw in payload.order_items {
        let i: V0Item =
            serde_json::from_value(raw.clone()).map_err(|e| err(format!("order item: {e}")))?;
        items.push(RemoteItem {
            order_item_id: i.order_item_id,
            seller_sku: i.seller_sku,
            asin: i.asin,
            title: i.title,
            quantity_ordered: i.quantity_ordered,
            quantity_shipped: i.quantity_shipped.unwrap_or(0),
            item_price: v0_money(i.item_price, "ItemPrice.Amount")?,
            raw,
        });
    }
    Ok((items, payload.next_token.filter(|t| !t.is_empty())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewMoney {
    amount: Value,
    currency_code: String,
}

impl NewMoney {
    fn to_money(&self, field: &str) -> Result<Money, DecodeError> {
        Ok(Money {
            currency: self.currency_code.clone(),
            amount: amount(&self.amount, field)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewOrder {
    order_id: String,
    created_time: String,
    last_updated_time: String,
    #[serde(default)]
    programs: Vec<String>,
    sales_channel: NewSalesChannel,
    proceeds: Option<NewProceeds>,
    fulfillment: Option<NewFulfillment>,
    #[serde(default)]
    order_items: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSalesChannel {
    marketplace_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewProceeds {
    grand_total: Option<NewMoney>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewFulfillment {
    fulfillment_status: Option<String>,
    fulfilled_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewItem {
    order_item_id: String,
    quantity_ordered: i32,
    product: Option<NewProduct>,
    proceeds: Option<NewItemProceeds>,
    fulfillment: Option<NewItemFulfillment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewProduct {
    asin: Option<String>,
    title: Option<String>,
    seller_sku: Option<String>,
    price: Option<NewPrice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewPrice {
    unit_price: Option<NewMoney>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewItemProceeds {
    proceeds_total: Option<NewMoney>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewItemFulfillment {
    quantity_fulfilled: Option<i32>,
}

/// 2026-01-01 `fulfillmentStatus` in v0 spelling, so both versions store one vocabulary.
fn new_item(raw: Value) -> Result<RemoteItem, DecodeError> {
    let i: NewItem =
        serde_json::from_value(raw.clone()).map_err(|e| err(format!("orderItem: {e}")))?;
    let product = i.product;
    let unit = product
        .as_ref()
        .and_then(|p| p.price.as_ref())
        .and_then(|p| p.unit_price.as_ref());
    // The line price, as v0's ItemPrice: unit price times quantity; failing that, the
    // item's proceeds total.
    let item_price = match unit {
        Some(u) => {
            let m = u.to_money("product.price.unitPrice")?;
            let line = m
                .amount
                .0
                .checked_mul(rust_decimal::Decimal::from(i.quantity_ordered))
                .ok_or_else(|| {
                    err(format!(
                        "product.price.unitPrice {} times quantityOrdered {} is out of range",
                        m.amount.0, i.quantity_ordered
                    ))
                })?;
            Some(Money {
                currency: m.currency,
                amount: Amount(line),
            })
        }
        None => match i.proceeds.as_ref().and_then(|p| p.proceeds_total.as_ref()) {
            Some(t) => Some(t.to_money("proceeds.proceedsTotal")?),
            None => None,
        },
    };
    let (asin, title, seller_sku) = match product {
        Some(p) => (p.asin, p.title, p.seller_sku),
        None => (None, None, None),
    };
    Ok(RemoteItem {
        order_item_id: i.order_item_id,
        seller_sku,
        asin,
        title,
        quantity_ordered: i.quantity_ordered,
        quantity_shipped: i
            .fulfillment
            .as_ref()
            .and_then(|f| f.quantity_fulfilled)
            .unwrap_or(0),
        item_price,
        raw,
    })
}

fn new_order(mut raw: Value, default_marketplace: &str) -> Result<RemoteOrder, DecodeError> {
    let o: NewOrder =
        serde_json::from_value(raw.clone()).map_err(|e| err(format!("order: {e}")))?;
    // Items are stored in their own rows; keep the order's raw payload without them.
    if let Some(obj) = raw.as_object_mut() {
        obj.remove("orderItems");
    }
    let items = o
        .order_items
        .into_iter()
        .map(new_item)
        .collect::<Result<Vec<_>, _>>()?;
    let fulfillment = o.fulfillment;
    let status = fulfillment
        .as_ref()
        .and_then(|f| f.fulfillment_status.as_deref())
        .map(OrderStatus::parse)
        .ok_or_else(|| {
            err("order has no fulfillment.fulfillmentStatus (request includedData=FULFILLMENT)")
        })?;
    let channel = fulfillment
        .as_ref()
        .and_then(|f| f.fulfilled_by.as_deref())
        .map(|by| if by == "AMAZON" { "AFN" } else { "MFN" }.to_owned());
    // Saturating: absurd quantities from the wire must not overflow (a panic in
    // debug builds, a wrapped count in release).
    let shipped: i32 = items
        .iter()
        .fold(0i32, |sum, i| sum.saturating_add(i.quantity_shipped));
    let unshipped: i32 = items.iter().fold(0i32, |sum, i| {
        sum.saturating_add(
            i.raw
                .pointer("/fulfillment/quantityUnfulfilled")
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(0),
        )
    });
    let has_fulfillment_counts = items
        .iter()
        .any(|i| i.raw.pointer("/fulfillment").is_some());
    let order_total = match o.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()) {
        Some(total) => Some(total.to_money("proceeds.grandTotal")?),
        None => None,
    };
    Ok(RemoteOrder {
        marketplace_id: o
            .sales_channel
            .marketplace_id
            .unwrap_or_else(|| default_marketplace.to_owned()),
        purchase_date: time(&o.created_time, "createdTime")?,
        last_update_date: time(&o.last_updated_time, "lastUpdatedTime")?,
        order_status: status,
        fulfillment_channel: channel,
        order_total,
        number_of_items_shipped: has_fulfillment_counts.then_some(shipped),
        number_of_items_unshipped: has_fulfillment_counts.then_some(unshipped),
        is_prime: o.programs.iter().any(|p| p == "PRIME"),
        is_business_order: o.programs.iter().any(|p| p == "AMAZON_BUSINESS"),
        amazon_order_id: o.order_id,
        raw,
        items: Some(items),
    })
}

/// 2026-01-01 `searchOrders` → one page, items inline.
///
/// # Errors
/// [`DecodeError`] naming what does not fit the model.
pub fn search_orders_page(
    body: &[u8],
    default_marketplace: &str,
) -> Result<OrdersPage, DecodeError> {
    let root = parse_json(body)?;
    let orders = root
        .get("orders")
        .and_then(Value::as_array)
        .ok_or_else(|| err("no orders array"))?;
    let next_token = root
        .pointer("/pagination/nextToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let orders = orders
        .iter()
        .cloned()
        .map(|o| new_order(o, default_marketplace))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OrdersPage { orders, next_token })
}

/// Sellers `getMarketplaceParticipations` → the marketplaces.
///
/// # Errors
/// [`DecodeError`] naming what does not fit the model.
pub fn participations(body: &[u8]) -> Result<Vec<Participation>, DecodeError> {
    let root = parse_json(body)?;
    let list = root
        .get("payload")
        .and_then(Value::as_array)
        .ok_or_else(|| err("no payload array"))?;
    list.iter()
        .map(|p| {
            let id = p
                .pointer("/marketplace/id")
                .and_then(Value::as_str)
                .ok_or_else(|| err("participation without marketplace.id"))?;
            Ok(Participation {
                marketplace_id: id.to_owned(),
                name: p
                    .pointer("/marketplace/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                is_participating: p
                    .pointer("/participation/isParticipating")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
        })
        .collect()
}

/// Amazon's error list (`{"errors":[{"code","message"}]}`): the first code and message.
#[must_use]
pub fn error_summary(body: &[u8]) -> (String, String) {
    let first = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("errors")
            .and_then(Value::as_array)
            .and_then(|e| e.first().cloned())
    });
    match first {
        Some(e) => (
            e.get("code")
                .and_then(Value::as_str)
                .unwrap_or("Unknown")
                .to_owned(),
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        None => ("Unknown".to_owned(), excerpt(body)),
    }
}

/// The first 200 characters of a body, for error messages.
#[must_use]
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v0_page_decodes_with_exact_money_and_pending_orders_without_total() {
        let body = br#"{"payload":{"NextToken":"a+b/c=","Orders":[
            {"AmazonOrderId":"1","PurchaseDate":"2026-11-01T10:00:00Z","LastUpdateDate":"2026-11-01T11:00:00Z",
             "OrderStatus":"Unshipped","OrderTotal":{"CurrencyCode":"USD","Amount":"0.10"},"MarketplaceId":"ATVPDKIKX0DER",
             "IsPrime":true,"NumberOfItemsShipped":0,"NumberOfItemsUnshipped":2},
            {"AmazonOrderId":"2","PurchaseDate":"2026-11-01T10:00:00Z","LastUpdateDate":"2026-11-01T11:00:00Z",
             "OrderStatus":"Pending"}]}}"#;
        let page = v0_orders_page(body, "A1F83G8C2ARO7P").unwrap();
        assert_eq!(page.next_token.as_deref(), Some("a+b/c="));
        assert_eq!(
            page.orders[0]
                .order_total
                .as_ref()
                .unwrap()
                .amount
                .to_string(),
            "0.10"
        );
        assert!(page.orders[0].is_prime);
        assert_eq!(page.orders[1].order_total, None);
        assert_eq!(page.orders[1].marketplace_id, "A1F83G8C2ARO7P");
    }

    #[test]
    fn a_2026_order_maps_status_channel_totals_and_line_prices() {
        let body = br#"{"orders":[{"orderId":"9","createdTime":"2026-11-01T10:00:00Z","lastUpdatedTime":"2026-11-01T12:00:00Z",
            "programs":["PRIME"],"salesChannel":{"channelName":"AMAZON","marketplaceId":"A1VC38T7YXB528"},
            "proceeds":{"grandTotal":{"amount":"3998","currencyCode":"JPY"}},
            "fulfillment":{"fulfillmentStatus":"PARTIALLY_SHIPPED","fulfilledBy":"AMAZON"},
            "orderItems":[{"orderItemId":"i1","quantityOrdered":2,"product":{"asin":"B0","sellerSku":"S","price":{"unitPrice":{"amount":"1999","currencyCode":"JPY"}}},
              "fulfillment":{"quantityFulfilled":1,"quantityUnfulfilled":1}}]}],"pagination":{"nextToken":"t"}}"#;
        let page = search_orders_page(body, "X").unwrap();
        let o = &page.orders[0];
        assert_eq!(o.order_status, OrderStatus::PartiallyShipped);
        assert_eq!(o.fulfillment_channel.as_deref(), Some("AFN"));
        assert_eq!(o.order_total.as_ref().unwrap().amount.to_string(), "3998");
        let items = o.items.as_ref().unwrap();
        assert_eq!(
            items[0].item_price.as_ref().unwrap().amount.to_string(),
            "3998"
        );
        assert_eq!(items[0].quantity_shipped, 1);
        assert_eq!(
            (o.number_of_items_shipped, o.number_of_items_unshipped),
            (Some(1), Some(1))
        );
        assert!(o.raw.get("orderItems").is_none());
    }

    #[test]
    fn malformed_payloads_are_errors_never_panics() {
        for body in [
            &b""[..],
            b"null",
            b"{}",
            b"{\"payload\":{}}",
            b"{\"payload\":{\"Orders\":[{}]}}",
            b"{\"payload\":{\"Orders\":[{\"AmazonOrderId\":\"1\",\"PurchaseDate\":\"yesterday\",\"LastUpdateDate\":\"x\",\"OrderStatus\":\"Pending\"}]}}",
            b"{\"orders\":[{\"orderId\":1}]}",
            b"{\"payload\":{\"Orders\":[{\"AmazonOrderId\":\"1\",\"PurchaseDate\":\"2026-11-01T10:00:00Z\",\"LastUpdateDate\":\"2026-11-01T10:00:00Z\",\"OrderStatus\":\"Pending\",\"OrderTotal\":{\"CurrencyCode\":\"USD\",\"Amount\":\"12,5\"}}]}}",
        ] {
            assert!(v0_orders_page(body, "M").is_err() || search_orders_page(body, "M").is_err());
        }
        assert!(search_orders_page(b"{\"orders\":[{\"orderId\":\"1\"}]}", "M").is_err());
        assert!(
            v0_items_page(b"{\"payload\":{\"OrderItems\":[{\"OrderItemId\":\"x\"}]}}").is_err()
        );
    }
}
