//! Phase 8 (design 10.2): orders sync tracking on the connection.

use crate::columns::{add_columns, drop_columns, timestamp};
use crate::m0004_amazon_connection::AmazonConnection;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cols {
    LastOrdersSyncAt,
    LastOrdersSyncStatus,
    LastOrdersSyncError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            AmazonConnection::Table,
            vec![
                timestamp(Cols::LastOrdersSyncAt),
                ColumnDef::new(Cols::LastOrdersSyncStatus)
                    .string()
                    .to_owned(),
                ColumnDef::new(Cols::LastOrdersSyncError).text().to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            AmazonConnection::Table,
            vec![
                Cols::LastOrdersSyncAt.into_iden(),
                Cols::LastOrdersSyncStatus.into_iden(),
                Cols::LastOrdersSyncError.into_iden(),
            ],
        )
        .await
    }
}
