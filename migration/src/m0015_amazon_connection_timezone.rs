//! Phase 15: the seller's time zone on the connection, for daily sales reports.
//!
//! Nullable: null means "the time zone of the connection's first marketplace"
//! (`service::reports::marketplace_time_zone`). No index is added: `salesDaily`
//! reads a purchase-date range through `amazon_order_purchase_date_id_idx` (or
//! `amazon_order_marketplace_purchase_date_idx` for one marketplace), both phase 9.

use crate::columns::{add_columns, drop_columns};
use crate::m0004_amazon_connection::AmazonConnection;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cols {
    Timezone,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            AmazonConnection::Table,
            vec![ColumnDef::new(Cols::Timezone).string().to_owned()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            AmazonConnection::Table,
            vec![Cols::Timezone.into_iden()],
        )
        .await
    }
}
