//! Phase 22: financial transactions (Finances 2024-06-19 `listTransactions`).
//!
//! - `amazon_transaction`: one row per Amazon `transactionId`, upserted (Amazon
//!   changes a transaction's status, and may change its amounts, after it first
//!   appears), with its total, status, posted date and the raw payload.
//! - `amazon_transaction_breakdown`: the transaction's breakdown tree kept exactly,
//!   one row per node in pre-order (`position`, `parent_position`, `depth`), each
//!   with its decimal amount and currency. Leaves carry a `category` (sales, tax,
//!   promotion, fee, refund, transfer, other) and copies of the transaction's posted
//!   date, type and marketplace, so money is summed per order and per day with
//!   plain column reads, never by parsing JSON at query time.
//! - `amazon_transaction_related`: the related identifiers (`ORDER_ID`,
//!   `SHIPMENT_ID`, `REFUND_ID`, `FINANCIAL_EVENT_GROUP_ID`…), indexed by name and
//!   value, so an order's transactions are one index lookup away.
//!
//! Children are keyed by Amazon's `transaction_id`, so a page of transactions is
//! written with a handful of multi-row statements.

use crate::columns::{id, json, money, timestamp, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AmazonTransaction {
    Table,
    Id,
    TransactionId,
    TransactionType,
    TransactionStatus,
    PostedDate,
    MarketplaceId,
    Description,
    TotalCurrency,
    TotalAmount,
    Raw,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AmazonTransactionBreakdown {
    Table,
    Id,
    TransactionId,
    Position,
    ParentPosition,
    Depth,
    BreakdownType,
    Currency,
    Amount,
    Category,
    PostedDate,
    TransactionType,
    MarketplaceId,
}

#[derive(DeriveIden)]
enum AmazonTransactionRelated {
    Table,
    Id,
    TransactionId,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(AmazonTransaction::Table)
                    .col(id(AmazonTransaction::Id))
                    .col(
                        ColumnDef::new(AmazonTransaction::TransactionId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonTransaction::TransactionType)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonTransaction::TransactionStatus)
                            .string()
                            .not_null(),
                    )
                    .col(timestamp(AmazonTransaction::PostedDate).not_null())
                    .col(ColumnDef::new(AmazonTransaction::MarketplaceId).string())
                    .col(ColumnDef::new(AmazonTransaction::Description).text())
                    .col(
                        ColumnDef::new(AmazonTransaction::TotalCurrency)
                            .string()
                            .not_null(),
                    )
                    .col(money(backend, AmazonTransaction::TotalAmount).not_null())
                    .col(json(AmazonTransaction::Raw).not_null())
                    .col(timestamp_now(AmazonTransaction::CreatedAt))
                    .col(timestamp_now(AmazonTransaction::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("amazon_transaction_transaction_id_key")
                    .table(AmazonTransaction::Table)
                    .col(AmazonTransaction::TransactionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Newest first, keyset paging.
        manager
            .create_index(
                Index::create()
                    .name("amazon_transaction_posted_date_id_idx")
                    .table(AmazonTransaction::Table)
                    .col(AmazonTransaction::PostedDate)
                    .col(AmazonTransaction::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AmazonTransactionBreakdown::Table)
                    .col(id(AmazonTransactionBreakdown::Id))
                    .col(
                        ColumnDef::new(AmazonTransactionBreakdown::TransactionId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonTransactionBreakdown::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AmazonTransactionBreakdown::ParentPosition).integer())
                    .col(
                        ColumnDef::new(AmazonTransactionBreakdown::Depth)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonTransactionBreakdown::BreakdownType)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonTransactionBreakdown::Currency)
                            .string()
                            .not_null(),
                    )
                    .col(money(backend, AmazonTransactionBreakdown::Amount).not_null())
                    .col(ColumnDef::new(AmazonTransactionBreakdown::Category).string())
                    .col(timestamp(AmazonTransactionBreakdown::PostedDate).not_null())
                    .col(
                        ColumnDef::new(AmazonTransactionBreakdown::TransactionType)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AmazonTransactionBreakdown::MarketplaceId).string())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("amazon_transaction_breakdown_transaction_position_key")
                    .table(AmazonTransactionBreakdown::Table)
                    .col(AmazonTransactionBreakdown::TransactionId)
                    .col(AmazonTransactionBreakdown::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Money per day: the leaves of a range of posted dates.
        manager
            .create_index(
                Index::create()
                    .name("amazon_transaction_breakdown_posted_date_idx")
                    .table(AmazonTransactionBreakdown::Table)
                    .col(AmazonTransactionBreakdown::PostedDate)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AmazonTransactionRelated::Table)
                    .col(id(AmazonTransactionRelated::Id))
                    .col(
                        ColumnDef::new(AmazonTransactionRelated::TransactionId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonTransactionRelated::Name)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonTransactionRelated::Value)
                            .string()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("amazon_transaction_related_key")
                    .table(AmazonTransactionRelated::Table)
                    .col(AmazonTransactionRelated::TransactionId)
                    .col(AmazonTransactionRelated::Name)
                    .col(AmazonTransactionRelated::Value)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // An order's (or a settlement group's) transactions.
        manager
            .create_index(
                Index::create()
                    .name("amazon_transaction_related_name_value_idx")
                    .table(AmazonTransactionRelated::Table)
                    .col(AmazonTransactionRelated::Name)
                    .col(AmazonTransactionRelated::Value)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AmazonTransactionRelated::Table.into_iden(),
            AmazonTransactionBreakdown::Table.into_iden(),
            AmazonTransaction::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
