//! Phase 17: an item knows its order's purchase date, so the SKU and ASIN filters
//! are a bounded index range (docs/PERFORMANCE.md, "Load").
//!
//! The orders listing is newest purchase first. With phase 16's
//! `(seller_sku, amazon_order_id, marketplace_id)` index, a page of one SKU was
//! either a walk of the newest orders probing each for the SKU (slow when the
//! newest orders do not sell it: 20,000 probes) or every order of the SKU fetched
//! and sorted (slow for a SKU of a few thousand orders). With the order's purchase
//! date beside the SKU, `(seller_sku, order_purchase_date, amazon_order_id,
//! marketplace_id)` lists the SKU's orders newest first, and a page reads only what
//! it shows. The sync writes the column with every item and keeps it equal to the
//! order's `purchase_date` when an order changes without its items
//! (`service/src/sync/write.rs`). Existing items are filled from their orders here.
//! Phase 16's SKU and ASIN indexes are replaced: the new ones serve their queries.

use crate::columns::timestamp;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AmazonOrderItem {
    Table,
    AmazonOrderId,
    MarketplaceId,
    SellerSku,
    Asin,
    OrderPurchaseDate,
}

const OLD_SKU_IDX: &str = "amazon_order_item_seller_sku_order_idx";
const OLD_ASIN_IDX: &str = "amazon_order_item_asin_order_idx";
const SKU_IDX: &str = "amazon_order_item_seller_sku_purchase_idx";
const ASIN_IDX: &str = "amazon_order_item_asin_purchase_idx";

fn lookup(name: &str, column: AmazonOrderItem, with_date: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(AmazonOrderItem::Table).col(column);
    if with_date {
        index.col(AmazonOrderItem::OrderPurchaseDate);
    }
    index
        .col(AmazonOrderItem::AmazonOrderId)
        .col(AmazonOrderItem::MarketplaceId)
        .to_owned()
}

fn drop(name: &str) -> IndexDropStatement {
    Index::drop()
        .name(name)
        .table(AmazonOrderItem::Table)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DatabaseBackend::Postgres;
        // PostgreSQL adds the column nullable, fills it and then checks NOT NULL
        // once; SQLite adds a NOT NULL column only with a default, which every row
        // loses right after (and the sync always sets the column).
        let mut column = timestamp(AmazonOrderItem::OrderPurchaseDate);
        if !postgres {
            column.not_null().default("1970-01-01T00:00:00+00:00");
        }
        manager
            .alter_table(
                Table::alter()
                    .table(AmazonOrderItem::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        if postgres {
            db.execute_unprepared(
                "UPDATE amazon_order_item i SET order_purchase_date = o.purchase_date \
                 FROM amazon_order o \
                 WHERE o.amazon_order_id = i.amazon_order_id AND o.marketplace_id = i.marketplace_id",
            )
            .await?;
            db.execute_unprepared(
                "ALTER TABLE amazon_order_item ALTER COLUMN order_purchase_date SET NOT NULL",
            )
            .await?;
        } else {
            db.execute_unprepared(
                "UPDATE amazon_order_item SET order_purchase_date = (SELECT o.purchase_date \
                 FROM amazon_order o WHERE o.amazon_order_id = amazon_order_item.amazon_order_id \
                 AND o.marketplace_id = amazon_order_item.marketplace_id)",
            )
            .await?;
        }
        manager
            .create_index(lookup(SKU_IDX, AmazonOrderItem::SellerSku, true))
            .await?;
        manager
            .create_index(lookup(ASIN_IDX, AmazonOrderItem::Asin, true))
            .await?;
        manager.drop_index(drop(OLD_SKU_IDX)).await?;
        manager.drop_index(drop(OLD_ASIN_IDX)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(lookup(OLD_SKU_IDX, AmazonOrderItem::SellerSku, false))
            .await?;
        manager
            .create_index(lookup(OLD_ASIN_IDX, AmazonOrderItem::Asin, false))
            .await?;
        manager.drop_index(drop(SKU_IDX)).await?;
        manager.drop_index(drop(ASIN_IDX)).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AmazonOrderItem::Table)
                    .drop_column(AmazonOrderItem::OrderPurchaseDate)
                    .to_owned(),
            )
            .await
    }
}
