//! Query-string reading the way Amazon does it: repeated keys or comma-separated lists, ISO 8601
//! dates, and 400 `InvalidInput` errors that say exactly what is wrong.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// An SP-API error response: status, code and message of the single `errors[]` entry.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub details: String,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "InvalidInput",
            message: message.into(),
            details: String::new(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: 404,
            code: "NotFound",
            message: message.into(),
            details: String::new(),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        error_body(self.code, &self.message, &self.details)
    }
}

pub fn error_body(code: &str, message: &str, details: &str) -> serde_json::Value {
    serde_json::json!({"errors": [{"code": code, "message": message, "details": details}]})
}

/// The decoded query string, in order, keys case-sensitive as at Amazon.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    /// A single-valued parameter (the last one wins when repeated); empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// An array parameter: `A,B` (Swagger's csv) and/or repeated keys; `None` when absent.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        (!values.is_empty()).then_some(values)
    }

    pub fn date(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.get(name)
            .map(|v| {
                parse_date(v).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "Invalid date-time in {name}: {v:?} is not an ISO 8601 date-time (for example 2025-01-01T00:00:00Z)."
                    ))
                })
            })
            .transpose()
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::invalid(format!("{name} must be an integer; {v:?} was given."))
                })
            })
            .transpose()
    }

    /// Checks each value of a list parameter against an allowed set.
    pub fn enum_list(&self, name: &str, allowed: &[&str]) -> Result<Option<Vec<String>>, ApiError> {
        let Some(values) = self.list(name) else {
            return Ok(None);
        };
        if let Some(bad) = values.iter().find(|v| !allowed.contains(&v.as_str())) {
            return Err(ApiError::invalid(format!(
                "Invalid value {bad:?} in {name}; allowed values are {}.",
                allowed.join(", ")
            )));
        }
        Ok(Some(values))
    }
}

/// ISO 8601 as clients send it: RFC 3339 (`Z` or an offset, fractions allowed), a date-time
/// without zone (read as UTC) or a plain date.
pub fn parse_date(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}
