//! Phase 20: FBA inventory, one row per (marketplace, seller SKU).
//!
//! Every quantity of Amazon's inventory summary (with details), Amazon's
//! `lastUpdatedTime`, the raw summary and when a sync last saw it. A SKU that a full
//! scan no longer returns is marked `gone_at`, never deleted, so its history and
//! the orders that name it keep their meaning.

use crate::columns::{id, json, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FbaInventory {
    Table,
    Id,
    MarketplaceId,
    SellerSku,
    Asin,
    FnSku,
    Condition,
    ProductName,
    FulfillableQuantity,
    InboundWorkingQuantity,
    InboundShippedQuantity,
    InboundReceivingQuantity,
    ReservedQuantity,
    UnfulfillableQuantity,
    ResearchingQuantity,
    TotalQuantity,
    LastUpdatedTime,
    Raw,
    SeenAt,
    GoneAt,
    CreatedAt,
    UpdatedAt,
}

fn quantity(name: FbaInventory) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FbaInventory::Table)
                    .col(id(FbaInventory::Id))
                    .col(
                        ColumnDef::new(FbaInventory::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FbaInventory::SellerSku).string().not_null())
                    .col(ColumnDef::new(FbaInventory::Asin).string())
                    .col(ColumnDef::new(FbaInventory::FnSku).string())
                    .col(ColumnDef::new(FbaInventory::Condition).string())
                    .col(ColumnDef::new(FbaInventory::ProductName).text())
                    .col(quantity(FbaInventory::FulfillableQuantity))
                    .col(quantity(FbaInventory::InboundWorkingQuantity))
                    .col(quantity(FbaInventory::InboundShippedQuantity))
                    .col(quantity(FbaInventory::InboundReceivingQuantity))
                    .col(quantity(FbaInventory::ReservedQuantity))
                    .col(quantity(FbaInventory::UnfulfillableQuantity))
                    .col(quantity(FbaInventory::ResearchingQuantity))
                    .col(quantity(FbaInventory::TotalQuantity))
                    .col(timestamp(FbaInventory::LastUpdatedTime))
                    .col(json(FbaInventory::Raw).not_null())
                    .col(timestamp(FbaInventory::SeenAt).not_null())
                    .col(timestamp(FbaInventory::GoneAt))
                    .col(timestamp_now(FbaInventory::CreatedAt))
                    .col(timestamp_now(FbaInventory::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("fba_inventory_marketplace_sku_key")
                    .table(FbaInventory::Table)
                    .col(FbaInventory::MarketplaceId)
                    .col(FbaInventory::SellerSku)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FbaInventory::Table).to_owned())
            .await
    }
}
