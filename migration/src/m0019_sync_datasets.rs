//! Phase 19: the sync history and watermarks of more than one dataset.
//!
//! - `sync_runs` counts become generic: `orders_found`, `orders_inserted`,
//!   `orders_updated` and `orders_unchanged` are renamed `found`, `inserted`,
//!   `updated` and `unchanged` (rows of any dataset: orders, inventory summaries…).
//!   Existing rows keep their values.
//! - `sync_cursor` replaces `sync_watermark`: per (dataset, marketplace, scope), the
//!   upper bound of the last fully committed window. The orders watermarks are copied
//!   with `kind = 'orders'` and their API version as the scope, so an upgraded
//!   database resumes where it stood.

use crate::columns::{id, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    OrdersFound,
    OrdersInserted,
    OrdersUpdated,
    OrdersUnchanged,
    Found,
    Inserted,
    Updated,
    Unchanged,
}

#[derive(DeriveIden)]
enum SyncCursor {
    Table,
    Id,
    Kind,
    MarketplaceId,
    Scope,
    Watermark,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncWatermark {
    Table,
    MarketplaceId,
    ApiVersion,
    Watermark,
    UpdatedAt,
}

const RENAMES: [(SyncRuns, SyncRuns); 4] = [
    (SyncRuns::OrdersFound, SyncRuns::Found),
    (SyncRuns::OrdersInserted, SyncRuns::Inserted),
    (SyncRuns::OrdersUpdated, SyncRuns::Updated),
    (SyncRuns::OrdersUnchanged, SyncRuns::Unchanged),
];

async fn rename(manager: &SchemaManager<'_>, back: bool) -> Result<(), DbErr> {
    for (old, new) in RENAMES {
        let (from, to) = if back { (new, old) } else { (old, new) };
        manager
            .alter_table(
                Table::alter()
                    .table(SyncRuns::Table)
                    .rename_column(from, to)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rename(manager, false).await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncCursor::Table)
                    .col(id(SyncCursor::Id))
                    .col(ColumnDef::new(SyncCursor::Kind).string().not_null())
                    .col(
                        ColumnDef::new(SyncCursor::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SyncCursor::Scope)
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .col(timestamp(SyncCursor::Watermark).not_null())
                    .col(timestamp_now(SyncCursor::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sync_cursor_kind_marketplace_scope_key")
                    .table(SyncCursor::Table)
                    .col(SyncCursor::Kind)
                    .col(SyncCursor::MarketplaceId)
                    .col(SyncCursor::Scope)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let copy = Query::insert()
            .into_table(SyncCursor::Table)
            .columns([
                SyncCursor::Kind,
                SyncCursor::MarketplaceId,
                SyncCursor::Scope,
                SyncCursor::Watermark,
                SyncCursor::UpdatedAt,
            ])
            .select_from(
                Query::select()
                    .expr(Expr::val("orders"))
                    .columns([
                        SyncWatermark::MarketplaceId,
                        SyncWatermark::ApiVersion,
                        SyncWatermark::Watermark,
                        SyncWatermark::UpdatedAt,
                    ])
                    .from(SyncWatermark::Table)
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(copy).await?;
        manager
            .drop_table(Table::drop().table(SyncWatermark::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncWatermark::Table)
                    .col(id(Alias::new("id")))
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
        let copy = Query::insert()
            .into_table(SyncWatermark::Table)
            .columns([
                SyncWatermark::MarketplaceId,
                SyncWatermark::ApiVersion,
                SyncWatermark::Watermark,
                SyncWatermark::UpdatedAt,
            ])
            .select_from(
                Query::select()
                    .columns([
                        SyncCursor::MarketplaceId,
                        SyncCursor::Scope,
                        SyncCursor::Watermark,
                        SyncCursor::UpdatedAt,
                    ])
                    .from(SyncCursor::Table)
                    .and_where(Expr::col(SyncCursor::Kind).eq("orders"))
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(copy).await?;
        manager
            .drop_table(Table::drop().table(SyncCursor::Table).to_owned())
            .await?;
        rename(manager, true).await
    }
}
