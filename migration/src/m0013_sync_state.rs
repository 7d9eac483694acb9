//! Phase 13: what the orders sync needs to resume and to run alone.
//!
//! - `sync_watermark`: per (marketplace, API version), the upper bound of the last
//!   window whose orders are all committed. The next sync starts from it (minus an
//!   overlap), so a crash resumes where it stopped.
//! - `sync_lease`: one row per kind of job; whoever holds an unexpired lease is the
//!   only process allowed to run that job. It is renewed while the job runs and can
//!   be taken over only after it expires (a killed holder cannot block forever).

use crate::columns::{id, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncWatermark {
    Table,
    Id,
    MarketplaceId,
    ApiVersion,
    Watermark,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncLease {
    Table,
    Name,
    Holder,
    RunId,
    AcquiredAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncWatermark::Table)
                    .col(id(SyncWatermark::Id))
                    .col(
                        ColumnDef::new(SyncWatermark::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SyncWatermark::ApiVersion)
                            .string()
                            .not_null()
                            .check(
                                Expr::col(SyncWatermark::ApiVersion).is_in(["2026-01-01", "v0"]),
                            ),
                    )
                    .col(timestamp(SyncWatermark::Watermark).not_null())
                    .col(timestamp_now(SyncWatermark::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sync_watermark_marketplace_version_key")
                    .table(SyncWatermark::Table)
                    .col(SyncWatermark::MarketplaceId)
                    .col(SyncWatermark::ApiVersion)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncLease::Table)
                    .col(
                        ColumnDef::new(SyncLease::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SyncLease::Holder).string().not_null())
                    .col(ColumnDef::new(SyncLease::RunId).big_integer())
                    .col(timestamp(SyncLease::AcquiredAt).not_null())
                    .col(timestamp(SyncLease::ExpiresAt).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncLease::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SyncWatermark::Table).to_owned())
            .await
    }
}
