//! Phase 23: listings (Listings Items 2021-08-01) and the queue of price and
//! quantity changes pushed to Amazon.
//!
//! - `amazon_listing`: one row per (marketplace, seller SKU), as
//!   `searchListingsItems` reports it: ASIN, product type, title, status (the two
//!   flags Amazon's model knows, BUYABLE and DISCOVERABLE), fulfillment channel,
//!   live price with its currency, live MFN quantity, issues, Amazon's last change
//!   and when a sync last saw it. A SKU a full sync no longer returns is marked
//!   `gone_at`, never deleted.
//! - `listing_change`: the outbox. Each row is one queued change of a listing's
//!   price and/or quantity with what was live when it was queued (the conflict
//!   check compares against it), its state, the submissions sent, Amazon's issues,
//!   the attempts and the deadline by which the change must show on the listing.
//!   The push resumes every row from what is stored here.
//! - `listing_change_history`: every state a queued change went through, with
//!   when and why.

use crate::columns::{id, json, money, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AmazonListing {
    Table,
    Id,
    MarketplaceId,
    SellerSku,
    Asin,
    ProductType,
    Title,
    Buyable,
    Discoverable,
    FulfillmentChannel,
    PriceCurrency,
    PriceAmount,
    Quantity,
    Issues,
    CreatedDate,
    LastUpdatedTime,
    Raw,
    SeenAt,
    GoneAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ListingChange {
    Table,
    Id,
    MarketplaceId,
    SellerSku,
    DesiredCurrency,
    DesiredPrice,
    DesiredQuantity,
    PriceWhenQueued,
    QuantityWhenQueued,
    LivePrice,
    LiveQuantity,
    State,
    TwoPhase,
    Phase,
    PriceSubmissionId,
    QuantitySubmissionId,
    Issues,
    Attempts,
    SubmitRequestedAt,
    SentAt,
    DeadlineAt,
    QueuedBy,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum ListingChangeHistory {
    Table,
    Id,
    ChangeId,
    State,
    At,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(AmazonListing::Table)
                    .col(id(AmazonListing::Id))
                    .col(
                        ColumnDef::new(AmazonListing::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AmazonListing::SellerSku).string().not_null())
                    .col(ColumnDef::new(AmazonListing::Asin).string())
                    .col(ColumnDef::new(AmazonListing::ProductType).string())
                    .col(ColumnDef::new(AmazonListing::Title).text())
                    .col(
                        ColumnDef::new(AmazonListing::Buyable)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(AmazonListing::Discoverable)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(AmazonListing::FulfillmentChannel).string())
                    .col(ColumnDef::new(AmazonListing::PriceCurrency).string())
                    .col(money(backend, AmazonListing::PriceAmount))
                    .col(ColumnDef::new(AmazonListing::Quantity).big_integer())
                    .col(json(AmazonListing::Issues).not_null())
                    .col(timestamp(AmazonListing::CreatedDate))
                    .col(timestamp(AmazonListing::LastUpdatedTime))
                    .col(json(AmazonListing::Raw).not_null())
                    .col(timestamp(AmazonListing::SeenAt).not_null())
                    .col(timestamp(AmazonListing::GoneAt))
                    .col(timestamp_now(AmazonListing::CreatedAt))
                    .col(timestamp_now(AmazonListing::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("amazon_listing_marketplace_sku_key")
                    .table(AmazonListing::Table)
                    .col(AmazonListing::MarketplaceId)
                    .col(AmazonListing::SellerSku)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ListingChange::Table)
                    .col(id(ListingChange::Id))
                    .col(
                        ColumnDef::new(ListingChange::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ListingChange::SellerSku).string().not_null())
                    .col(ColumnDef::new(ListingChange::DesiredCurrency).string())
                    .col(money(backend, ListingChange::DesiredPrice))
                    .col(ColumnDef::new(ListingChange::DesiredQuantity).big_integer())
                    .col(money(backend, ListingChange::PriceWhenQueued))
                    .col(ColumnDef::new(ListingChange::QuantityWhenQueued).big_integer())
                    .col(money(backend, ListingChange::LivePrice))
                    .col(ColumnDef::new(ListingChange::LiveQuantity).big_integer())
                    .col(ColumnDef::new(ListingChange::State).string().not_null())
                    .col(
                        ColumnDef::new(ListingChange::TwoPhase)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(ColumnDef::new(ListingChange::Phase).string())
                    .col(ColumnDef::new(ListingChange::PriceSubmissionId).string())
                    .col(ColumnDef::new(ListingChange::QuantitySubmissionId).string())
                    .col(json(ListingChange::Issues).not_null())
                    .col(
                        ColumnDef::new(ListingChange::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(ListingChange::SubmitRequestedAt))
                    .col(timestamp(ListingChange::SentAt))
                    .col(timestamp(ListingChange::DeadlineAt))
                    .col(ColumnDef::new(ListingChange::QueuedBy).string())
                    .col(timestamp_now(ListingChange::CreatedAt))
                    .col(timestamp_now(ListingChange::UpdatedAt))
                    .col(timestamp(ListingChange::FinishedAt))
                    .to_owned(),
            )
            .await?;
        // The push reads the unfinished changes by state; the page lists by state too.
        manager
            .create_index(
                Index::create()
                    .name("listing_change_state_id_idx")
                    .table(ListingChange::Table)
                    .col(ListingChange::State)
                    .col(ListingChange::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("listing_change_marketplace_sku_idx")
                    .table(ListingChange::Table)
                    .col(ListingChange::MarketplaceId)
                    .col(ListingChange::SellerSku)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ListingChangeHistory::Table)
                    .col(id(ListingChangeHistory::Id))
                    .col(
                        ColumnDef::new(ListingChangeHistory::ChangeId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ListingChangeHistory::State)
                            .string()
                            .not_null(),
                    )
                    .col(timestamp(ListingChangeHistory::At).not_null())
                    .col(ColumnDef::new(ListingChangeHistory::Note).text())
                    .foreign_key(
                        ForeignKey::create()
                            .name("listing_change_history_change_fk")
                            .from(ListingChangeHistory::Table, ListingChangeHistory::ChangeId)
                            .to(ListingChange::Table, ListingChange::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("listing_change_history_change_idx")
                    .table(ListingChangeHistory::Table)
                    .col(ListingChangeHistory::ChangeId)
                    .col(ListingChangeHistory::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ListingChangeHistory::Table.into_iden(),
            ListingChange::Table.into_iden(),
            AmazonListing::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
