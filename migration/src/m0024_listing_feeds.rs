//! Phase 24: listing changes submitted as `JSON_LISTINGS_FEED` documents (Feeds
//! 2021-06-30), kept as history.
//!
//! - `listing_feed`: one row per feed we send: Amazon's feed id (null while the
//!   document is being uploaded), its marketplace, the uploaded and result
//!   documents, where it stands (`PREPARING` before Amazon has it, then Amazon's
//!   `IN_QUEUE`, `IN_PROGRESS`, `DONE`, `CANCELLED`, `FATAL`), the counts of its
//!   processing report, feed-wide issues, and when it was sent, started, finished,
//!   last looked at and reported stuck (Amazon's clock).
//! - `listing_feed_item`: one row per message: the queued change it carries (the
//!   message id is the change's id), what it set (`PRICE`, `QUANTITY`, `BOTH`) and
//!   its result (`PENDING`, `ACCEPTED`, `INVALID`, `NOT_PROCESSED`) with Amazon's
//!   issues.
//! - `listing_change.submit_via`: how the owner asked a change to go (`AUTO`,
//!   `PATCH`, `FEED`); `AUTO` is settled to one of the others at the first send,
//!   so the second phase of a two-phase change goes the same way.

use crate::columns::{add_columns, drop_columns, id, json, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ListingFeed {
    Table,
    Id,
    FeedId,
    FeedType,
    MarketplaceId,
    DocumentId,
    ResultDocumentId,
    State,
    Messages,
    MessagesProcessed,
    MessagesAccepted,
    MessagesInvalid,
    Errors,
    Warnings,
    Issues,
    Note,
    SubmittedBy,
    CreatedAt,
    SubmittedAt,
    StartedAt,
    FinishedAt,
    CheckedAt,
    StuckAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ListingFeedItem {
    Table,
    Id,
    ListingFeedId,
    ChangeId,
    MessageId,
    SellerSku,
    Phase,
    Result,
    Issues,
}

#[derive(DeriveIden)]
enum ListingChange {
    Table,
    Id,
    SubmitVia,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ListingFeed::Table)
                    .col(id(ListingFeed::Id))
                    .col(ColumnDef::new(ListingFeed::FeedId).string())
                    .col(ColumnDef::new(ListingFeed::FeedType).string().not_null())
                    .col(
                        ColumnDef::new(ListingFeed::MarketplaceId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ListingFeed::DocumentId).string())
                    .col(ColumnDef::new(ListingFeed::ResultDocumentId).string())
                    .col(ColumnDef::new(ListingFeed::State).string().not_null())
                    .col(ColumnDef::new(ListingFeed::Messages).integer().not_null())
                    .col(ColumnDef::new(ListingFeed::MessagesProcessed).integer())
                    .col(ColumnDef::new(ListingFeed::MessagesAccepted).integer())
                    .col(ColumnDef::new(ListingFeed::MessagesInvalid).integer())
                    .col(ColumnDef::new(ListingFeed::Errors).integer())
                    .col(ColumnDef::new(ListingFeed::Warnings).integer())
                    .col(json(ListingFeed::Issues).not_null())
                    .col(ColumnDef::new(ListingFeed::Note).text())
                    .col(ColumnDef::new(ListingFeed::SubmittedBy).string())
                    .col(timestamp_now(ListingFeed::CreatedAt))
                    .col(timestamp(ListingFeed::SubmittedAt))
                    .col(timestamp(ListingFeed::StartedAt))
                    .col(timestamp(ListingFeed::FinishedAt))
                    .col(timestamp(ListingFeed::CheckedAt))
                    .col(timestamp(ListingFeed::StuckAt))
                    .col(timestamp_now(ListingFeed::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("listing_feed_feed_id_key")
                    .table(ListingFeed::Table)
                    .col(ListingFeed::FeedId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The push follows the feeds not finished yet.
        manager
            .create_index(
                Index::create()
                    .name("listing_feed_state_id_idx")
                    .table(ListingFeed::Table)
                    .col(ListingFeed::State)
                    .col(ListingFeed::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ListingFeedItem::Table)
                    .col(id(ListingFeedItem::Id))
                    .col(
                        ColumnDef::new(ListingFeedItem::ListingFeedId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ListingFeedItem::ChangeId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ListingFeedItem::MessageId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ListingFeedItem::SellerSku)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ListingFeedItem::Phase).string().not_null())
                    .col(ColumnDef::new(ListingFeedItem::Result).string().not_null())
                    .col(json(ListingFeedItem::Issues).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("listing_feed_item_feed_fk")
                            .from(ListingFeedItem::Table, ListingFeedItem::ListingFeedId)
                            .to(ListingFeed::Table, ListingFeed::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("listing_feed_item_change_fk")
                            .from(ListingFeedItem::Table, ListingFeedItem::ChangeId)
                            .to(ListingChange::Table, ListingChange::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("listing_feed_item_feed_message_key")
                    .table(ListingFeedItem::Table)
                    .col(ListingFeedItem::ListingFeedId)
                    .col(ListingFeedItem::MessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("listing_feed_item_change_idx")
                    .table(ListingFeedItem::Table)
                    .col(ListingFeedItem::ChangeId)
                    .to_owned(),
            )
            .await?;

        add_columns(
            manager,
            ListingChange::Table,
            vec![
                ColumnDef::new(ListingChange::SubmitVia)
                    .string()
                    .not_null()
                    .default("AUTO")
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            ListingChange::Table,
            vec![ListingChange::SubmitVia.into_iden()],
        )
        .await?;
        for table in [
            ListingFeedItem::Table.into_iden(),
            ListingFeed::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
