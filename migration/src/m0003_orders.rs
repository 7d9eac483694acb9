//! Phase 3: the application's own, source-neutral orders and their items.
//!
//! Every sales channel (Amazon today) writes here too, so reports need not know
//! where an order came from. The channel's raw copy lives in its own tables
//! (`amazon_order`, `amazon_order_item`, phases 9 and 10).

use crate::columns::{id, money, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Orders {
    Table,
    Id,
    Source,
    SourceOrderId,
    MarketplaceId,
    Status,
    PurchasedAt,
    SourceUpdatedAt,
    Currency,
    TotalAmount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum OrderItems {
    Table,
    Id,
    OrderId,
    Sku,
    Title,
    Quantity,
    QuantityShipped,
    Currency,
    PriceAmount,
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
                    .table(Orders::Table)
                    .col(id(Orders::Id))
                    .col(ColumnDef::new(Orders::Source).string().not_null())
                    .col(ColumnDef::new(Orders::SourceOrderId).string().not_null())
                    .col(ColumnDef::new(Orders::MarketplaceId).string())
                    .col(ColumnDef::new(Orders::Status).string().not_null())
                    .col(timestamp(Orders::PurchasedAt).not_null())
                    .col(timestamp(Orders::SourceUpdatedAt))
                    .col(ColumnDef::new(Orders::Currency).string())
                    .col(money(backend, Orders::TotalAmount))
                    .col(timestamp_now(Orders::CreatedAt))
                    .col(timestamp_now(Orders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_source_order_key")
                    .table(Orders::Table)
                    .col(Orders::Source)
                    .col(Orders::SourceOrderId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_purchased_at_idx")
                    .table(Orders::Table)
                    .col(Orders::PurchasedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderItems::Table)
                    .col(id(OrderItems::Id))
                    .col(ColumnDef::new(OrderItems::OrderId).big_integer().not_null())
                    .col(ColumnDef::new(OrderItems::Sku).string())
                    .col(ColumnDef::new(OrderItems::Title).text())
                    .col(ColumnDef::new(OrderItems::Quantity).integer().not_null())
                    .col(
                        ColumnDef::new(OrderItems::QuantityShipped)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(OrderItems::Currency).string())
                    .col(money(backend, OrderItems::PriceAmount))
                    .col(timestamp_now(OrderItems::CreatedAt))
                    .col(timestamp_now(OrderItems::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("order_items_order_id_fkey")
                            .from(OrderItems::Table, OrderItems::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("order_items_order_id_idx")
                    .table(OrderItems::Table)
                    .col(OrderItems::OrderId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrderItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Orders::Table).to_owned())
            .await
    }
}
