//! Sellers API: getMarketplaceParticipations.

use serde_json::{Value, json};

use super::Outcome;
use crate::models::Op;
use crate::query::Query;
use crate::state::Shared;

pub(crate) fn get_marketplace_participations(shared: &Shared, query: &Query) -> Outcome {
    if let Some(answer) = super::sandbox(shared, Op::GetMarketplaceParticipations, query, &[]) {
        return Ok(answer);
    }
    let payload: Vec<Value> = shared
        .marketplaces
        .iter()
        .map(|m| {
            json!({
                "marketplace": {
                    "id": m.id,
                    "name": m.name,
                    "countryCode": m.country_code,
                    "defaultCurrencyCode": m.currency,
                    "defaultLanguageCode": m.language,
                    "domainName": m.domain,
                },
                "participation": {"isParticipating": true, "hasSuspendedListings": false},
                "storeName": "spapi-sim Store",
            })
        })
        .collect();
    Ok((200, json!({"payload": payload})))
}
