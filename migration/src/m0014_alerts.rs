//! Phase 14: the sync monitor's alerts, one row per kind, so that each alert fires
//! once when its condition starts and clears once when it ends, across restarts
//! and processes.

use crate::columns::{timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Kind,
    Active,
    Since,
    Message,
    ClearedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .col(
                        ColumnDef::new(Alerts::Kind)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Alerts::Active).boolean().not_null())
                    .col(timestamp(Alerts::Since).not_null())
                    .col(ColumnDef::new(Alerts::Message).text().not_null())
                    .col(timestamp(Alerts::ClearedAt))
                    .col(timestamp_now(Alerts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alerts::Table).to_owned())
            .await
    }
}
