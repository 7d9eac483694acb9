//! Listings Items 2021-08-01: the seller's listings (`searchListingsItems`,
//! `getListingsItem`) and the one write this product makes, a price or an MFN
//! quantity (`patchListingsItem`).
//!
//! A listing's live price is its B2C offer (`offers[].price`, a decimal string);
//! its MFN quantity is the `DEFAULT` channel of `fulfillmentAvailability` (any
//! other channel is Amazon's network: an FBA listing, whose quantity is not ours
//! to set). A patch replaces top-level attributes only: the price at
//! `/attributes/purchasable_offer` (`our_price[].schedule[]` is an array), the
//! quantity at `/attributes/fulfillment_availability`. `ACCEPTED` is not applied:
//! the change shows on the listing minutes later, or never.

use super::client::{SpApiClient, iso};
use super::model::DecodeError;
use super::{Money, Operation, SpApi, SpApiError};
use chrono::{DateTime, Utc};
use entity::Amount;
use entity::amazon_listing::Issue;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// At most this many SKUs per `identifiers` filter (Amazon's limit).
pub const MAX_SKUS_PER_CALL: usize = 20;

/// Listings per page (Amazon's largest `pageSize`).
pub const MAX_PAGE_SIZE: u32 = 20;

/// What a sync asks of a listing: enough for the table and the price checks.
const INCLUDED_DATA: &str = "summaries,offers,fulfillmentAvailability,issues";

/// Which listings to list, in one marketplace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingsQuery {
    /// The marketplace.
    pub marketplace_id: String,
    /// Only these SKUs (at most [`MAX_SKUS_PER_CALL`]); empty for all.
    pub skus: Vec<String>,
    /// Only listings Amazon changed since then.
    pub last_updated_after: Option<DateTime<Utc>>,
    /// Listings per page (1..=[`MAX_PAGE_SIZE`]).
    pub page_size: u32,
}

/// One listing in one marketplace, as Amazon reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteListing {
    /// The seller's SKU.
    pub sku: String,
    /// The marketplace.
    pub marketplace_id: String,
    /// The ASIN.
    pub asin: Option<String>,
    /// Amazon's product type.
    pub product_type: Option<String>,
    /// The item's name.
    pub title: Option<String>,
    /// Status `BUYABLE`.
    pub buyable: bool,
    /// Status `DISCOVERABLE`.
    pub discoverable: bool,
    /// `MFN` or `AFN`, from the fulfillment availability.
    pub fulfillment_channel: Option<String>,
    /// The live B2C price.
    pub price: Option<Money>,
    /// The live MFN quantity.
    pub quantity: Option<i64>,
    /// Amazon's issues.
    pub issues: Vec<Issue>,
    /// Amazon's `createdDate`.
    pub created_date: Option<DateTime<Utc>>,
    /// Amazon's `lastUpdatedDate`.
    pub last_updated: Option<DateTime<Utc>>,
    /// The item as received.
    pub raw: Value,
}

/// One page of listings.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingsPage {
    /// The listings.
    pub listings: Vec<RemoteListing>,
    /// Amazon's count of all the query's listings.
    pub number_of_results: u64,
    /// The token of the next page, if any.
    pub next_token: Option<String>,
}

/// What a patch sets: a price, an MFN quantity, or both, as absolute values (a
/// patch sent twice changes nothing more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingPatch {
    /// The listing's product type (Amazon requires it).
    pub product_type: String,
    /// The new price, in the marketplace's currency.
    pub price: Option<Money>,
    /// The new MFN quantity.
    pub quantity: Option<i64>,
}

impl ListingPatch {
    /// The `ListingsItemPatchRequest` body for a marketplace.
    #[must_use]
    pub fn body(&self, marketplace_id: &str) -> Value {
        let mut patches = Vec::new();
        if let Some(price) = &self.price {
            // The amount is written as a JSON number from its exact decimal text. It
            // goes through an f64, which gives the same text back for up to 15
            // significant digits: prices are checked to at most 100,000,000 with
            // at most 3 decimals (12 digits) before they are queued.
            let amount: Value = serde_json::from_str(&price.amount.to_string())
                .unwrap_or_else(|_| Value::String(price.amount.to_string()));
            patches.push(serde_json::json!({
                "op": "replace",
                "path": "/attributes/purchasable_offer",
                "value": [{
                    "marketplace_id": marketplace_id,
                    "currency": price.currency,
                    "our_price": [{"schedule": [{"value_with_tax": amount}]}]
                }]
            }));
        }
        if let Some(quantity) = self.quantity {
            patches.push(serde_json::json!({
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
            }));
        }
        serde_json::json!({"productType": self.product_type, "patches": patches})
    }
}

/// Amazon's verdict on a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubmissionStatus {
    /// Taken; it shows on the listing later (or never).
    Accepted,
    /// Refused (see the issues).
    Invalid,
    /// A preview found nothing wrong; nothing was changed.
    Valid,
}

/// Amazon's answer to a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// Its verdict.
    pub status: SubmissionStatus,
    /// Amazon's submission id.
    pub submission_id: String,
    /// Amazon's issues.
    pub issues: Vec<Issue>,
}

/// What the listings sync and the push need from Amazon.
#[async_trait::async_trait]
pub trait ListingsApi: SpApi {
    /// One page of the seller's listings in the query's marketplace, or the page
    /// `token` names.
    async fn listings_page(
        &self,
        seller_id: &str,
        query: &ListingsQuery,
        token: Option<&str>,
    ) -> Result<ListingsPage, SpApiError>;

    /// One listing as it stands now; None when Amazon does not know the SKU.
    async fn listing(
        &self,
        seller_id: &str,
        marketplace_id: &str,
        sku: &str,
    ) -> Result<Option<RemoteListing>, SpApiError>;

    /// Sends a patch (`preview`: Amazon's `VALIDATION_PREVIEW`, which changes nothing).
    async fn patch_listing(
        &self,
        seller_id: &str,
        marketplace_id: &str,
        sku: &str,
        patch: &ListingPatch,
        preview: bool,
    ) -> Result<Submission, SpApiError>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchResults<'a> {
    number_of_results: Option<u64>,
    pagination: Option<Pagination>,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    sku: Option<String>,
    #[serde(default)]
    summaries: Vec<Summary>,
    #[serde(default)]
    offers: Vec<Offer>,
    #[serde(default)]
    fulfillment_availability: Vec<Availability>,
    #[serde(default)]
    issues: Vec<RemoteIssue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    marketplace_id: Option<String>,
    asin: Option<String>,
    product_type: Option<String>,
    #[serde(default)]
    status: Vec<String>,
    item_name: Option<String>,
    created_date: Option<String>,
    last_updated_date: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Offer {
    marketplace_id: Option<String>,
    offer_type: Option<String>,
    price: Option<OfferPrice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferPrice {
    currency_code: Option<String>,
    amount: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Availability {
    fulfillment_channel_code: Option<String>,
    quantity: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoteIssue {
    code: Option<String>,
    severity: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubmissionResponse {
    status: Option<String>,
    submission_id: Option<String>,
    #[serde(default)]
    issues: Vec<RemoteIssue>,
}

fn time(v: Option<String>, what: &str, sku: &str) -> Result<Option<DateTime<Utc>>, DecodeError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| DecodeError(format!("listing {sku}: {what} is not ISO 8601: {s:?}")))
        })
        .transpose()
}

fn issues(list: Vec<RemoteIssue>) -> Vec<Issue> {
    list.into_iter()
        .map(|i| Issue {
            code: i.code.unwrap_or_default(),
            severity: i.severity.unwrap_or_else(|| "ERROR".to_owned()),
            message: i.message.unwrap_or_default(),
        })
        .collect()
}

/// Reads one item for one marketplace.
fn listing(raw: &RawValue, marketplace_id: &str) -> Result<RemoteListing, DecodeError> {
    let item: Item =
        serde_json::from_str(raw.get()).map_err(|e| DecodeError(format!("listing: {e}")))?;
    let sku = item
        .sku
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DecodeError("a listing has no sku".to_owned()))?;
    let summary = item.summaries.into_iter().find(|s| {
        s.marketplace_id
            .as_deref()
            .is_none_or(|m| m == marketplace_id)
    });
    let price = item
        .offers
        .into_iter()
        .filter(|o| {
            o.marketplace_id
                .as_deref()
                .is_none_or(|m| m == marketplace_id)
        })
        .find(|o| o.offer_type.as_deref().is_none_or(|t| t == "B2C"))
        .and_then(|o| o.price)
        .map(|p| {
            let currency = p
                .currency_code
                .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
                .ok_or_else(|| {
                    DecodeError(format!("listing {sku}: an offer's currency is not a code"))
                })?;
            let text = match &p.amount {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(DecodeError(format!(
                        "listing {sku}: an offer has no amount"
                    )));
                }
            };
            let amount = text.parse::<Amount>().map_err(|_| {
                DecodeError(format!(
                    "listing {sku}: an offer's amount is not a decimal: {text:?}"
                ))
            })?;
            Ok(Money { currency, amount })
        })
        .transpose()?;
    let mut fulfillment_channel = None;
    let mut quantity = None;
    for a in item.fulfillment_availability {
        match a.fulfillment_channel_code.as_deref() {
            Some("DEFAULT") => {
                fulfillment_channel = Some("MFN".to_owned());
                quantity = a.quantity;
            }
            Some(_) if fulfillment_channel.is_none() => {
                fulfillment_channel = Some("AFN".to_owned());
            }
            _ => {}
        }
    }
    let (asin, product_type, title, status, created, updated) = match summary {
        Some(s) => (
            s.asin,
            s.product_type,
            s.item_name,
            s.status,
            s.created_date,
            s.last_updated_date,
        ),
        None => (None, None, None, Vec::new(), None, None),
    };
    let raw_value: Value =
        serde_json::from_str(raw.get()).map_err(|e| DecodeError(format!("listing {sku}: {e}")))?;
    Ok(RemoteListing {
        marketplace_id: marketplace_id.to_owned(),
        asin: asin.filter(|s| !s.is_empty()),
        product_type: product_type.filter(|s| !s.is_empty()),
        title: title.filter(|s| !s.is_empty()),
        buyable: status.iter().any(|s| s == "BUYABLE"),
        discoverable: status.iter().any(|s| s == "DISCOVERABLE"),
        fulfillment_channel,
        price,
        quantity,
        issues: issues(item.issues),
        created_date: time(created, "createdDate", &sku)?,
        last_updated: time(updated, "lastUpdatedDate", &sku)?,
        raw: raw_value,
        sku,
    })
}

/// Decodes a `searchListingsItems` answer for one marketplace.
///
/// # Errors
/// The field that does not fit: an item without a SKU, a price that is not a
/// decimal, a date that is not ISO 8601.
pub fn decode_page(body: &[u8], marketplace_id: &str) -> Result<ListingsPage, DecodeError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| DecodeError("the listings answer is not UTF-8".to_owned()))?;
    let results: SearchResults<'_> = serde_json::from_str(text)
        .map_err(|e| DecodeError(format!("not a listings answer: {e}")))?;
    let listings = results
        .items
        .into_iter()
        .map(|raw| listing(raw, marketplace_id))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ListingsPage {
        number_of_results: results.number_of_results.unwrap_or(0),
        next_token: results
            .pagination
            .and_then(|p| p.next_token)
            .filter(|t| !t.is_empty()),
        listings,
    })
}

/// Decodes a `getListingsItem` answer.
///
/// # Errors
/// As [`decode_page`].
pub fn decode_item(body: &[u8], marketplace_id: &str) -> Result<RemoteListing, DecodeError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| DecodeError("the listing answer is not UTF-8".to_owned()))?;
    let raw: &RawValue = serde_json::from_str(text)
        .map_err(|e| DecodeError(format!("not a listing answer: {e}")))?;
    listing(raw, marketplace_id)
}

/// Decodes a `patchListingsItem` answer.
///
/// # Errors
/// A status other than Amazon's three, or no submission id.
pub fn decode_submission(body: &[u8]) -> Result<Submission, DecodeError> {
    let r: SubmissionResponse = serde_json::from_slice(body)
        .map_err(|e| DecodeError(format!("not a submission answer: {e}")))?;
    let status = match r.status.as_deref() {
        Some("ACCEPTED") => SubmissionStatus::Accepted,
        Some("INVALID") => SubmissionStatus::Invalid,
        Some("VALID") => SubmissionStatus::Valid,
        other => {
            return Err(DecodeError(format!(
                "a submission's status is not ACCEPTED, INVALID or VALID: {other:?}"
            )));
        }
    };
    Ok(Submission {
        status,
        submission_id: r
            .submission_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| DecodeError("a submission has no submissionId".to_owned()))?,
        issues: issues(r.issues),
    })
}

#[async_trait::async_trait]
impl ListingsApi for SpApiClient {
    async fn listings_page(
        &self,
        seller_id: &str,
        query: &ListingsQuery,
        token: Option<&str>,
    ) -> Result<ListingsPage, SpApiError> {
        let op = Operation::SearchListingsItems;
        if query.skus.len() > MAX_SKUS_PER_CALL {
            return Err(SpApiError::Config(format!(
                "searchListingsItems takes at most {MAX_SKUS_PER_CALL} SKUs per call; {} were asked",
                query.skus.len()
            )));
        }
        let mut q = vec![
            ("marketplaceIds", query.marketplace_id.clone()),
            ("includedData", INCLUDED_DATA.to_owned()),
            (
                "pageSize",
                query.page_size.clamp(1, MAX_PAGE_SIZE).to_string(),
            ),
        ];
        if !query.skus.is_empty() {
            q.push(("identifiers", query.skus.join(",")));
            q.push(("identifiersType", "SKU".to_owned()));
        }
        if let Some(after) = query.last_updated_after {
            q.push(("lastUpdatedAfter", iso(after)));
            q.push(("sortBy", "lastUpdatedDate".to_owned()));
            q.push(("sortOrder", "ASC".to_owned()));
        }
        if let Some(t) = token {
            q.push(("pageToken", t.to_owned()));
        }
        let answer = self
            .call(op, &op.path(&[("sellerId", seller_id)]), &q)
            .await?;
        Self::decode(
            op,
            &answer,
            decode_page(&answer.body, &query.marketplace_id),
        )
    }

    async fn listing(
        &self,
        seller_id: &str,
        marketplace_id: &str,
        sku: &str,
    ) -> Result<Option<RemoteListing>, SpApiError> {
        let op = Operation::GetListingsItem;
        let q = [
            ("marketplaceIds", marketplace_id.to_owned()),
            ("includedData", INCLUDED_DATA.to_owned()),
        ];
        let answer = match self
            .call(op, &op.path(&[("sellerId", seller_id), ("sku", sku)]), &q)
            .await
        {
            Ok(a) => a,
            Err(SpApiError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        Self::decode(op, &answer, decode_item(&answer.body, marketplace_id)).map(Some)
    }

    async fn patch_listing(
        &self,
        seller_id: &str,
        marketplace_id: &str,
        sku: &str,
        patch: &ListingPatch,
        preview: bool,
    ) -> Result<Submission, SpApiError> {
        let op = Operation::PatchListingsItem;
        let mut q = vec![
            ("marketplaceIds", marketplace_id.to_owned()),
            ("includedData", "issues".to_owned()),
        ];
        if preview {
            q.push(("mode", "VALIDATION_PREVIEW".to_owned()));
        }
        let body = serde_json::to_vec(&patch.body(marketplace_id))
            .map_err(|e| SpApiError::Config(format!("a patch could not be written: {e}")))?;
        let answer = self
            .send(
                op,
                &op.path(&[("sellerId", seller_id), ("sku", sku)]),
                &q,
                Some(&body),
            )
            .await?;
        Self::decode(op, &answer, decode_submission(&answer.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEM: &str = r#"{"sku": "MUG 01/blue",
        "summaries": [{"marketplaceId": "ATVPDKIKX0DER", "asin": "B0SIM00001",
            "productType": "KITCHEN", "status": ["BUYABLE", "DISCOVERABLE"],
            "itemName": "Mug", "createdDate": "2026-01-02T03:04:05Z",
            "lastUpdatedDate": "2026-11-30T10:00:00Z"}],
        "offers": [{"marketplaceId": "ATVPDKIKX0DER", "offerType": "B2C",
            "price": {"currencyCode": "USD", "amount": "19.90"}}],
        "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}],
        "issues": [{"code": "18027", "message": "m", "severity": "WARNING", "categories": []}]}"#;

    #[test]
    fn a_listing_keeps_its_exact_price_quantity_and_status() {
        let body = format!(
            r#"{{"numberOfResults": 1, "pagination": {{"nextToken": "p2"}}, "items": [{ITEM}]}}"#
        );
        let page = decode_page(body.as_bytes(), "ATVPDKIKX0DER").unwrap();
        assert_eq!(page.next_token.as_deref(), Some("p2"));
        let l = &page.listings[0];
        assert_eq!(l.sku, "MUG 01/blue");
        assert_eq!(l.price.as_ref().unwrap().amount.to_string(), "19.90");
        assert_eq!(l.price.as_ref().unwrap().currency, "USD");
        assert_eq!(l.quantity, Some(7));
        assert_eq!(l.fulfillment_channel.as_deref(), Some("MFN"));
        assert!(l.buyable && l.discoverable);
        assert_eq!(l.issues[0].code, "18027");
        assert_eq!(l.product_type.as_deref(), Some("KITCHEN"));
    }

    #[test]
    fn an_amazon_channel_makes_an_fba_listing_without_a_quantity() {
        let item = ITEM.replace(
            r#"{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}"#,
            r#"{"fulfillmentChannelCode": "AMAZON_NA", "quantity": 40}"#,
        );
        let l = decode_item(item.as_bytes(), "ATVPDKIKX0DER").unwrap();
        assert_eq!(l.fulfillment_channel.as_deref(), Some("AFN"));
        assert_eq!(l.quantity, None);
    }

    #[test]
    fn a_patch_replaces_top_level_attributes_with_an_array_schedule() {
        let patch = ListingPatch {
            product_type: "KITCHEN".to_owned(),
            price: Some(Money {
                currency: "USD".to_owned(),
                amount: "21.50".parse().unwrap(),
            }),
            quantity: Some(3),
        };
        let body = patch.body("ATVPDKIKX0DER").to_string();
        assert!(
            body.contains(r#""path":"/attributes/purchasable_offer""#),
            "{body}"
        );
        assert!(
            body.contains(r#""schedule":[{"value_with_tax":21.5"#),
            "{body}"
        );
        assert!(
            body.contains(r#""path":"/attributes/fulfillment_availability""#),
            "{body}"
        );
        assert!(body.contains(r#""quantity":3"#), "{body}");
        assert!(body.contains(r#""productType":"KITCHEN""#), "{body}");
    }

    #[test]
    fn a_submission_without_a_known_status_is_refused() {
        let s = decode_submission(
            br#"{"sku":"A","status":"ACCEPTED","submissionId":"s1","issues":[]}"#,
        )
        .unwrap();
        assert_eq!(s.status, SubmissionStatus::Accepted);
        assert!(decode_submission(br#"{"sku":"A","status":"MAYBE","submissionId":"s1"}"#).is_err());
    }
}
