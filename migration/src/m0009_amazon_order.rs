//! Phase 9 (design 10.3): orders as Amazon reports them, one row per order and
//! marketplace, with the raw payload kept.

use crate::columns::{id, json, money, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum AmazonOrder {
    Table,
    Id,
    AmazonOrderId,
    MarketplaceId,
    PurchaseDate,
    LastUpdateDate,
    OrderStatus,
    FulfillmentChannel,
    OrderTotalCurrency,
    OrderTotalAmount,
    NumberOfItemsShipped,
    NumberOfItemsUnshipped,
    IsPrime,
    IsBusinessOrder,
    RawPayload,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(AmazonOrder::Table)
                    .col(id(AmazonOrder::Id))
                    .col(
                        ColumnDef::new(AmazonOrder::AmazonOrderId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonOrder::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(timestamp(AmazonOrder::PurchaseDate).not_null())
                    .col(timestamp(AmazonOrder::LastUpdateDate).not_null())
                    .col(ColumnDef::new(AmazonOrder::OrderStatus).string().not_null())
                    .col(ColumnDef::new(AmazonOrder::FulfillmentChannel).string())
                    .col(ColumnDef::new(AmazonOrder::OrderTotalCurrency).string())
                    // Pending orders have no total yet: nullable on purpose.
                    .col(money(backend, AmazonOrder::OrderTotalAmount))
                    .col(ColumnDef::new(AmazonOrder::NumberOfItemsShipped).integer())
                    .col(ColumnDef::new(AmazonOrder::NumberOfItemsUnshipped).integer())
                    .col(
                        ColumnDef::new(AmazonOrder::IsPrime)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(AmazonOrder::IsBusinessOrder)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(json(AmazonOrder::RawPayload).not_null())
                    .col(timestamp_now(AmazonOrder::CreatedAt))
                    .col(timestamp_now(AmazonOrder::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("amazon_order_order_marketplace_key")
                    .table(AmazonOrder::Table)
                    .col(AmazonOrder::AmazonOrderId)
                    .col(AmazonOrder::MarketplaceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // "Newest first" listing with keyset paging on (purchase_date, id).
        manager
            .create_index(
                Index::create()
                    .name("amazon_order_purchase_date_id_idx")
                    .table(AmazonOrder::Table)
                    .col((AmazonOrder::PurchaseDate, IndexOrder::Desc))
                    .col((AmazonOrder::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        // The same listing filtered by marketplace.
        manager
            .create_index(
                Index::create()
                    .name("amazon_order_marketplace_purchase_date_idx")
                    .table(AmazonOrder::Table)
                    .col(AmazonOrder::MarketplaceId)
                    .col((AmazonOrder::PurchaseDate, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        // "What changed since" lookups.
        manager
            .create_index(
                Index::create()
                    .name("amazon_order_last_update_date_idx")
                    .table(AmazonOrder::Table)
                    .col(AmazonOrder::LastUpdateDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AmazonOrder::Table).to_owned())
            .await
    }
}
