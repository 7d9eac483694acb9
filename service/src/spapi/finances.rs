//! Finances 2024-06-19 `listTransactions`: what the transactions sync needs from
//! Amazon, its decoding and its HTTP call.
//!
//! The sync reads by `postedDate` windows, without `marketplaceId` (omitting it is
//! how Amazon returns US MFN orders' transactions). Both bounds must be more than
//! two minutes before Amazon's now, a window longer than 180 days answers nothing
//! rather than an error, pages can be empty and a `nextToken` is sent with the
//! original parameters.
//!
//! Money is read exactly: `currencyAmount` is a JSON number (the model says
//! BigDecimal), so it is parsed from its text, never through a float.

use super::client::{SpApiClient, iso};
use super::model::DecodeError;
use super::{Operation, SpApi, SpApiError};
use chrono::{DateTime, Utc};
use entity::Amount;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// Amazon answers nothing for a window longer than this.
pub const MAX_WINDOW_DAYS: i64 = 180;

/// Which transactions to list: those posted in `[posted_after, posted_before)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionsQuery {
    /// The window's start (included).
    pub posted_after: DateTime<Utc>,
    /// The window's end (excluded); more than two minutes before Amazon's now.
    pub posted_before: DateTime<Utc>,
}

/// An amount of money as Amazon wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteMoney {
    /// The exact amount.
    pub amount: Amount,
    /// ISO 4217.
    pub currency: &'static str,
}

/// One node of a breakdown tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteBreakdown {
    /// Amazon's `breakdownType`, e.g. `Commission`.
    pub breakdown_type: String,
    /// Its amount (for a node with children, their sum).
    pub amount: Amount,
    /// Its currency.
    pub currency: String,
    /// Its children.
    pub breakdowns: Vec<RemoteBreakdown>,
}

/// One financial transaction, as Amazon reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteTransaction {
    /// Amazon's id.
    pub transaction_id: String,
    /// `Shipment`, `Refund`, `ServiceFee`, `Transfer`…
    pub transaction_type: String,
    /// `DEFERRED`, `RELEASED` or `DEFERRED_RELEASED`.
    pub transaction_status: String,
    /// When Amazon posted it.
    pub posted_date: DateTime<Utc>,
    /// `marketplaceDetails.marketplaceId`, if any.
    pub marketplace_id: Option<String>,
    /// Amazon's description.
    pub description: Option<String>,
    /// The total.
    pub total_amount: Amount,
    /// The total's currency.
    pub total_currency: String,
    /// `(relatedIdentifierName, relatedIdentifierValue)`, as listed.
    pub related: Vec<(String, String)>,
    /// The transaction-level breakdown tree.
    pub breakdowns: Vec<RemoteBreakdown>,
    /// The transaction exactly as received.
    pub raw: Value,
}

impl RemoteTransaction {
    /// The Amazon order ids it relates to.
    pub fn amazon_order_ids(&self) -> impl Iterator<Item = &str> {
        self.related
            .iter()
            .filter(|(n, _)| n == entity::amazon_transaction_related::ORDER_ID)
            .map(|(_, v)| v.as_str())
    }
}

/// One page of transactions (possibly empty, with a next token).
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionsPage {
    /// The transactions.
    pub transactions: Vec<RemoteTransaction>,
    /// The token of the next page, if any (sent with the same query).
    pub next_token: Option<String>,
}

/// What the transactions sync needs from Amazon.
#[async_trait::async_trait]
pub trait TransactionsApi: SpApi {
    /// One page of the transactions posted in the query's window, or the page
    /// `token` names.
    async fn transactions_page(
        &self,
        query: &TransactionsQuery,
        token: Option<&str>,
    ) -> Result<TransactionsPage, SpApiError>;
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    next_token: Option<String>,
    #[serde(borrow, default)]
    transactions: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Transaction<'a> {
    transaction_id: Option<String>,
    transaction_type: Option<String>,
    transaction_status: Option<String>,
    posted_date: Option<String>,
    description: Option<String>,
    #[serde(borrow)]
    total_amount: Option<Currency<'a>>,
    #[serde(default)]
    related_identifiers: Vec<Related>,
    marketplace_details: Option<MarketplaceDetails>,
    #[serde(borrow, default)]
    breakdowns: Vec<Breakdown<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Currency<'a> {
    currency_code: Option<String>,
    #[serde(borrow)]
    currency_amount: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Related {
    related_identifier_name: Option<String>,
    related_identifier_value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarketplaceDetails {
    marketplace_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Breakdown<'a> {
    breakdown_type: Option<String>,
    #[serde(borrow)]
    breakdown_amount: Option<Currency<'a>>,
    #[serde(borrow, default)]
    breakdowns: Vec<Breakdown<'a>>,
}

/// Deepest breakdown tree accepted (Amazon's are three or four levels).
const MAX_DEPTH: usize = 16;

fn money(c: Option<Currency<'_>>, field: &str) -> Result<(Amount, String), DecodeError> {
    let c = c.ok_or_else(|| DecodeError(format!("{field} is missing")))?;
    let currency = c
        .currency_code
        .filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()))
        .ok_or_else(|| DecodeError(format!("{field}.currencyCode is not an ISO 4217 code")))?;
    let raw = c
        .currency_amount
        .ok_or_else(|| DecodeError(format!("{field}.currencyAmount is missing")))?
        .get();
    // A JSON number, or (tolerated) a string holding one.
    let text = raw.trim().trim_matches('"');
    let amount = text
        .parse::<Amount>()
        .map_err(|_| DecodeError(format!("{field}.currencyAmount is not a decimal: {raw}")))?;
    Ok((amount, currency))
}

fn breakdowns(
    nodes: Vec<Breakdown<'_>>,
    depth: usize,
) -> Result<Vec<RemoteBreakdown>, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError(format!(
            "a breakdown tree is deeper than {MAX_DEPTH} levels"
        )));
    }
    nodes
        .into_iter()
        .map(|b| {
            let breakdown_type = b
                .breakdown_type
                .filter(|t| !t.is_empty())
                .ok_or_else(|| DecodeError("a breakdown has no breakdownType".to_owned()))?;
            let (amount, currency) = money(
                b.breakdown_amount,
                &format!("breakdown {breakdown_type}: breakdownAmount"),
            )?;
            Ok(RemoteBreakdown {
                breakdown_type,
                amount,
                currency,
                breakdowns: breakdowns(b.breakdowns, depth + 1)?,
            })
        })
        .collect()
}

fn transaction(raw: &RawValue) -> Result<RemoteTransaction, DecodeError> {
    let t: Transaction<'_> =
        serde_json::from_str(raw.get()).map_err(|e| DecodeError(format!("transaction: {e}")))?;
    let transaction_id = t
        .transaction_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DecodeError("a transaction has no transactionId".to_owned()))?;
    let field = |name: &str, v: Option<String>| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| DecodeError(format!("transaction {transaction_id}: no {name}")))
    };
    let transaction_type = field("transactionType", t.transaction_type)?;
    let transaction_status = field("transactionStatus", t.transaction_status)?;
    let posted = field("postedDate", t.posted_date)?;
    let posted_date = DateTime::parse_from_rfc3339(&posted)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            DecodeError(format!(
                "transaction {transaction_id}: postedDate is not an ISO 8601 time: {posted:?}"
            ))
        })?;
    let (total_amount, total_currency) = money(
        t.total_amount,
        &format!("transaction {transaction_id}: totalAmount"),
    )?;
    let related = t
        .related_identifiers
        .into_iter()
        .filter_map(|r| {
            Some((
                r.related_identifier_name.filter(|s| !s.is_empty())?,
                r.related_identifier_value.filter(|s| !s.is_empty())?,
            ))
        })
        .collect();
    let raw_value: Value = serde_json::from_str(raw.get())
        .map_err(|e| DecodeError(format!("transaction {transaction_id}: {e}")))?;
    Ok(RemoteTransaction {
        transaction_type,
        transaction_status,
        posted_date,
        marketplace_id: t
            .marketplace_details
            .and_then(|m| m.marketplace_id)
            .filter(|s| !s.is_empty()),
        description: t.description.filter(|s| !s.is_empty()),
        total_amount,
        total_currency,
        related,
        breakdowns: breakdowns(t.breakdowns, 0)
            .map_err(|e| DecodeError(format!("transaction {transaction_id}: {}", e.0)))?,
        raw: raw_value,
        transaction_id,
    })
}

/// Decodes a `listTransactions` answer.
///
/// # Errors
/// The field that does not fit: a transaction without id, type, status, posted
/// date or total, an amount that is not a decimal, a currency that is not a code.
pub fn decode_page(body: &[u8]) -> Result<TransactionsPage, DecodeError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| DecodeError("the transactions answer is not UTF-8".to_owned()))?;
    let envelope: Envelope<'_> = serde_json::from_str(text)
        .map_err(|e| DecodeError(format!("not a transactions answer: {e}")))?;
    let payload = envelope
        .payload
        .ok_or_else(|| DecodeError("no payload".to_owned()))?;
    let transactions = payload
        .transactions
        .into_iter()
        .map(transaction)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TransactionsPage {
        transactions,
        next_token: payload.next_token.filter(|t| !t.is_empty()),
    })
}

#[async_trait::async_trait]
impl TransactionsApi for SpApiClient {
    async fn transactions_page(
        &self,
        query: &TransactionsQuery,
        token: Option<&str>,
    ) -> Result<TransactionsPage, SpApiError> {
        let op = Operation::ListTransactions;
        if query.posted_before <= query.posted_after
            || query.posted_before - query.posted_after > chrono::Duration::days(MAX_WINDOW_DAYS)
        {
            return Err(SpApiError::Config(format!(
                "listTransactions windows must be non-empty and at most {MAX_WINDOW_DAYS} days (Amazon answers nothing for longer ones); {}..{} was asked",
                iso(query.posted_after),
                iso(query.posted_before)
            )));
        }
        let mut q = vec![
            ("postedAfter", iso(query.posted_after)),
            ("postedBefore", iso(query.posted_before)),
        ];
        if let Some(t) = token {
            q.push(("nextToken", t.to_owned()));
        }
        let answer = self.call(op, &op.path(&[]), &q).await?;
        Self::decode(op, &answer, decode_page(&answer.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(amount: &str) -> String {
        format!(
            r#"{{"payload": {{"nextToken": "n1", "transactions": [{{
                "transactionId": "T1", "transactionType": "Shipment",
                "transactionStatus": "DEFERRED", "postedDate": "2026-11-30T10:00:00Z",
                "description": "Order Payment",
                "totalAmount": {{"currencyCode": "USD", "currencyAmount": {amount}}},
                "relatedIdentifiers": [
                    {{"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": "111-1"}},
                    {{"relatedIdentifierName": "SHIPMENT_ID", "relatedIdentifierValue": "S1"}}
                ],
                "marketplaceDetails": {{"marketplaceId": "ATVPDKIKX0DER"}},
                "breakdowns": [
                    {{"breakdownType": "Sales", "breakdownAmount": {{"currencyCode": "USD", "currencyAmount": 20.10}},
                      "breakdowns": [{{"breakdownType": "Principal", "breakdownAmount": {{"currencyCode": "USD", "currencyAmount": 20.10}}}}]}},
                    {{"breakdownType": "Expenses", "breakdownAmount": {{"currencyCode": "USD", "currencyAmount": -3.02}}, "breakdowns": []}}
                ]
            }}]}}}}"#
        )
    }

    #[test]
    fn amounts_keep_every_digit_and_the_tree_keeps_its_shape() {
        let page = decode_page(body("17.08").as_bytes()).unwrap();
        assert_eq!(page.next_token.as_deref(), Some("n1"));
        let t = &page.transactions[0];
        assert_eq!(t.total_amount.to_string(), "17.08");
        assert_eq!(t.breakdowns[0].amount.to_string(), "20.10");
        assert_eq!(t.breakdowns[0].breakdowns[0].breakdown_type, "Principal");
        assert_eq!(t.breakdowns[1].amount.to_string(), "-3.02");
        assert_eq!(t.amazon_order_ids().collect::<Vec<_>>(), vec!["111-1"]);
        assert_eq!(t.marketplace_id.as_deref(), Some("ATVPDKIKX0DER"));
        assert_eq!(t.raw["transactionId"], "T1");
    }

    #[test]
    fn an_amount_beyond_a_float_is_still_exact() {
        let page = decode_page(body("12345678901234567.89").as_bytes()).unwrap();
        assert_eq!(
            page.transactions[0].total_amount.to_string(),
            "12345678901234567.89"
        );
    }

    #[test]
    fn an_amount_that_is_not_a_number_or_a_missing_id_is_refused() {
        let e = decode_page(body("\"12,00\"").as_bytes()).unwrap_err();
        assert!(e.0.contains("currencyAmount"), "{e}");
        let e = decode_page(br#"{"payload": {"transactions": [{"transactionType": "Shipment"}]}}"#)
            .unwrap_err();
        assert!(e.0.contains("transactionId"), "{e}");
    }

    #[test]
    fn an_empty_page_with_a_token_is_a_page() {
        let page = decode_page(br#"{"payload": {"nextToken": "t", "transactions": []}}"#).unwrap();
        assert!(page.transactions.is_empty());
        assert_eq!(page.next_token.as_deref(), Some("t"));
    }
}
