//! Finances 2024-06-19 listTransactions, over the ledger in (posted date, transaction id)
//! order.
//!
//! The rules are the model's: `postedAfter` is required unless the request filters by a
//! related identifier (`ORDER_ID` or `FINANCIAL_EVENT_GROUP_ID`); both bounds must be more than
//! two minutes before now; a window longer than 180 days answers an empty list, not an error.
//! A transaction is listed only once it is visible (up to 48 simulated hours after it is
//! posted). A nextToken must come with the parameters of the first page; it keeps the end of
//! the window the first page resolved. Now and then a page is empty with a nextToken
//! following, which the model warns of ("this operation can return empty pages").

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::{Outcome, check_marketplaces, sandbox};
use crate::clock::iso;
use crate::finances::{STATUSES, TransactionsQuery};
use crate::models::Op;
use crate::paging::PageEntry;
use crate::query::{ApiError, Query};
use crate::state::{Inner, Shared};

/// The related identifiers a request may filter by.
const FILTERABLE: [&str; 2] = ["ORDER_ID", "FINANCIAL_EVENT_GROUP_ID"];
/// Longest window that answers anything.
const MAX_WINDOW_DAYS: i64 = 180;
/// Share of pages answered empty (with a nextToken) when more transactions follow.
const EMPTY_PAGE_CHANCE: f64 = 0.1;

fn parse(
    shared: &Shared,
    query: &Query,
    now: DateTime<Utc>,
) -> Result<TransactionsQuery, ApiError> {
    let related = match (
        query.get("relatedIdentifierName"),
        query.get("relatedIdentifierValue"),
    ) {
        (None, None) => None,
        (Some(name), Some(value)) => {
            if !FILTERABLE.contains(&name) {
                return Err(ApiError::invalid(format!(
                    "Invalid relatedIdentifierName {name:?}: only ORDER_ID and FINANCIAL_EVENT_GROUP_ID can be used to filter transactions."
                )));
            }
            Some((name.to_string(), value.to_string()))
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "relatedIdentifierName needs relatedIdentifierValue: give the order id or financial event group id to filter by.",
            ));
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "relatedIdentifierValue needs relatedIdentifierName: send ORDER_ID or FINANCIAL_EVENT_GROUP_ID with it.",
            ));
        }
    };
    let posted_after = query.date("postedAfter")?;
    let posted_before = query.date("postedBefore")?;
    if posted_after.is_none() && related.is_none() {
        return Err(ApiError::invalid(
            "Start date cannot be null: postedAfter is required unless you filter by relatedIdentifierName and relatedIdentifierValue.",
        ));
    }
    let latest = now - Duration::minutes(2);
    for (name, value) in [
        ("postedAfter", posted_after),
        ("postedBefore", posted_before),
    ] {
        if let Some(t) = value.filter(|t| *t > latest) {
            return Err(ApiError::invalid(format!(
                "{name} ({}) must be more than two minutes before the time of the request ({}); send {} or earlier.",
                iso(t),
                iso(now),
                iso(latest)
            )));
        }
    }
    if let (Some(after), Some(before)) = (posted_after, posted_before)
        && before <= after
    {
        return Err(ApiError::invalid(format!(
            "postedBefore ({}) must be later than postedAfter ({}).",
            iso(before),
            iso(after)
        )));
    }
    let marketplace = query.get("marketplaceId").map(str::to_string);
    if let Some(mp) = &marketplace {
        check_marketplaces(shared, "marketplaceId", std::slice::from_ref(mp))?;
    }
    let status = query.get("transactionStatus").map(str::to_string);
    if let Some(s) = status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::invalid(format!(
            "Invalid transactionStatus {s:?}: use DEFERRED, RELEASED or DEFERRED_RELEASED."
        )));
    }
    Ok(TransactionsQuery {
        posted_after,
        posted_before,
        marketplace,
        status,
        related,
        until: posted_before.unwrap_or(latest),
    })
}

fn ttl(shared: &Shared) -> Duration {
    Duration::seconds(i64::try_from(shared.config.next_token_ttl_secs).unwrap_or(i64::MAX / 2_000))
}

pub(crate) fn list_transactions(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::ListTransactions, query, &[]) {
        return Ok(answer);
    }
    let mut q = parse(shared, query, now)?;
    inner.ledger.tick(now);
    let cursor = match query.get("nextToken") {
        None => (DateTime::<Utc>::MIN_UTC, String::new()),
        Some(token) => {
            let entry = inner.transaction_pages.redeem(token, now, "nextToken")?;
            if let Some(name) = entry.query.differs(&q) {
                return Err(ApiError::invalid(format!(
                    "Invalid nextToken: it was issued for a request with another {name}. Send nextToken with exactly the parameters of the first page."
                )));
            }
            q.until = entry.query.until;
            entry.cursor
        }
    };
    let too_wide = q
        .posted_after
        .is_some_and(|a| q.until - a > Duration::days(MAX_WINDOW_DAYS));
    let page_size = shared.config.transactions_page_size.max(1);
    let mut hits: Vec<_> = if too_wide {
        Vec::new()
    } else {
        inner
            .ledger
            .after(&cursor)
            .filter(|tx| q.matches(tx, now))
            .take(page_size + 1)
            .collect()
    };
    let more = hits.len() > page_size;
    hits.truncate(page_size);
    let empty_page = more && inner.rng.random_bool(EMPTY_PAGE_CHANCE);
    let (transactions, next_cursor) = if empty_page {
        (Vec::new(), Some(cursor))
    } else {
        let seller = &inner.ledger.seller_id;
        let rendered: Vec<Value> = hits.iter().map(|tx| tx.render(seller, now)).collect();
        let last = hits.last().map(|tx| (tx.posted, tx.id.clone()));
        (rendered, last.filter(|_| more))
    };
    let mut payload = json!({"transactions": transactions});
    if let Some(cursor) = next_cursor {
        let entry = PageEntry {
            query: q,
            cursor,
            expires_at: now + ttl(shared),
        };
        let token = inner.transaction_pages.issue(&mut inner.rng, entry);
        payload["nextToken"] = json!(token);
    }
    Ok((200, json!({"payload": payload})))
}
