//! The SP-API operations: validation, listing over the live data, rendering per API version.

pub(crate) mod feeds;
pub(crate) mod finances;
pub(crate) mod inventory;
pub(crate) mod listings;
pub(crate) mod sellers;
pub(crate) mod v0;
pub(crate) mod v2026;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::clock::iso;
use crate::marketplaces;
use crate::models::Op;
use crate::paging::PageEntry;
use crate::query::{ApiError, Query};
use crate::state::{Inner, ListQuery, Shared, Window};

/// What a handler answers: a status and a JSON body, or an error.
pub(crate) type Outcome = Result<(u16, Value), ApiError>;

/// The answer of a matching `x-amzn-api-sandbox` static case, if any. A case matches when the
/// request carries exactly its parameters with its values (cases without parameters are
/// skipped: they would shadow every real request).
pub(crate) fn sandbox(
    shared: &Shared,
    op: Op,
    query: &Query,
    path: &[(&str, &str)],
) -> Option<(u16, Value)> {
    if !shared.config.sandbox {
        return None;
    }
    let cases = &shared.models.ops.get(&op)?.sandbox;
    cases.iter().find_map(|case| {
        if case.parameters.is_empty() {
            return None;
        }
        let all_match = case.parameters.iter().all(|(name, expected)| {
            if let Some((_, v)) = path.iter().find(|(k, _)| k == name) {
                return expected.as_str() == Some(v);
            }
            match expected {
                Value::String(s) => query.get(name) == Some(s.as_str()),
                Value::Array(items) => {
                    let mut want: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                    let mut got = query.list(name).unwrap_or_default();
                    want.sort_unstable();
                    got.sort_unstable();
                    want == got
                }
                _ => false,
            }
        });
        let no_extra = query.names().all(|n| case.parameters.contains_key(n));
        (all_match && no_extra).then(|| (case.status, case.response.clone()))
    })
}

/// Checks a marketplace id list: at most 50, each an Amazon id the seller sells in.
pub(crate) fn check_marketplaces(
    shared: &Shared,
    name: &str,
    ids: &[String],
) -> Result<(), ApiError> {
    if ids.len() > 50 {
        return Err(ApiError::invalid(format!(
            "{name} may contain at most 50 marketplace ids; {} were given.",
            ids.len()
        )));
    }
    for id in ids {
        let Some(mp) = marketplaces::find(id) else {
            return Err(ApiError::invalid(format!(
                "Invalid {name}: {id:?} is not an Amazon marketplace id."
            )));
        };
        if !shared.marketplaces.iter().any(|m| m.id == mp.id) {
            return Err(ApiError::invalid(format!(
                "Invalid {name}: the seller does not participate in marketplace {id} ({}).",
                mp.name
            )));
        }
    }
    Ok(())
}

pub(crate) fn page_size(query: &Query, name: &str) -> Result<usize, ApiError> {
    match query.int(name)? {
        None => Ok(100),
        Some(n) if (1..=100).contains(&n) => Ok(usize::try_from(n).unwrap_or(100)),
        Some(n) => Err(ApiError::invalid(format!(
            "{name} must be between 1 and 100; {n} was given."
        ))),
    }
}

/// Names of the four window parameters in one API version.
pub(crate) struct WindowNames {
    pub created_after: &'static str,
    pub created_before: &'static str,
    pub updated_after: &'static str,
    pub updated_before: &'static str,
}

/// The time window rules shared by getOrders and searchOrders. Returns the window kind, its
/// start and its effective end (the given *Before, or now minus two minutes).
pub(crate) fn window(
    query: &Query,
    names: &WindowNames,
    now: DateTime<Utc>,
) -> Result<(Window, DateTime<Utc>, DateTime<Utc>), ApiError> {
    let ca = query.date(names.created_after)?;
    let cb = query.date(names.created_before)?;
    let ua = query.date(names.updated_after)?;
    let ub = query.date(names.updated_before)?;
    let (window, after, before, after_name, before_name) = match (ca, ua) {
        (None, None) => {
            return Err(ApiError::invalid(format!(
                "Exactly one of {} and {} is required; neither was given.",
                names.created_after, names.updated_after
            )));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(format!(
                "Exactly one of {} and {} is allowed; both were given.",
                names.created_after, names.updated_after
            )));
        }
        (Some(a), None) => {
            if ub.is_some() {
                return Err(ApiError::invalid(format!(
                    "{} cannot be set when {} is set.",
                    names.updated_before, names.created_after
                )));
            }
            (
                Window::Created,
                a,
                cb,
                names.created_after,
                names.created_before,
            )
        }
        (None, Some(a)) => {
            if cb.is_some() {
                return Err(ApiError::invalid(format!(
                    "{} cannot be set when {} is set.",
                    names.created_before, names.updated_after
                )));
            }
            (
                Window::Updated,
                a,
                ub,
                names.updated_after,
                names.updated_before,
            )
        }
    };
    let limit = now - Duration::minutes(2);
    if after > limit {
        return Err(ApiError::invalid(format!(
            "{after_name} ({}) must be at least two minutes before the current time ({}); it may be no later than {}.",
            iso(after),
            iso(now),
            iso(limit)
        )));
    }
    if let Some(b) = before {
        if b > limit {
            return Err(ApiError::invalid(format!(
                "{before_name} ({}) must be at least two minutes before the current time ({}); it may be no later than {}.",
                iso(b),
                iso(now),
                iso(limit)
            )));
        }
        if b < after {
            return Err(ApiError::invalid(format!(
                "{before_name} ({}) must be equal to or after {after_name} ({}).",
                iso(b),
                iso(after)
            )));
        }
    }
    Ok((window, after, before.unwrap_or(limit)))
}

/// One page of a listing over the live data, ordered by (sort key, AmazonOrderId), strictly
/// after `cursor`. Returns the ids and a NextToken when more remain.
pub(crate) fn list_page(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    q: &ListQuery,
    cursor: Option<&(DateTime<Utc>, String)>,
    repeat: Option<&str>,
) -> (Vec<String>, Option<String>) {
    let mut hits: Vec<(DateTime<Utc>, &String)> = inner
        .orders
        .values()
        .filter(|o| q.matches(o))
        .map(|o| (q.key(o), &o.id))
        .filter(|(k, id)| cursor.is_none_or(|(ck, cid)| (k, *id) > (ck, cid)))
        .collect();
    hits.sort_unstable();
    let more = hits.len() > q.page_size;
    hits.truncate(q.page_size);
    let ids: Vec<String> = hits.iter().map(|(_, id)| (*id).clone()).collect();
    let last = hits.last().map(|(k, id)| (*k, (*id).clone()));
    let token = match (more, last) {
        (true, Some(cursor)) => Some(match repeat {
            Some(t) if inner.faults.faults.repeat_next_token => t.to_string(),
            _ => {
                let entry = PageEntry {
                    query: q.clone(),
                    cursor,
                    expires_at: now + ttl(shared),
                };
                inner.pages.issue(&mut inner.rng, entry)
            }
        }),
        _ => None,
    };
    (ids, token)
}

pub(crate) fn ttl(shared: &Shared) -> Duration {
    Duration::seconds(i64::try_from(shared.config.next_token_ttl_secs).unwrap_or(i64::MAX / 2_000))
}

/// Redeems a listing token and checks it belongs to `op`.
pub(crate) fn redeem(
    inner: &Inner,
    token: &str,
    now: DateTime<Utc>,
    label: &str,
    op: Op,
) -> Result<PageEntry<ListQuery>, ApiError> {
    let entry = inner.pages.redeem(token, now, label)?;
    if entry.query.op != op {
        return Err(ApiError::invalid(format!(
            "Invalid {label}: this token was issued by another operation."
        )));
    }
    Ok(entry)
}

/// `^\d{3}-\d{7}-\d{7}$`
pub(crate) fn is_order_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && [3, 7, 7]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn check_order_id(id: &str) -> Result<(), ApiError> {
    if is_order_id(id) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid orderId {id:?}: an AmazonOrderId has the 3-7-7 format, for example 902-3159896-1390916."
        )))
    }
}
