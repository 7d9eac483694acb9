//! Feeds API 2021-06-30: createFeedDocument, createFeed, getFeed, getFeeds, cancelFeed and
//! getFeedDocument, for `JSON_LISTINGS_FEED` only.
//!
//! Errors are the usual `InvalidInput` (400, the message names the field and the problem),
//! `NotFound` (404: an unknown feed or document) and `QuotaExceeded` (429: more than
//! `SimConfig::feed_submissions_per_5_min` feeds in 5 simulated minutes).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{Outcome, check_marketplaces, sandbox, ttl};
use crate::feeds::{FeedRec, FeedsQuery, JSON_LISTINGS_FEED, Status};
use crate::marketplaces;
use crate::models::Op;
use crate::paging::PageEntry;
use crate::query::{ApiError, Query};
use crate::state::{Inner, Shared};

/// XML and flat-file feed types Amazon no longer accepts for listings data (prices,
/// quantities, products): they are refused with a message that points to JSON_LISTINGS_FEED.
const RETIRED: [&str; 7] = [
    "POST_PRODUCT_DATA",
    "POST_PRODUCT_PRICING_DATA",
    "POST_INVENTORY_AVAILABILITY_DATA",
    "POST_PRODUCT_OVERRIDES_DATA",
    "POST_PRODUCT_IMAGE_DATA",
    "POST_PRODUCT_RELATIONSHIP_DATA",
    "POST_FLAT_FILE_LISTINGS_DATA",
];

fn body_object(body: &[u8], what: &str) -> Result<serde_json::Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}.")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::invalid(format!(
            "The request body must be a {what} object."
        ))),
    }
}

fn string_field<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, ApiError> {
    match obj.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null) => Err(ApiError::invalid(format!(
            "Missing required property {name}."
        ))),
        Some(other) => Err(ApiError::invalid(format!(
            "{name} must be a non-empty string; {other} was given."
        ))),
    }
}

pub(crate) fn create_feed_document(
    _shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    host: &str,
    body: &[u8],
) -> Outcome {
    let obj = body_object(body, "CreateFeedDocumentSpecification {\"contentType\": …}")?;
    let content_type = string_field(&obj, "contentType")?;
    let id = inner.feeds.create_document(content_type);
    let url = inner.feeds.upload_url(&id, host, now);
    Ok((201, json!({"feedDocumentId": id, "url": url})))
}

fn check_feed_type(feed_type: &str) -> Result<(), ApiError> {
    if feed_type == JSON_LISTINGS_FEED {
        return Ok(());
    }
    if RETIRED.contains(&feed_type) || feed_type.starts_with("POST_FLAT_FILE_") {
        return Err(ApiError::invalid(format!(
            "Feed type {feed_type} is no longer accepted: XML and flat-file listings feeds (products, prices, inventory) were retired. Submit listings data with feedType JSON_LISTINGS_FEED."
        )));
    }
    Err(ApiError::invalid(format!(
        "Invalid feedType {feed_type:?}: the simulator processes only JSON_LISTINGS_FEED."
    )))
}

pub(crate) fn create_feed(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    body: &[u8],
) -> Outcome {
    let obj = body_object(
        body,
        "CreateFeedSpecification {\"feedType\", \"marketplaceIds\", \"inputFeedDocumentId\"}",
    )?;
    let feed_type = string_field(&obj, "feedType")?;
    check_feed_type(feed_type)?;
    let ids: Vec<String> = match obj.get("marketplaceIds") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "Missing required property marketplaceIds.",
            ));
        }
        Some(Value::Array(items)) if (1..=25).contains(&items.len()) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid("marketplaceIds must be an array of strings."))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid(
                "marketplaceIds must be an array of 1 to 25 marketplace ids.",
            ));
        }
    };
    check_marketplaces(shared, "marketplaceIds", &ids)?;
    let document = string_field(&obj, "inputFeedDocumentId")?;
    match obj.get("feedOptions") {
        None | Some(Value::Null) => {}
        Some(Value::Object(options)) if options.values().all(Value::is_string) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "feedOptions must be an object of string values.",
            ));
        }
    }
    match inner.feeds.uploaded(document) {
        None => {
            return Err(ApiError::invalid(format!(
                "Invalid inputFeedDocumentId {document:?}: no such feed document. Create one with createFeedDocument."
            )));
        }
        Some(false) => {
            return Err(ApiError::invalid(format!(
                "The feed document {document} has no content: upload the feed to the document's url before calling createFeed."
            )));
        }
        Some(true) => {}
    }
    let limit = shared.config.feed_submissions_per_5_min;
    let recent = inner.feeds.created_since(now - Duration::minutes(5));
    if recent >= usize::try_from(limit).unwrap_or(usize::MAX) {
        return Err(ApiError {
            status: 429,
            code: "QuotaExceeded",
            message: "You exceeded your quota for the requested resource.".into(),
            details: format!(
                "At most {limit} {JSON_LISTINGS_FEED} feeds may be submitted per 5 minutes; put more messages in one feed."
            ),
        });
    }
    let mut mps: Vec<&'static marketplaces::Marketplace> =
        ids.iter().filter_map(|id| marketplaces::find(id)).collect();
    let mut seen = std::collections::HashSet::new();
    mps.retain(|m| seen.insert(m.id));
    inner.tick_listings(now);
    let feed_id = inner.feeds.create(feed_type, mps, document, now);
    Ok((202, json!({"feedId": feed_id})))
}

fn not_found_feed(feed_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Feed {feed_id} was not found: it is not a feed of this seller."
    ))
}

fn feed<'a>(inner: &'a Inner, feed_id: &str) -> Result<&'a FeedRec, ApiError> {
    inner
        .feeds
        .get(feed_id)
        .ok_or_else(|| not_found_feed(feed_id))
}

pub(crate) fn get_feed(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    feed_id: &str,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::GetFeed, query, &[("feedId", feed_id)]) {
        return Ok(answer);
    }
    inner.tick_listings(now);
    Ok((200, feed(inner, feed_id)?.render()))
}

pub(crate) fn cancel_feed(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    feed_id: &str,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::CancelFeed, query, &[("feedId", feed_id)]) {
        return Ok(answer);
    }
    inner.tick_listings(now);
    match inner.feeds.cancel(feed_id, now) {
        None => Err(not_found_feed(feed_id)),
        Some(Ok(())) => Ok((200, Value::Null)),
        Some(Err(status)) => Err(ApiError::invalid(format!(
            "Feed {feed_id} cannot be cancelled: only feeds with processingStatus IN_QUEUE can be cancelled, and it is {}.",
            status.name()
        ))),
    }
}

fn parse_feeds_query(
    shared: &Shared,
    query: &Query,
    now: DateTime<Utc>,
) -> Result<FeedsQuery, ApiError> {
    let Some(feed_types) = query.list("feedTypes") else {
        return Err(ApiError::invalid(
            "Either feedTypes or nextToken is required.",
        ));
    };
    if feed_types.len() > 10 {
        return Err(ApiError::invalid(format!(
            "feedTypes may contain at most 10 feed types; {} were given.",
            feed_types.len()
        )));
    }
    let marketplaces = query.list("marketplaceIds");
    if let Some(ids) = &marketplaces {
        if ids.len() > 10 {
            return Err(ApiError::invalid(format!(
                "marketplaceIds may contain at most 10 marketplace ids; {} were given.",
                ids.len()
            )));
        }
        check_marketplaces(shared, "marketplaceIds", ids)?;
    }
    let page_size = match query.int("pageSize")? {
        None => 10,
        Some(n) if (1..=100).contains(&n) => usize::try_from(n).unwrap_or(10),
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "pageSize must be between 1 and 100; {n} was given."
            )));
        }
    };
    let statuses = query.enum_list("processingStatuses", &Status::NAMES)?;
    let since = query
        .date("createdSince")?
        .unwrap_or(now - Duration::days(90));
    let until = query.date("createdUntil")?.unwrap_or(now);
    if until < since {
        return Err(ApiError::invalid(
            "createdUntil must be equal to or after createdSince.",
        ));
    }
    Ok(FeedsQuery {
        feed_types,
        marketplaces,
        statuses,
        since,
        until,
        page_size,
    })
}

pub(crate) fn get_feeds(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(shared, Op::GetFeeds, query, &[]) {
        return Ok(answer);
    }
    let (q, cursor) = match query.get("nextToken") {
        Some(token) => {
            if query.names().any(|n| n != "nextToken") {
                return Err(ApiError::invalid(
                    "nextToken must be the only parameter: the other parameters come from the request that returned it.",
                ));
            }
            let entry = inner.feeds.pages.redeem(token, now, "nextToken")?;
            (entry.query, Some(entry.cursor))
        }
        None => (parse_feeds_query(shared, query, now)?, None),
    };
    inner.tick_listings(now);
    // Newest first; feed ids grow with creation, so (createdTime, feedId) orders them.
    let mut hits: Vec<&FeedRec> = inner
        .feeds
        .records()
        .filter(|f| q.matches(f))
        .filter(|f| {
            cursor
                .as_ref()
                .is_none_or(|(t, id)| (f.created, &f.id) < (*t, id))
        })
        .collect();
    hits.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    let more = hits.len() > q.page_size;
    hits.truncate(q.page_size);
    let feeds: Vec<Value> = hits.iter().map(|f| f.render()).collect();
    let last = hits.last().map(|f| (f.created, f.id.clone()));
    let mut body = json!({"feeds": feeds});
    if let (true, Some(cursor)) = (more, last) {
        let entry = PageEntry {
            query: q,
            cursor,
            expires_at: now + ttl(shared),
        };
        let token = inner.feeds.pages.issue(&mut inner.rng, entry);
        body["nextToken"] = json!(token);
    }
    Ok((200, body))
}

pub(crate) fn get_feed_document(
    shared: &Shared,
    inner: &mut Inner,
    now: DateTime<Utc>,
    host: &str,
    document_id: &str,
    query: &Query,
) -> Outcome {
    if let Some(answer) = sandbox(
        shared,
        Op::GetFeedDocument,
        query,
        &[("feedDocumentId", document_id)],
    ) {
        return Ok(answer);
    }
    inner.tick_listings(now);
    if !inner.feeds.has_document(document_id) {
        return Err(ApiError::not_found(format!(
            "Feed document {document_id} was not found."
        )));
    }
    let mut answer = json!({
        "feedDocumentId": document_id,
        "url": inner.feeds.url("GET", document_id, host, now),
    });
    if inner.feeds.is_gzip(document_id) {
        answer["compressionAlgorithm"] = json!("GZIP");
    }
    Ok((200, answer))
}
