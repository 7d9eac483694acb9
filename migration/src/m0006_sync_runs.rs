//! Phase 6: one row per sync run, manual or scheduled, real or dry (the `sync_logs`
//! of the original design), with what it read, what it wrote and how it ended.

use crate::columns::{id, json, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    Kind,
    Trigger,
    Status,
    DryRun,
    IncludeItems,
    ApiVersion,
    WindowStart,
    WindowEnd,
    Pages,
    ApiCalls,
    Throttled,
    OrdersFound,
    OrdersInserted,
    OrdersUpdated,
    OrdersUnchanged,
    ItemsUpserted,
    Error,
    Metadata,
    StartedAt,
    FinishedAt,
}

fn counter(name: SyncRuns) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.big_integer().not_null().default(0);
    col
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .col(id(SyncRuns::Id))
                    .col(ColumnDef::new(SyncRuns::Kind).string().not_null())
                    .col(ColumnDef::new(SyncRuns::Trigger).string().not_null().check(
                        Expr::col(SyncRuns::Trigger).is_in(["manual", "schedule", "cli", "demo"]),
                    ))
                    .col(ColumnDef::new(SyncRuns::Status).string().not_null().check(
                        Expr::col(SyncRuns::Status).is_in([
                            "running",
                            "succeeded",
                            "failed",
                            "interrupted",
                        ]),
                    ))
                    .col(
                        ColumnDef::new(SyncRuns::DryRun)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(SyncRuns::IncludeItems)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(ColumnDef::new(SyncRuns::ApiVersion).string())
                    .col(timestamp(SyncRuns::WindowStart))
                    .col(timestamp(SyncRuns::WindowEnd))
                    .col(counter(SyncRuns::Pages))
                    .col(counter(SyncRuns::ApiCalls))
                    .col(counter(SyncRuns::Throttled))
                    .col(counter(SyncRuns::OrdersFound))
                    .col(counter(SyncRuns::OrdersInserted))
                    .col(counter(SyncRuns::OrdersUpdated))
                    .col(counter(SyncRuns::OrdersUnchanged))
                    .col(counter(SyncRuns::ItemsUpserted))
                    .col(ColumnDef::new(SyncRuns::Error).text())
                    .col(json(SyncRuns::Metadata))
                    .col(timestamp_now(SyncRuns::StartedAt))
                    .col(timestamp(SyncRuns::FinishedAt))
                    .to_owned(),
            )
            .await?;
        // Sync history is read newest first, and the monitor asks for the running or
        // last failed runs by status.
        manager
            .create_index(
                Index::create()
                    .name("sync_runs_started_at_idx")
                    .table(SyncRuns::Table)
                    .col(SyncRuns::StartedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sync_runs_status_started_at_idx")
                    .table(SyncRuns::Table)
                    .col(SyncRuns::Status)
                    .col(SyncRuns::StartedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncRuns::Table).to_owned())
            .await
    }
}
