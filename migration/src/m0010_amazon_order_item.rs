//! Phase 10 (design 10.4): the line items of Amazon orders, with the raw payload.

use crate::columns::{id, json, money, timestamp_now};
use crate::m0009_amazon_order::AmazonOrder;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AmazonOrderItem {
    Table,
    Id,
    OrderItemId,
    AmazonOrderId,
    MarketplaceId,
    SellerSku,
    Asin,
    Title,
    QuantityOrdered,
    QuantityShipped,
    ItemPriceCurrency,
    ItemPriceAmount,
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
                    .table(AmazonOrderItem::Table)
                    .col(id(AmazonOrderItem::Id))
                    .col(
                        ColumnDef::new(AmazonOrderItem::OrderItemId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonOrderItem::AmazonOrderId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonOrderItem::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AmazonOrderItem::SellerSku).string())
                    .col(ColumnDef::new(AmazonOrderItem::Asin).string())
                    .col(ColumnDef::new(AmazonOrderItem::Title).text())
                    .col(
                        ColumnDef::new(AmazonOrderItem::QuantityOrdered)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonOrderItem::QuantityShipped)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(AmazonOrderItem::ItemPriceCurrency).string())
                    // Items of Pending orders have no price yet.
                    .col(money(backend, AmazonOrderItem::ItemPriceAmount))
                    .col(json(AmazonOrderItem::RawPayload).not_null())
                    .col(timestamp_now(AmazonOrderItem::CreatedAt))
                    .col(timestamp_now(AmazonOrderItem::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("amazon_order_item_order_fkey")
                            .from(
                                AmazonOrderItem::Table,
                                (
                                    AmazonOrderItem::AmazonOrderId,
                                    AmazonOrderItem::MarketplaceId,
                                ),
                            )
                            .to(
                                AmazonOrder::Table,
                                (AmazonOrder::AmazonOrderId, AmazonOrder::MarketplaceId),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("amazon_order_item_order_item_key")
                    .table(AmazonOrderItem::Table)
                    .col(AmazonOrderItem::AmazonOrderId)
                    .col(AmazonOrderItem::OrderItemId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The SKU filter of the orders listing.
        manager
            .create_index(
                Index::create()
                    .name("amazon_order_item_seller_sku_idx")
                    .table(AmazonOrderItem::Table)
                    .col(AmazonOrderItem::SellerSku)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AmazonOrderItem::Table).to_owned())
            .await
    }
}
