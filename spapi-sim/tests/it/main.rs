//! Integration tests of spapi-sim: a real server on 127.0.0.1:0, driven with reqwest.
//! One test binary (modules below) keeps link time down on a small machine.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic on an unexpected value is the failed assertion"
)]

mod common;

mod control;
mod faults;
mod feeds;
mod generator;
mod inventory;
mod limits;
mod listings;
mod lwa;
mod paging;
mod sandbox;
mod schema;
mod settlements;
mod transactions;
mod validation;
