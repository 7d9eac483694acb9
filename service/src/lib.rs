//! The application's logic, shared by the `api` and `worker` binaries: settings,
//! the database connection, and (as they land) the SP-API client, sealed
//! credentials, the orders sync, ping and the sync lease.
//!
//! Errors here are typed (`thiserror`); the binaries explain them to the user.

pub mod amazon_account;
pub mod auth;
pub mod backup;
pub mod db;
pub mod finances;
pub mod inventory;
pub mod lease;
pub mod listings;
pub mod marketplaces;
pub mod monitor;
pub mod orders;
pub mod ping;
pub mod reports;
pub mod settings;
pub mod spapi;
pub mod sync;
pub mod telemetry;

pub use settings::Settings;
