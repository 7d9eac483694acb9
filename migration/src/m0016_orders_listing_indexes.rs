//! Phase 16: indexes for the filtered orders listing at a million orders
//! (docs/PERFORMANCE.md, "Load").
//!
//! - `(order_status, purchase_date DESC, id DESC)`: a rare status (0.5 % of orders)
//!   was found by walking the whole `(purchase_date, id)` index and throwing away
//!   what did not match, tens of thousands of rows for one page.
//! - `(seller_sku, amazon_order_id, marketplace_id)` and the same for `asin`: the
//!   SKU and ASIN filters are a semi-join from the items to their orders; with the
//!   order's key in the index it is answered from the index alone (the SKU index of
//!   phase 10 held the SKU only, and the ASIN filter had no index at all). The
//!   phase 10 SKU index is dropped: the new one serves every query it served.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AmazonOrder {
    Table,
    Id,
    OrderStatus,
    PurchaseDate,
}

#[derive(DeriveIden)]
enum AmazonOrderItem {
    Table,
    AmazonOrderId,
    MarketplaceId,
    SellerSku,
    Asin,
}

const STATUS_IDX: &str = "amazon_order_status_purchase_date_idx";
const OLD_SKU_IDX: &str = "amazon_order_item_seller_sku_idx";
const SKU_IDX: &str = "amazon_order_item_seller_sku_order_idx";
const ASIN_IDX: &str = "amazon_order_item_asin_order_idx";

fn item_lookup(name: &str, column: AmazonOrderItem) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(AmazonOrderItem::Table)
        .col(column)
        .col(AmazonOrderItem::AmazonOrderId)
        .col(AmazonOrderItem::MarketplaceId)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(STATUS_IDX)
                    .table(AmazonOrder::Table)
                    .col(AmazonOrder::OrderStatus)
                    .col((AmazonOrder::PurchaseDate, IndexOrder::Desc))
                    .col((AmazonOrder::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(item_lookup(SKU_IDX, AmazonOrderItem::SellerSku))
            .await?;
        manager
            .create_index(item_lookup(ASIN_IDX, AmazonOrderItem::Asin))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OLD_SKU_IDX)
                    .table(AmazonOrderItem::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD_SKU_IDX)
                    .table(AmazonOrderItem::Table)
                    .col(AmazonOrderItem::SellerSku)
                    .to_owned(),
            )
            .await?;
        for (name, table) in [
            (ASIN_IDX, AmazonOrderItem::Table.into_iden()),
            (SKU_IDX, AmazonOrderItem::Table.into_iden()),
            (STATUS_IDX, AmazonOrder::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
