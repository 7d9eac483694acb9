//! FBA Inventory v1 `getInventorySummaries`: what the inventory sync needs from
//! Amazon, its decoding and its HTTP call.
//!
//! One marketplace per call (`granularityType=Marketplace`), always with details.
//! A `nextToken` is valid for 30 seconds and only with the parameters of the page
//! that issued it, so the client sends the same query with every page.

use super::client::{SpApiClient, iso};
use super::model::DecodeError;
use super::{Operation, SpApi, SpApiError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// At most this many SKUs per `sellerSkus` filter (Amazon's limit).
pub const MAX_SKUS_PER_CALL: usize = 50;

/// Which summaries to list in one marketplace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryQuery {
    /// The marketplace.
    pub marketplace_id: String,
    /// Only summaries Amazon changed since then (at most 18 months back). Amazon
    /// ignores the SKU filter with it, and inbound-quantity changes do not count.
    pub start_date_time: Option<DateTime<Utc>>,
    /// Only these SKUs (at most [`MAX_SKUS_PER_CALL`]); empty for all.
    pub seller_skus: Vec<String>,
}

/// One FBA SKU's stock in one marketplace, as Amazon reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteInventory {
    /// The marketplace it was listed for.
    pub marketplace_id: String,
    /// The seller's SKU.
    pub seller_sku: String,
    /// The ASIN.
    pub asin: Option<String>,
    /// Amazon's fulfillment network SKU.
    pub fn_sku: Option<String>,
    /// The item condition, e.g. `NewItem`.
    pub condition: Option<String>,
    /// The product title.
    pub product_name: Option<String>,
    /// Units that can be picked and shipped now.
    pub fulfillable: i64,
    /// Units in shipments the seller is still preparing.
    pub inbound_working: i64,
    /// Units in shipments on their way.
    pub inbound_shipped: i64,
    /// Units being received at a fulfillment centre.
    pub inbound_receiving: i64,
    /// Units reserved (customer orders, transfers, processing).
    pub reserved: i64,
    /// Units that cannot be sold (damaged, defective, expired).
    pub unfulfillable: i64,
    /// Units Amazon is looking for.
    pub researching: i64,
    /// Amazon's total.
    pub total: i64,
    /// When Amazon last changed the summary.
    pub last_updated: Option<DateTime<Utc>>,
    /// The summary exactly as received.
    pub raw: Value,
}

/// One page of summaries.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryPage {
    /// The summaries.
    pub summaries: Vec<RemoteInventory>,
    /// The token of the next page (valid 30 s, with the same query), if any.
    pub next_token: Option<String>,
}

/// What the inventory sync needs from Amazon.
#[async_trait::async_trait]
pub trait InventoryApi: SpApi {
    /// One page of inventory summaries with details, or the page `token` names.
    async fn inventory_page(
        &self,
        query: &InventoryQuery,
        token: Option<&str>,
    ) -> Result<InventoryPage, SpApiError>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: Option<Payload>,
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    inventory_summaries: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Summary {
    asin: Option<String>,
    fn_sku: Option<String>,
    seller_sku: Option<String>,
    condition: Option<String>,
    inventory_details: Option<Details>,
    last_updated_time: Option<String>,
    product_name: Option<String>,
    total_quantity: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Details {
    fulfillable_quantity: Option<i64>,
    inbound_working_quantity: Option<i64>,
    inbound_shipped_quantity: Option<i64>,
    inbound_receiving_quantity: Option<i64>,
    reserved_quantity: Option<Reserved>,
    researching_quantity: Option<Researching>,
    unfulfillable_quantity: Option<Unfulfillable>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Reserved {
    total_reserved_quantity: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Researching {
    total_researching_quantity: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Unfulfillable {
    total_unfulfillable_quantity: Option<i64>,
}

fn quantity(q: Option<i64>, field: &str) -> Result<i64, DecodeError> {
    match q {
        Some(n) if n < 0 => Err(DecodeError(format!("{field} is negative: {n}"))),
        Some(n) => Ok(n),
        None => Ok(0),
    }
}

/// Decodes a `getInventorySummaries` answer for `marketplace_id`.
///
/// # Errors
/// The field that does not fit: a summary without `sellerSku`, a negative
/// quantity, a `lastUpdatedTime` that is not a time.
pub fn decode_page(body: &[u8], marketplace_id: &str) -> Result<InventoryPage, DecodeError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| DecodeError(format!("not an inventory summaries answer: {e}")))?;
    let payload = envelope
        .payload
        .ok_or_else(|| DecodeError("no payload".to_owned()))?;
    let mut summaries = Vec::with_capacity(payload.inventory_summaries.len());
    for raw in payload.inventory_summaries {
        let s: Summary = serde_json::from_value(raw.clone())
            .map_err(|e| DecodeError(format!("inventory summary: {e}")))?;
        let seller_sku = s
            .seller_sku
            .filter(|sku| !sku.is_empty())
            .ok_or_else(|| DecodeError("an inventory summary has no sellerSku".to_owned()))?;
        let d = s.inventory_details.unwrap_or_default();
        // Amazon's timestamps for SKUs it never updated can be empty strings.
        let last_updated = match s.last_updated_time.as_deref() {
            None | Some("") => None,
            Some(t) => Some(
                DateTime::parse_from_rfc3339(t)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        DecodeError(format!("lastUpdatedTime is not an ISO 8601 time: {t:?}"))
                    })?,
            ),
        };
        summaries.push(RemoteInventory {
            marketplace_id: marketplace_id.to_owned(),
            seller_sku,
            asin: s.asin.filter(|v| !v.is_empty()),
            fn_sku: s.fn_sku.filter(|v| !v.is_empty()),
            condition: s.condition.filter(|v| !v.is_empty()),
            product_name: s.product_name.filter(|v| !v.is_empty()),
            fulfillable: quantity(d.fulfillable_quantity, "fulfillableQuantity")?,
            inbound_working: quantity(d.inbound_working_quantity, "inboundWorkingQuantity")?,
            inbound_shipped: quantity(d.inbound_shipped_quantity, "inboundShippedQuantity")?,
            inbound_receiving: quantity(d.inbound_receiving_quantity, "inboundReceivingQuantity")?,
            reserved: quantity(
                d.reserved_quantity
                    .unwrap_or_default()
                    .total_reserved_quantity,
                "totalReservedQuantity",
            )?,
            unfulfillable: quantity(
                d.unfulfillable_quantity
                    .unwrap_or_default()
                    .total_unfulfillable_quantity,
                "totalUnfulfillableQuantity",
            )?,
            researching: quantity(
                d.researching_quantity
                    .unwrap_or_default()
                    .total_researching_quantity,
                "totalResearchingQuantity",
            )?,
            total: quantity(s.total_quantity, "totalQuantity")?,
            last_updated,
            raw,
        });
    }
    Ok(InventoryPage {
        summaries,
        next_token: envelope
            .pagination
            .and_then(|p| p.next_token)
            .filter(|t| !t.is_empty()),
    })
}

#[async_trait::async_trait]
impl InventoryApi for SpApiClient {
    async fn inventory_page(
        &self,
        query: &InventoryQuery,
        token: Option<&str>,
    ) -> Result<InventoryPage, SpApiError> {
        let op = Operation::GetInventorySummaries;
        if query.seller_skus.len() > MAX_SKUS_PER_CALL {
            return Err(SpApiError::Config(format!(
                "getInventorySummaries takes at most {MAX_SKUS_PER_CALL} SKUs per call; {} were asked",
                query.seller_skus.len()
            )));
        }
        let mut q = vec![
            ("details", "true".to_owned()),
            ("granularityType", "Marketplace".to_owned()),
            ("granularityId", query.marketplace_id.clone()),
            ("marketplaceIds", query.marketplace_id.clone()),
        ];
        if let Some(start) = query.start_date_time {
            q.push(("startDateTime", iso(start)));
        }
        if !query.seller_skus.is_empty() {
            q.push(("sellerSkus", query.seller_skus.join(",")));
        }
        if let Some(t) = token {
            q.push(("nextToken", t.to_owned()));
        }
        let answer = self.call(op, &op.path(&[]), &q).await?;
        Self::decode(
            op,
            &answer,
            decode_page(&answer.body, &query.marketplace_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_summary_with_details_decodes_every_quantity() {
        let body = json!({
            "payload": {
                "granularity": {"granularityType": "Marketplace", "granularityId": "ATVPDKIKX0DER"},
                "inventorySummaries": [{
                    "asin": "B0TEST0001", "fnSku": "X00TEST01", "sellerSku": "SKU-1",
                    "condition": "NewItem", "productName": "Mug", "totalQuantity": 31,
                    "lastUpdatedTime": "2026-11-30T10:00:00Z",
                    "inventoryDetails": {
                        "fulfillableQuantity": 20, "inboundWorkingQuantity": 1,
                        "inboundShippedQuantity": 2, "inboundReceivingQuantity": 3,
                        "reservedQuantity": {"totalReservedQuantity": 4},
                        "researchingQuantity": {"totalResearchingQuantity": 0},
                        "unfulfillableQuantity": {"totalUnfulfillableQuantity": 1}
                    }
                }]
            },
            "pagination": {"nextToken": "abc"}
        });
        let page = decode_page(body.to_string().as_bytes(), "ATVPDKIKX0DER").unwrap();
        assert_eq!(page.next_token.as_deref(), Some("abc"));
        let s = &page.summaries[0];
        assert_eq!(s.seller_sku, "SKU-1");
        assert_eq!(
            (
                s.fulfillable,
                s.inbound_working,
                s.inbound_shipped,
                s.inbound_receiving
            ),
            (20, 1, 2, 3)
        );
        assert_eq!(
            (s.reserved, s.unfulfillable, s.researching, s.total),
            (4, 1, 0, 31)
        );
        assert_eq!(s.raw["asin"], "B0TEST0001");
    }

    #[test]
    fn a_summary_without_sku_or_with_a_negative_quantity_is_refused() {
        let no_sku = json!({"payload": {"inventorySummaries": [{"asin": "B0"}]}});
        assert!(decode_page(no_sku.to_string().as_bytes(), "M").is_err());
        let negative = json!({"payload": {"inventorySummaries": [
            {"sellerSku": "S", "inventoryDetails": {"fulfillableQuantity": -1}}
        ]}});
        let e = decode_page(negative.to_string().as_bytes(), "M").unwrap_err();
        assert!(e.0.contains("fulfillableQuantity"), "{e}");
    }

    #[test]
    fn an_empty_last_updated_time_and_token_mean_none() {
        let body = json!({"payload": {"inventorySummaries": [
            {"sellerSku": "S", "lastUpdatedTime": ""}
        ]}, "pagination": {"nextToken": ""}});
        let page = decode_page(body.to_string().as_bytes(), "M").unwrap();
        assert_eq!(page.summaries[0].last_updated, None);
        assert_eq!(page.next_token, None);
    }
}
