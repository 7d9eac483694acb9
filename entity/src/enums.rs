//! The closed sets of values the schema's CHECK constraints allow, as Rust enums, and
//! the order status (one stored spelling, open to statuses Amazon adds).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a signed-in user may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    /// Everything, including credentials and syncs. The first registered user.
    #[sea_orm(string_value = "owner")]
    Owner,
    /// Read-only.
    #[sea_orm(string_value = "viewer")]
    Viewer,
}

/// The SP-API region a seller account lives in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Region {
    /// North America.
    #[sea_orm(string_value = "NA")]
    Na,
    /// Europe, Middle East, India and Africa.
    #[sea_orm(string_value = "EU")]
    Eu,
    /// Far East.
    #[sea_orm(string_value = "FE")]
    Fe,
}

/// Which Orders API the sync speaks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    Default,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OrdersApiVersion {
    /// `searchOrders`, items inline. The default.
    #[default]
    #[sea_orm(string_value = "2026-01-01")]
    V2026_01_01,
    /// `getOrders` + `getOrderItems`; deprecated, removed by Amazon on 2027-03-27.
    #[sea_orm(string_value = "v0")]
    V0,
}

/// Which dataset a sync run brought in (`sync_runs.kind`). Each dataset that
/// plugs into the sync framework adds its variant here.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncKind {
    /// Orders and their items.
    #[sea_orm(string_value = "orders")]
    Orders,
    /// FBA inventory summaries.
    #[sea_orm(string_value = "inventory")]
    Inventory,
    /// Financial transactions (Finances 2024-06-19).
    #[sea_orm(string_value = "transactions")]
    Transactions,
    /// The seller's listings (Listings Items 2021-08-01).
    #[sea_orm(string_value = "listings")]
    Listings,
}

impl SyncKind {
    /// The stored spelling, e.g. `orders`, also used in logs and messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Inventory => "inventory",
            Self::Transactions => "transactions",
            Self::Listings => "listings",
        }
    }
}

/// What the money of a breakdown leaf is, for sums per order and per day.
///
/// Decided once, when the transaction is written, from the transaction's type and
/// the leaf's path in the tree (see `service::finances::categorize`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum BreakdownCategory {
    /// What the buyer paid for the goods and their shipping (principal, shipping
    /// and gift-wrap charges), in a sale.
    #[sea_orm(string_value = "sales")]
    Sales,
    /// Tax collected in a sale.
    #[sea_orm(string_value = "tax")]
    Tax,
    /// Promotions (discounts, usually negative) in a sale.
    #[sea_orm(string_value = "promotion")]
    Promotion,
    /// Amazon's fees (referral, FBA, subscription…) and their refunds.
    #[sea_orm(string_value = "fee")]
    Fee,
    /// What a refund gives back to the buyer (principal, tax, shipping).
    #[sea_orm(string_value = "refund")]
    Refund,
    /// Money paid out to (or charged from) the seller's bank account.
    #[sea_orm(string_value = "transfer")]
    Transfer,
    /// Anything else (adjustments, reimbursements…): part of net proceeds.
    #[sea_orm(string_value = "other")]
    Other,
}

/// What started a sync run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncTrigger {
    /// A person, through the API.
    #[sea_orm(string_value = "manual")]
    Manual,
    /// The worker's schedule.
    #[sea_orm(string_value = "schedule")]
    Schedule,
    /// `worker sync` on the command line.
    #[sea_orm(string_value = "cli")]
    Cli,
    /// Demo mode against the local simulator.
    #[sea_orm(string_value = "demo")]
    Demo,
}

/// Where a sync run stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncStatus {
    /// Started and not yet finished.
    #[sea_orm(string_value = "running")]
    Running,
    /// Finished; everything it read is committed.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Stopped on an error (see `error`).
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Cancelled or cut short by shutdown; resumes from the watermark next time.
    #[sea_orm(string_value = "interrupted")]
    Interrupted,
}

impl OrdersApiVersion {
    /// The stored spelling (`2026-01-01` or `v0`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2026_01_01 => "2026-01-01",
            Self::V0 => "v0",
        }
    }
}

impl SyncStatus {
    /// The stored spelling (`running`, `succeeded`, `failed`, `interrupted`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// Where an order stands (`amazon_order.order_status`, `orders.status`), stored in
/// one spelling: the Orders v0 one (`PartiallyShipped`). Both APIs' spellings and
/// the British `Cancelled` read as the same status; a status Amazon adds later is
/// kept as received in [`OrderStatus::Other`], never lost.
#[derive(Debug, Clone, PartialEq, Eq, Hash, DeriveValueType, Serialize, Deserialize)]
#[sea_orm(value_type = "String")]
pub enum OrderStatus {
    /// Not yet available for purchase (pre-orders).
    PendingAvailability,
    /// Placed, payment not yet authorized.
    Pending,
    /// Paid, nothing shipped yet.
    Unshipped,
    /// Some items shipped.
    PartiallyShipped,
    /// Everything shipped.
    Shipped,
    /// Canceled.
    Canceled,
    /// Shipped, invoice not yet confirmed (some marketplaces).
    InvoiceUnconfirmed,
    /// Cannot be fulfilled (multi-channel fulfillment).
    Unfulfillable,
    /// A status this version does not know, as Amazon sent it.
    Other(String),
}

impl OrderStatus {
    /// Every status this version knows.
    pub const KNOWN: [Self; 8] = [
        Self::PendingAvailability,
        Self::Pending,
        Self::Unshipped,
        Self::PartiallyShipped,
        Self::Shipped,
        Self::Canceled,
        Self::InvoiceUnconfirmed,
        Self::Unfulfillable,
    ];

    /// Reads a status in any spelling: v0 (`PartiallyShipped`), 2026-01-01
    /// (`PARTIALLY_SHIPPED`), British (`Cancelled`); anything else is
    /// [`OrderStatus::Other`], trimmed.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let key: String = text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        match key.as_str() {
            "PENDINGAVAILABILITY" => Self::PendingAvailability,
            "PENDING" => Self::Pending,
            "UNSHIPPED" => Self::Unshipped,
            "PARTIALLYSHIPPED" => Self::PartiallyShipped,
            "SHIPPED" => Self::Shipped,
            "CANCELED" | "CANCELLED" => Self::Canceled,
            "INVOICEUNCONFIRMED" => Self::InvoiceUnconfirmed,
            "UNFULFILLABLE" => Self::Unfulfillable,
            _ => Self::Other(text.trim().to_owned()),
        }
    }

    /// The stored spelling.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::PendingAvailability => "PendingAvailability",
            Self::Pending => "Pending",
            Self::Unshipped => "Unshipped",
            Self::PartiallyShipped => "PartiallyShipped",
            Self::Shipped => "Shipped",
            Self::Canceled => "Canceled",
            Self::InvoiceUnconfirmed => "InvoiceUnconfirmed",
            Self::Unfulfillable => "Unfulfillable",
            Self::Other(text) => text,
        }
    }

    /// Placed but not priced by Amazon yet (counted, without revenue).
    #[must_use]
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Pending | Self::PendingAvailability)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = sea_orm::sea_query::ValueTypeErr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus;

    #[test]
    fn every_spelling_of_a_status_reads_as_one_and_is_stored_in_v0_spelling() {
        for (text, status) in [
            ("PartiallyShipped", OrderStatus::PartiallyShipped),
            ("PARTIALLY_SHIPPED", OrderStatus::PartiallyShipped),
            ("Canceled", OrderStatus::Canceled),
            ("CANCELLED", OrderStatus::Canceled),
            ("Cancelled", OrderStatus::Canceled),
            ("PENDING_AVAILABILITY", OrderStatus::PendingAvailability),
        ] {
            assert_eq!(OrderStatus::parse(text), status, "{text}");
        }
        for status in OrderStatus::KNOWN {
            assert_eq!(OrderStatus::parse(status.as_str()), status);
        }
        assert_eq!(OrderStatus::PartiallyShipped.as_str(), "PartiallyShipped");
    }

    #[test]
    fn a_status_amazon_adds_later_is_kept_as_received() {
        let s = OrderStatus::parse("ON_HOLD_FOR_REVIEW");
        assert_eq!(s, OrderStatus::Other("ON_HOLD_FOR_REVIEW".to_owned()));
        assert_eq!(s.as_str(), "ON_HOLD_FOR_REVIEW");
    }
}

/// Where a queued listing change stands (`listing_change.state`), stored as
/// GraphQL spells it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ListingChangeState {
    /// Queued; not checked or sent yet.
    #[sea_orm(string_value = "QUEUED")]
    Queued,
    /// A dry run (Amazon's `VALIDATION_PREVIEW`) found nothing wrong; nothing was changed.
    #[sea_orm(string_value = "VALIDATED")]
    Validated,
    /// The live price moved since it was queued (a repricer, Seller Central): it waits
    /// for the owner to override or cancel it.
    #[sea_orm(string_value = "CONFLICT")]
    Conflict,
    /// Sent and accepted by Amazon; waiting for it to show on the listing.
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    /// Two-phase: the new price is live; the quantity follows.
    #[sea_orm(string_value = "PRICE_LIVE")]
    PriceLive,
    /// Everything it asked for is live on Amazon.
    #[sea_orm(string_value = "DONE")]
    Done,
    /// Accepted, but not live on Amazon before the deadline.
    #[sea_orm(string_value = "NOT_APPLIED")]
    NotApplied,
    /// Refused by a check or by Amazon (see its issues).
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Cancelled by the owner.
    #[sea_orm(string_value = "CANCELED")]
    Canceled,
}

impl ListingChangeState {
    /// Whether nothing more happens to it.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Done | Self::NotApplied | Self::Failed | Self::Canceled
        )
    }
}

/// How the owner asked a listing change to go to Amazon (`listing_change.submit_via`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SubmitVia {
    /// A feed when the submission is large (`LISTINGS_FEED_THRESHOLD`), patches
    /// otherwise; settled to `Patch` or `Feed` at the first send.
    #[default]
    #[sea_orm(string_value = "AUTO")]
    Auto,
    /// One `patchListingsItem` per SKU.
    #[sea_orm(string_value = "PATCH")]
    Patch,
    /// A `JSON_LISTINGS_FEED` document with one message per SKU.
    #[sea_orm(string_value = "FEED")]
    Feed,
}

/// Where a listings feed stands (`listing_feed.state`): ours before Amazon has
/// it, then Amazon's processing status.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ListingFeedState {
    /// Its document is being uploaded; Amazon has no feed yet.
    #[sea_orm(string_value = "PREPARING")]
    Preparing,
    /// Waiting at Amazon (perhaps behind the seller's other feeds).
    #[sea_orm(string_value = "IN_QUEUE")]
    InQueue,
    /// Being processed by Amazon.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// Processed: its report says what was accepted.
    #[sea_orm(string_value = "DONE")]
    Done,
    /// Cancelled before Amazon started it.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Aborted by Amazon.
    #[sea_orm(string_value = "FATAL")]
    Fatal,
}

impl ListingFeedState {
    /// Whether Amazon is done with it.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Cancelled | Self::Fatal)
    }
}

/// What became of one message of a listings feed (`listing_feed_item.result`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ListingFeedItemResult {
    /// The feed is not finished.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Amazon accepted the message (it still has to show on the listing).
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Amazon refused the message (see its issues).
    #[sea_orm(string_value = "INVALID")]
    Invalid,
    /// The feed was cancelled or aborted before the message counted.
    #[sea_orm(string_value = "NOT_PROCESSED")]
    NotProcessed,
}
