//! SeaORM entities: the database tables as Rust types, one module per table.
//!
//! They match the migrations of the `migration` crate column for column (a test in
//! `tests/` checks it on SQLite and PostgreSQL). This crate knows nothing of GraphQL
//! or HTTP; the `api` crate maps these models to its own types.

pub mod alerts;
pub mod amazon_connection;
pub mod amazon_credential;
pub mod amazon_listing;
pub mod amazon_order;
pub mod amazon_order_item;
pub mod amazon_transaction;
pub mod amazon_transaction_breakdown;
pub mod amazon_transaction_related;
pub mod enums;
pub mod fba_inventory;
pub mod listing_change;
pub mod listing_change_history;
pub mod listing_feed;
pub mod listing_feed_item;
pub mod marketplaces;
pub mod money;
pub mod order_items;
pub mod orders;
pub mod sync_cursor;
pub mod sync_lease;
pub mod sync_runs;
pub mod users;

pub use money::Amount;

/// Every entity, for code that must visit each table (tests, tools).
pub mod prelude {
    pub use crate::alerts::Entity as Alerts;
    pub use crate::amazon_connection::Entity as AmazonConnection;
    pub use crate::amazon_credential::Entity as AmazonCredential;
    pub use crate::amazon_listing::Entity as AmazonListing;
    pub use crate::amazon_order::Entity as AmazonOrder;
    pub use crate::amazon_order_item::Entity as AmazonOrderItem;
    pub use crate::amazon_transaction::Entity as AmazonTransaction;
    pub use crate::amazon_transaction_breakdown::Entity as AmazonTransactionBreakdown;
    pub use crate::amazon_transaction_related::Entity as AmazonTransactionRelated;
    pub use crate::fba_inventory::Entity as FbaInventory;
    pub use crate::listing_change::Entity as ListingChange;
    pub use crate::listing_change_history::Entity as ListingChangeHistory;
    pub use crate::listing_feed::Entity as ListingFeed;
    pub use crate::listing_feed_item::Entity as ListingFeedItem;
    pub use crate::marketplaces::Entity as Marketplaces;
    pub use crate::order_items::Entity as OrderItems;
    pub use crate::orders::Entity as Orders;
    pub use crate::sync_cursor::Entity as SyncCursor;
    pub use crate::sync_lease::Entity as SyncLease;
    pub use crate::sync_runs::Entity as SyncRuns;
    pub use crate::users::Entity as Users;
}
