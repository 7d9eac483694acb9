//! What the simulator reads from the official models compiled into it: each operation's
//! usage plan, the status codes whose responses carry `x-amzn-RateLimit-Limit`, and the
//! `x-amzn-api-sandbox` static cases.

use std::collections::HashMap;

use serde_json::Value;

const ORDERS_V0: &str = include_str!("../models/ordersV0.json");
const ORDERS_2026: &str = include_str!("../models/orders_2026-01-01.json");
const SELLERS: &str = include_str!("../models/sellers.json");
const FBA_INVENTORY: &str = include_str!("../models/fbaInventory.json");
const FINANCES: &str = include_str!("../models/finances_2024-06-19.json");
const LISTINGS: &str = include_str!("../models/listingsItems_2021-08-01.json");
const FEEDS: &str = include_str!("../models/feeds_2021-06-30.json");

/// The operations the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    GetOrders,
    GetOrder,
    GetOrderItems,
    SearchOrders,
    GetOrder2026,
    GetMarketplaceParticipations,
    GetInventorySummaries,
    ListTransactions,
    SearchListingsItems,
    GetListingsItem,
    PatchListingsItem,
    CreateFeedDocument,
    CreateFeed,
    GetFeed,
    GetFeeds,
    CancelFeed,
    GetFeedDocument,
}

impl Op {
    pub const ALL: [Op; 17] = [
        Op::GetOrders,
        Op::GetOrder,
        Op::GetOrderItems,
        Op::SearchOrders,
        Op::GetOrder2026,
        Op::GetMarketplaceParticipations,
        Op::GetInventorySummaries,
        Op::ListTransactions,
        Op::SearchListingsItems,
        Op::GetListingsItem,
        Op::PatchListingsItem,
        Op::CreateFeedDocument,
        Op::CreateFeed,
        Op::GetFeed,
        Op::GetFeeds,
        Op::CancelFeed,
        Op::GetFeedDocument,
    ];

    /// The key used in stats, faults and rate overrides: the model's operationId, with the
    /// 2026-01-01 `getOrder` told apart as `getOrder2026`.
    pub fn name(self) -> &'static str {
        match self {
            Op::GetOrders => "getOrders",
            Op::GetOrder => "getOrder",
            Op::GetOrderItems => "getOrderItems",
            Op::SearchOrders => "searchOrders",
            Op::GetOrder2026 => "getOrder2026",
            Op::GetMarketplaceParticipations => "getMarketplaceParticipations",
            Op::GetInventorySummaries => "getInventorySummaries",
            Op::ListTransactions => "listTransactions",
            Op::SearchListingsItems => "searchListingsItems",
            Op::GetListingsItem => "getListingsItem",
            Op::PatchListingsItem => "patchListingsItem",
            Op::CreateFeedDocument => "createFeedDocument",
            Op::CreateFeed => "createFeed",
            Op::GetFeed => "getFeed",
            Op::GetFeeds => "getFeeds",
            Op::CancelFeed => "cancelFeed",
            Op::GetFeedDocument => "getFeedDocument",
        }
    }

    fn source(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Op::GetOrders => ("v0", "/orders/v0/orders", "get"),
            Op::GetOrder => ("v0", "/orders/v0/orders/{orderId}", "get"),
            Op::GetOrderItems => ("v0", "/orders/v0/orders/{orderId}/orderItems", "get"),
            Op::SearchOrders => ("2026", "/orders/2026-01-01/orders", "get"),
            Op::GetOrder2026 => ("2026", "/orders/2026-01-01/orders/{orderId}", "get"),
            Op::GetMarketplaceParticipations => {
                ("sellers", "/sellers/v1/marketplaceParticipations", "get")
            }
            Op::GetInventorySummaries => ("fbaInventory", "/fba/inventory/v1/summaries", "get"),
            Op::ListTransactions => ("finances", "/finances/2024-06-19/transactions", "get"),
            Op::SearchListingsItems => ("listings", "/listings/2021-08-01/items/{sellerId}", "get"),
            Op::GetListingsItem => (
                "listings",
                "/listings/2021-08-01/items/{sellerId}/{sku}",
                "get",
            ),
            Op::PatchListingsItem => (
                "listings",
                "/listings/2021-08-01/items/{sellerId}/{sku}",
                "patch",
            ),
            Op::CreateFeedDocument => ("feeds", "/feeds/2021-06-30/documents", "post"),
            Op::CreateFeed => ("feeds", "/feeds/2021-06-30/feeds", "post"),
            Op::GetFeed => ("feeds", "/feeds/2021-06-30/feeds/{feedId}", "get"),
            Op::GetFeeds => ("feeds", "/feeds/2021-06-30/feeds", "get"),
            Op::CancelFeed => ("feeds", "/feeds/2021-06-30/feeds/{feedId}", "delete"),
            Op::GetFeedDocument => (
                "feeds",
                "/feeds/2021-06-30/documents/{feedDocumentId}",
                "get",
            ),
        }
    }
}

/// One `x-amzn-api-sandbox` static case.
#[derive(Debug, Clone)]
pub struct SandboxCase {
    pub status: u16,
    /// Parameter name -> expected value (a string or an array of strings).
    pub parameters: serde_json::Map<String, Value>,
    pub response: Value,
}

#[derive(Debug, Clone)]
pub struct OpModel {
    pub rate: f64,
    pub burst: u32,
    /// Status codes whose documented headers include `x-amzn-RateLimit-Limit`.
    pub rate_limit_codes: Vec<u16>,
    pub sandbox: Vec<SandboxCase>,
}

/// Everything read from the models, per operation.
#[derive(Debug, Clone)]
pub struct Models {
    pub ops: HashMap<Op, OpModel>,
}

impl Models {
    pub fn load() -> Result<Self, String> {
        let docs: HashMap<&str, Value> = [
            ("v0", ORDERS_V0),
            ("2026", ORDERS_2026),
            ("sellers", SELLERS),
            ("fbaInventory", FBA_INVENTORY),
            ("finances", FINANCES),
            ("listings", LISTINGS),
            ("feeds", FEEDS),
        ]
        .into_iter()
        .map(|(k, text)| {
            serde_json::from_str(text)
                .map(|v| (k, v))
                .map_err(|e| format!("embedded model {k} is not JSON: {e}"))
        })
        .collect::<Result<_, _>>()?;
        let mut ops = HashMap::new();
        for op in Op::ALL {
            let (doc, path, method) = op.source();
            let operation = docs
                .get(doc)
                .and_then(|d| d.get("paths"))
                .and_then(|p| p.get(path))
                .and_then(|p| p.get(method))
                .ok_or_else(|| format!("model {doc} has no {method} {path}"))?;
            let description = operation
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let (rate, burst) = usage_plan(description)
                .ok_or_else(|| format!("no usage plan table for {}", op.name()))?;
            let mut rate_limit_codes = Vec::new();
            let mut sandbox = Vec::new();
            if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
                for (code, resp) in responses {
                    let Ok(status) = code.parse::<u16>() else {
                        continue;
                    };
                    if resp
                        .get("headers")
                        .and_then(|h| h.get("x-amzn-RateLimit-Limit"))
                        .is_some()
                    {
                        rate_limit_codes.push(status);
                    }
                    let cases = resp
                        .get("x-amzn-api-sandbox")
                        .and_then(|s| s.get("static"))
                        .and_then(Value::as_array);
                    for case in cases.into_iter().flatten() {
                        let parameters = case
                            .get("request")
                            .and_then(|r| r.get("parameters"))
                            .and_then(Value::as_object)
                            .map(|params| {
                                params
                                    .iter()
                                    .filter_map(|(k, v)| {
                                        v.get("value").map(|v| (k.clone(), v.clone()))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        sandbox.push(SandboxCase {
                            status,
                            parameters,
                            response: case.get("response").cloned().unwrap_or(Value::Null),
                        });
                    }
                }
            }
            ops.insert(
                op,
                OpModel {
                    rate,
                    burst,
                    rate_limit_codes,
                    sandbox,
                },
            );
        }
        Ok(Self { ops })
    }
}

/// Reads `| 0.0167 | 20 |` from the "Usage Plan" table of an operation's description. The
/// orders and sellers models write the heading `**Usage Plan:**`, fbaInventory `Usage Plan:`,
/// finances 2024-06-19 `**Usage plan:**` (so the heading is matched in any case). The listings
/// model puts a header row (`| Rate (requests per second) | Burst |`) and a rule above the
/// numbers; neither parses as a number, so the first numeric row is the plan.
fn usage_plan(description: &str) -> Option<(f64, u32)> {
    let heading = "usage plan:";
    let at = description.to_ascii_lowercase().find(heading)?;
    let after = description.get(at + heading.len()..)?;
    after.lines().find_map(|line| {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        match cells.as_slice() {
            [rate, burst] => Some((rate.parse().ok()?, burst.parse().ok()?)),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_plans_come_from_the_models() {
        let m = Models::load().unwrap();
        let plan = |op| (m.ops[&op].rate, m.ops[&op].burst);
        assert_eq!(plan(Op::GetOrders), (0.0167, 20));
        assert_eq!(plan(Op::GetOrderItems), (0.5, 30));
        assert_eq!(plan(Op::GetOrder), (0.5, 30));
        assert_eq!(plan(Op::SearchOrders), (0.0056, 20));
        assert_eq!(plan(Op::GetOrder2026), (0.5, 30));
        assert_eq!(plan(Op::GetMarketplaceParticipations), (0.016, 15));
        assert_eq!(plan(Op::GetInventorySummaries), (2.0, 2));
        assert_eq!(plan(Op::ListTransactions), (0.5, 10));
        assert_eq!(plan(Op::SearchListingsItems), (5.0, 5));
        assert_eq!(plan(Op::GetListingsItem), (5.0, 10));
        assert_eq!(plan(Op::PatchListingsItem), (5.0, 5));
        assert_eq!(plan(Op::CreateFeedDocument), (0.5, 15));
        assert_eq!(plan(Op::CreateFeed), (0.0083, 15));
        assert_eq!(plan(Op::GetFeed), (2.0, 15));
        assert_eq!(plan(Op::GetFeeds), (0.0222, 10));
        assert_eq!(plan(Op::CancelFeed), (2.0, 15));
        assert_eq!(plan(Op::GetFeedDocument), (0.0222, 10));
    }

    #[test]
    fn listings_rate_limit_headers_follow_the_model() {
        let m = Models::load().unwrap();
        let mut codes = m.ops[&Op::GetListingsItem].rate_limit_codes.clone();
        codes.sort_unstable();
        assert_eq!(codes, [200, 400, 404]);
        let mut codes = m.ops[&Op::PatchListingsItem].rate_limit_codes.clone();
        codes.sort_unstable();
        assert_eq!(codes, [200, 400]);
    }
}
