//! The schema's history: numbered migrations, one phase each, append-only.
//!
//! A migration that has landed is never edited; a change to the schema is a new
//! numbered file. Every migration has a working `down`. Migrations carry reference
//! data only (the marketplaces), never test data.

#![expect(
    clippy::enum_variant_names,
    reason = "DeriveIden variant names are the SQL table and column names"
)]

pub use sea_orm_migration::prelude::*;

mod columns;
mod m0001_users;
mod m0002_marketplaces;
mod m0003_orders;
mod m0004_amazon_connection;
mod m0005_amazon_credential;
mod m0006_sync_runs;
mod m0007_amazon_connection_last_check;
mod m0008_amazon_connection_orders_sync;
mod m0009_amazon_order;
mod m0010_amazon_order_item;
mod m0011_order_items_source_marketplace_currency_nullable;
mod m0012_amazon_connection_orders_sync_counts;
mod m0013_sync_state;
mod m0014_alerts;
mod m0015_amazon_connection_timezone;
mod m0016_orders_listing_indexes;
mod m0017_item_order_purchase_date;
mod m0018_users_token_version;
mod m0019_sync_datasets;
mod m0020_fba_inventory;
mod m0021_order_status_one_spelling;
mod m0022_amazon_transactions;
mod m0023_listings;
mod m0024_listing_feeds;
mod m0025_users_must_change_password;

/// The embedded database a fresh checkout uses when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://data/app.sqlite?mode=rwc";

/// Every migration, in the order it is applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_users::Migration),
            Box::new(m0002_marketplaces::Migration),
            Box::new(m0003_orders::Migration),
            Box::new(m0004_amazon_connection::Migration),
            Box::new(m0005_amazon_credential::Migration),
            Box::new(m0006_sync_runs::Migration),
            Box::new(m0007_amazon_connection_last_check::Migration),
            Box::new(m0008_amazon_connection_orders_sync::Migration),
            Box::new(m0009_amazon_order::Migration),
            Box::new(m0010_amazon_order_item::Migration),
            Box::new(m0011_order_items_source_marketplace_currency_nullable::Migration),
            Box::new(m0012_amazon_connection_orders_sync_counts::Migration),
            Box::new(m0013_sync_state::Migration),
            Box::new(m0014_alerts::Migration),
            Box::new(m0015_amazon_connection_timezone::Migration),
            Box::new(m0016_orders_listing_indexes::Migration),
            Box::new(m0017_item_order_purchase_date::Migration),
            Box::new(m0018_users_token_version::Migration),
            Box::new(m0019_sync_datasets::Migration),
            Box::new(m0020_fba_inventory::Migration),
            Box::new(m0021_order_status_one_spelling::Migration),
            Box::new(m0022_amazon_transactions::Migration),
            Box::new(m0023_listings::Migration),
            Box::new(m0024_listing_feeds::Migration),
            Box::new(m0025_users_must_change_password::Migration),
        ]
    }
}
