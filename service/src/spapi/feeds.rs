//! Feeds 2021-06-30 for `JSON_LISTINGS_FEED`: a document of many listing patches
//! uploaded once, processed by Amazon in its own time, answered by a processing
//! report with an issue per refused message.
//!
//! 1. `createFeedDocument` gives a document id and a presigned upload URL (five
//!    minutes); the feed is `PUT` there, without any of our credentials.
//! 2. `createFeed` names the document; Amazon queues the feed (`IN_QUEUE`,
//!    `IN_PROGRESS`, then `DONE`, `CANCELLED` or `FATAL`).
//! 3. `getFeed` until it ends; `getFeedDocument` gives a presigned download URL
//!    of the report, possibly GZIP-compressed.
//!
//! A document URL is followed only to Amazon's S3 (`https://*.amazonaws.com`),
//! or, when the connection names its own endpoint (a simulator), to that
//! endpoint's host: a forged answer cannot send a seller's prices elsewhere.

use super::client::SpApiClient;
use super::listings::ListingPatch;
use super::model::DecodeError;
use super::{Operation, SpApi, SpApiError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Read as _;

/// The feed type of listings patches.
pub const JSON_LISTINGS_FEED: &str = "JSON_LISTINGS_FEED";

/// The content type the feed document is uploaded with.
pub const FEED_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Most messages Amazon takes in one listings feed.
pub const MAX_MESSAGES: usize = 25_000;

/// Largest report accepted (decompressed), against a hostile or broken answer.
const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;

/// Where a feed stands at Amazon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedStatus {
    /// Waiting (perhaps behind the seller's other feeds).
    InQueue,
    /// Being processed.
    InProgress,
    /// Processed: the report says what was accepted.
    Done,
    /// Cancelled before it started.
    Cancelled,
    /// Aborted: some, none or all of it may have been applied.
    Fatal,
}

impl FeedStatus {
    /// Whether Amazon is done with it.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Cancelled | Self::Fatal)
    }
}

/// A feed as `getFeed` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFeed {
    /// Amazon's id.
    pub feed_id: String,
    /// Where it stands.
    pub status: FeedStatus,
    /// When it was created.
    pub created_time: Option<DateTime<Utc>>,
    /// When processing started.
    pub processing_start_time: Option<DateTime<Utc>>,
    /// When processing ended.
    pub processing_end_time: Option<DateTime<Utc>>,
    /// The processing report's document, once there is one.
    pub result_document_id: Option<String>,
}

/// An upload or download place for a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedDocument {
    /// Amazon's document id.
    pub document_id: String,
    /// The presigned URL (short-lived).
    pub url: String,
    /// `GZIP` when the content is compressed.
    pub compression: Option<String>,
}

/// One issue of a processing report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportIssue {
    /// The message it is about (none: the feed as a whole).
    pub message_id: Option<u64>,
    /// Its SKU.
    pub sku: Option<String>,
    /// Amazon's code.
    #[serde(default)]
    pub code: String,
    /// `ERROR`, `WARNING` or `INFO`.
    #[serde(default)]
    pub severity: String,
    /// What it says.
    #[serde(default)]
    pub message: String,
    /// The attribute concerned.
    pub attribute_name: Option<String>,
}

/// A report's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    /// Issues of severity ERROR.
    #[serde(default)]
    pub errors: u64,
    /// Issues of severity WARNING.
    #[serde(default)]
    pub warnings: u64,
    /// Messages read.
    #[serde(default)]
    pub messages_processed: u64,
    /// Messages accepted.
    #[serde(default)]
    pub messages_accepted: u64,
    /// Messages refused.
    #[serde(default)]
    pub messages_invalid: u64,
}

/// A processing report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessingReport {
    /// Every issue.
    pub issues: Vec<ReportIssue>,
    /// The counts.
    pub summary: ReportSummary,
}

impl ProcessingReport {
    /// Whether a message was refused (it has an ERROR issue).
    #[must_use]
    pub fn refused(&self, message_id: u64) -> bool {
        self.issues
            .iter()
            .any(|i| i.message_id == Some(message_id) && i.severity == "ERROR")
    }
}

/// One message of a listings feed: a patch of one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedMessage {
    /// Its id within the feed (our queue item's, so the report maps back).
    pub message_id: u64,
    /// The SKU.
    pub sku: String,
    /// What it sets.
    pub patch: ListingPatch,
}

/// The `JSON_LISTINGS_FEED` document of `messages` for one marketplace.
///
/// # Errors
/// More than [`MAX_MESSAGES`] messages, or none.
pub fn listings_feed(
    seller_id: &str,
    marketplace_id: &str,
    messages: &[FeedMessage],
) -> Result<Value, SpApiError> {
    if messages.is_empty() || messages.len() > MAX_MESSAGES {
        return Err(SpApiError::Config(format!(
            "a listings feed carries 1 to {MAX_MESSAGES} messages; {} were given",
            messages.len()
        )));
    }
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| {
            let body = m.patch.body(marketplace_id);
            serde_json::json!({
                "messageId": m.message_id,
                "sku": m.sku,
                "operationType": "PATCH",
                "productType": m.patch.product_type,
                "patches": body["patches"],
            })
        })
        .collect();
    Ok(serde_json::json!({
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
        "messages": messages,
    }))
}

/// What the feed submission needs from Amazon.
#[async_trait::async_trait]
pub trait FeedsApi: SpApi {
    /// Uploads `content` as a new feed document; its id.
    async fn upload_feed_document(&self, content: &[u8]) -> Result<String, SpApiError>;

    /// Creates a feed of `feed_type` from an uploaded document; the feed id.
    async fn create_feed(
        &self,
        feed_type: &str,
        marketplace_ids: &[String],
        document_id: &str,
    ) -> Result<String, SpApiError>;

    /// The feed as it stands.
    async fn feed(&self, feed_id: &str) -> Result<RemoteFeed, SpApiError>;

    /// Cancels a feed still `IN_QUEUE`.
    async fn cancel_feed(&self, feed_id: &str) -> Result<(), SpApiError>;

    /// The processing report of a finished feed, decompressed and decoded.
    async fn processing_report(&self, document_id: &str) -> Result<ProcessingReport, SpApiError>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocumentAnswer {
    feed_document_id: Option<String>,
    url: Option<String>,
    compression_algorithm: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedAnswer {
    feed_id: Option<String>,
    processing_status: Option<FeedStatus>,
    created_time: Option<String>,
    processing_start_time: Option<String>,
    processing_end_time: Option<String>,
    result_feed_document_id: Option<String>,
}

#[derive(Deserialize)]
struct ReportDocument {
    #[serde(default)]
    issues: Vec<ReportIssue>,
    #[serde(default)]
    summary: ReportSummary,
}

fn time(v: Option<String>, what: &str) -> Result<Option<DateTime<Utc>>, DecodeError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| DecodeError(format!("{what} is not ISO 8601: {s:?}")))
        })
        .transpose()
}

/// Decodes a `createFeedDocument` or `getFeedDocument` answer.
///
/// # Errors
/// No id or URL.
pub fn decode_document(body: &[u8]) -> Result<FeedDocument, DecodeError> {
    let d: DocumentAnswer = serde_json::from_slice(body)
        .map_err(|e| DecodeError(format!("not a feed document answer: {e}")))?;
    Ok(FeedDocument {
        document_id: d
            .feed_document_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| DecodeError("a feed document has no feedDocumentId".to_owned()))?,
        url: d
            .url
            .filter(|s| !s.is_empty())
            .ok_or_else(|| DecodeError("a feed document has no url".to_owned()))?,
        compression: d.compression_algorithm.filter(|s| !s.is_empty()),
    })
}

/// Decodes a `getFeed` answer.
///
/// # Errors
/// No id or status, or a time that is not ISO 8601.
pub fn decode_feed(body: &[u8]) -> Result<RemoteFeed, DecodeError> {
    let f: FeedAnswer =
        serde_json::from_slice(body).map_err(|e| DecodeError(format!("not a feed: {e}")))?;
    Ok(RemoteFeed {
        feed_id: f
            .feed_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| DecodeError("a feed has no feedId".to_owned()))?,
        status: f
            .processing_status
            .ok_or_else(|| DecodeError("a feed has no processingStatus".to_owned()))?,
        created_time: time(f.created_time, "createdTime")?,
        processing_start_time: time(f.processing_start_time, "processingStartTime")?,
        processing_end_time: time(f.processing_end_time, "processingEndTime")?,
        result_document_id: f.result_feed_document_id.filter(|s| !s.is_empty()),
    })
}

/// Decodes a processing report, GZIP-compressed or not.
///
/// # Errors
/// A compressed body that does not inflate, one larger than 64 MiB inflated, or
/// JSON that is not a report.
pub fn decode_report(
    body: &[u8],
    compression: Option<&str>,
) -> Result<ProcessingReport, DecodeError> {
    let text = match compression {
        None => body.to_vec(),
        Some(c) if c.eq_ignore_ascii_case("GZIP") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .take(MAX_REPORT_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|e| DecodeError(format!("the GZIP report does not inflate: {e}")))?;
            if out.len() as u64 > MAX_REPORT_BYTES {
                return Err(DecodeError("the report is larger than 64 MiB".to_owned()));
            }
            out
        }
        Some(other) => {
            return Err(DecodeError(format!(
                "the report's compression {other:?} is not GZIP"
            )));
        }
    };
    let r: ReportDocument = serde_json::from_slice(&text)
        .map_err(|e| DecodeError(format!("not a processing report: {e}")))?;
    Ok(ProcessingReport {
        issues: r.issues,
        summary: r.summary,
    })
}

impl SpApiClient {
    /// Whether a presigned document URL may be followed (see the module's docs).
    fn document_url_allowed(&self, url: &str) -> bool {
        let Ok(u) = url::Url::parse(url) else {
            return false;
        };
        let Some(host) = u.host_str() else {
            return false;
        };
        let amazon_s3 =
            u.scheme() == "https" && (host.ends_with(".amazonaws.com") || host == "amazonaws.com");
        let own_endpoint = url::Url::parse(self.endpoint()).is_ok_and(|e| {
            !super::client::is_amazon_endpoint(self.endpoint())
                && e.host_str() == Some(host)
                && e.port_or_known_default() == u.port_or_known_default()
        });
        amazon_s3 || own_endpoint
    }

    fn checked_url<'a>(&self, op: Operation, url: &'a str) -> Result<&'a str, SpApiError> {
        if self.document_url_allowed(url) {
            Ok(url)
        } else {
            tracing::warn!(
                operation = op.name(),
                "a feed document URL is not Amazon's S3; not followed"
            );
            Err(SpApiError::Config(format!(
                "{} answered a document URL outside Amazon's S3; it was not followed",
                op.name()
            )))
        }
    }
}

#[async_trait::async_trait]
impl FeedsApi for SpApiClient {
    async fn upload_feed_document(&self, content: &[u8]) -> Result<String, SpApiError> {
        let op = Operation::CreateFeedDocument;
        let body = serde_json::to_vec(&serde_json::json!({"contentType": FEED_CONTENT_TYPE}))
            .map_err(|e| SpApiError::Config(e.to_string()))?;
        let answer = self.send(op, &op.path(&[]), &[], Some(&body)).await?;
        let doc = Self::decode(op, &answer, decode_document(&answer.body))?;
        let url = self.checked_url(op, &doc.url)?;
        self.put_document(url, FEED_CONTENT_TYPE, content).await?;
        Ok(doc.document_id)
    }

    async fn create_feed(
        &self,
        feed_type: &str,
        marketplace_ids: &[String],
        document_id: &str,
    ) -> Result<String, SpApiError> {
        let op = Operation::CreateFeed;
        let body = serde_json::to_vec(&serde_json::json!({
            "feedType": feed_type,
            "marketplaceIds": marketplace_ids,
            "inputFeedDocumentId": document_id,
        }))
        .map_err(|e| SpApiError::Config(e.to_string()))?;
        let answer = self.send(op, &op.path(&[]), &[], Some(&body)).await?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            feed_id: Option<String>,
        }
        let created: Result<Created, DecodeError> = serde_json::from_slice(&answer.body)
            .map_err(|e| DecodeError(format!("not a createFeed answer: {e}")));
        let id = Self::decode(op, &answer, created)?
            .feed_id
            .filter(|s| !s.is_empty());
        Self::decode(
            op,
            &answer,
            id.ok_or_else(|| DecodeError("createFeed answered no feedId".to_owned())),
        )
    }

    async fn feed(&self, feed_id: &str) -> Result<RemoteFeed, SpApiError> {
        let op = Operation::GetFeed;
        let answer = self.call(op, &op.path(&[("feedId", feed_id)]), &[]).await?;
        Self::decode(op, &answer, decode_feed(&answer.body))
    }

    async fn cancel_feed(&self, feed_id: &str) -> Result<(), SpApiError> {
        let op = Operation::CancelFeed;
        self.call(op, &op.path(&[("feedId", feed_id)]), &[])
            .await
            .map(|_| ())
    }

    async fn processing_report(&self, document_id: &str) -> Result<ProcessingReport, SpApiError> {
        let op = Operation::GetFeedDocument;
        let answer = self
            .call(op, &op.path(&[("feedDocumentId", document_id)]), &[])
            .await?;
        let doc = Self::decode(op, &answer, decode_document(&answer.body))?;
        let url = self.checked_url(op, &doc.url)?;
        let body = self.get_document(url).await?;
        Self::decode(
            op,
            &answer,
            decode_report(&body, doc.compression.as_deref()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spapi::Money;
    use std::io::Write as _;

    fn patch(price: &str, quantity: Option<i64>) -> ListingPatch {
        ListingPatch {
            product_type: "KITCHEN".to_owned(),
            price: Some(Money {
                currency: "USD".to_owned(),
                amount: price.parse().unwrap(),
            }),
            quantity,
        }
    }

    #[test]
    fn a_feed_carries_one_patch_message_per_sku_with_its_product_type() {
        let feed = listings_feed(
            "A2SELLER",
            "ATVPDKIKX0DER",
            &[
                FeedMessage {
                    message_id: 7,
                    sku: "MUG".to_owned(),
                    patch: patch("19.99", Some(3)),
                },
                FeedMessage {
                    message_id: 8,
                    sku: "TEE".to_owned(),
                    patch: patch("5.00", None),
                },
            ],
        )
        .unwrap();
        assert_eq!(feed["header"]["sellerId"], "A2SELLER");
        assert_eq!(feed["header"]["version"], "2.0");
        let m = &feed["messages"][0];
        assert_eq!(m["messageId"], 7);
        assert_eq!(m["operationType"], "PATCH");
        assert_eq!(m["productType"], "KITCHEN");
        assert_eq!(m["patches"][0]["path"], "/attributes/purchasable_offer");
        assert_eq!(
            m["patches"][1]["path"],
            "/attributes/fulfillment_availability"
        );
        assert_eq!(feed["messages"][1]["patches"].as_array().unwrap().len(), 1);
        assert!(listings_feed("A", "M", &[]).is_err());
    }

    const REPORT: &str = r#"{"header": {"sellerId": "A", "version": "2.0", "feedId": "1"},
        "issues": [{"messageId": 8, "sku": "TEE", "code": "99022", "severity": "ERROR",
                    "message": "bad", "attributeName": "purchasable_offer"},
                   {"messageId": 7, "sku": "MUG", "code": "18027", "severity": "WARNING", "message": "w"}],
        "summary": {"errors": 1, "warnings": 1, "messagesProcessed": 2,
                    "messagesAccepted": 1, "messagesInvalid": 1}}"#;

    #[test]
    fn a_report_says_which_messages_were_refused_plain_or_gzip() {
        let plain = decode_report(REPORT.as_bytes(), None).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(REPORT.as_bytes()).unwrap();
        let zipped = decode_report(&gz.finish().unwrap(), Some("GZIP")).unwrap();
        assert_eq!(plain, zipped);
        assert!(plain.refused(8));
        assert!(!plain.refused(7), "a warning does not refuse");
        assert_eq!(plain.summary.messages_accepted, 1);
        assert!(decode_report(b"not gzip", Some("GZIP")).is_err());
        assert!(decode_report(REPORT.as_bytes(), Some("ZSTD")).is_err());
    }

    fn client(endpoint: &str) -> SpApiClient {
        SpApiClient::new(crate::spapi::ClientConfig {
            endpoint: endpoint.to_owned(),
            token_url: "https://api.amazon.com/auth/o2/token".to_owned(),
            credentials: crate::spapi::lwa::LwaCredentials {
                client_id: "id".to_owned(),
                client_secret: secrecy::SecretString::from("secret".to_owned()),
                refresh_token: secrecy::SecretString::from("token".to_owned()),
            },
            default_marketplace: "ATVPDKIKX0DER".to_owned(),
            retry: crate::spapi::RetryPolicy::default(),
            rate_overrides: std::collections::HashMap::new(),
            start_tokens: std::collections::HashMap::new(),
            connect_timeout: std::time::Duration::from_secs(1),
            request_timeout: std::time::Duration::from_secs(1),
        })
        .unwrap()
    }

    #[test]
    fn document_urls_are_followed_to_amazons_s3_or_a_simulators_own_host_only() {
        let amazon = client("https://sellingpartnerapi-na.amazon.com");
        assert!(amazon.document_url_allowed(
            "https://tortuga-prod-na.s3-external-1.amazonaws.com/doc?X-Amz-Signature=x"
        ));
        for bad in [
            "http://tortuga-prod-na.s3-external-1.amazonaws.com/doc",
            "https://amazonaws.com.evil.example/doc",
            "https://sellingpartnerapi-na.amazon.com/doc",
            "https://127.0.0.1/doc",
            "not a url",
        ] {
            assert!(!amazon.document_url_allowed(bad), "{bad}");
        }
        let sim = client("http://127.0.0.1:8787");
        assert!(sim.document_url_allowed("http://127.0.0.1:8787/_sim/documents/d1?sig=1"));
        assert!(!sim.document_url_allowed("http://127.0.0.1:9999/_sim/documents/d1"));
        assert!(!sim.document_url_allowed("http://10.0.0.1:8787/_sim/documents/d1"));
    }

    #[test]
    fn a_feed_answer_needs_an_id_and_a_known_status() {
        let f = decode_feed(
            br#"{"feedId": "F1", "feedType": "JSON_LISTINGS_FEED", "processingStatus": "DONE",
                 "createdTime": "2026-12-01T10:00:00Z", "resultFeedDocumentId": "D9"}"#,
        )
        .unwrap();
        assert_eq!(f.status, FeedStatus::Done);
        assert_eq!(f.result_document_id.as_deref(), Some("D9"));
        assert!(decode_feed(br#"{"feedId": "F1", "processingStatus": "MAYBE"}"#).is_err());
    }
}
