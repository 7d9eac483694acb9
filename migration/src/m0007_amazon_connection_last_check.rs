//! Phase 7 (design 10.1c): the last SP-API ping result on the connection.

use crate::columns::{add_columns, drop_columns, timestamp};
use crate::m0004_amazon_connection::AmazonConnection;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cols {
    LastCheckAt,
    LastCheckOk,
    LastCheckError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            AmazonConnection::Table,
            vec![
                timestamp(Cols::LastCheckAt),
                ColumnDef::new(Cols::LastCheckOk).boolean().to_owned(),
                ColumnDef::new(Cols::LastCheckError).text().to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            AmazonConnection::Table,
            vec![
                Cols::LastCheckAt.into_iden(),
                Cols::LastCheckOk.into_iden(),
                Cols::LastCheckError.into_iden(),
            ],
        )
        .await
    }
}
