//! FBA Inventory API v1: getInventorySummaries, over the live inventory of one marketplace in
//! pages of 50 ordered by seller SKU.
//!
//! A nextToken stands for the query of the first page and the last seller SKU returned; it
//! lives 30 simulated seconds (`SimConfig::inventory_next_token_ttl_secs`) and must come with
//! the same parameters as the first page (granularity, marketplace, details, startDateTime,
//! sellerSkus, sellerSku), as Amazon asks ("use both startDateTime and nextToken").

use chrono::{DateTime, Duration, Months, Utc};
use serde_json::{Map, Value, json};

use super::{Outcome, check_marketplaces, sandbox};
use crate::clock::iso;
use crate::inventory::{CONDITION, StockRec, SummariesQuery};
use crate::models::Op;
use crate::paging::PageEntry;
use crate::query::{ApiError, Query};
use crate::state::{Inner, Shared};

/// Amazon's page size for inventory summaries.
const PAGE_SIZE: usize = 50;

/// The message of the 400 `InvalidInput` answered to a seller without FBA inventory (no FBA,
/// or no FBA SKU in the marketplace). It is Amazon's own, unhelpful as it is: sellers report
/// exactly this body (`{"errors":[{"code":"InvalidInput","message":"Invalid Input",
/// "details":""}]}`) for accounts without FBA SKUs, and there is no call to ask first.
pub const NO_FBA_INVENTORY_MESSAGE: &str = "Invalid Input";

fn parse(shared: &Shared, query: &Query, now: DateTime<Utc>) -> Result<SummariesQuery, ApiError> {
    match query.get("granularityType") {
        None => {
            return Err(ApiError::invalid(
                "Missing required parameter granularityType: send granularityType=Marketplace.",
            ));
        }
        Some("Marketplace") => {}
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid granularityType {other:?}: the only granularity type is Marketplace."
            )));
        }
    }
    let Some(granularity_id) = query.get("granularityId") else {
        return Err(ApiError::invalid(
            "Missing required parameter granularityId: give the marketplace id, the same as in marketplaceIds.",
        ));
    };
    check_marketplaces(shared, "granularityId", &[granularity_id.to_string()])?;
    let Some(marketplaces) = query.list("marketplaceIds") else {
        return Err(ApiError::invalid(
            "Missing required parameter marketplaceIds: give the one marketplace id to return inventory summaries for.",
        ));
    };
    if marketplaces.len() > 1 {
        return Err(ApiError::invalid(format!(
            "marketplaceIds may contain only one marketplace id; {} were given.",
            marketplaces.len()
        )));
    }
    check_marketplaces(shared, "marketplaceIds", &marketplaces)?;
    if marketplaces[0] != granularity_id {
        return Err(ApiError::invalid(format!(
            "marketplaceIds ({}) must be the marketplace given as granularityId ({granularity_id}).",
            marketplaces[0]
        )));
    }
    let details = match query.get("details") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "details must be true or false; {other:?} was given."
            )));
        }
    };
    let start = query.date("startDateTime")?;
    if let Some(start) = start {
        let earliest = now
            .checked_sub_months(Months::new(18))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        if start < earliest {
            return Err(ApiError::invalid(format!(
                "startDateTime ({}) may be no earlier than 18 months before the current time ({}); it must be {} or later.",
                iso(start),
                iso(now),
                iso(earliest)
            )));
        }
    }
    let seller_skus = query.list("sellerSkus");
    if let Some(skus) = seller_skus.as_ref().filter(|s| s.len() > 50) {
        return Err(ApiError::invalid(format!(
            "sellerSkus may contain at most 50 SKUs; {} were given.",
            skus.len()
        )));
    }
    Ok(SummariesQuery {
        marketplace: granularity_id.to_string(),
        details,
        start,
        seller_skus,
        seller_sku: query.get("sellerSku").map(str::to_string),
    })
}

fn render(rec: &StockRec, details: bool) -> Value {
    let mut v = Map::new();
    v.insert("asin".into(), json!(rec.asin));
    v.insert("fnSku".into(), json!(rec.fn_sku));
    v.insert("sellerSku".into(), json!(rec.sku));
    v.insert("condition".into(), json!(CONDITION));
    if details {
        let (r, u, s) = (&rec.reserved, &rec.unfulfillable, &rec.researching);
        v.insert(
            "inventoryDetails".into(),
            json!({
                "fulfillableQuantity": rec.fulfillable,
                "inboundWorkingQuantity": rec.inbound_working,
                "inboundShippedQuantity": rec.inbound_shipped,
                "inboundReceivingQuantity": rec.inbound_receiving,
                "reservedQuantity": {
                    "totalReservedQuantity": r.total(),
                    "pendingCustomerOrderQuantity": r.pending_customer_order,
                    "pendingTransshipmentQuantity": r.pending_transshipment,
                    "fcProcessingQuantity": r.fc_processing,
                },
                "researchingQuantity": {
                    "totalResearchingQuantity": s.total(),
                    "researchingQuantityBreakdown": [
                        {"name": "researchingQuantityInShortTerm", "quantity": s.short_term},
                        {"name": "researchingQuantityInMidTerm", "quantity": s.mid_term},
                        {"name": "researchingQuantityInLongTerm", "quantity": s.long_term},
                    ],
                },
                "unfulfillableQuantity": {
                    "totalUnfulfillableQuantity": u.total(),
                    "customerDamagedQuantity": u.customer_damaged,
                    "warehouseDamagedQuantity": u.warehouse_damaged,
                    "distributorDamagedQuantity": u.distributor_damaged,
                    "carrierDamagedQuantity": u.carrier_damaged,
                    "defectiveQuantity": u.defective,
                    "expiredQuantity": u.expired,
                },
            }),
        );
    }
    v.insert("lastUpdatedTime".into(), json!(iso(rec.last_updated)));
    v.insert("productName".into(), json!(rec.product_name));
    v.insert("totalQuantity".into(), json!(rec.total()));
    v.insert("stores".into(), json!([]));
    Value::Object(v)
}

fn ttl(shared: &Shared) -> Duration {
    Duration::seconds(
        i64::try_from(shared.config.inventory_next_token_ttl_secs).unwrap_or(i64::MAX / 2_000),
    )
}

pub(crate) fn get_inventory_summaries(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::GetInventorySummaries, query, &[]) {
        return Ok(answer);
    }
    let q = parse(shared, query, now)?;
    inner.inventory.tick(now);
    if inner
        .inventory
        .in_marketplace(&q.marketplace)
        .next()
        .is_none()
    {
        return Err(ApiError::invalid(NO_FBA_INVENTORY_MESSAGE));
    }
    let after = match query.get("nextToken") {
        None => None,
        Some(token) => {
            let entry = inner.inventory_pages.redeem(token, now, "nextToken")?;
            if let Some(name) = entry.query.differs(&q) {
                return Err(ApiError::invalid(format!(
                    "Invalid nextToken: it was issued for a request with another {name}. Send nextToken with exactly the parameters of the first page (the same startDateTime, sellerSkus, sellerSku, details and marketplace)."
                )));
            }
            Some(entry.cursor.1)
        }
    };
    let mut hits: Vec<&StockRec> = inner
        .inventory
        .in_marketplace(&q.marketplace)
        .filter(|rec| after.as_ref().is_none_or(|a| rec.sku > *a))
        .filter(|rec| q.matches(rec))
        .take(PAGE_SIZE + 1)
        .collect();
    let more = hits.len() > PAGE_SIZE;
    hits.truncate(PAGE_SIZE);
    let summaries: Vec<Value> = hits.iter().map(|rec| render(rec, q.details)).collect();
    let last = hits.last().map(|rec| rec.sku.clone());
    let mut body = json!({
        "payload": {
            "granularity": {"granularityType": "Marketplace", "granularityId": q.marketplace},
            "inventorySummaries": summaries,
        },
    });
    if let (true, Some(last)) = (more, last) {
        let entry = PageEntry {
            query: q,
            cursor: (DateTime::<Utc>::UNIX_EPOCH, last),
            expires_at: now + ttl(shared),
        };
        let token = inner.inventory_pages.issue(&mut inner.rng, entry);
        body["pagination"] = json!({"nextToken": token});
    }
    Ok((200, body))
}
