//! Listings Items API 2021-08-01: searchListingsItems, getListingsItem and patchListingsItem,
//! over the seller's listings of one marketplace.
//!
//! Errors are the Listings API's own: 400 `BAD_REQUEST` (with a message that names the
//! parameter), 404 `NOT_FOUND` for a SKU that is not listed, and 403 `Unauthorized` for a
//! `sellerId` that is not the seller of the access token. A patch that breaks a listing rule is
//! not an error but a 200 `INVALID` submission with issues, as at Amazon.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{Outcome, check_marketplaces, sandbox, ttl};
use crate::clock::iso;
use crate::listings::{
    IssueRec, ListingRec, PatchKind, PatchOp, SearchQuery, SortBy, afn_channel, price_number,
    validate,
};
use crate::marketplaces::{self, Marketplace};
use crate::models::Op;
use crate::paging::PageEntry;
use crate::query::{ApiError, Query};
use crate::state::{Inner, Shared};

/// The datasets of `includedData` for search and get, in the model's order.
const INCLUDED: [&str; 8] = [
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
];

/// The datasets of `includedData` for patch.
const PATCH_INCLUDED: [&str; 2] = ["identifiers", "issues"];

const IDENTIFIER_TYPES: [&str; 8] = ["ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"];

fn bad(message: impl Into<String>) -> ApiError {
    ApiError {
        status: 400,
        code: "BAD_REQUEST",
        message: message.into(),
        details: String::new(),
    }
}

/// The shared checks answer `InvalidInput`; the Listings API says `BAD_REQUEST`.
fn listings_error(e: ApiError) -> ApiError {
    if e.status == 400 {
        ApiError {
            code: "BAD_REQUEST",
            ..e
        }
    } else {
        e
    }
}

fn check_seller(shared: &Shared, seller_id: &str) -> Result<(), ApiError> {
    if seller_id == shared.config.seller_id {
        return Ok(());
    }
    Err(ApiError {
        status: 403,
        code: "Unauthorized",
        message: "Access to requested resource is denied.".into(),
        details: format!(
            "The sellerId {seller_id:?} is not the selling partner that authorized this application."
        ),
    })
}

fn marketplace(shared: &Shared, query: &Query) -> Result<&'static Marketplace, ApiError> {
    let Some(ids) = query.list("marketplaceIds") else {
        return Err(bad(
            "Missing required parameter marketplaceIds: give the marketplace id of the listings.",
        ));
    };
    if ids.len() > 1 {
        return Err(bad(format!(
            "marketplaceIds may contain only one marketplace id; {} were given.",
            ids.len()
        )));
    }
    check_marketplaces(shared, "marketplaceIds", &ids).map_err(listings_error)?;
    marketplaces::find(&ids[0])
        .ok_or_else(|| bad(format!("{:?} is not an Amazon marketplace id.", ids[0])))
}

/// The `includedData` values (each one of `allowed`), or `default` when absent.
fn included(
    query: &Query,
    allowed: &[&'static str],
    default: &'static str,
) -> Result<Vec<&'static str>, ApiError> {
    let Some(values) = query
        .enum_list("includedData", allowed)
        .map_err(listings_error)?
    else {
        return Ok(vec![default]);
    };
    Ok(allowed
        .iter()
        .copied()
        .filter(|a| values.iter().any(|v| v == a))
        .collect())
}

fn not_found(sku: &str, mp: &Marketplace) -> ApiError {
    ApiError {
        status: 404,
        code: "NOT_FOUND",
        message: format!("SKU {sku:?} is not listed in marketplace {}.", mp.id),
        details: String::new(),
    }
}

fn render_issue(issue: &IssueRec, mp: &Marketplace) -> Value {
    json!({
        "code": issue.code,
        "message": issue.message,
        "severity": issue.severity,
        "attributeNames": issue.attribute_names,
        "categories": issue.categories,
        "marketplaceIds": [mp.id],
    })
}

fn attributes(rec: &ListingRec) -> Value {
    let mp = rec.mp;
    let mut attrs = Map::new();
    for (name, value) in &rec.attributes {
        attrs.insert(name.clone(), value.clone());
    }
    attrs.insert(
        "item_name".into(),
        json!([{"value": rec.item_name, "language_tag": mp.language, "marketplace_id": mp.id}]),
    );
    attrs.insert(
        "condition_type".into(),
        json!([{"value": "new_new", "marketplace_id": mp.id}]),
    );
    attrs.insert(
        "purchasable_offer".into(),
        json!([{
            "marketplace_id": mp.id,
            "currency": mp.currency,
            "our_price": [{"schedule": [{"value_with_tax": price_number(rec.price_minor, mp.decimals)}]}],
        }]),
    );
    let availability = match rec.quantity {
        Some(q) if !rec.afn => json!([{"fulfillment_channel_code": "DEFAULT", "quantity": q}]),
        _ => json!([{"fulfillment_channel_code": afn_channel(mp)}]),
    };
    attrs.insert("fulfillment_availability".into(), availability);
    Value::Object(attrs)
}

/// One listing as the model's `Item`, with the datasets asked for. `afn_quantity` is the
/// fulfillable FBA stock of an AFN listing.
fn render(rec: &ListingRec, included: &[&str], afn_quantity: Option<i64>) -> Value {
    let mp = rec.mp;
    let mut item = Map::new();
    item.insert("sku".into(), json!(rec.sku));
    for dataset in included {
        let value = match *dataset {
            "summaries" => json!([{
                "marketplaceId": mp.id,
                "asin": rec.asin,
                "productType": rec.product_type,
                "conditionType": "new_new",
                "status": rec.status(),
                "itemName": rec.item_name,
                "createdDate": iso(rec.created),
                "lastUpdatedDate": iso(rec.last_updated),
                "mainImage": {
                    "link": format!("https://m.media-amazon.com/images/I/{}.jpg", rec.asin),
                    "height": 500,
                    "width": 500,
                },
            }]),
            "attributes" => attributes(rec),
            "issues" => Value::Array(rec.issues.iter().map(|i| render_issue(i, mp)).collect()),
            "offers" => json!([{
                "marketplaceId": mp.id,
                "offerType": "B2C",
                "price": {"currencyCode": mp.currency, "amount": rec.price().amount},
            }]),
            "fulfillmentAvailability" => {
                if rec.afn {
                    let mut fa = Map::new();
                    fa.insert("fulfillmentChannelCode".into(), json!(afn_channel(mp)));
                    if let Some(q) = afn_quantity {
                        fa.insert("quantity".into(), json!(q.max(0)));
                    }
                    json!([fa])
                } else {
                    json!([{"fulfillmentChannelCode": "DEFAULT", "quantity": rec.quantity.unwrap_or(0)}])
                }
            }
            "procurement" => json!([]),
            "relationships" => json!([{"marketplaceId": mp.id, "relationships": []}]),
            "productTypes" => json!([{"marketplaceId": mp.id, "productType": rec.product_type}]),
            _ => continue,
        };
        item.insert((*dataset).to_string(), value);
    }
    Value::Object(item)
}

fn render_with_stock(inner: &Inner, rec: &ListingRec, included: &[&str]) -> Value {
    let afn_quantity = rec
        .afn
        .then(|| inner.inventory.fulfillable(rec.mp.id, &rec.sku))
        .flatten();
    render(rec, included, afn_quantity)
}

fn parse_search(shared: &Shared, query: &Query) -> Result<SearchQuery, ApiError> {
    let mp = marketplace(shared, query)?;
    let included = included(query, &INCLUDED, "summaries")?;
    let identifiers = match (query.list("identifiers"), query.get("identifiersType")) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(bad(
                "identifiersType is required when identifiers is given (for example identifiersType=SKU).",
            ));
        }
        (None, Some(_)) => {
            return Err(bad(
                "identifiers is required when identifiersType is given.",
            ));
        }
        (Some(ids), Some(kind)) => {
            if ids.len() > 20 {
                return Err(bad(format!(
                    "identifiers may contain at most 20 values; {} were given.",
                    ids.len()
                )));
            }
            if !IDENTIFIER_TYPES.contains(&kind) {
                return Err(bad(format!(
                    "Invalid identifiersType {kind:?}; allowed values are {}.",
                    IDENTIFIER_TYPES.join(", ")
                )));
            }
            Some((kind.to_string(), ids))
        }
    };
    let date = |name: &str| query.date(name).map_err(listings_error);
    let statuses = ["BUYABLE", "DISCOVERABLE"];
    let sort_by = match query.get("sortBy") {
        None | Some("lastUpdatedDate") => SortBy::LastUpdatedDate,
        Some("sku") => SortBy::Sku,
        Some("createdDate") => SortBy::CreatedDate,
        Some(other) => {
            return Err(bad(format!(
                "Invalid sortBy {other:?}; allowed values are sku, createdDate, lastUpdatedDate."
            )));
        }
    };
    let descending = match query.get("sortOrder") {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => {
            return Err(bad(format!(
                "Invalid sortOrder {other:?}; allowed values are ASC, DESC."
            )));
        }
    };
    let page_size = match query.int("pageSize").map_err(listings_error)? {
        None => 10,
        Some(n) if (1..=20).contains(&n) => usize::try_from(n).unwrap_or(10),
        Some(n) => {
            return Err(bad(format!(
                "pageSize must be between 1 and 20; {n} was given."
            )));
        }
    };
    Ok(SearchQuery {
        marketplace: mp.id,
        included,
        identifiers,
        created_after: date("createdAfter")?,
        created_before: date("createdBefore")?,
        updated_after: date("lastUpdatedAfter")?,
        updated_before: date("lastUpdatedBefore")?,
        with_status: query
            .enum_list("withStatus", &statuses)
            .map_err(listings_error)?,
        without_status: query
            .enum_list("withoutStatus", &statuses)
            .map_err(listings_error)?,
        with_issue_severity: query
            .enum_list("withIssueSeverity", &["WARNING", "ERROR"])
            .map_err(listings_error)?,
        related_sku: query.has("variationParentSku") || query.has("packageHierarchySku"),
        sort_by,
        descending,
        page_size,
    })
}

pub(crate) fn search_listings_items(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    seller_id: &str,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(
        shared,
        Op::SearchListingsItems,
        query,
        &[("sellerId", seller_id)],
    ) {
        return Ok(answer);
    }
    check_seller(shared, seller_id)?;
    let q = parse_search(shared, query)?;
    inner.tick_listings(now);
    let cursor = match query.get("pageToken") {
        None => None,
        Some(token) => {
            let entry = inner
                .listing_pages
                .redeem(token, now, "pageToken")
                .map_err(listings_error)?;
            if entry.query != q {
                return Err(bad(
                    "Invalid pageToken: it was issued for a request with other parameters. Send pageToken with exactly the parameters of the first page.",
                ));
            }
            Some(entry.cursor)
        }
    };
    let mut hits: Vec<((DateTime<Utc>, String), &ListingRec)> = inner
        .listings
        .in_marketplace(q.marketplace)
        .filter(|rec| q.matches(rec))
        .map(|rec| (q.key(rec), rec))
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0));
    if q.descending {
        hits.reverse();
    }
    let total = hits.len();
    let page: Vec<&((DateTime<Utc>, String), &ListingRec)> = hits
        .iter()
        .filter(|(key, _)| {
            cursor
                .as_ref()
                .is_none_or(|c| if q.descending { key < c } else { key > c })
        })
        .take(q.page_size + 1)
        .collect();
    let more = page.len() > q.page_size;
    let page = &page[..page.len().min(q.page_size)];
    let items: Vec<Value> = page
        .iter()
        .map(|(_, rec)| render_with_stock(inner, rec, &q.included))
        .collect();
    let last = page.last().map(|(key, _)| key.clone());
    let mut body = json!({"numberOfResults": total, "items": items});
    if let (true, Some(last)) = (more, last) {
        let entry = PageEntry {
            query: q,
            cursor: last,
            expires_at: now + ttl(shared),
        };
        let token = inner.listing_pages.issue(&mut inner.rng, entry);
        body["pagination"] = json!({"nextToken": token});
    }
    Ok((200, body))
}

pub(crate) fn get_listings_item(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    seller_id: &str,
    sku: &str,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(
        shared,
        Op::GetListingsItem,
        query,
        &[("sellerId", seller_id), ("sku", sku)],
    ) {
        return Ok(answer);
    }
    check_seller(shared, seller_id)?;
    let mp = marketplace(shared, query)?;
    let included = included(query, &INCLUDED, "summaries")?;
    inner.tick_listings(now);
    let rec = inner
        .listings
        .get(mp.id, sku)
        .ok_or_else(|| not_found(sku, mp))?;
    Ok((200, render_with_stock(inner, rec, &included)))
}

/// The request body: `productType` (may be missing: that is an issue, not a 400) and the
/// well-formed patch operations.
fn parse_body(body: &[u8]) -> Result<(Option<String>, Vec<PatchOp>), ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("The request body is not valid JSON: {e}.")))?;
    let Some(obj) = value.as_object() else {
        return Err(bad(
            "The request body must be a ListingsItemPatchRequest object {\"productType\": …, \"patches\": […]}.",
        ));
    };
    let product_type = match obj.get("productType") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(bad(format!(
                "productType must be a string; {other} was given."
            )));
        }
    };
    let Some(patches) = obj.get("patches") else {
        return Err(bad(
            "Missing required property patches: give at least one patch operation.",
        ));
    };
    let Some(patches) = patches.as_array().filter(|p| !p.is_empty()) else {
        return Err(bad(
            "patches must be a non-empty array of {\"op\", \"path\", \"value\"} objects.",
        ));
    };
    let ops = patches
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let kind = p
                .get("op")
                .and_then(Value::as_str)
                .and_then(PatchKind::parse)
                .ok_or_else(|| {
                    bad(format!(
                        "patches[{n}].op must be one of add, replace, merge, delete."
                    ))
                })?;
            let path = p
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("patches[{n}].path must be a string.")))?;
            Ok(PatchOp {
                kind,
                path: path.to_string(),
                value: p.get("value").cloned(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok((product_type, ops))
}

pub(crate) fn patch_listings_item(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    seller_id: &str,
    sku: &str,
    query: &Query,
    body: &[u8],
) -> Outcome {
    if let Some(answer) = sandbox(
        shared,
        Op::PatchListingsItem,
        query,
        &[("sellerId", seller_id), ("sku", sku)],
    ) {
        return Ok(answer);
    }
    check_seller(shared, seller_id)?;
    let mp = marketplace(shared, query)?;
    let included = included(query, &PATCH_INCLUDED, "issues")?;
    let preview = match query.get("mode") {
        None => false,
        Some("VALIDATION_PREVIEW") => true,
        Some(other) => {
            return Err(bad(format!(
                "Invalid mode {other:?}; the only mode is VALIDATION_PREVIEW."
            )));
        }
    };
    let (product_type, patches) = parse_body(body)?;
    inner.tick_listings(now);
    let rec = inner
        .listings
        .get(mp.id, sku)
        .ok_or_else(|| not_found(sku, mp))?;
    let asin = rec.asin.clone();
    let checked = validate(rec, product_type.as_deref(), &patches);
    let (status, submission_id) = inner.listings.submit((mp, sku), preview, &checked, now);
    let mut answer = json!({"sku": sku, "status": status, "submissionId": submission_id});
    if included.contains(&"issues") {
        let issues: Vec<Value> = checked
            .as_ref()
            .err()
            .map(|issues| issues.iter().map(|i| render_issue(i, mp)).collect())
            .unwrap_or_default();
        answer["issues"] = Value::Array(issues);
    }
    if included.contains(&"identifiers") {
        answer["identifiers"] = json!([{"marketplaceId": mp.id, "asin": asin}]);
    }
    Ok((200, answer))
}
