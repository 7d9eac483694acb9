//! Relay-style paging on keyset cursors: opaque base64 strings that hold the sort
//! key of the last row seen, so a page never skips or repeats a row while new
//! rows arrive.

use super::ApiError;
use async_graphql::SimpleObject;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};

/// Where a page stands in the whole list.
#[derive(SimpleObject, Debug, Default)]
pub struct PageInfo {
    /// Whether rows follow this page.
    pub has_next_page: bool,
    /// Whether rows precede it (true when `after` was given).
    pub has_previous_page: bool,
    /// The cursor of the first row of the page.
    pub start_cursor: Option<String>,
    /// The cursor of the last row: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The page info of a page whose rows have these cursors, in order: whether
    /// rows follow, whether `after` was given.
    #[must_use]
    pub fn of<'a>(
        has_next_page: bool,
        after_given: bool,
        mut cursors: impl DoubleEndedIterator<Item = &'a String>,
    ) -> Self {
        let start_cursor = cursors.next().cloned();
        let end_cursor = cursors
            .next_back()
            .cloned()
            .or_else(|| start_cursor.clone());
        Self {
            has_next_page,
            has_previous_page: after_given,
            start_cursor,
            end_cursor,
        }
    }
}

/// The page size asked for, checked against `max`.
pub fn page_size(first: i32, max: i32) -> Result<u64, ApiError> {
    if (1..=max).contains(&first) {
        Ok(u64::try_from(first).unwrap_or(1))
    } else {
        Err(ApiError::BadUserInput(format!(
            "first: ask for 1 to {max} rows per page"
        )))
    }
}

/// How many rows a page of `first` may return, for its cost: `first` within
/// `1..=max` (a value outside is refused when the field runs).
#[must_use]
pub fn page_rows(first: i32, max: i32) -> usize {
    usize::try_from(first.clamp(1, max.max(1))).unwrap_or(1)
}

fn bad_cursor() -> ApiError {
    ApiError::BadUserInput(
        "after: not a cursor from this list; pass a pageInfo.endCursor you were given".to_owned(),
    )
}

/// A cursor on `(timestamp, id)`.
pub fn encode_time_id(kind: &str, at: DateTime<Utc>, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{kind}|{}|{id}",
        at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    ))
}

/// Reads a cursor made by [`encode_time_id`] for the same `kind`.
pub fn decode_time_id(kind: &str, cursor: &str) -> Result<(DateTime<Utc>, i64), ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let mut parts = text.splitn(3, '|');
    if parts.next() != Some(kind) {
        return Err(bad_cursor());
    }
    let at = parts
        .next()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(bad_cursor)?
        .with_timezone(&Utc);
    let id = parts
        .next()
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(bad_cursor)?;
    Ok((at, id))
}

/// A cursor on an id.
pub fn encode_id(kind: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}|{id}"))
}

/// Reads a cursor made by [`encode_id`] for the same `kind`.
pub fn decode_id(kind: &str, cursor: &str) -> Result<i64, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let (k, id) = text.split_once('|').ok_or_else(bad_cursor)?;
    if k != kind {
        return Err(bad_cursor());
    }
    id.parse().map_err(|_| bad_cursor())
}

/// A cursor on a (marketplace id, text key) pair, e.g. a seller SKU.
pub fn encode_marketplace_key(kind: &str, marketplace_id: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}|{marketplace_id}|{key}"))
}

/// Reads a cursor made by [`encode_marketplace_key`] for the same `kind`.
pub fn decode_marketplace_key(kind: &str, cursor: &str) -> Result<(String, String), ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    // The key is last, so it may itself hold `|`.
    let mut parts = text.splitn(3, '|');
    if parts.next() != Some(kind) {
        return Err(bad_cursor());
    }
    match (parts.next(), parts.next()) {
        (Some(mp), Some(key)) if !mp.is_empty() => Ok((mp.to_owned(), key.to_owned())),
        _ => Err(bad_cursor()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn page_info_names_the_first_and_last_cursor_of_a_page_of_any_size() {
        let (a, b) = ("a".to_owned(), "b".to_owned());
        let two = PageInfo::of(true, false, [&a, &b].into_iter());
        assert_eq!(
            (two.start_cursor.as_deref(), two.end_cursor.as_deref()),
            (Some("a"), Some("b"))
        );
        assert!(two.has_next_page && !two.has_previous_page);
        let one = PageInfo::of(false, true, [&a].into_iter());
        assert_eq!(
            (one.start_cursor.as_deref(), one.end_cursor.as_deref()),
            (Some("a"), Some("a"))
        );
        assert!(one.has_previous_page);
        let none = PageInfo::of(false, false, std::iter::empty());
        assert_eq!((none.start_cursor, none.end_cursor), (None, None));
    }

    #[test]
    fn marketplace_key_cursors_round_trip_keys_with_bars_and_refuse_other_lists() {
        let c = encode_marketplace_key("inventory", "ATVPDKIKX0DER", "SKU|1");
        assert_eq!(
            decode_marketplace_key("inventory", &c).unwrap(),
            ("ATVPDKIKX0DER".to_owned(), "SKU|1".to_owned())
        );
        assert!(decode_marketplace_key("orders", &c).is_err());
        assert!(decode_marketplace_key("inventory", "not a cursor").is_err());
    }

    #[test]
    fn cursors_round_trip_to_the_microsecond_and_refuse_other_lists() {
        let at = Utc
            .timestamp_opt(1_790_000_000, 123_456_000)
            .single()
            .unwrap();
        let c = encode_time_id("order", at, 7);
        assert_eq!(decode_time_id("order", &c).unwrap(), (at, 7));
        assert!(decode_time_id("run", &c).is_err());
        assert!(decode_time_id("order", "garbage!").is_err());
        assert_eq!(decode_id("run", &encode_id("run", 9)).unwrap(), 9);
        assert!(decode_id("order", &encode_id("run", 9)).is_err());
    }
}
