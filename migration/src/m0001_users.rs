//! Phase 1: people who may sign in. The first one registered becomes the owner.

use crate::columns::{id, timestamp_now};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Role,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(id(Users::Id))
                    .col(ColumnDef::new(Users::Email).string().not_null())
                    .col(ColumnDef::new(Users::PasswordHash).string().not_null())
                    .col(
                        ColumnDef::new(Users::Role)
                            .string()
                            .not_null()
                            .check(Expr::col(Users::Role).is_in(["owner", "viewer"])),
                    )
                    .col(timestamp_now(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // Case-insensitive uniqueness: "Owner@Shop.com" and "owner@shop.com" are one
        // person. An expression index reads the same on PostgreSQL and SQLite.
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
