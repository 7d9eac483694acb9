//! The seller's feeds and feed documents: what the Feeds API (2021-06-30) creates, processes and
//! reports on. Only `JSON_LISTINGS_FEED` is processed.
//!
//! A feed waits `SimConfig::feed_queue_secs` after it is created, and for every feed of the
//! seller created before it (one is processed at a time, in creation order), then is
//! `IN_PROGRESS` for `feed_processing_secs_per_1000_messages` per thousand messages (at least a
//! simulated second). Like the listings' delayed patches, this is computed lazily from the
//! clock whenever something reads the feeds or the listings. When a feed ends, each message is
//! checked with the rules of patchListingsItem against the listing as it stands then, and the
//! accepted ones become listing submissions received at the feed's end: they are applied
//! `listings_apply_delay_secs` later, or never, or fail, exactly as accepted patches.
//!
//! Documents live on the simulator's own host behind presigned URLs
//! (`/_sim/documents/{id}?expires=…&gen=…&signature=…`, HMAC-SHA256 like the NextTokens),
//! valid `feed_document_url_ttl_secs` simulated seconds.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::clock::iso;
use crate::listings::{Change, IssueRec, Listings, PatchKind, PatchOp, validate};
use crate::marketplaces::Marketplace;
use crate::paging::PageTable;

/// The codes of the issues a feed's processing report can carry besides the listing rules of
/// patchListingsItem ([`crate::listing_issue_codes`]). Invented, as those are.
pub mod issue_codes {
    /// Fatal: the document is not JSON, or not a JSON listings feed v2 at the top level
    /// (`header` with `sellerId` and `version` "2.0", a non-empty `messages` array).
    pub const INVALID_DOCUMENT: &str = "4000010";
    /// Fatal: `header.sellerId` is not the seller who submitted the feed.
    pub const WRONG_SELLER: &str = "4000011";
    /// Fatal: more than 25,000 messages.
    pub const TOO_MANY_MESSAGES: &str = "4000012";
    /// Fatal: Amazon could not process the feed (an internal failure, on demand with
    /// `SimHandle::abort_next_feeds`).
    pub const PROCESSING_FAILED: &str = "4000013";
    /// A message that breaks the message schema: `messageId` not an integer in 1..2^31-1,
    /// `sku` not a non-empty string, unknown `operationType`, PATCH without a non-empty
    /// `patches` array of `{op, path}` (op add, replace, merge or delete), PARTIAL_UPDATE
    /// without a non-empty `attributes` object.
    pub const INVALID_MESSAGE: &str = "4000005";
    /// A `messageId` used by an earlier message of the same feed.
    pub const DUPLICATE_MESSAGE_ID: &str = "4000006";
    /// The SKU has no listing in a marketplace of the feed (a feed cannot create listings in
    /// the simulator).
    pub const NOT_LISTED: &str = "4000002";
    /// `UPDATE` and `DELETE` messages: not supported by the simulator.
    pub const UNSUPPORTED_OPERATION: &str = "4000004";
}

use issue_codes as codes;

/// The only feed type the simulator processes.
pub const JSON_LISTINGS_FEED: &str = "JSON_LISTINGS_FEED";

/// Most messages a JSON listings feed may hold (the feed schema's `maxItems`).
pub const MAX_MESSAGES: usize = 25_000;

/// One feed as it stands now: what `SimHandle::feeds` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimFeed {
    pub feed_id: String,
    pub feed_type: String,
    pub marketplace_ids: Vec<String>,
    /// `IN_QUEUE`, `IN_PROGRESS`, `DONE`, `CANCELLED` or `FATAL`.
    pub status: String,
    pub created_time: DateTime<Utc>,
    /// When it ended (DONE, FATAL) or was cancelled.
    pub processing_end_time: Option<DateTime<Utc>>,
    /// Messages in the document (0 for a document that is not a feed).
    pub messages: u64,
    /// Messages accepted (known once DONE).
    pub accepted: u64,
    /// Messages refused with issues (known once DONE).
    pub invalid: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InQueue,
    InProgress,
    Done,
    Cancelled,
    Fatal,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::InQueue => "IN_QUEUE",
            Status::InProgress => "IN_PROGRESS",
            Status::Done => "DONE",
            Status::Cancelled => "CANCELLED",
            Status::Fatal => "FATAL",
        }
    }

    pub const NAMES: [&'static str; 5] = ["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"];
}

/// A feed document: an uploaded input or a processing report.
#[derive(Debug, Clone)]
struct DocRec {
    /// `None` until uploaded.
    bytes: Option<Vec<u8>>,
    content_type: String,
    gzip: bool,
}

/// What the document of a feed held, read when the feed is created.
#[derive(Debug, Clone)]
enum Parsed {
    Fatal { code: &'static str, message: String },
    Messages(Vec<Value>),
}

#[derive(Debug, Clone)]
pub(crate) struct FeedRec {
    pub id: String,
    pub feed_type: String,
    pub marketplaces: Vec<&'static Marketplace>,
    pub created: DateTime<Utc>,
    pub status: Status,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    parsed: Parsed,
    messages: u64,
    accepted: u64,
    invalid: u64,
    pub result_document: Option<String>,
}

impl FeedRec {
    /// The model's `Feed`.
    pub fn render(&self) -> Value {
        let mut feed = json!({
            "feedId": self.id,
            "feedType": self.feed_type,
            "marketplaceIds": self.marketplaces.iter().map(|m| m.id).collect::<Vec<_>>(),
            "createdTime": iso(self.created),
            "processingStatus": self.status.name(),
        });
        if let Some(start) = self.start {
            feed["processingStartTime"] = json!(iso(start));
        }
        if let (Some(end), Status::Done | Status::Fatal | Status::Cancelled) =
            (self.end, self.status)
        {
            feed["processingEndTime"] = json!(iso(end));
        }
        if let Some(doc) = &self.result_document {
            feed["resultFeedDocumentId"] = json!(doc);
        }
        feed
    }

    fn to_public(&self) -> SimFeed {
        SimFeed {
            feed_id: self.id.clone(),
            feed_type: self.feed_type.clone(),
            marketplace_ids: self.marketplaces.iter().map(|m| m.id.to_string()).collect(),
            status: self.status.name().to_string(),
            created_time: self.created,
            processing_end_time: match self.status {
                Status::Done | Status::Fatal | Status::Cancelled => self.end,
                _ => None,
            },
            messages: self.messages,
            accepted: self.accepted,
            invalid: self.invalid,
        }
    }
}

/// A getFeeds query as its nextToken remembers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FeedsQuery {
    pub feed_types: Vec<String>,
    pub marketplaces: Option<Vec<String>>,
    pub statuses: Option<Vec<String>>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub page_size: usize,
}

impl FeedsQuery {
    pub fn matches(&self, f: &FeedRec) -> bool {
        self.feed_types.contains(&f.feed_type)
            && self
                .marketplaces
                .as_ref()
                .is_none_or(|m| f.marketplaces.iter().any(|fm| m.iter().any(|m| m == fm.id)))
            && self
                .statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s == f.status.name()))
            && f.created >= self.since
            && f.created <= self.until
    }
}

/// How feeds behave, from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct FeedsSettings {
    pub seller_id: String,
    pub queue_secs: u64,
    pub processing_secs_per_1000: u64,
    pub report_gzip: bool,
    pub url_ttl_secs: u64,
}

/// Why a presigned URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlError {
    Expired,
    BadSignature,
}

/// A problem of one message, as a report issue.
#[derive(Debug, Clone)]
struct ReportIssue {
    message_id: Option<u64>,
    sku: Option<String>,
    code: &'static str,
    message: String,
    attribute_name: Option<String>,
}

impl ReportIssue {
    fn render(&self) -> Value {
        let mut v = json!({"code": self.code, "severity": "ERROR", "message": self.message});
        if let Some(id) = self.message_id {
            v["messageId"] = json!(id);
        }
        if let Some(sku) = self.sku.as_ref().filter(|s| !s.is_empty()) {
            v["sku"] = json!(sku);
        }
        if let Some(a) = &self.attribute_name {
            v["attributeName"] = json!(a);
        }
        v
    }
}

fn secs(n: u64) -> Duration {
    Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 2_000))
}

pub(crate) struct Feeds {
    settings: FeedsSettings,
    rng: ChaCha8Rng,
    key: [u8; 32],
    /// Signed into every URL; [`Feeds::expire_urls`] moves it on, so every URL issued before
    /// stops working.
    generation: u64,
    documents: HashMap<String, DocRec>,
    feeds: Vec<FeedRec>,
    next_feed: u64,
    /// Upload URLs still to be issued already expired ([`Feeds::expire_next_uploads`]).
    expired_uploads: u32,
    /// Feeds still to be created that end FATAL whatever they carry.
    aborted_feeds: u32,
    /// getFeeds nextTokens, in a table of their own under a key of their own.
    pub pages: PageTable<FeedsQuery>,
}

impl Feeds {
    pub fn new(seed: u64, settings: FeedsSettings, key: [u8; 32]) -> Self {
        let mut pages_key = key;
        pages_key.iter_mut().for_each(|b| *b ^= 0xC3);
        Self {
            settings,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x0FEE_D500_0000_0005),
            key,
            generation: 0,
            documents: HashMap::new(),
            feeds: Vec::new(),
            next_feed: 0,
            expired_uploads: 0,
            aborted_feeds: 0,
            pages: PageTable::new(pages_key),
        }
    }

    fn new_document_id(&mut self) -> String {
        let b: [u8; 16] = self.rng.random();
        let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "amzn1.tortuga.4.na.{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// A new, empty input document.
    pub fn create_document(&mut self, content_type: &str) -> String {
        let id = self.new_document_id();
        self.documents.insert(
            id.clone(),
            DocRec {
                bytes: None,
                content_type: content_type.to_string(),
                gzip: false,
            },
        );
        id
    }

    pub fn has_document(&self, id: &str) -> bool {
        self.documents.contains_key(id)
    }

    pub fn is_gzip(&self, id: &str) -> bool {
        self.documents.get(id).is_some_and(|d| d.gzip)
    }

    fn signature(&self, method: &str, id: &str, expires: i64, generation: u64) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(format!("{method}\n{id}\n{expires}\n{generation}").as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A presigned URL of a document for `method` (`PUT` to upload, `GET` to download) on
    /// `host`, valid `feed_document_url_ttl_secs` from `now`.
    pub fn url(&self, method: &str, id: &str, host: &str, now: DateTime<Utc>) -> String {
        let expires = (now + secs(self.settings.url_ttl_secs)).timestamp();
        let signature = self.signature(method, id, expires, self.generation);
        format!(
            "http://{host}/_sim/documents/{id}?expires={expires}&gen={}&signature={signature}",
            self.generation
        )
    }

    /// Checks a presigned URL's parameters.
    pub fn check_url(
        &self,
        method: &str,
        id: &str,
        expires: Option<&str>,
        generation: Option<&str>,
        signature: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), UrlError> {
        let (Some(expires), Some(generation), Some(signature)) = (
            expires.and_then(|e| e.parse::<i64>().ok()),
            generation.and_then(|g| g.parse::<u64>().ok()),
            signature,
        ) else {
            return Err(UrlError::BadSignature);
        };
        if self.signature(method, id, expires, generation) != signature {
            return Err(UrlError::BadSignature);
        }
        if generation != self.generation || expires <= now.timestamp() {
            return Err(UrlError::Expired);
        }
        Ok(())
    }

    /// An upload URL for a new document: valid `feed_document_url_ttl_secs`, or
    /// already expired while [`Feeds::expire_next_uploads`] asks for it (as when the
    /// upload starts after the five minutes).
    pub fn upload_url(&mut self, id: &str, host: &str, now: DateTime<Utc>) -> String {
        if self.expired_uploads > 0 {
            self.expired_uploads -= 1;
            let expires = now.timestamp() - 1;
            let signature = self.signature("PUT", id, expires, self.generation);
            return format!(
                "http://{host}/_sim/documents/{id}?expires={expires}&gen={}&signature={signature}",
                self.generation
            );
        }
        self.url("PUT", id, host, now)
    }

    /// The next `n` feeds created end FATAL, whatever they carry.
    pub fn abort_next(&mut self, n: u32) {
        self.aborted_feeds = n;
    }

    /// The next `n` upload URLs are issued already expired.
    pub fn expire_next_uploads(&mut self, n: u32) {
        self.expired_uploads = n;
    }

    /// Every URL issued so far expires now.
    pub fn expire_urls(&mut self) {
        self.generation += 1;
    }

    /// Stores uploaded content; false for an unknown document.
    pub fn upload(&mut self, id: &str, bytes: Vec<u8>, content_type: Option<&str>) -> bool {
        let Some(doc) = self.documents.get_mut(id) else {
            return false;
        };
        doc.bytes = Some(bytes);
        if let Some(ct) = content_type {
            doc.content_type = ct.to_string();
        }
        true
    }

    /// The content type and bytes of an uploaded document or a report.
    pub fn download(&self, id: &str) -> Option<(String, Vec<u8>)> {
        let doc = self.documents.get(id)?;
        let bytes = doc.bytes.clone()?;
        let ct = if doc.gzip {
            "application/octet-stream".to_string()
        } else {
            doc.content_type.clone()
        };
        Some((ct, bytes))
    }

    /// Whether the document exists and was uploaded.
    pub fn uploaded(&self, id: &str) -> Option<bool> {
        self.documents.get(id).map(|d| d.bytes.is_some())
    }

    /// Feeds created in `(since, now]`, for the submission limit.
    pub fn created_since(&self, since: DateTime<Utc>) -> usize {
        self.feeds.iter().filter(|f| f.created > since).count()
    }

    /// A new `IN_QUEUE` feed of an uploaded document (the content is read now: later uploads
    /// to the same document do not change it).
    pub fn create(
        &mut self,
        feed_type: &str,
        marketplaces: Vec<&'static Marketplace>,
        document: &str,
        now: DateTime<Utc>,
    ) -> String {
        self.next_feed += 1;
        let id = format!("{}", 50_000_000_000 + self.next_feed);
        let bytes = self
            .documents
            .get(document)
            .and_then(|d| d.bytes.clone())
            .unwrap_or_default();
        let mut parsed = parse_document(&bytes, &self.settings.seller_id);
        if self.aborted_feeds > 0 {
            self.aborted_feeds -= 1;
            parsed = Parsed::Fatal {
                code: issue_codes::PROCESSING_FAILED,
                message: "The feed could not be processed because of an internal failure; submit it again".to_string(),
            };
        }
        let messages = match &parsed {
            Parsed::Messages(m) => m.len() as u64,
            Parsed::Fatal { .. } => 0,
        };
        self.feeds.push(FeedRec {
            id: id.clone(),
            feed_type: feed_type.to_string(),
            marketplaces,
            created: now.trunc_subsecs(0),
            status: Status::InQueue,
            start: None,
            end: None,
            parsed,
            messages,
            accepted: 0,
            invalid: 0,
            result_document: None,
        });
        id
    }

    pub fn get(&self, id: &str) -> Option<&FeedRec> {
        self.feeds.iter().find(|f| f.id == id)
    }

    pub fn records(&self) -> impl Iterator<Item = &FeedRec> {
        self.feeds.iter()
    }

    /// Cancels an `IN_QUEUE` feed; the status it has otherwise. `None`: unknown feed.
    pub fn cancel(&mut self, id: &str, now: DateTime<Utc>) -> Option<Result<(), Status>> {
        let feed = self.feeds.iter_mut().find(|f| f.id == id)?;
        if feed.status != Status::InQueue {
            return Some(Err(feed.status));
        }
        feed.status = Status::Cancelled;
        feed.end = Some(now);
        Some(Ok(()))
    }

    pub fn public(&self) -> Vec<SimFeed> {
        self.feeds.iter().map(FeedRec::to_public).collect()
    }

    fn duration(&self, messages: u64) -> Duration {
        let per = u128::from(self.settings.processing_secs_per_1000);
        let total = (u128::from(messages) * per).div_ceil(1000).max(1);
        secs(u64::try_from(total).unwrap_or(u64::MAX))
    }

    /// Moves the feeds along the clock: one at a time in creation order, each after its queue
    /// time and the end of the one before. A feed that ends is processed at its end time,
    /// after the listings are brought to that time.
    pub fn tick(&mut self, listings: &mut Listings, now: DateTime<Utc>) {
        let queue = secs(self.settings.queue_secs);
        let mut prev_end = self
            .feeds
            .iter()
            .filter(|f| matches!(f.status, Status::Done | Status::Fatal | Status::InProgress))
            .filter_map(|f| f.end)
            .max();
        for n in 0..self.feeds.len() {
            if !matches!(self.feeds[n].status, Status::InQueue | Status::InProgress) {
                continue;
            }
            let duration = self.duration(self.feeds[n].messages);
            let feed = &mut self.feeds[n];
            let start = feed.start.unwrap_or_else(|| {
                let ready = feed.created + queue;
                prev_end.map_or(ready, |p| p.max(ready))
            });
            if start > now {
                break;
            }
            let end = feed.end.unwrap_or(start + duration);
            feed.start = Some(start);
            feed.end = Some(end);
            feed.status = Status::InProgress;
            prev_end = Some(end);
            if end > now {
                break;
            }
            listings.tick(end);
            self.process(n, listings, end);
        }
    }

    fn process(&mut self, n: usize, listings: &mut Listings, end: DateTime<Utc>) {
        let feed = &self.feeds[n];
        let feed_id = feed.id.clone();
        let (status, issues, accepted, invalid) = match &feed.parsed {
            Parsed::Fatal { code, message } => (
                Status::Fatal,
                vec![ReportIssue {
                    message_id: None,
                    sku: None,
                    code,
                    message: message.clone(),
                    attribute_name: None,
                }],
                0,
                0,
            ),
            Parsed::Messages(messages) => {
                let mut issues = Vec::new();
                let mut accepted = 0;
                let mut invalid = 0;
                let mut seen = HashSet::new();
                for message in messages {
                    match check_message(message, &feed.marketplaces, listings, &mut seen) {
                        Ok((id, sku, changes)) => {
                            accepted += 1;
                            for (mp, change) in changes {
                                listings.submit_from_feed(
                                    format!("feed:{feed_id}:{id}"),
                                    (mp, &sku),
                                    change,
                                    end,
                                );
                            }
                        }
                        Err(mut found) => {
                            invalid += 1;
                            issues.append(&mut found);
                        }
                    }
                }
                (Status::Done, issues, accepted, invalid)
            }
        };
        let report = json!({
            "header": {
                "sellerId": self.settings.seller_id,
                "version": "2.0",
                "feedId": feed_id,
            },
            "issues": issues.iter().map(ReportIssue::render).collect::<Vec<_>>(),
            "summary": {
                "errors": issues.len(),
                "warnings": 0,
                "messagesProcessed": accepted + invalid,
                "messagesAccepted": accepted,
                "messagesInvalid": invalid,
            },
        });
        let text = report.to_string().into_bytes();
        let gzip = self.settings.report_gzip;
        let bytes = if gzip { gzip_bytes(&text) } else { text };
        let doc_id = self.new_document_id();
        self.documents.insert(
            doc_id.clone(),
            DocRec {
                bytes: Some(bytes),
                content_type: "application/json; charset=UTF-8".into(),
                gzip,
            },
        );
        let feed = &mut self.feeds[n];
        feed.status = status;
        feed.accepted = accepted;
        feed.invalid = invalid;
        feed.result_document = Some(doc_id);
    }
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    if encoder.write_all(data).is_err() {
        return data.to_vec();
    }
    encoder.finish().unwrap_or_else(|_| data.to_vec())
}

/// Reads a feed document at the top level (listings-feed-schema-v2: `header` with `sellerId`
/// and `version` "2.0", `messages` an array of 1 to 25,000 items).
fn parse_document(bytes: &[u8], seller_id: &str) -> Parsed {
    let fatal = |code, message: String| Parsed::Fatal { code, message };
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return fatal(
                codes::INVALID_DOCUMENT,
                format!(
                    "The feed document is not valid JSON ({e}): a JSON_LISTINGS_FEED document is a JSON object {{\"header\": …, \"messages\": […]}} (listings-feed-schema-v2)."
                ),
            );
        }
    };
    let shape = |what: &str| {
        fatal(
            codes::INVALID_DOCUMENT,
            format!(
                "The feed document does not match the JSON listings feed schema (listings-feed-schema-v2): {what}."
            ),
        )
    };
    let Some(obj) = value.as_object() else {
        return shape("the document must be a JSON object");
    };
    let Some(header) = obj.get("header").and_then(Value::as_object) else {
        return shape("'header' (an object with sellerId and version) is required");
    };
    let Some(seller) = header.get("sellerId").and_then(Value::as_str) else {
        return shape("'header.sellerId' (a string) is required");
    };
    if header.get("version").and_then(Value::as_str) != Some("2.0") {
        return shape("'header.version' must be \"2.0\"");
    }
    let Some(messages) = obj.get("messages").and_then(Value::as_array) else {
        return shape("'messages' (an array of messages) is required");
    };
    if seller != seller_id {
        return fatal(
            codes::WRONG_SELLER,
            format!(
                "header.sellerId {seller:?} is not the selling partner that submitted the feed ({seller_id})."
            ),
        );
    }
    if messages.is_empty() {
        return shape("'messages' must hold at least one message");
    }
    if messages.len() > MAX_MESSAGES {
        return fatal(
            codes::TOO_MANY_MESSAGES,
            format!(
                "The feed holds {} messages; a JSON_LISTINGS_FEED may hold at most {MAX_MESSAGES}. Split it into several feeds.",
                messages.len()
            ),
        );
    }
    Parsed::Messages(messages.clone())
}

fn issue(id: Option<u64>, sku: &str, code: &'static str, message: String) -> ReportIssue {
    ReportIssue {
        message_id: id,
        sku: Some(sku.to_string()),
        code,
        message,
        attribute_name: None,
    }
}

fn from_listing_issue(id: u64, sku: &str, i: IssueRec) -> ReportIssue {
    ReportIssue {
        message_id: Some(id),
        sku: Some(sku.to_string()),
        code: i.code,
        message: i.message,
        attribute_name: i.attribute_names.into_iter().next(),
    }
}

type Accepted = (u64, String, Vec<(&'static Marketplace, Change)>);

/// Checks one message with the rules of patchListingsItem, in every marketplace of the feed:
/// its id, SKU and the change it makes per marketplace, or its issues.
fn check_message(
    message: &Value,
    marketplaces: &[&'static Marketplace],
    listings: &Listings,
    seen: &mut HashSet<u64>,
) -> Result<Accepted, Vec<ReportIssue>> {
    let sku = message
        .get("sku")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(id) = message
        .get("messageId")
        .and_then(Value::as_u64)
        .filter(|id| (1..=2_147_483_647).contains(id))
    else {
        return Err(vec![issue(
            None,
            &sku,
            codes::INVALID_MESSAGE,
            "messageId must be an integer from 1 to 2147483647.".into(),
        )]);
    };
    if !seen.insert(id) {
        return Err(vec![issue(
            Some(id),
            &sku,
            codes::DUPLICATE_MESSAGE_ID,
            format!("messageId {id} is used by an earlier message of this feed."),
        )]);
    }
    let invalid = |m: String| Err(vec![issue(Some(id), &sku, codes::INVALID_MESSAGE, m)]);
    if sku.is_empty() {
        return invalid("sku must be a non-empty string.".into());
    }
    let patches = match message.get("operationType").and_then(Value::as_str) {
        Some("PATCH") => {
            let Some(items) = message
                .get("patches")
                .and_then(Value::as_array)
                .filter(|p| !p.is_empty())
            else {
                return invalid(
                    "A PATCH message needs 'patches', a non-empty array of {\"op\", \"path\", \"value\"} objects."
                        .into(),
                );
            };
            let mut ops = Vec::new();
            for (n, p) in items.iter().enumerate() {
                let Some(kind) = p
                    .get("op")
                    .and_then(Value::as_str)
                    .and_then(PatchKind::parse)
                else {
                    return invalid(format!(
                        "patches[{n}].op must be one of add, replace, merge, delete."
                    ));
                };
                let Some(path) = p.get("path").and_then(Value::as_str) else {
                    return invalid(format!("patches[{n}].path must be a string."));
                };
                ops.push(PatchOp {
                    kind,
                    path: path.to_string(),
                    value: p.get("value").cloned(),
                });
            }
            ops
        }
        Some("PARTIAL_UPDATE") => {
            let Some(attributes) = message
                .get("attributes")
                .and_then(Value::as_object)
                .filter(|a| !a.is_empty())
            else {
                return invalid(
                    "A PARTIAL_UPDATE message needs 'attributes', a non-empty object.".into(),
                );
            };
            // "PARTIAL_UPDATE is equivalent to using PATCH with the replace op" (the schema).
            attributes
                .iter()
                .map(|(name, value)| PatchOp {
                    kind: PatchKind::Replace,
                    path: format!("/attributes/{name}"),
                    value: Some(value.clone()),
                })
                .collect()
        }
        Some(op @ ("UPDATE" | "DELETE")) => {
            return Err(vec![issue(
                Some(id),
                &sku,
                codes::UNSUPPORTED_OPERATION,
                format!(
                    "operationType {op} is not supported by the simulator; use PATCH or PARTIAL_UPDATE."
                ),
            )]);
        }
        other => {
            return invalid(format!(
                "operationType must be one of UPDATE, PARTIAL_UPDATE, PATCH, DELETE; {} was given.",
                other.map_or_else(|| "nothing".to_string(), |o| format!("{o:?}"))
            ));
        }
    };
    let product_type = message.get("productType").and_then(Value::as_str);
    let mut issues = Vec::new();
    let mut changes = Vec::new();
    for &mp in marketplaces {
        let Some(rec) = listings.get(mp.id, &sku) else {
            issues.push(issue(
                Some(id),
                &sku,
                codes::NOT_LISTED,
                format!(
                    "SKU {sku:?} is not listed in marketplace {}: a feed can only change existing listings here.",
                    mp.id
                ),
            ));
            continue;
        };
        match validate(rec, product_type, &patches) {
            Ok(change) => changes.push((mp, change)),
            Err(found) => issues.extend(found.into_iter().map(|i| from_listing_issue(id, &sku, i))),
        }
    }
    if issues.is_empty() {
        Ok((id, sku, changes))
    } else {
        Err(issues)
    }
}
