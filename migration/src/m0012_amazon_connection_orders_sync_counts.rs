//! Phase 12 (design 10.5): what the last orders sync counted, on the connection.

use crate::columns::{add_columns, drop_columns};
use crate::m0004_amazon_connection::AmazonConnection;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cols {
    LastOrdersSyncOrdersCount,
    LastOrdersSyncItemsCount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            AmazonConnection::Table,
            vec![
                ColumnDef::new(Cols::LastOrdersSyncOrdersCount)
                    .big_integer()
                    .to_owned(),
                ColumnDef::new(Cols::LastOrdersSyncItemsCount)
                    .big_integer()
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            AmazonConnection::Table,
            vec![
                Cols::LastOrdersSyncOrdersCount.into_iden(),
                Cols::LastOrdersSyncItemsCount.into_iden(),
            ],
        )
        .await
    }
}
