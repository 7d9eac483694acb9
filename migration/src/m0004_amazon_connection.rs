//! Phase 4: the one Amazon seller account this installation talks to.
//!
//! Single-tenant: the primary key is fixed to 1 by a CHECK constraint, so the schema
//! itself refuses a second connection row.

use crate::columns::{json, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum AmazonConnection {
    Table,
    Id,
    SellerId,
    Region,
    Sandbox,
    MarketplaceIds,
    OrdersApiVersion,
    Endpoint,
    TokenUrl,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AmazonConnection::Table)
                    .col(
                        ColumnDef::new(AmazonConnection::Id)
                            .integer()
                            .not_null()
                            .primary_key()
                            .default(1)
                            .check(Expr::col(AmazonConnection::Id).eq(1)),
                    )
                    .col(
                        ColumnDef::new(AmazonConnection::SellerId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonConnection::Region)
                            .string()
                            .not_null()
                            .check(Expr::col(AmazonConnection::Region).is_in(["NA", "EU", "FE"])),
                    )
                    .col(
                        ColumnDef::new(AmazonConnection::Sandbox)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(json(AmazonConnection::MarketplaceIds).not_null())
                    .col(
                        ColumnDef::new(AmazonConnection::OrdersApiVersion)
                            .string()
                            .not_null()
                            .default("2026-01-01")
                            .check(
                                Expr::col(AmazonConnection::OrdersApiVersion)
                                    .is_in(["2026-01-01", "v0"]),
                            ),
                    )
                    .col(ColumnDef::new(AmazonConnection::Endpoint).string())
                    .col(ColumnDef::new(AmazonConnection::TokenUrl).string())
                    .col(timestamp_now(AmazonConnection::CreatedAt))
                    .col(timestamp_now(AmazonConnection::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AmazonConnection::Table).to_owned())
            .await
    }
}
